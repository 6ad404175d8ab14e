//! Analyses over verified layer summaries; they compute every figure a report shows.

pub mod footprint;
pub mod sizes;
