//! The digest store: one layer index per distinct layer digest, scanned once
//! per run (in parallel, bounded by the cores) and kept by digest in its
//! tiers — the cache strata owns, and the run's private directory (with
//! `--no-cache`, or when the cache cannot be used or written). Summaries are
//! the fast path; views open indexes only through the handle `indexes`
//! returns. A damaged entry is a miss: said once, rescanned, replaced.

mod configs;
mod indexes;
pub mod local;
pub mod root;
mod scan;
pub mod shared;
mod streamed;
pub mod tier;
pub mod usage;

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{Error, Result};
use crate::image::{BlobSource, Digest, Image, LayerDesc};
use crate::layer::LayerSummary;
pub use indexes::{Indexes, LayerEntries, MAX_MERGED_LAYERS};
use local::{Local, Opened};
use root::Refused;
use tier::{Found, Tier};

/// Where scan progress goes (a progress bar, or nowhere).
pub trait Progress: Sync {
    /// `bytes` compressed bytes in `layers` layers are about to be read.
    fn start(&self, layers: usize, bytes: u64);
    fn advance(&self, bytes: u64);
    fn finish(&self);
    /// The entries of `layers` layers are being read from the shared cache
    /// (ended by `finish`).
    fn fetching(&self, _layers: usize) {}
    /// The run waits for `entries` pushes to the shared cache (ended by `finish`).
    fn pushing(&self, _entries: usize) {}
}

pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: usize, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// What the store has to say at the end of a run, each thing once: damaged
/// entries are gathered into one line.
#[derive(Default)]
pub(crate) struct Notes {
    said: Mutex<Vec<String>>,
    damaged: Mutex<Vec<String>>,
    /// The cache's root, for the damage line.
    root: OnceLock<PathBuf>,
}

impl Notes {
    fn say(&self, message: String) {
        if let Ok(mut said) = self.said.lock() {
            if !said.contains(&message) {
                said.push(message);
            }
        }
    }

    /// `what` (a layer, a config) was found damaged: a miss.
    pub(crate) fn damaged(&self, what: String, why: &str) {
        let entry = format!("{what} ({why})");
        if let Ok(mut d) = self.damaged.lock() {
            if !d.contains(&entry) {
                d.push(entry);
            }
        }
    }

    fn unwritable(&self, root: &Path, kind: io::ErrorKind) {
        self.say(format!(
            "cache {}: cannot be written ({}); this run keeps its new scans in a private directory",
            root.display(),
            io::Error::from(kind)
        ));
    }

    fn lines(&self) -> Vec<String> {
        let mut lines = self.said.lock().map(|s| s.clone()).unwrap_or_default();
        let damaged = self.damaged.lock().map(|d| d.clone()).unwrap_or_default();
        if !damaged.is_empty() {
            let root = self
                .root
                .get()
                .map_or_else(String::new, |r| format!(" {}", r.display()));
            let shown: Vec<&str> = damaged.iter().take(3).map(String::as_str).collect();
            let more = match damaged.len() {
                n if n > 3 => format!(" and {} more", n - 3),
                _ => String::new(),
            };
            let (count, verb) = match damaged.len() {
                1 => ("a damaged entry".to_owned(), "was"),
                n => (format!("{n} damaged entries"), "were"),
            };
            lines.push(format!(
                "cache{root}: {count} {verb} ignored and made again: {}{more}",
                shown.join(", ")
            ));
        }
        lines
    }
}

pub struct Store {
    /// The cache, when one is in use and strata may use it.
    cache: Option<Arc<Local>>,
    /// The run's private directory, made on first need.
    private: OnceLock<std::result::Result<Local, String>>,
    threads: usize,
    notes: Arc<Notes>,
    /// Indexes checked in full (or written) this run, by digest.
    checked: Mutex<HashMap<Digest, PathBuf>>,
    /// The shared tier behind the local one (`--shared-cache`).
    shared: Option<shared::SharedCache>,
}

/// What one run asked of the store.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StoreStats {
    pub distinct: usize,
    pub cached: usize,
    /// Read from the shared cache (and kept locally).
    pub shared: usize,
    pub scanned: usize,
}

