//! One room per command: each owns its validated arguments, its `run`, and
//! how its figures read as a report.

pub mod advise;
pub mod audit;
pub mod cache;
pub mod cat;
pub mod compare;
pub mod completions;
pub mod diff;
pub mod du;
pub mod explore;
pub mod export;
pub mod fleet;
pub mod footprint;
pub mod gate;
pub mod history;
pub mod layers;
mod notes;
pub mod packages;
mod pick;
mod rollup;

pub use pick::{
    headline, image_and_layer, layer_digest, legend, legend_lines, one_image, resolve_layer,
    LayerChoice, LayerInfo,
};

use std::collections::HashMap;

use crate::analyze::footprint::{declared_figures, scanned_figures, LayerFigures};
use crate::image::{Digest, Image};
use crate::session::Session;

/// Figures for every layer of `images`: from a (cached) scan, or from the
/// manifests alone when shallow.
pub fn layer_figures(
    session: &Session,
    images: &[Image],
) -> anyhow::Result<HashMap<Digest, LayerFigures>> {
    if session.shallow() {
        return Ok(declared_figures(images));
    }
    let summaries = session.store()?.summaries(images, session.progress())?.0;
    Ok(scanned_figures(images, &summaries))
}

#[cfg(test)]
mod tests {
    /// Views say what to show; the renderers format, escape and cut it.
    #[test]
    fn no_view_formats_a_figure_escapes_or_cuts_text() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/commands");
        let fleet = concat!(env!("CARGO_MANIFEST_DIR"), "/src/fleet/view.rs");
        let views = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .chain([std::path::PathBuf::from(fleet)]);
        for path in views {
            let code = std::fs::read_to_string(&path).unwrap();
            // The views, not their tests.
            let code = code.split("#[cfg(test)]").next().unwrap();
            for word in ["units::", "cut::", "escape::", "Style"] {
                let hit = code
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .any(|l| l.contains(word));
                assert!(!hit, "{} uses {word}", path.display());
            }
        }
    }
}
