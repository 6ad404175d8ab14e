//! The digest store: one LayerIndex per distinct layer digest, scanned once per
//! run (in parallel, bounded by the cores) and cached on disk by digest.

use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::image::{BlobSource, Digest, Image, LayerDesc};
use crate::layer::{self, LayerIndex, LayerSummary, ScanOptions, INDEX_VERSION};

/// Where scan progress goes (a progress bar, or nowhere).
pub trait Progress: Sync {
    /// `bytes` compressed bytes in `layers` layers are about to be read.
    fn start(&self, layers: usize, bytes: u64);
    fn advance(&self, bytes: u64);
    fn finish(&self);
}

pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: usize, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

pub struct Store {
    cache: Option<PathBuf>,
    threads: usize,
    warnings: Mutex<Vec<String>>,
}

/// What one run asked of the store.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StoreStats {
    pub distinct: usize,
    pub cached: usize,
    pub scanned: usize,
}

impl Store {
    pub fn open(cache: Option<PathBuf>) -> Result<Store> {
        Ok(Store::new(cache))
    }

    /// `cache`: the cache root (`$XDG_CACHE_HOME/strata`), or None for `--no-cache`.
    pub fn new(cache: Option<PathBuf>) -> Store {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        Store {
            cache,
            threads,
            warnings: Mutex::new(Vec::new()),
        }
    }

