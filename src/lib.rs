//! strata: what container images really cost — verified layer scans, digest dedup, footprints.

pub mod analyze;
pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod cut;
pub mod error;
pub mod escape;
pub mod explore;
pub mod extract;
pub mod fleet;
pub mod gate;
pub mod image;
pub mod layer;
pub mod reference;
pub mod report;
pub mod session;
pub mod source;
pub mod store;
pub mod tar_reader;
pub mod units;
pub mod warnings;

pub use error::Error;
