//! An image's merged filesystem read through the store's `Indexes` handle
//! (the only way to open an index, so every one read was made sure of): the
//! overlay of its layer indexes, one pass of it feeding every analysis that
//! needs it (a `Sink` each), and the package inventory, which reads it twice
//! on its own (once to find the databases that survive, once to measure what
//! they own).

use std::io;

use super::overlay::{Node, Overlay};
use super::packages::{self, Inventory};
use super::subtree::{Scope, Subtree};
use crate::error::Error;
use crate::image::Image;
use crate::store::{Indexes, LayerEntries};

/// An analysis fed one path of the merged filesystem at a time, in index order.
pub trait Sink {
    fn add(&mut self, node: &Node);
}

/// The merged filesystem of `image`: at most a bounded number of index files
/// open, images of too many layers refused (`Indexes::open_layers`).
pub fn merged(indexes: &Indexes, image: &Image) -> anyhow::Result<Overlay<LayerEntries>> {
    Ok(Overlay::new(indexes.open_layers(image)?).map_err(index_error)?)
}

/// The merged filesystem of `image` at `dir` (as far below as `scope` says),
/// read by seeking each layer's index: its ancestors' markers, then only the
/// blocks that hold `dir`.
pub fn subtree(
    indexes: &Indexes,
    image: &Image,
    dir: &[u8],
    scope: Scope,
) -> anyhow::Result<Subtree<LayerEntries>> {
    Ok(Overlay::subtree(indexes.open_layers(image)?, dir, scope).map_err(index_error)?)
}

/// One pass over the merged filesystem of `image`, every node to every sink.
pub fn feed(indexes: &Indexes, image: &Image, sinks: &mut [&mut dyn Sink]) -> anyhow::Result<()> {
    for node in merged(indexes, image)? {
        let node = node.map_err(index_error)?;
        for sink in sinks.iter_mut() {
            sink.add(&node);
        }
    }
    Ok(())
}

/// The package inventory of `image`.
pub fn inventory(
    indexes: &Indexes,
    image: &Image,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<Inventory> {
    let open = || -> anyhow::Result<Vec<_>> { Ok(indexes.open_layers(image)?) };
    // A foreign layer not at hand has no index, so no databases.
    let dbs = |i: usize| -> anyhow::Result<_> {
        let layer = &image.layers[i];
        Ok(match layer.unread() {
            true => Vec::new(),
            false => indexes.footer(&layer.digest)?.package_dbs,
        })
    };
    packages::inventory(open, dbs, warn)
}

/// An index that cannot be read back (a damaged cache file).
pub fn index_error(e: io::Error) -> Error {
    Error::io("layer index", e)
}
