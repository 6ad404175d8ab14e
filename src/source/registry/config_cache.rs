//! Image configs cached by digest, so a warm run costs manifest requests
//! only. The store keeps them (it owns the cache directory and says when an
//! entry was damaged); the registry asks through this trait.

use crate::image::Digest;

pub trait ConfigCache: Send + Sync + std::fmt::Debug {
    /// The cached config: only bytes that hash to `digest`, at most `limit` of them.
    fn get(&self, digest: &Digest, limit: u64) -> Option<Vec<u8>>;
    /// Keeps a verified config (best effort: a cache that cannot be written
    /// changes no figure).
    fn put(&self, digest: &Digest, bytes: &[u8]);
}
