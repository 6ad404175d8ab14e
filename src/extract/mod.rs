//! Taking out what an image holds, without extracting anything to disk: a
//! file's bytes (`strata cat`) or a tree as a tar (`strata export`), found
//! through the layer indexes and streamed from the layer blobs, verified as
//! every scan is. `extract` is the one call for front ends (the explorer's
//! `x` key): a file's bytes or a directory's tar, merged or from one layer.

pub mod file;
pub mod resolve;
pub mod tree;

use std::io::Write;

use crate::image::Image;
use crate::session::Session;
use crate::store::Indexes;
pub use resolve::{resolve, Found, View};

/// What `extract` wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extracted {
    /// A file's bytes: its size.
    File(u64),
    /// A directory as a tar: its entries.
    Tree(u64),
}

/// Writes what `path` (relative to the root, "" for it) names in `image`
/// to `out`: a file's bytes, or a directory's subtree as one tar. With
/// `layer` (0-based), as that layer's tar holds it; without, as the merged
/// filesystem shows it. Links are followed (see `resolve`).
pub fn extract(
    session: &Session,
    image: &Image,
    path: &[u8],
    layer: Option<usize>,
    out: &mut dyn Write,
) -> anyhow::Result<Extracted> {
    let store = session.store()?;
    let indexes = store.indexes(std::slice::from_ref(image), session.progress())?;
    extract_from(&indexes, image, path, layer, out)
}

/// `extract` through indexes already made sure of (the explorer's).
pub fn extract_from(
    indexes: &Indexes,
    image: &Image,
    path: &[u8],
    layer: Option<usize>,
    out: &mut dyn Write,
) -> anyhow::Result<Extracted> {
    let mut view = match layer {
        Some(n) => View::layer(indexes, image, n),
        None => View::merged(indexes, image),
    };
    let found = resolve(&mut view, path)?;
    if found.entry.kind == crate::layer::EntryKind::Dir {
        let n = match layer {
            Some(n) => tree::write_layer_subtree(indexes, image, n, &found.path, out)?,
            None => tree::write_merged(indexes, image, &found.path, out)?,
        };
        return Ok(Extracted::Tree(n));
    }
    Ok(Extracted::File(file::write_file(image, &found, path, out)?))
}

/// A file's bytes, as `extract` finds it (a directory is an error).
pub fn cat(
    indexes: &Indexes,
    image: &Image,
    path: &[u8],
    layer: Option<usize>,
    out: &mut dyn Write,
) -> anyhow::Result<u64> {
    let mut view = match layer {
        Some(n) => View::layer(indexes, image, n),
        None => View::merged(indexes, image),
    };
    let found = resolve(&mut view, path)?;
    file::write_file(image, &found, path, out)
}
