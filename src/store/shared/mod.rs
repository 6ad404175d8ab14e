//! The shared tier (`--shared-cache`, `STRATA_SHARED_CACHE`): a read-through,
//! write-back second tier behind the local cache, in a registry repository
//! (`docker://HOST/REPO`) or a shared directory (`file://DIR`). A local miss
//! asks it before any blob is read; what it hands back is checked in full
//! and kept locally; a layer scanned here is pushed to it in the background.
//! It never changes a figure: a bad entry is a miss (said once, rescanned,
//! replaced), and an unreachable or read-only cache is one warning.
//!
//! The API the rest of strata (and `fleet`) uses is small: [`SharedCache::open`],
//! [`SharedCache::fetch_all`], [`SharedCache::push`], [`SharedCache::wait`],
//! [`SharedCache::lacks`] and [`SharedCache::warnings`].

mod dir;
pub mod entry;
mod fill;
mod notes;
mod pushes;
mod registry;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::local::Local;
use super::tier::Kept;
use crate::image::{Digest, LayerDesc};
use crate::source::registry::artifact::{Artifacts, Failed, Problem};
use crate::source::SourceOptions;
use crate::warnings::Warnings;
pub use entry::{Key, INDEX_LIMIT};
pub use fill::{Filled, Warmed};
use notes::Notes;

/// Entries fetched at once.
const FETCHES_AT_ONCE: usize = 8;

/// Where the shared cache is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `docker://HOST/REPO`: a repository of OCI artifacts.
    Registry { host: String, repository: String },
    /// `file://DIR`: a directory in the local cache's layout.
    Dir(PathBuf),
}

impl Location {
    /// `docker://HOST/REPO` or `file://DIR`; the reason otherwise.
    pub fn parse(text: &str) -> Result<Location, String> {
        if let Some(path) = text.strip_prefix("file://") {
            if path.is_empty() {
                return Err("file:// needs a directory (file:///srv/strata)".into());
            }
            return Ok(Location::Dir(PathBuf::from(path)));
        }
        let Some(rest) = text.strip_prefix("docker://") else {
            return Err("expected docker://HOST/REPO or file://DIR".into());
        };
        let Some((host, repository)) = rest.split_once('/') else {
            return Err("expected docker://HOST/REPO (a repository, not only a host)".into());
        };
        let component = |c: &str| {
            !c.is_empty()
                && c.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
        };
        let host_ok = !host.is_empty()
            && host.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
            });
        if !host_ok || !repository.split('/').all(component) {
            return Err(
                "expected docker://HOST/REPO: a repository in lowercase, without a tag or digest"
                    .into(),
            );
        }
        Ok(Location::Registry {
            host: host.to_owned(),
            repository: repository.to_owned(),
        })
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Registry { host, repository } => write!(f, "docker://{host}/{repository}"),
            Location::Dir(dir) => write!(f, "file://{}", dir.display()),
        }
    }
}

/// What a backend found for one layer.
pub enum Fetched {
    /// Checked in full and kept in the local tier given: its record and index.
    Hit(Kept, PathBuf),
    Miss,
    /// There, but not an entry strata may use (why, in strata's words).
    Damaged(&'static str),
    /// The cache could not be asked.
    Failed(Failed),
}

/// One place shared entries are kept.
trait Backend: Send + Sync {
    /// The entry of `layer`, checked in full and kept in `into`.
    fn fetch(&self, layer: &LayerDesc, into: &Local, key: Option<&Key>) -> Fetched;
    /// Keeps (or replaces) the entry `kept`, whose index is the file `index`.
    fn push(&self, kept: &Kept, index: &Path, key: Option<&Key>) -> Result<(), Failed>;
    /// Whether an entry is there for each digest (present, not checked).
    fn has(&self, digests: &[Digest]) -> Vec<Result<bool, Failed>>;
}

/// State the run's threads and the push workers share.
struct Inner {
    location: Location,
    backend: Box<dyn Backend>,
    key: Option<Key>,
    /// Unreachable or refusing reads: asked no more this run.
    down: AtomicBool,
    /// What stopped pushes (a cache unreachable or refusing them).
    push_stop: Mutex<Option<Failed>>,
    fetched: AtomicUsize,
    notes: Notes,
}

impl Inner {
    /// The failure that stopped pushes, if one did.
    fn stopped(&self) -> Option<Failed> {
        self.push_stop.lock().ok()?.clone()
    }

    /// A push failed: an unreachable or refusing cache is pushed to no more.
    fn stop(&self, f: &Failed) {
        if matches!(f.problem, Problem::Unreachable | Problem::Refused) {
            if let Ok(mut stop) = self.push_stop.lock() {
                stop.get_or_insert_with(|| f.clone());
            }
        }
    }
}

/// The shared tier of one run.
pub struct SharedCache {
    inner: Arc<Inner>,
    pushes: pushes::Pushes,
    /// How long the end of a run waits for its pushes (`--timeout`).
    timeout: Duration,
}

impl SharedCache {
    /// The shared cache at `location`, reached with the run's registry
    /// options; entries signed and checked with `key` when one is given.
    pub fn open(
        location: Location,
        key: Option<Key>,
        opts: &SourceOptions,
        warnings: &Warnings,
    ) -> Result<SharedCache, String> {
        let backend: Box<dyn Backend> = match &location {
            Location::Registry { host, repository } => Box::new(registry::Registry::new(
                Artifacts::open(host, repository, opts, warnings).map_err(|f| f.reason)?,
            )),
            Location::Dir(dir) => Box::new(dir::Dir::new(dir.clone())),
        };
        let inner = Arc::new(Inner {
            notes: Notes::new(location.to_string()),
            location,
            backend,
            key,
            down: AtomicBool::new(false),
            push_stop: Mutex::new(None),
            fetched: AtomicUsize::new(0),
        });
        Ok(SharedCache {
            pushes: pushes::Pushes::new(inner.clone()),
            inner,
            timeout: opts.registry.timeout,
        })
    }

