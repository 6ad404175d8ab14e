//! The digest store: one layer index per distinct layer digest, scanned once
//! per run (in parallel, bounded by the cores) and kept on disk by digest —
//! in the cache, or with `--no-cache` in a private directory for the run.
//! Summaries are the fast path (a few bytes per layer); views stream indexes.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::error::{Error, Result};
use crate::image::{BlobSource, Digest, Image, LayerDesc};
use crate::layer::{self, Footer, IndexReader, LayerSummary, ScanOptions, FORMAT_VERSION};

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

/// Temporaries older than this are left over from a killed run.
const STALE: Duration = Duration::from_secs(3600);

enum Root {
    Cache(PathBuf),
    /// `--no-cache`, or a cache that cannot be written: gone at the end of the run.
    Private(tempfile::TempDir),
}

pub struct Store {
    root: Root,
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
    /// `cache`: the cache root (`$XDG_CACHE_HOME/strata`), or None for `--no-cache`.
    pub fn open(cache: Option<PathBuf>) -> Result<Store> {
        let mut warnings = Vec::new();
        let root = match cache {
            Some(dir) => match prepare(&dir) {
                Ok(()) => Root::Cache(dir),
                Err(e) => {
                    warnings.push(format!(
                        "cache {}: {e}; using a private directory for this run",
                        dir.display()
                    ));
                    Root::Private(private()?)
                }
            },
            None => Root::Private(private()?),
        };
        Ok(Store {
            root,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            warnings: Mutex::new(warnings),
        })
    }

    /// Problems that did not change any figure (a cache entry that could not be written).
    pub fn warnings(&self) -> Vec<String> {
        self.warnings.lock().map(|w| w.clone()).unwrap_or_default()
    }

