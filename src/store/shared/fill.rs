//! `strata cache push` and `pull` in the store's terms: fill the shared
//! cache with the entries a set of images needs (scanning what no tier has),
//! or warm the local cache from it.

use std::collections::HashSet;

use super::super::tier::Found;
use super::super::{Progress, Store, StoreStats};
use crate::error::{Error, Result};
use crate::image::{Digest, Image};

/// What a fill did, in distinct layers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Filled {
    pub layers: usize,
    /// Already in the shared cache.
    pub present: usize,
    /// Pushed this run.
    pub pushed: usize,
    /// Scanned this run (no tier had them).
    pub scanned: usize,
    /// Lacking, and not pushed (see the warnings).
    pub failed: usize,
}

/// What a warm did, in distinct layers.
pub type Warmed = StoreStats;

impl Store {
    /// Pushes every entry `images` need that the shared cache lacks: local
    /// entries as they are, the rest scanned first. Waits for the pushes.
    pub fn fill_shared(&self, images: &[Image], progress: &dyn Progress) -> Result<Filled> {
        let shared = self.shared_or_error()?;
        let lacking = shared.lacking(&distinct(images))?;
        self.push_lacking(images, &lacking, progress)
    }

    /// `fill_shared` for layers the shared cache was just found to lack
    /// (`lacking`): neither asked again nor looked for there.
    pub fn push_lacking(
        &self,
        images: &[Image],
        lacking: &HashSet<Digest>,
        progress: &dyn Progress,
    ) -> Result<Filled> {
        let shared = self.shared_or_error()?;
        let layers = distinct(images).len();
        let mut filled = Filled {
            layers,
            present: layers.saturating_sub(lacking.len()),
            ..Filled::default()
        };
        if lacking.is_empty() {
            return Ok(filled);
        }
        // Only the layers lacking: scanned ones are pushed as they are kept.
        let wanted: Vec<Image> = images
            .iter()
            .map(|i| {
                let mut i = i.clone();
                i.layers.retain(|l| lacking.contains(&l.digest));
                i
            })
            .filter(|i| !i.layers.is_empty())
            .collect();
        let (_, stats) = self.collect_with(&wanted, progress, true, false)?;
        filled.scanned = stats.scanned;
        let checked = self.checked.lock().map_err(|_| super::super::poisoned())?;
        for digest in lacking {
            let Some(path) = checked.get(digest) else {
                continue;
            };
            let kept = self
                .tiers()
                .into_iter()
                .find_map(|t| match t.summary(digest) {
                    Found::Hit(kept) => Some(kept),
                    _ => None,
                });
            if let Some(kept) = kept {
                shared.push(kept, path.clone());
            }
        }
        drop(checked);
        progress.pushing(lacking.len());
        filled.pushed = shared.wait();
        progress.finish();
        filled.failed = lacking.len().saturating_sub(filled.pushed + stats.shared);
        Ok(filled)
    }

    /// Brings every entry `images` need into the local cache: from the
    /// shared cache where it has them, else scanned (and pushed).
    pub fn warm(&self, images: &[Image], progress: &dyn Progress) -> Result<Warmed> {
        self.shared_or_error()?;
        for image in images {
            super::super::indexes::check_layers(image)?;
        }
        let (_, stats) = self.collect(images, progress, true)?;
        Ok(stats)
    }

    fn shared_or_error(&self) -> Result<&super::SharedCache> {
        self.shared.as_ref().ok_or_else(|| Error::BadArgument {
            flag: "--shared-cache",
            reason: "strata cache push and pull need a shared cache (--shared-cache or STRATA_SHARED_CACHE)".into(),
        })
    }
}

/// The distinct layer digests of `images`, in order.
fn distinct(images: &[Image]) -> Vec<Digest> {
    let mut seen = HashSet::new();
    images
        .iter()
        .flat_map(|i| &i.layers)
        .filter(|l| seen.insert(&l.digest))
        .map(|l| l.digest.clone())
        .collect()
}
