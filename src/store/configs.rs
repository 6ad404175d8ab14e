//! The store's side of the config cache: the handle a source is given to
//! read and keep image configs in the cache directory, reporting a damaged
//! entry with the store's other damage.

use std::sync::Arc;

use super::local::Local;
use super::tier::Found;
use super::Notes;
use crate::image::Digest;
use crate::source::registry::ConfigCache;

pub struct Configs {
    pub(super) local: Arc<Local>,
    pub(super) notes: Arc<Notes>,
}

impl std::fmt::Debug for Configs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Configs({})", self.local.root().display())
    }
}

impl ConfigCache for Configs {
    fn get(&self, digest: &Digest, limit: u64) -> Option<Vec<u8>> {
        match self.local.config(digest, limit) {
            Found::Hit(bytes) => Some(bytes),
            Found::Miss => None,
            Found::Damaged(why) => {
                self.notes
                    .damaged(format!("config {}", digest.short()), why);
                None
            }
        }
    }

    fn put(&self, digest: &Digest, bytes: &[u8]) {
        self.local.put_config(digest, bytes);
    }
}
