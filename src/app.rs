//! One run, end to end: references -> sources -> store -> analysis -> report.

use std::collections::HashMap;
use std::io::Write;

use crate::analyze::footprint::{footprint, LayerFigures};
use crate::config::{Command, Config};
use crate::image::{Digest, Image};
use crate::report::{self, progress::Bar};
use crate::source;
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
        Command::Footprint { refs, measure } => {
            let images = source::load_all(refs, &config.source)?;
            let figures = if config.source.shallow {
                declared_figures(&images)
            } else {
                scanned_figures(config, &images)?
            };
            let fp = footprint(&images, &figures, *measure, config.source.shallow);
            report::footprint(out, config.format, config.style, &fp)?;
            out.flush()?;
            Ok(Outcome::Ok)
        }
    }
}

/// Every distinct layer scanned (or read from the cache) and verified.
fn scanned_figures(
    config: &Config,
    images: &[Image],
) -> anyhow::Result<HashMap<Digest, LayerFigures>> {
    let store = Store::new(config.cache_dir.clone());
    let bar = Bar::new(config.quiet);
    let (summaries, _) = store.summaries(images, &bar)?;
    if !config.quiet {
        for w in store.warnings() {
            eprintln!("strata: warning: {w}");
        }
    }
    Ok(summaries
        .iter()
        .map(|(d, s)| (d.clone(), LayerFigures::scanned(s)))
        .collect())
}

/// What the manifests say; nothing is read from any layer blob.
fn declared_figures(images: &[Image]) -> HashMap<Digest, LayerFigures> {
    images
        .iter()
        .flat_map(|i| &i.layers)
        .map(|l| (l.digest.clone(), LayerFigures::declared(l)))
        .collect()
}