    /// Problems that did not change any figure (a cache entry that could not be written).
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }

    /// The verified summary of every distinct layer of `images`, by digest.
    pub fn summaries(
        &self,
        images: &[Image],
        progress: &dyn Progress,
    ) -> Result<(HashMap<Digest, LayerSummary>, StoreStats)> {
        let mut distinct: Vec<(&LayerDesc, &Arc<dyn BlobSource>)> = Vec::new();
        let mut seen = HashMap::new();
        for image in images {
            for layer in &image.layers {
                seen.entry(&layer.digest).or_insert_with(|| {
                    distinct.push((layer, &image.blobs));
                });
            }
        }
        let mut found = HashMap::new();
        let mut to_scan = Vec::new();
        for (layer, blobs) in distinct.iter().copied() {
            match self.cached_summary(&layer.digest) {
                Some(s) => {
                    found.insert(layer.digest.clone(), s);
                }
                None => to_scan.push((layer, blobs)),
            }
        }
        let stats = StoreStats {
            distinct: distinct.len(),
            cached: found.len(),
            scanned: to_scan.len(),
        };
        // Largest first: the longest scans start early and the tail stays short.
        to_scan.sort_by_key(|(layer, _)| std::cmp::Reverse(layer.size));
        for summary in self.scan_all(&to_scan, progress)? {
            found.insert(summary.digest.clone(), summary);
        }
        // Every use of a digest must agree with what its bytes hash to.
        for image in images {
            for layer in &image.layers {
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
            }
        }
        Ok((found, stats))
    }

    fn scan_all(
        &self,
        layers: &[(&LayerDesc, &Arc<dyn BlobSource>)],
        progress: &dyn Progress,
    ) -> Result<Vec<LayerSummary>> {
        if layers.is_empty() {
            return Ok(Vec::new());
        }
        progress.start(layers.len(), layers.iter().map(|(l, _)| l.size).sum());
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let results: Mutex<Vec<Option<Result<LayerSummary>>>> =
            Mutex::new((0..layers.len()).map(|_| None).collect());
        let advance = |n: u64| progress.advance(n);
        let opts = ScanOptions {
            pipelined: self.threads > 1,
            progress: Some(&advance),
        };
        std::thread::scope(|s| {
            for _ in 0..self.threads.min(layers.len()) {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= layers.len() || failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let (layer, blobs) = layers[i];
                    let result = self.scan_one(layer, blobs.as_ref(), opts);
                    if result.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(result);
                    }
                });
            }
        });
        progress.finish();
        let results = results.into_inner().unwrap_or_default();
        // Report the first failure in scan order, whatever thread met it first.
        results.into_iter().flatten().collect()
    }

    fn scan_one(
        &self,
        layer: &LayerDesc,
        blobs: &dyn BlobSource,
        opts: ScanOptions<'_>,
    ) -> Result<LayerSummary> {
        let blob = blobs.open_blob(layer)?;
        let index = layer::scan(blob, layer, opts)?;
        if let Some(dir) = &self.cache {
            if let Err(e) = write_index(dir, &index) {
                if let Ok(mut w) = self.warnings.lock() {
                    w.push(format!("cache {}: {e}", dir.display()));
                }
            }
        }
        Ok(index.summary)
    }

    fn cached_summary(&self, digest: &Digest) -> Option<LayerSummary> {
        let (_, summary_path) = paths(self.cache.as_ref()?, digest);
        let file = std::fs::File::open(summary_path).ok()?;
        let cached: CachedSummary = serde_json::from_reader(BufReader::new(file)).ok()?;
        (cached.version == INDEX_VERSION && cached.summary.digest == *digest)
            .then_some(cached.summary)
    }

    /// The full index of one layer from the cache (for views that need entries).
    pub fn cached_index(&self, digest: &Digest) -> Option<LayerIndex> {
        let (index_path, _) = paths(self.cache.as_ref()?, digest);
        let file = std::fs::File::open(index_path).ok()?;
        let index: LayerIndex = serde_json::from_reader(BufReader::new(file)).ok()?;
        (index.version == INDEX_VERSION && index.summary.digest == *digest).then_some(index)
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CachedSummary {
    version: u32,
    summary: LayerSummary,
}

/// `<cache>/layers/v<N>/sha256/<hex>.{index,summary}.json`
fn paths(root: &Path, digest: &Digest) -> (PathBuf, PathBuf) {
    let (alg, hex) = (digest.algorithm().name(), digest.hex());
    let dir = root
        .join("layers")
        .join(format!("v{INDEX_VERSION}"))
        .join(alg);
    (
        dir.join(format!("{hex}.index.json")),
        dir.join(format!("{hex}.summary.json")),
    )
}

/// Writes the index, then the summary, each atomically (temp file + rename):
/// a summary on disk always has its full index beside it.
fn write_index(root: &Path, index: &LayerIndex) -> std::io::Result<()> {
    let (index_path, summary_path) = paths(root, &index.summary.digest);
    let dir = index_path.parent().unwrap_or(root);
    std::fs::create_dir_all(dir)?;
    write_atomic(dir, &index_path, index)?;
    let summary = CachedSummary {
        version: INDEX_VERSION,
        summary: index.summary.clone(),
    };
    write_atomic(dir, &summary_path, &summary)
}

fn write_atomic<T: serde::Serialize>(dir: &Path, path: &Path, value: &T) -> std::io::Result<()> {
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    let mut w = BufWriter::new(tmp);
    serde_json::to_writer(&mut w, value)?;
    w.flush()?;
    let tmp = w.into_inner().map_err(|e| e.into_error())?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::decode::Compression;
    use crate::layer::{Entry, EntryKind};

    #[test]
    fn a_written_index_reads_back_whole_and_by_summary() {
        let dir = tempfile::tempdir().unwrap();
        let digest = Digest::parse(&format!("sha256:{}", "ab".repeat(32)), "t").unwrap();
        let index = LayerIndex {
            version: INDEX_VERSION,
            summary: LayerSummary {
                digest: digest.clone(),
                diff_id: Digest::parse(&format!("sha256:{}", "cd".repeat(32)), "t").unwrap(),
                compression: Compression::Gzip,
                compressed: 10,
                uncompressed: 20,
                files: 5,
                entries: 1,
            },
            entries: vec![Entry {
                path: "etc/x".into(),
                kind: EntryKind::File,
                size: 5,
                mode: 0o644,
                uid: 0,
                gid: 0,
                mtime: 0,
                link: None,
                hash: Some("0".repeat(32)),
            }],
            package_dbs: Vec::new(),
        };
        write_index(dir.path(), &index).unwrap();
        let store = Store::new(Some(dir.path().to_owned()));
        assert_eq!(store.cached_summary(&digest), Some(index.summary.clone()));
        assert_eq!(store.cached_index(&digest), Some(index));
        assert_eq!(Store::new(None).cached_index(&digest), None);
    }
}
