//! Analyses over verified layer summaries and indexes; they compute every figure a report shows.

pub mod advise;
pub mod audit;
pub mod compare;
pub mod diff;
pub mod dive;
pub mod du;
pub mod footprint;
pub mod gate;
pub mod layers;
pub mod merged;
pub mod overlay;
pub mod package_diff;
pub mod packages;
pub mod path;
pub mod rollup;
pub mod sizes;
pub mod stack;
pub mod subtree;
pub mod top;
