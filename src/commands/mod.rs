//! One room per command: each owns its validated arguments, its `run`, and
//! how its figures read as a report.

pub mod advise;
pub mod audit;
pub mod cache;
pub mod compare;
pub mod completions;
pub mod diff;
pub mod du;
pub mod explore;
pub mod footprint;
pub mod gate;
pub mod layers;
pub mod packages;
mod pick;

pub use pick::{legend, legend_lines, one_image, resolve_layer, LayerChoice, LayerInfo};

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