impl Store {
    /// `cache`: the cache directory (`$XDG_CACHE_HOME/strata`), or None for
    /// `--no-cache`. A cache strata may not use is said once and replaced
    /// by a private directory.
    pub fn open(cache: Option<PathBuf>) -> Result<Store> {
        let notes = Arc::new(Notes::default());
        let cache = cache.and_then(|dir| match Local::open(&dir) {
            Ok(Opened { local, unwritable }) => {
                if let Some(kind) = unwritable {
                    notes.unwritable(local.root(), kind);
                }
                let _ = notes.root.set(local.root().to_owned());
                Some(Arc::new(local))
            }
            Err(Refused(why)) => {
                notes.say(format!(
                    "cache: {why}; using a private directory for this run"
                ));
                None
            }
        });
        let store = Store {
            cache,
            private: OnceLock::new(),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            notes,
            checked: Mutex::new(HashMap::new()),
            shared: None,
        };
        if store.cache.is_none() {
            store.writer()?;
        }
        Ok(store)
    }

    /// The store with a shared tier behind its local one: local misses are
    /// asked of it before any blob is read, and new scans pushed to it.
    pub fn with_shared(mut self, shared: shared::SharedCache) -> Store {
        self.shared = Some(shared);
        self
    }

    pub fn shared(&self) -> Option<&shared::SharedCache> {
        self.shared.as_ref()
    }

    /// Waits for the run's pushes to the shared cache (at most `--timeout`).
    pub fn finish(&self) {
        if let Some(shared) = &self.shared {
            shared.wait();
        }
    }

    /// Problems that changed no figure (a damaged entry, a cache that could
    /// not be used or written, a shared cache that could not be read or
    /// written), each said once.
    pub fn warnings(&self) -> Vec<String> {
        let mut lines = self.notes.lines();
        if let Some(shared) = &self.shared {
            lines.extend(shared.warnings());
        }
        lines
    }

    /// The config cache sources read and fill (None without a cache).
    pub fn configs(&self) -> Option<Arc<dyn crate::source::registry::ConfigCache>> {
        let local = self.cache.clone()?;
        Some(Arc::new(configs::Configs {
            local,
            notes: self.notes.clone(),
        }))
    }

    fn private(&self) -> Result<&Local> {
        self.private
            .get_or_init(|| Local::private().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| Error::io(std::env::temp_dir(), io::Error::other(e.clone())))
    }

    /// Where new scans go: the cache while it can be written, else the
    /// private directory.
    fn writer(&self) -> Result<&Local> {
        match &self.cache {
            Some(cache) if cache.writable() => Ok(cache),
            _ => self.private(),
        }
    }

    fn is_cache(&self, local: &Local) -> bool {
        self.cache
            .as_deref()
            .is_some_and(|c| std::ptr::eq(c, local))
    }

    /// The tiers a lookup reads, in order.
    fn tiers(&self) -> Vec<&dyn Tier> {
        let mut tiers: Vec<&dyn Tier> = Vec::new();
        if let Some(cache) = &self.cache {
            tiers.push(cache.as_ref());
        }
        if let Some(Ok(private)) = self.private.get() {
            tiers.push(private);
        }
        tiers
    }

    /// The verified summary of every distinct layer of `images`, by digest.
    /// Cached summaries are used without opening any index or blob.
    pub fn summaries(
        &self,
        images: &[Image],
        progress: &dyn Progress,
    ) -> Result<(HashMap<Digest, LayerSummary>, StoreStats)> {
        self.collect(images, progress, false)
    }

