//! A tree as one tar: a layer's own tar stream (verified against its diff_id
//! as it is written), or the merged filesystem below a directory, as
//! `crane export` gives it — whiteouts applied, markers dropped, one entry
//! per surviving path, the last writer's. The indexes say which layer's
//! entry survives (a bit per entry, by its place in its layer's index);
//! each layer's tar is then read once, in order, and its survivors copied.

use std::io::{self, BufRead, Write};

use tar::{EntryType, Header};

use super::file::Hashed;
use super::resolve::bad_path;
use crate::analyze::merged::index_error;
use crate::analyze::overlay::Overlay;
use crate::analyze::subtree::Scope;
use crate::image::Image;
use crate::layer::index::is_below;
use crate::layer::verified::read_verified;
use crate::layer::walk::{clean_path, kind_of};
use crate::layer::{Entry, EntryKind, IndexReader};
use crate::store::Indexes;
use crate::tar_reader::{TarEntry, TarReader};

/// Writes layer `n`'s tar stream to `out` as the blob decompresses; an
/// error (a digest or diff_id that does not match) comes after the bytes.
/// Returns the bytes written.
pub fn write_layer(image: &Image, n: usize, out: &mut dyn Write) -> anyhow::Result<u64> {
    let layer = &image.layers[n];
    let blob = image.blobs.open_blob(layer)?;
    read_verified(blob, layer, |stream: &mut dyn BufRead| {
        Ok(io::copy(stream, out)?)
    })
}

/// Which entries of one layer's index survive: a bit per entry from the
/// first one at or after the directory.
#[derive(Default)]
struct Survivors {
    start: u64,
    bits: Vec<u64>,
    left: u64,
}

impl Survivors {
    fn set(&mut self, ordinal: u64) {
        let i = ordinal - self.start;
        let word = (i / 64) as usize;
        if self.bits.len() <= word {
            self.bits.resize(word + 1, 0);
        }
        self.bits[word] |= 1 << (i % 64);
        self.left += 1;
    }

    /// Whether `ordinal` survives; it no longer does once taken.
    fn take(&mut self, ordinal: u64) -> bool {
        let Some(i) = ordinal.checked_sub(self.start) else {
            return false;
        };
        let (word, bit) = ((i / 64) as usize, 1u64 << (i % 64));
        match self.bits.get_mut(word) {
            Some(w) if *w & bit != 0 => {
                *w &= !bit;
                self.left -= 1;
                true
            }
            _ => false,
        }
    }
}

/// The survivors of each of `layers` below `dir`, from one pass of the
/// overlay over that subtree: each node's entries are counted in their
/// layers, and the visible one's place is marked.
fn survivors(
    indexes: &Indexes,
    image: &Image,
    layers: &[usize],
    dir: &[u8],
) -> anyhow::Result<Vec<Survivors>> {
    let mut readers = indexes.open_layers_of(image, layers)?;
    let mut found = Vec::with_capacity(readers.len());
    for r in &mut readers {
        r.seek(dir).map_err(index_error)?;
        found.push(Survivors {
            start: r.ordinal(),
            ..Survivors::default()
        });
    }
    let mut next: Vec<u64> = found.iter().map(|s| s.start).collect();
    let readers = indexes.open_layers_of(image, layers)?;
    for node in Overlay::subtree(readers, dir, Scope::All).map_err(index_error)? {
        let node = node.map_err(index_error)?;
        for &l in node.whiteouts.iter().chain(&node.opaque) {
            next[l] += 1;
        }
        for h in &node.hidden {
            next[h.version.layer] += 1;
        }
        if let Some(v) = &node.visible {
            // Markers of the same path come first in a layer's index.
            let ordinal = next[v.layer];
            next[v.layer] += 1;
            if !node.path.is_empty() {
                found[v.layer].set(ordinal);
            }
        }
    }
    Ok(found)
}

/// The place in `reader`'s index of the real (not a marker) entry at `path`.
fn locate(reader: &mut IndexReader, path: &[u8]) -> io::Result<Option<(u64, Entry)>> {
    reader.seek(path)?;
    loop {
        let ordinal = reader.ordinal();
        match reader.next().transpose()? {
            Some(e) if e.path == path && e.kind.is_marker() => continue,
            Some(e) if e.path == path => return Ok(Some((ordinal, e))),
            _ => return Ok(None),
        }
    }
}

/// Writes the merged filesystem at and below `dir` ("" for all of it) as
/// one tar to `out`, streaming; returns the entries written.
pub fn write_merged(
    indexes: &Indexes,
    image: &Image,
    dir: &[u8],
    out: &mut dyn Write,
) -> anyhow::Result<u64> {
    let all: Vec<usize> = (0..image.layers.len()).collect();
    write_tree(indexes, image, &all, dir, out)
}

