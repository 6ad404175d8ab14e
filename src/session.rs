//! What every room of one run shares: the sources, the layer store (opened on
//! first use), the progress bar and the warnings sink. It sits below the
//! commands and knows none of them; it is built from the options it needs.

use std::cell::OnceCell;
use std::io::Write;
use std::path::PathBuf;

use crate::image::Image;
use crate::reference::Reference;
use crate::report::{self, progress::Bar, Format, Style, View};
use crate::source::{self, SourceOptions};
use crate::store::shared::{Key, Location, SharedCache};
use crate::store::{Progress, Store};
use crate::warnings::Warnings;

/// How a successful run ended (errors are returned instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// A gate or policy failed, or `--exit-code` found a difference: exit 1.
    Failed,
}

/// The options a session is built from (the validated run-wide settings).
#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub source: SourceOptions,
    /// None: --no-cache.
    pub cache_dir: Option<PathBuf>,
    /// `--shared-cache`: the tier behind the local cache.
    pub shared_cache: Option<SharedOptions>,
    /// No progress bar (warnings still go to stderr).
    pub quiet: bool,
    pub format: Format,
    pub style: Style,
}

/// Where the shared cache is, and the key its entries are signed with.
#[derive(Debug, Clone)]
pub struct SharedOptions {
    pub location: Location,
    pub key: Option<Key>,
}

/// What every command of one run shares.
pub struct Session {
    opts: SessionOptions,
    store: OnceCell<Store>,
    bar: Bar,
    warnings: Warnings,
}

impl Session {
    pub fn new(opts: SessionOptions) -> Session {
        Session {
            bar: Bar::new(opts.quiet),
            opts,
            store: OnceCell::new(),
            warnings: Warnings::new(),
        }
    }

    pub fn options(&self) -> &SessionOptions {
        &self.opts
    }

    pub fn source_options(&self) -> &SourceOptions {
        &self.opts.source
    }

    /// Figures from manifests alone (`--shallow`).
    pub fn shallow(&self) -> bool {
        self.opts.source.shallow
    }

    /// The images `refs` name, in order. Registry configs are read from and
    /// kept in the store's cache.
    pub fn load(&self, refs: &[Reference]) -> anyhow::Result<Vec<Image>> {
        // A stream read once (an engine's export, stdin) hands its layers
        // to the store as they arrive: nothing spooled to disk.
        let streams = refs.iter().any(|r| {
            r.is_stdin()
                || matches!(
                    r,
                    Reference::DockerDaemon { .. } | Reference::ContainersStorage { .. }
                )
        });
        if streams && !self.shallow() {
            let reading = Streaming {
                bar: &self.bar,
                store: self.store()?,
            };
            return source::load_all(refs, &self.opts.source, &self.warnings, &reading);
        }
        let registry = refs.iter().any(|r| matches!(r, Reference::Registry(_)));
        if registry && !self.shallow() && self.opts.cache_dir.is_some() {
            let mut opts = self.opts.source.clone();
            opts.configs = self.store()?.configs();
            return source::load_all(refs, &opts, &self.warnings, &self.bar);
        }
        source::load_all(refs, &self.opts.source, &self.warnings, &self.bar)
    }

    /// The layer store, opened on first use.
    pub fn store(&self) -> anyhow::Result<&Store> {
        if let Some(store) = self.store.get() {
            return Ok(store);
        }
        let mut store = Store::open(self.opts.cache_dir.clone())?;
        if let Some(shared) = &self.opts.shared_cache {
            let opened = SharedCache::open(
                shared.location.clone(),
                shared.key.clone(),
                &self.opts.source,
                &self.warnings,
            );
            match opened {
                Ok(cache) => store = store.with_shared(cache),
                Err(why) => self.warn(format!(
                    "shared cache {}: cannot be used ({why}); layers are scanned here",
                    shared.location
                )),
            }
        }
        Ok(self.store.get_or_init(|| store))
    }

    pub fn progress(&self) -> &dyn Progress {
        &self.bar
    }

    /// The run's warnings sink (a problem that changed no figure).
    pub fn warnings(&self) -> &Warnings {
        &self.warnings
    }

    /// A problem that changed no figure, said once on stderr at the end.
    pub fn warn(&self, message: impl Into<String>) {
        self.warnings.warn(message);
    }

    pub fn render<V: View>(&self, out: &mut dyn Write, view: &V) -> std::io::Result<()> {
        report::render(out, self.opts.format, self.opts.style, view)
    }

    /// Every warning of the run, each once, in the order said (store's last).
    /// `--quiet` hides progress only: warnings always reach stderr.
    pub fn take_warnings(&self) -> Vec<String> {
        if let Some(store) = self.store.get() {
            store.finish();
        }
        let mut all = self.warnings.drain();
        if let Some(store) = self.store.get() {
            for w in store.warnings() {
                if !all.contains(&w) {
                    all.push(w);
                }
            }
        }
        all
    }
}

/// The progress of a stream read once, and the store its layers go to.
struct Streaming<'a> {
    bar: &'a Bar,
    store: &'a Store,
}

impl source::Reading for Streaming<'_> {
    fn begin(&self, what: &str) {
        source::Reading::begin(self.bar, what);
    }

    fn advance(&self, bytes: u64) {
        source::Reading::advance(self.bar, bytes);
    }

    fn end(&self) {
        source::Reading::end(self.bar);
    }

    fn layers(&self) -> Option<&dyn source::LayerSink> {
        Some(self.store)
    }
}
