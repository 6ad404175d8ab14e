//! One room per command: each owns its validated arguments, its `run`, and
//! how its figures read as a report.

pub mod advise;
pub mod audit;
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
use crate::store::Store;

/// An image's merged filesystem, from the indexes `Store::indexes` made sure of.
pub fn merged(store: &Store, image: &Image) -> anyhow::Result<Overlay<IndexReader>> {
    let readers = image
        .layers
        .iter()
        .map(|l| store.open_index(&l.digest))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Overlay::new(readers).map_err(index_error)?)
}

/// An index that cannot be read back (a damaged cache file).
pub fn index_error(e: std::io::Error) -> Error {
    Error::io("layer index", e)
}