/// Layer `n`'s own entries at and below `dir` as one tar (its markers left out).
pub fn write_layer_subtree(
    indexes: &Indexes,
    image: &Image,
    n: usize,
    dir: &[u8],
    out: &mut dyn Write,
) -> anyhow::Result<u64> {
    write_tree(indexes, image, &[n], dir, out)
}

/// The merged filesystem of `layers` (positions, bottom first) at and
/// below `dir`, as one tar.
fn write_tree(
    indexes: &Indexes,
    image: &Image,
    layers: &[usize],
    dir: &[u8],
    out: &mut dyn Write,
) -> anyhow::Result<u64> {
    let mut survivors = survivors(indexes, image, layers, dir)?;
    let mut tar = tar::Builder::new(out);
    let mut written = 0;
    for (i, &n) in layers.iter().enumerate() {
        let layer = &image.layers[n];
        if survivors[i].left == 0 {
            continue;
        }
        let digest = layer.digest.as_str();
        let mut index = indexes.open(&layer.digest)?;
        let keep = &mut survivors[i];
        let blob = image.blobs.open_blob(layer)?;
        read_verified(blob, layer, |stream: &mut dyn BufRead| {
            let mut from = TarReader::new(stream);
            while keep.left > 0 {
                let Some(member) = from.next_entry()? else {
                    break;
                };
                let path = clean_path(&member.path, digest)?;
                if path != dir && !is_below(&path, dir) {
                    continue;
                }
                let Some((ordinal, entry)) = locate(&mut index, &path).map_err(index_error)? else {
                    continue;
                };
                // An earlier copy of a path the layer writes again is not the one.
                if !same(&member, &entry) || !keep.take(ordinal) {
                    continue;
                }
                if member.sparse.is_some() {
                    return Err(bad_path(
                        image,
                        &path,
                        "a sparse file, which strata does not write out",
                    ));
                }
                copy_member(&mut tar, &mut from, &member, &entry, &path).map_err(|e| match e {
                    Copy::Io(e) => anyhow::Error::from(e),
                    Copy::Changed => bad_path(
                        image,
                        &path,
                        format!(
                            "layer {} writes it more than once with the same size",
                            n + 1
                        ),
                    ),
                })?;
                written += 1;
            }
            Ok(())
        })?;
        if survivors[i].left > 0 {
            return Err(bad_path(
                image,
                dir,
                format!("layer {}'s tar lacks entries its index holds", n + 1),
            ));
        }
    }
    tar.finish()?;
    Ok(written)
}

/// Whether a tar member is the entry the index kept for its path.
fn same(member: &TarEntry, entry: &Entry) -> bool {
    let kind = kind_of(member.kind);
    kind == entry.kind
        && member.mode == entry.mode
        && member.uid == entry.uid
        && member.gid == entry.gid
        && member.mtime == entry.mtime
        && (kind != EntryKind::File || member.size == entry.size)
        && (kind != EntryKind::Symlink || member.link == entry.link)
}

enum Copy {
    Io(io::Error),
    /// The content is not what the index hashed.
    Changed,
}

impl From<io::Error> for Copy {
    fn from(e: io::Error) -> Copy {
        Copy::Io(e)
    }
}

/// Appends one member to the output: its header (the cleaned path, a
/// directory's with a `/`, a hard link's cleaned target) and its content.
fn copy_member<W: Write, R: BufRead>(
    tar: &mut tar::Builder<W>,
    from: &mut TarReader<R>,
    member: &TarEntry,
    entry: &Entry,
    path: &[u8],
) -> Result<(), Copy> {
    let mut header = Header::new_gnu();
    header.set_entry_type(member.kind);
    header.set_mode(member.mode);
    header.set_uid(member.uid);
    header.set_gid(member.gid);
    header.set_mtime(member.mtime);
    header.set_size(0);
    let mut name = path.to_vec();
    let name_of = |b: &[u8]| -> io::Result<std::path::PathBuf> {
        use std::os::unix::ffi::OsStrExt;
        Ok(std::ffi::OsStr::from_bytes(b).into())
    };
    match entry.kind {
        EntryKind::File => {
            header.set_entry_type(EntryType::Regular);
            header.set_size(member.size);
            let mut hashed = Hashed::new(from.data());
            tar.append_data(&mut header, name_of(&name)?, &mut hashed)?;
            if Some(hashed.finish()) != entry.hash {
                return Err(Copy::Changed);
            }
        }
        EntryKind::Symlink | EntryKind::HardLink => {
            let target = entry.link.clone().unwrap_or_default();
            tar.append_link(&mut header, name_of(&name)?, name_of(&target)?)?;
        }
        kind => {
            if kind == EntryKind::Dir {
                name.push(b'/');
            }
            if matches!(kind, EntryKind::CharDevice | EntryKind::BlockDevice) {
                header.set_device_major(member.device.0)?;
                header.set_device_minor(member.device.1)?;
            }
            tar.append_data(&mut header, name_of(&name)?, io::empty())?;
        }
    }
    Ok(())
}
