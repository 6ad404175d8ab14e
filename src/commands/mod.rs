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
pub mod packages;
mod pick;

pub use pick::{legend, legend_lines, one_image, resolve_layer, LayerChoice, LayerInfo};

use std::collections::HashMap;

use crate::analyze::overlay::Overlay;
use crate::error::Error;
use crate::image::{Digest, Image};
use crate::layer::LayerSummary;
use crate::session::Session;
use crate::store::LayerEntries;

/// What a view knows of one distinct layer: its scan's figures, or for a
/// foreign layer not at hand its descriptor's alone (uncompressed and files
/// unknown, never a guess).
#[derive(Debug, Clone)]
pub struct Known {
    pub diff_id: Digest,
    pub compressed: u64,
    pub uncompressed: Option<u64>,
    pub files: Option<u64>,
    pub foreign: bool,
}

/// `Known` for every layer of `images`, from the store's summaries.
pub fn known(
    images: &[&Image],
    summaries: &HashMap<Digest, LayerSummary>,
) -> HashMap<Digest, Known> {
    let mut out = HashMap::new();
    for l in images.iter().flat_map(|i| &i.layers) {
        let k = match summaries.get(&l.digest) {
            Some(s) => Known {
                diff_id: s.diff_id.clone(),
                compressed: s.compressed,
                uncompressed: Some(s.uncompressed),
                files: Some(s.files),
                foreign: l.foreign.is_some(),
            },
            None => Known {
                diff_id: l.diff_id.clone().unwrap_or_else(|| l.digest.clone()),
                compressed: l.size,
                uncompressed: None,
                files: None,
                foreign: true,
            },
        };
        out.insert(l.digest.clone(), k);
    }
    out
}

/// An image's merged filesystem, its indexes made sure of first (scanning
/// what is missing or damaged; a no-op for what this run already checked).
/// A foreign layer not at hand adds no entry.
pub fn merged(session: &Session, image: &Image) -> anyhow::Result<Overlay<LayerEntries>> {
    let indexes = session
        .store()?
        .indexes(std::slice::from_ref(image), session.progress())?;
    Ok(Overlay::new(indexes.open_layers(image)?).map_err(index_error)?)
}

/// An index that cannot be read back (a damaged cache file).
pub fn index_error(e: std::io::Error) -> Error {
    Error::io("layer index", e)
}
