//! One room per command: each owns its validated arguments, its `run`, and
//! how its figures read as a report.

pub mod advise;
pub mod audit;
pub mod cache;
pub mod compare;
pub mod completions;
pub mod diff;
pub mod du;
pub mod footprint;
pub mod gate;
pub mod layers;
mod notes;
pub mod packages;
mod pick;

pub use pick::{legend, legend_lines, one_image, resolve_layer, LayerChoice, LayerInfo};

use crate::analyze::overlay::Overlay;
use crate::error::Error;
use crate::image::Image;
use crate::layer::IndexReader;
use crate::session::Session;

/// An image's merged filesystem, its indexes made sure of first (scanning
/// what is missing or damaged; a no-op for what this run already checked).
pub fn merged(session: &Session, image: &Image) -> anyhow::Result<Overlay<IndexReader>> {
    let indexes = session
        .store()?
        .indexes(std::slice::from_ref(image), session.progress())?;
    Ok(Overlay::new(indexes.open_layers(image)?).map_err(index_error)?)
}

/// An index that cannot be read back (a damaged cache file).
pub fn index_error(e: std::io::Error) -> Error {
    Error::io("layer index", e)
}