    /// Makes sure every distinct layer of `images` has an intact index
    /// (checked in full once per run, scanning what is missing or damaged)
    /// and returns the handle that opens them.
    /// An image of more than MAX_MERGED_LAYERS layers is refused first.
    pub fn indexes(&self, images: &[Image], progress: &dyn Progress) -> Result<Indexes<'_>> {
        for image in images {
            indexes::check_layers(image)?;
        }
        let (summaries, _) = self.collect(images, progress, true)?;
        let checked = self.checked.lock().map_err(|_| poisoned())?;
        let files = summaries
            .keys()
            .filter_map(|d| checked.get(d).map(|p| (d.clone(), p.clone())))
            .collect();
        Ok(Indexes::new(summaries, files))
    }

    fn collect(
        &self,
        images: &[Image],
        progress: &dyn Progress,
        need_index: bool,
    ) -> Result<(HashMap<Digest, LayerSummary>, StoreStats)> {
        let mut distinct: Vec<(&LayerDesc, &Arc<dyn BlobSource>)> = Vec::new();
        let mut seen = HashSet::new();
        // A foreign layer not at hand is never scanned (nor fetched).
        for image in images {
            for layer in image.layers.iter().filter(|l| !l.unread()) {
                if seen.insert(&layer.digest) {
                    distinct.push((layer, &image.blobs));
                }
            }
        }
        let mut found = HashMap::new();
        let mut to_scan = Vec::new();
        for (layer, blobs) in distinct.iter().copied() {
            match self.lookup(layer, need_index)? {
                Some(s) => {
                    found.insert(layer.digest.clone(), s);
                }
                None => to_scan.push((layer, blobs)),
            }
        }
        let cached = found.len();
        let fetched = self.fetch_shared(&mut to_scan, progress)?;
        let stats = StoreStats {
            distinct: distinct.len(),
            cached,
            shared: fetched.len(),
            scanned: to_scan.len(),
        };
        for (kept, path) in fetched {
            let digest = kept.summary.digest.clone();
            self.checked
                .lock()
                .map_err(|_| poisoned())?
                .insert(digest.clone(), path);
            found.insert(digest, kept.summary);
        }
        // Largest first: the longest scans start early and the tail stays short.
        to_scan.sort_by_key(|(layer, _)| std::cmp::Reverse(layer.size));
        for (kept, path) in self.scan_all(&to_scan, progress)? {
            let digest = kept.summary.digest.clone();
            self.checked
                .lock()
                .map_err(|_| poisoned())?
                .insert(digest.clone(), path);
            found.insert(digest, kept.summary);
        }
        // Every use of a digest must agree with what its bytes hash to.
        for image in images {
            for layer in image.layers.iter().filter(|l| !l.unread()) {
                let s = &found[&layer.digest];
                if layer.diff_id.as_ref() != Some(&s.diff_id) {
                    return Err(Error::DiffIdMismatch {
                        digest: layer.digest.to_string(),
                        expected: layer
                            .diff_id
                            .as_ref()
                            .map_or_else(String::new, Digest::to_string),
                        found: s.diff_id.to_string(),
                    });
                }
                if layer.size != s.compressed {
                    return Err(Error::SizeMismatch {
                        digest: layer.digest.to_string(),
                        expected: layer.size,
                        found: s.compressed,
                    });
                }
            }
        }
        Ok((found, stats))
    }

    /// A kept summary that serves this descriptor (same digest and size),
    /// with its index checked in full when one is needed; None: scan it.
    /// Anything damaged on the way is noted and is a miss.
    fn lookup(&self, layer: &LayerDesc, need_index: bool) -> Result<Option<LayerSummary>> {
        for tier in self.tiers() {
            let kept = match tier.summary(&layer.digest) {
                Found::Hit(kept) => kept,
                Found::Miss => continue,
                Found::Damaged(why) => {
                    self.damaged(layer, why);
                    continue;
                }
            };
            // Another size: the descriptor lies, and the scan will say so.
            if kept.summary.compressed != layer.size {
                return Ok(None);
            }
            let mut checked = self.checked.lock().map_err(|_| poisoned())?;
            if !need_index || checked.contains_key(&layer.digest) {
                return Ok(Some(kept.summary));
            }
            match tier.index(&kept) {
                Found::Hit(path) => {
                    checked.insert(layer.digest.clone(), path);
                    return Ok(Some(kept.summary));
                }
                Found::Miss => continue,
                Found::Damaged(why) => self.damaged(layer, why),
            }
        }
        Ok(None)
    }

    /// Asks the shared tier for the layers about to be scanned: what it
    /// hands back (checked in full, kept locally) is taken off `to_scan`.
    fn fetch_shared(
        &self,
        to_scan: &mut Vec<(&LayerDesc, &Arc<dyn BlobSource>)>,
        progress: &dyn Progress,
    ) -> Result<Vec<(tier::Kept, PathBuf)>> {
        let Some(shared) = &self.shared else {
            return Ok(Vec::new());
        };
        if to_scan.is_empty() {
            return Ok(Vec::new());
        }
        let layers: Vec<&LayerDesc> = to_scan.iter().map(|(l, _)| *l).collect();
        progress.fetching(layers.len());
        let got = shared.fetch_all(&layers, self.writer()?);
        progress.finish();
        let mut fetched = Vec::new();
        let mut left = Vec::new();
        for (job, hit) in to_scan.drain(..).zip(got) {
            match hit {
                Some(hit) => fetched.push(hit),
                None => left.push(job),
            }
        }
        *to_scan = left;
        Ok(fetched)
    }

    fn damaged(&self, layer: &LayerDesc, why: &str) {
        self.notes
            .damaged(format!("layer {}", layer.digest.short()), why);
    }
}

fn poisoned() -> Error {
    Error::malformed("layer store", "a scan thread panicked")
}

#[cfg(test)]
mod tests;
