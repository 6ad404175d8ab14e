//! One run, end to end: references -> sources -> store -> analysis -> report.

use std::io::Write;

use anyhow::Context;

use crate::analyze::footprint::footprint;
use crate::config::{Command, Config};
use crate::report::{self, progress::Bar};
use crate::source::{self, Image};
use crate::store::Store;

/// How a successful run ended (errors are returned instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// A gate or policy failed: exit 1.
    GateFailed,
}

pub fn run(config: &Config, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match &config.command {
        Command::Footprint {
            refs,
            measure,
            shallow: _,
        } => {
            let mut images: Vec<Image> = Vec::new();
            for r in refs {
                images.extend(
                    source::load(r, &config.source).with_context(|| format!("loading {r}"))?,
                );
            }
            let store = Store::new(config.cache_dir.clone());
            let bar = Bar::new(config.quiet);
            let (layers, _) = store.summaries(&images, &bar)?;
            if !config.quiet {
                for w in store.warnings() {
                    eprintln!("strata: warning: {w}");
                }
            }
            let fp = footprint(&images, &layers, *measure);
            report::footprint(out, config.format, config.style, &fp)?;
            out.flush()?;
            Ok(Outcome::Ok)
        }
    }
}
