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
pub mod packages;
mod pick;

pub use pick::{legend, legend_lines, one_image, resolve_layer, LayerChoice, LayerInfo};

use std::collections::HashMap;

use crate::analyze::overlay::Overlay;
use crate::error::Error;
use crate::image::{Digest, Image};
use crate::layer::{IndexReader, LayerSummary};
use crate::store::Store;

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

/// One layer's entries in a merged filesystem: its index, or nothing for a
/// foreign layer not at hand (its files are left out, as the run's note says).
pub enum LayerEntries {
    Index(IndexReader),
    Unread,
}

impl Iterator for LayerEntries {
    type Item = std::io::Result<crate::layer::Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            LayerEntries::Index(r) => r.next(),
            LayerEntries::Unread => None,
        }
    }
}

/// An image's merged filesystem, from the indexes `Store::indexes` made sure of.
pub fn merged(store: &Store, image: &Image) -> anyhow::Result<Overlay<LayerEntries>> {
    let readers = image
        .layers
        .iter()
        .map(|l| LayerEntries::open(store, l))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Overlay::new(readers).map_err(index_error)?)
}

impl LayerEntries {
    /// A layer's index (`Store::indexes` made sure of it), or nothing when unread.
    pub fn open(store: &Store, layer: &crate::image::LayerDesc) -> crate::error::Result<Self> {
        match layer.unread() {
            true => Ok(LayerEntries::Unread),
            false => store.open_index(&layer.digest).map(LayerEntries::Index),
        }
    }
}

/// An index that cannot be read back (a damaged cache file).
pub fn index_error(e: std::io::Error) -> Error {
    Error::io("layer index", e)
}
