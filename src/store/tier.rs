//! A tier: one place layer indexes are kept by digest — the local cache
//! today, a shared one (a registry or a team's directory) next. Each hands
//! out a summary, an index file checked against what its summary recorded,
//! and keeps what a scan made. A damaged entry is a miss that says why.

use std::io;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::Xxh3;

use crate::image::Digest;
use crate::layer::LayerSummary;

/// What a tier found for a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found<T> {
    Hit(T),
    Miss,
    /// There, but not intact: a miss to warn about (the reason, in strata's words).
    Damaged(&'static str),
}

/// An index file's length and xxh3-128: checked in full before a view
/// reads it, so no view meets a damaged block halfway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexCheck {
    pub len: u64,
    pub xxh3: [u8; 16],
}

impl IndexCheck {
    /// The check of whatever `r` yields.
    pub fn of(mut r: impl io::Read) -> io::Result<IndexCheck> {
        let mut hasher = Xxh3::new();
        // On the stack: a large buffer taken from and given back to the heap
        // for every layer made glibc keep ~120 MiB more of a 20,000-layer run.
        let mut buf = [0u8; 64 * 1024];
        let mut len = 0u64;
        loop {
            let n = match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            hasher.update(&buf[..n]);
            len += n as u64;
        }
        Ok(IndexCheck {
            len,
            xxh3: hasher.digest128().to_le_bytes(),
        })
    }
}

/// What a tier keeps for one layer besides its index: its verified figures
/// and the check of its index file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kept {
    pub summary: LayerSummary,
    pub index: IndexCheck,
}

impl Kept {
    /// On disk: postcard, then an xxh3-64 of those bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = postcard::to_stdvec(self).unwrap_or_default();
        let sum = xxhash_rust::xxh3::xxh3_64(&bytes);
        bytes.extend_from_slice(&sum.to_le_bytes());
        bytes
    }

    pub fn decode(bytes: &[u8]) -> Option<Kept> {
        let (body, sum) = bytes.split_at(bytes.len().checked_sub(8)?);
        if xxhash_rust::xxh3::xxh3_64(body).to_le_bytes() != sum {
            return None;
        }
        postcard::from_bytes(body).ok()
    }
}

/// One place layer indexes are kept.
pub trait Tier: Send + Sync {
    /// The layer's summary and index check, if this tier holds them intact.
    fn summary(&self, digest: &Digest) -> Found<Kept>;
    /// A local file holding the layer's index, matching `kept.index` in
    /// length and hash.
    fn index(&self, kept: &Kept) -> Found<PathBuf>;
    /// Keeps a verified scan: its index file, then its summary. Returns
    /// what was kept and where the index now is.
    fn put(&self, summary: LayerSummary, index: tempfile::TempPath) -> io::Result<(Kept, PathBuf)>;
}

#[cfg(test)]
pub(crate) fn sample_summary() -> LayerSummary {
    use crate::image::Compression;
    LayerSummary {
        digest: Digest::parse(&format!("sha256:{}", "ab".repeat(32)), "t").unwrap(),
        diff_id: Digest::parse(&format!("sha256:{}", "cd".repeat(32)), "t").unwrap(),
        compression: Compression::Gzip,
        compressed: 10,
        uncompressed: 20,
        files: 5,
        entries: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_record_reads_back_and_an_edited_one_does_not() {
        let k = Kept {
            summary: sample_summary(),
            index: IndexCheck::of(&b"index bytes"[..]).unwrap(),
        };
        let mut bytes = k.encode();
        assert_eq!(Kept::decode(&bytes), Some(k.clone()));
        for i in 0..bytes.len() {
            bytes[i] ^= 1;
            assert_eq!(Kept::decode(&bytes), None, "byte {i}");
            bytes[i] ^= 1;
        }
        assert_eq!(Kept::decode(&[]), None);
        assert_eq!(k.index.len, 11);
        assert_ne!(
            IndexCheck::of(&b"index bytes"[..]).unwrap(),
            IndexCheck::of(&b"index byteS"[..]).unwrap()
        );
    }
}
