//! The scan pool: distinct layers scanned in parallel by as many workers as
//! cores, largest first, each into the tier that takes new entries. A cache
//! found full or read-only mid-run stops taking them: the layer is scanned
//! again into the run's private directory, and the run goes on.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::local::Local;
use super::root::cannot_write;
use super::tier::{Kept, Tier};
use super::{Progress, Store};
use crate::error::{Error, Result};
use crate::image::{BlobSource, LayerDesc};
use crate::layer::{self, ScanOptions};

/// One layer to scan, and where its blob comes from.
pub type Job<'a> = (&'a LayerDesc, &'a Arc<dyn BlobSource>);
/// A scan kept: its record, and the tier it went to. (No path: what a
/// worker thread allocates and the run keeps fragments its heap.)
type Done<'s> = Result<(Kept, &'s Local)>;

impl Store {
    /// Scans `layers` (in parallel, bounded by the cores): what was kept for
    /// each, and where its index is, in the order given.
    pub(super) fn scan_all(
        &self,
        layers: &[Job<'_>],
        progress: &dyn Progress,
    ) -> Result<Vec<(Kept, PathBuf)>> {
        if layers.is_empty() {
            return Ok(Vec::new());
        }
        progress.start(layers.len(), layers.iter().map(|(l, _)| l.size).sum());
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        let results: Mutex<Vec<Option<Done>>> =
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
                    match &result {
                        Err(_) => failed.store(true, Ordering::Relaxed),
                        // Shared as soon as it is kept, while the others scan.
                        Ok((kept, local)) => {
                            if let Some(shared) = &self.shared {
                                let path = local.index_path(&kept.summary.digest);
                                shared.push(kept.clone(), path);
                            }
                        }
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
        results
            .into_iter()
            .flatten()
            .map(|done| {
                done.map(|(kept, local)| {
                    let path = local.index_path(&kept.summary.digest);
                    (kept, path)
                })
            })
            .collect()
    }

    /// Scans one layer into the tier taking new entries; when that is the
    /// cache and it cannot be written, once more into the private directory.
    fn scan_one(
        &self,
        layer: &LayerDesc,
        blobs: &dyn BlobSource,
        opts: ScanOptions<'_>,
    ) -> Done<'_> {
        let local = self.writer()?;
        match scan_into(local, layer, blobs, opts) {
            Err(e) if self.is_cache(local) && write_failure(&e, local.root()) => {
                local.stop_writing();
                if let Error::Io { source, .. } = &e {
                    self.notes.unwritable(local.root(), source.kind());
                }
                scan_into(self.writer()?, layer, blobs, opts)
            }
            other => other,
        }
    }
}

/// Scans a layer into `local`'s scratch directory and keeps it there.
fn scan_into<'s>(
    local: &'s Local,
    layer: &LayerDesc,
    blobs: &dyn BlobSource,
    opts: ScanOptions<'_>,
) -> Done<'s> {
    let dir = local.scratch(&layer.digest);
    let blob = blobs.open_blob(layer)?;
    let scanned = layer::scan(blob, layer, opts, &dir)?;
    match local.put(scanned.summary, scanned.index.into_temp_path()) {
        Ok((kept, _)) => Ok((kept, local)),
        Err(e) => Err(Error::io(&dir, e)),
    }
}

/// Did writing to the cache at `root` fail because it is full or read-only
/// (not because the layer is bad)?
fn write_failure(e: &Error, root: &Path) -> bool {
    match e {
        Error::Io { path, source } => {
            cannot_write(source) && (path.starts_with(root) || path == Path::new("layer index"))
        }
        _ => false,
    }
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

    #[test]
    fn only_a_full_or_read_only_cache_is_a_write_failure() {
        use std::io::{Error as IoError, ErrorKind};
        let root = Path::new("/c");
        let io = |path: &str, kind| Error::io(path, IoError::from(kind));
        assert!(write_failure(
            &io("/c/layers/v5/sha256", ErrorKind::StorageFull),
            root
        ));
        assert!(write_failure(
            &io("layer index", ErrorKind::ReadOnlyFilesystem),
            root
        ));
        assert!(!write_failure(
            &io("/blobs/x", ErrorKind::StorageFull),
            root
        ));
        assert!(!write_failure(
            &io("/c/layers", ErrorKind::InvalidData),
            root
        ));
        let bad = Error::DigestMismatch {
            expected: "a".into(),
            found: "b".into(),
        };
        assert!(!write_failure(&bad, root));
    }
}
