//! Analyses over verified layer summaries and indexes; they compute every figure a report shows.

pub mod du;
pub mod footprint;
pub mod overlay;
pub mod sizes;