    pub fn location(&self) -> &Location {
        &self.inner.location
    }

    /// Fetches the entries of `layers` (a few at once) into `into`: for
    /// each, its record and local index, or None (a miss: scan it).
    pub fn fetch_all(&self, layers: &[&LayerDesc], into: &Local) -> Vec<Option<(Kept, PathBuf)>> {
        let results: Mutex<Vec<Option<(Kept, PathBuf)>>> =
            Mutex::new(layers.iter().map(|_| None).collect());
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..FETCHES_AT_ONCE.min(layers.len()) {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= layers.len() {
                        break;
                    }
                    if let Some(hit) = self.fetch(layers[i], into) {
                        if let Ok(mut r) = results.lock() {
                            r[i] = Some(hit);
                        }
                    }
                });
            }
        });
        results.into_inner().unwrap_or_default()
    }

    fn fetch(&self, layer: &LayerDesc, into: &Local) -> Option<(Kept, PathBuf)> {
        let inner = &self.inner;
        if inner.down.load(Ordering::Relaxed) {
            return None;
        }
        match inner.backend.fetch(layer, into, inner.key.as_ref()) {
            Fetched::Hit(kept, path) => {
                inner.fetched.fetch_add(1, Ordering::Relaxed);
                Some((kept, path))
            }
            Fetched::Miss => None,
            Fetched::Damaged(why) => {
                inner.notes.damaged(&layer.digest, why);
                None
            }
            Fetched::Failed(f) => {
                if matches!(f.problem, Problem::Unreachable | Problem::Refused) {
                    inner.down.store(true, Ordering::Relaxed);
                }
                inner.notes.unread(&f);
                None
            }
        }
    }

    /// Pushes the entry of a layer scanned this run, in the background
    /// (a few at once); a failure is a warning at the end of the run.
    pub fn push(&self, kept: Kept, index: PathBuf) {
        if self.inner.down.load(Ordering::Relaxed) {
            return;
        }
        self.pushes.push(kept, index);
    }

    /// Waits for the run's pushes, at most `--timeout`; returns how many
    /// were kept in the shared cache.
    pub fn wait(&self) -> usize {
        self.pushes.wait(self.timeout)
    }

    /// Which of `digests` the shared cache lacks (one HEAD per entry, a few
    /// at once: no entry is read), in the order given. An entry present may
    /// still be refused when read; a layer with no shared name (sha512) is
    /// never lacking.
    pub fn lacks(&self, digests: &[Digest]) -> Result<Vec<Digest>, Failed> {
        let answers = self.inner.backend.has(digests);
        let mut lacking = Vec::new();
        for (d, has) in digests.iter().zip(answers) {
            if !has? {
                lacking.push(d.clone());
            }
        }
        Ok(lacking)
    }

    /// `lacks` as a set, its failure as the run's error (naming the cache).
    pub fn lacking(&self, digests: &[Digest]) -> crate::error::Result<HashSet<Digest>> {
        let lacking = self
            .lacks(digests)
            .map_err(|f| crate::error::Error::Registry {
                registry: self.location().to_string(),
                reason: format!("cannot be asked which entries it has: {f}"),
            })?;
        Ok(lacking.into_iter().collect())
    }

    /// Why this run pushes no more (the cache was unreachable or refused a
    /// push), if it does not.
    pub fn refusing(&self) -> Option<String> {
        self.inner.stopped().map(|f| f.to_string())
    }

    /// Entries fetched and checked this run.
    pub fn fetched(&self) -> usize {
        self.inner.fetched.load(Ordering::Relaxed)
    }

    /// What the run has to say about the shared cache, each thing once.
    pub fn warnings(&self) -> Vec<String> {
        self.inner.notes.lines()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_is_a_registry_repository_or_a_directory() {
        assert_eq!(
            Location::parse("docker://127.0.0.1:5000/team/strata-cache"),
            Ok(Location::Registry {
                host: "127.0.0.1:5000".into(),
                repository: "team/strata-cache".into()
            })
        );
        assert_eq!(
            Location::parse("file:///srv/strata"),
            Ok(Location::Dir("/srv/strata".into()))
        );
        for bad in [
            "",
            "file://",
            "registry.example/cache",
            "docker://registry.example",
            "docker://registry.example/Cache",
            "docker://registry.example/cache:tag",
            "docker://registry.example/cache@sha256:00",
            "docker://registry.example//cache",
            "oci:/srv/x",
        ] {
            assert!(Location::parse(bad).is_err(), "{bad}");
        }
        let l = Location::parse("docker://h:1/r").unwrap();
        assert_eq!(l.to_string(), "docker://h:1/r");
    }
}
