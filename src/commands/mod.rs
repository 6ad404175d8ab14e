//! One room per command: each owns its validated arguments, its `run`, and
//! how its figures read as a report.

pub mod audit;
pub mod completions;
pub mod diff;
pub mod du;
pub mod footprint;
pub mod layers;
