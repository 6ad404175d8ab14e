//! An image's merged filesystem read from the store (whose indexes the
//! caller made sure of with `Store::indexes`): the overlay of its layer
//! indexes, one pass of it feeding every analysis that needs it (a `Sink`
//! each), and the package inventory, which reads it twice on its own (once
//! to find the databases that survive, once to measure what they own).

use std::io;

use super::overlay::{Node, Overlay};
use super::packages::{self, Inventory};
use crate::error::Error;
use crate::image::Image;
use crate::layer::IndexReader;
use crate::store::Store;

/// An analysis fed one path of the merged filesystem at a time, in index order.
pub trait Sink {
    fn add(&mut self, node: &Node);
}

/// The merged filesystem of `image`.
pub fn merged(store: &Store, image: &Image) -> anyhow::Result<Overlay<IndexReader>> {
    let readers = image
        .layers
        .iter()
        .map(|l| store.open_index(&l.digest))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Overlay::new(readers).map_err(index_error)?)
}

/// One pass over the merged filesystem of `image`, every node to every sink.
pub fn feed(store: &Store, image: &Image, sinks: &mut [&mut dyn Sink]) -> anyhow::Result<()> {
    for node in merged(store, image)? {
        let node = node.map_err(index_error)?;
        for sink in sinks.iter_mut() {
            sink.add(&node);
        }
    }
    Ok(())
}

/// The package inventory of `image`.
pub fn inventory(
    store: &Store,
    image: &Image,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<Inventory> {
    let open = || -> anyhow::Result<Vec<_>> {
        Ok(image
            .layers
            .iter()
            .map(|l| store.open_index(&l.digest))
            .collect::<Result<Vec<_>, _>>()?)
    };
    let dbs =
        |i: usize| -> anyhow::Result<_> { Ok(store.footer(&image.layers[i].digest)?.package_dbs) };
    packages::inventory(open, dbs, warn)
}

/// An index that cannot be read back (a damaged cache file).
pub fn index_error(e: io::Error) -> Error {
    Error::io("layer index", e)
}
