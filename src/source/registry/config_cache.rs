//! Image configs cached by digest next to the layer indexes, so a warm run
//! costs manifest requests only. Entries are re-verified when read.

use std::path::{Path, PathBuf};

use crate::image::Digest;

fn path(root: &Path, digest: &Digest) -> PathBuf {
    root.join("configs")
        .join(digest.algorithm().name())
        .join(digest.hex())
}

/// The cached config, if present and still hashing to its digest (so a
/// hit is as verified as a fetch). Only a regular file of at most
/// CONFIG_LIMIT bytes is read: a cache entry is input like any other.
pub fn get(root: Option<&Path>, digest: &Digest) -> Option<Vec<u8>> {
    let path = path(root?, digest);
    let meta = std::fs::symlink_metadata(&path).ok()?;
    if !meta.is_file() || meta.len() > super::CONFIG_LIMIT {
        return None;
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::fs::File::open(&path).ok()?, super::CONFIG_LIMIT + 1),
        &mut bytes,
    )
    .ok()?;
    (Digest::compute(digest.algorithm(), &bytes) == *digest).then_some(bytes)
}

/// Best effort: a cache that cannot be written changes no figure.
pub fn put(root: Option<&Path>, digest: &Digest, bytes: &[u8]) {
    let Some(root) = root else { return };
    let dest = path(root, digest);
    let Some(dir) = dest.parent() else { return };
    let _ = std::fs::create_dir_all(dir)
        .and_then(|_| tempfile::NamedTempFile::new_in(dir))
        .and_then(|mut tmp| {
            std::io::Write::write_all(&mut tmp, bytes)?;
            tmp.persist(&dest).map(|_| ()).map_err(|e| e.error)
        });
}
