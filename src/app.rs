//! One run: dispatch to the command's room, and the session every room
//! shares (sources, the layer store, progress, warnings, output).

use std::cell::OnceCell;
use std::io::Write;
use std::sync::Mutex;

use crate::commands;
use crate::config::{Command, Config};
use crate::image::Image;
use crate::reference::Reference;
use crate::report::{self, progress::Bar, View};
use crate::source;
use crate::store::{Progress, Store};

/// How a successful run ended (errors are returned instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// A gate or policy failed, or `--exit-code` found a difference: exit 1.
    Failed,
}

pub fn run(config: &Config, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let session = Session::new(config);
    let outcome = match &config.command {
        Command::Footprint(args) => commands::footprint::run(&session, args, out),
        Command::Compare(args) => commands::compare::run(&session, args, out),
        Command::Du(args) => commands::du::run(&session, args, out),
        Command::Layers(args) => commands::layers::run(&session, args, out),
        Command::Audit(args) => commands::audit::run(&session, args, out),
        Command::Diff(args) => commands::diff::run(&session, args, out),
        Command::Gate(args) => commands::gate::run(&session, args, out),
        Command::Advise(args) => commands::advise::run(&session, args, out),
        Command::Packages(args) => commands::packages::run(&session, args, out),
    };
    session.flush_warnings();
    let outcome = outcome?;
    out.flush()?;
    Ok(outcome)
}

/// What every command of one run shares.
pub struct Session<'c> {
    config: &'c Config,
    store: OnceCell<Store>,
    bar: Bar,
    warnings: Mutex<Vec<String>>,
}

impl<'c> Session<'c> {
    pub fn new(config: &'c Config) -> Session<'c> {
        Session {
            config,
            store: OnceCell::new(),
            bar: Bar::new(config.quiet),
            warnings: Mutex::new(Vec::new()),
        }
    }

    pub fn config(&self) -> &Config {
        self.config
    }

    /// Figures from manifests alone (`--shallow`).
    pub fn shallow(&self) -> bool {
        self.config.source.shallow
    }

    /// The images `refs` name, in order.
    pub fn load(&self, refs: &[Reference]) -> anyhow::Result<Vec<Image>> {
        source::load_all(refs, &self.config.source)
    }

    /// The layer store, opened on first use.
    pub fn store(&self) -> anyhow::Result<&Store> {
        if let Some(store) = self.store.get() {
            return Ok(store);
        }
        let store = Store::open(self.config.cache_dir.clone())?;
        Ok(self.store.get_or_init(|| store))
    }

    pub fn progress(&self) -> &dyn Progress {
        &self.bar
    }

    /// A problem that changed no figure, said once on stderr at the end.
    pub fn warn(&self, message: impl Into<String>) {
        if let Ok(mut w) = self.warnings.lock() {
            w.push(message.into());
        }
    }

    pub fn render<V: View>(&self, out: &mut dyn Write, view: &V) -> std::io::Result<()> {
        report::render(out, self.config.format, self.config.style, view)
    }

    fn flush_warnings(&self) {
        let mut all = self.warnings.lock().map(|w| w.clone()).unwrap_or_default();
        if let Some(store) = self.store.get() {
            all.extend(store.warnings());
        }
        if self.config.quiet {
            return;
        }
        // Said once, however many views met it.
        let mut seen = std::collections::HashSet::new();
        all.retain(|w| seen.insert(w.clone()));
        for w in all {
            eprintln!("strata: warning: {}", crate::escape::escape(&w));
        }
    }
}