    fn warn(&self, message: String) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(message);
        }
    }

    fn dir(&self) -> &Path {
        match &self.root {
            Root::Cache(p) => p,
            Root::Private(t) => t.path(),
        }
    }

    fn layer_dir(&self, digest: &Digest) -> PathBuf {
        layers_root(self.dir()).join(digest.algorithm().name())
    }

    fn index_path(&self, digest: &Digest) -> PathBuf {
        self.layer_dir(digest).join(format!("{}.idx", digest.hex()))
    }

    fn summary_path(&self, digest: &Digest) -> PathBuf {
        self.layer_dir(digest).join(format!("{}.sum", digest.hex()))
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

    /// Makes sure every distinct layer of `images` has an index on disk
    /// (scanning what is missing) and returns their summaries.
    pub fn indexes(
        &self,
        images: &[Image],
        progress: &dyn Progress,
    ) -> Result<HashMap<Digest, LayerSummary>> {
        Ok(self.collect(images, progress, true)?.0)
    }

    /// Streams the entries of a layer's index (`indexes` made sure it exists).
    pub fn open_index(&self, digest: &Digest) -> Result<IndexReader> {
        let path = self.index_path(digest);
        IndexReader::open(&path).map_err(|e| Error::io(path, e))
    }

    /// A layer index's footer: its summary and package databases.
    pub fn footer(&self, digest: &Digest) -> Result<Footer> {
        let path = self.index_path(digest);
        IndexReader::footer(&path).map_err(|e| Error::io(path, e))
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
            match self.cached(layer, need_index) {
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

    /// A cached summary, trusted only when it is intact and serves this
    /// descriptor (same digest and size); anything else is a miss: rescan.
    fn cached(&self, layer: &LayerDesc, need_index: bool) -> Option<LayerSummary> {
        let bytes = std::fs::read(self.summary_path(&layer.digest)).ok()?;
        let summary = decode_summary(&bytes)?;
        let serves = summary.digest == layer.digest && summary.compressed == layer.size;
        let indexed = !need_index || self.index_path(&layer.digest).is_file();
        (serves && indexed).then_some(summary)
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
        let sizes: Vec<u64> = layers.iter().map(|(l, _)| l.size).collect();
        let plan = scan_plan(&sizes, self.threads);
        let opts = |k: usize| ScanOptions {
            pipelined: plan[k].1,
            progress: Some(&advance),
        };
        std::thread::scope(|s| {
            for _ in 0..self.threads.min(layers.len()) {
                s.spawn(|| loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= layers.len() || failed.load(Ordering::Relaxed) {
                        break;
                    }
                    let i = plan[k].0;
                    let (layer, blobs) = layers[i];
                    let result = self.scan_one(layer, blobs.as_ref(), opts(k));
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

    /// Scans one layer and keeps its index: the index file first, then the
    /// summary, each renamed into place, so a summary never lacks its index.
    fn scan_one(
        &self,
        layer: &LayerDesc,
        blobs: &dyn BlobSource,
        opts: ScanOptions<'_>,
    ) -> Result<LayerSummary> {
        let dir = self.layer_dir(&layer.digest);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let blob = blobs.open_blob(layer)?;
        let scanned = layer::scan(blob, layer, opts, &dir)?;
        let index_path = self.index_path(&layer.digest);
        scanned
            .index
            .persist(&index_path)
            .map_err(|e| Error::io(&index_path, e.error))?;
        if let Err(e) = write_summary(&dir, &self.summary_path(&layer.digest), &scanned.summary) {
            self.warn(format!("cache {}: {e}", dir.display()));
        }
        Ok(scanned.summary)
    }
}

fn private() -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("strata-")
        .tempdir()
        .map_err(|e| Error::io(std::env::temp_dir(), e))
}

/// The order layers are scanned in, largest first (the tail of a run is then
/// the small ones), and whether each scan is pipelined (its own threads for
/// reading, inflating and walking): only when the other workers would run out
/// of layers before it ends. While layers wait, one-thread scans side by side
/// use the cores better.
fn scan_plan(sizes: &[u64], threads: usize) -> Vec<(usize, bool)> {
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
    let others = threads.saturating_sub(1) as u128;
    (0..order.len())
        .map(|k| {
            let after: u128 = order[k + 1..].iter().map(|&i| u128::from(sizes[i])).sum();
            let pipelined = others > 0 && after < u128::from(sizes[order[k]]) * others;
            (order[k], pipelined)
        })
        .collect()
}

/// `<cache>/layers/v<FORMAT_VERSION>`
fn layers_root(root: &Path) -> PathBuf {
    root.join("layers").join(format!("v{FORMAT_VERSION}"))
}

/// Creates the cache's layer directories and clears what killed runs and
/// older versions left behind.
fn prepare(root: &Path) -> std::io::Result<()> {
    let layers = layers_root(root);
    for alg in ["sha256", "sha512"] {
        std::fs::create_dir_all(layers.join(alg))?;
    }
    // Indexes of older formats are never read again.
    if let Ok(dirs) = std::fs::read_dir(root.join("layers")) {
        for d in dirs.flatten() {
            if d.path() != layers && d.file_name().to_string_lossy().starts_with('v') {
                let _ = std::fs::remove_dir_all(d.path());
            }
        }
    }
    let now = SystemTime::now();
    for alg in ["sha256", "sha512"] {
        for e in std::fs::read_dir(layers.join(alg))?.flatten() {
            let stale = e.file_name().to_string_lossy().starts_with('.')
                && e.metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > STALE);
            if stale {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(())
}

/// A summary on disk: postcard, then an xxh3-64 of those bytes.
fn encode_summary(s: &LayerSummary) -> Vec<u8> {
    let mut bytes = postcard::to_stdvec(s).unwrap_or_default();
    let sum = xxhash_rust::xxh3::xxh3_64(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    bytes
}

fn decode_summary(bytes: &[u8]) -> Option<LayerSummary> {
    let (body, sum) = bytes.split_at(bytes.len().checked_sub(8)?);
    if xxhash_rust::xxh3::xxh3_64(body).to_le_bytes() != sum {
        return None;
    }
    postcard::from_bytes(body).ok()
}

fn write_summary(dir: &Path, path: &Path, summary: &LayerSummary) -> std::io::Result<()> {
    let mut tmp = tempfile::NamedTempFile::with_prefix_in(".sum-", dir)?;
    std::io::Write::write_all(&mut tmp, &encode_summary(summary))?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_plan_runs_the_largest_first_and_pipelines_only_what_would_leave_cores_idle() {
        // Four equal layers on two cores: side by side, the last one pipelined.
        let plan = scan_plan(&[250, 250, 250, 250], 2);
        let piped: Vec<bool> = plan.iter().map(|p| p.1).collect();
        assert_eq!(piped, [false, false, false, true]);
        // A big base and a small app layer: the base is pipelined, first.
        assert_eq!(scan_plan(&[10, 337], 2), [(1, true), (0, true)]);
        // One core: never pipelined.
        assert!(scan_plan(&[5, 500, 50], 1).iter().all(|p| !p.1));
        assert_eq!(
            scan_plan(&[5, 500, 50], 1)
                .iter()
                .map(|p| p.0)
                .collect::<Vec<_>>(),
            [1, 2, 0]
        );
        assert!(scan_plan(&[], 4).is_empty());
    }
    use crate::image::Compression;

    fn summary() -> LayerSummary {
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

    #[test]
    fn a_summary_reads_back_and_an_edited_one_does_not() {
        let s = summary();
        let mut bytes = encode_summary(&s);
        assert_eq!(decode_summary(&bytes), Some(s));
        bytes[3] ^= 1;
        assert_eq!(decode_summary(&bytes), None);
        assert_eq!(decode_summary(&[]), None);
    }

    #[test]
    fn stale_temporaries_and_old_versions_are_cleared() {
        let root = tempfile::tempdir().unwrap();
        let old = root.path().join("layers/v1/sha256");
        std::fs::create_dir_all(&old).unwrap();
        prepare(root.path()).unwrap();
        assert!(!old.exists());
        let dir = layers_root(root.path()).join("sha256");
        let stale = dir.join(".idx-killed");
        let fresh = dir.join(".idx-running");
        std::fs::write(&stale, b"x").unwrap();
        std::fs::write(&fresh, b"x").unwrap();
        let f = std::fs::File::options().write(true).open(&stale).unwrap();
        f.set_modified(SystemTime::now() - 2 * STALE).unwrap();
        prepare(root.path()).unwrap();
        assert!(!stale.exists() && fresh.exists());
    }
}
