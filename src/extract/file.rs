//! One file's bytes, streamed from the layer blob that holds them: the
//! layer's tar read to that entry, its content hashed as it is written and
//! checked against the index, the blob verified at its end.

use std::io::{BufRead, Read, Write};

use xxhash_rust::xxh3::Xxh3;

use super::resolve::{bad_path, Found};
use crate::image::Image;
use crate::layer::verified::read_verified;
use crate::layer::walk::{clean_path, kind_of};
use crate::layer::EntryKind;
use crate::tar_reader::TarReader;

/// Writes the content of `found` (a regular file of layer `found.layer`) to
/// `out`; returns its size. `asked` names it in errors.
pub fn write_file(
    image: &Image,
    found: &Found,
    asked: &[u8],
    out: &mut dyn Write,
) -> anyhow::Result<u64> {
    match found.entry.kind {
        EntryKind::File => {}
        EntryKind::Dir => return Err(bad_path(image, asked, "is a directory")),
        _ => return Err(bad_path(image, asked, "not a regular file")),
    }
    let layer = &image.layers[found.layer];
    let blob = image.blobs.open_blob(layer)?;
    read_verified(blob, layer, |stream: &mut dyn BufRead| {
        let mut tar = TarReader::new(stream);
        while let Some(member) = tar.next_entry()? {
            if kind_of(member.kind) != EntryKind::File || member.size != found.entry.size {
                continue;
            }
            if clean_path(&member.path, layer.digest.as_str())? != found.path {
                continue;
            }
            if member.sparse.is_some() {
                return Err(bad_path(
                    image,
                    asked,
                    "a sparse file, which strata does not write out",
                ));
            }
            let mut content = Hashed::new(tar.data());
            std::io::copy(&mut content, out)?;
            if Some(content.finish()) != found.entry.hash {
                // An earlier copy of the path in the same layer, of the same size.
                return Err(bad_path(
                    image,
                    asked,
                    format!(
                        "layer {} writes it more than once; the bytes written are not its last version",
                        found.layer + 1
                    ),
                ));
            }
            return Ok(found.entry.size);
        }
        Err(bad_path(
            image,
            asked,
            format!(
                "not found in layer {}'s tar, as its index says",
                found.layer + 1
            ),
        ))
    })
}

/// Hashes what is read through it (xxh3-128, as the index records a file's
/// content).
pub struct Hashed<R> {
    inner: R,
    hasher: Xxh3,
}

impl<R: Read> Hashed<R> {
    pub fn new(inner: R) -> Self {
        Hashed {
            inner,
            hasher: Xxh3::new(),
        }
    }

    pub fn finish(&self) -> [u8; 16] {
        self.hasher.digest128().to_be_bytes()
    }
}

impl<R: Read> Read for Hashed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}
