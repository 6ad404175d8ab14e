//! The handle `Store::indexes` returns: the only way to open a layer index,
//! so no view reads an index the store has not made sure of (scanned this
//! run, or checked in full against its summary). Merging an image opens its
//! layers within a bound on open files, and refuses images of more layers
//! than any engine runs.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::path::PathBuf;

use super::Store;
use crate::error::{Error, Result};
use crate::image::{Digest, Image};
use crate::layer::{Footer, IndexReader, LayerSummary};

/// Layers an image may have for views of its files. Docker and containerd
/// run at most 127 or so; past this, an image is refused (before any scan)
/// rather than merged with a block of memory per layer (about 32 KiB each).
pub const MAX_MERGED_LAYERS: usize = 1000;
/// Up to this many layers, a merge keeps each index open; past it, each
/// reader opens its file only while it reads a block.
const HELD_LAYERS: usize = 64;

/// Refuses an image of more layers than views of its files read.
pub fn check_layers(image: &Image) -> Result<()> {
    let n = image.layers.len();
    if n > MAX_MERGED_LAYERS {
        return Err(Error::TooManyLayers {
            image: image.name.to_string(),
            layers: n,
            limit: MAX_MERGED_LAYERS,
        });
    }
    Ok(())
}

/// Indexes made sure of for a set of images, and their layers' summaries.
pub struct Indexes<'s> {
    summaries: HashMap<Digest, LayerSummary>,
    pub(super) files: HashMap<Digest, PathBuf>,
    _store: PhantomData<&'s Store>,
}

impl<'s> Indexes<'s> {
    pub(super) fn new(
        summaries: HashMap<Digest, LayerSummary>,
        files: HashMap<Digest, PathBuf>,
    ) -> Indexes<'s> {
        Indexes {
            summaries,
            files,
            _store: PhantomData,
        }
    }

    /// Every distinct layer's verified summary, by digest.
    pub fn summaries(&self) -> &HashMap<Digest, LayerSummary> {
        &self.summaries
    }

    pub fn into_summaries(self) -> HashMap<Digest, LayerSummary> {
        self.summaries
    }

    fn file(&self, digest: &Digest) -> Result<&PathBuf> {
        self.files.get(digest).ok_or_else(|| {
            Error::malformed(
                format!("layer {digest}"),
                "its index was not made sure of before it was read",
            )
        })
    }

    /// Streams the entries of one layer's index.
    pub fn open(&self, digest: &Digest) -> Result<IndexReader> {
        let path = self.file(digest)?;
        IndexReader::open(path).map_err(|e| Error::io(path, e))
    }

    /// A layer index's footer: its summary and package databases.
    pub fn footer(&self, digest: &Digest) -> Result<Footer> {
        let path = self.file(digest)?;
        IndexReader::footer(path).map_err(|e| Error::io(path, e))
    }

    /// Readers of every layer of `image`, bottom first, for its merged
    /// filesystem: at most HELD_LAYERS files open, at most MAX_MERGED_LAYERS
    /// layers. A foreign layer not at hand reads as no entry.
    pub fn open_layers(&self, image: &Image) -> Result<Vec<LayerEntries>> {
        let all: Vec<usize> = (0..image.layers.len()).collect();
        self.open_layers_of(image, &all)
    }

    /// Readers of the layers of `image` at `positions` (0-based), in that
    /// order, held open or detached as `open_layers`'s are.
    pub fn open_layers_of(&self, image: &Image, positions: &[usize]) -> Result<Vec<LayerEntries>> {
        check_layers(image)?;
        let n = positions.len();
        positions
            .iter()
            .map(|&i| {
                let l = image.layers.get(i).ok_or_else(|| {
                    Error::malformed(image.name.to_string(), format!("no layer {}", i + 1))
                })?;
                if l.unread() {
                    return Ok(LayerEntries::Unread);
                }
                let path = self.file(&l.digest)?;
                let opened = if n > HELD_LAYERS {
                    IndexReader::open_detached(path)
                } else {
                    IndexReader::open(path)
                };
                opened
                    .map(LayerEntries::Index)
                    .map_err(|e| Error::io(path, e))
            })
            .collect()
    }
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

impl LayerEntries {
    /// The next entry is the first at or after `path` (nothing for a layer not at hand).
    pub fn seek(&mut self, path: &[u8]) -> std::io::Result<()> {
        match self {
            LayerEntries::Index(r) => r.seek(path),
            LayerEntries::Unread => Ok(()),
        }
    }

    /// The place in its index of the entry `next` returns.
    pub fn ordinal(&self) -> u64 {
        match self {
            LayerEntries::Index(r) => r.ordinal(),
            LayerEntries::Unread => 0,
        }
    }

    /// Blocks of its index decoded so far.
    pub fn blocks_read(&self) -> u64 {
        match self {
            LayerEntries::Index(r) => r.blocks_read(),
            LayerEntries::Unread => 0,
        }
    }
}
