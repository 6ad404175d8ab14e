//! `strata layers`: one row per layer — what it adds, changes and deletes,
//! what later layers waste of it — then the image's efficiency, strata's and
//! dive's.

use std::io::Write;

use serde::Serialize;

use crate::analyze::layers::{changes, DiveEfficiency, LayerChanges, Waste};
use crate::analyze::merged::{index_error, merged};
use crate::analyze::sizes::Tally;
use crate::commands::{headline, layer_digest, legend, one_image};
use crate::image::Digest;
use crate::layer::LayerSummary;
use crate::reference::Reference;
use crate::report::{Column, Doc, Span, Spans, Table, View};
use crate::session::{Outcome, Session};
use crate::spans;

#[derive(Debug)]
pub struct Args {
    pub reference: Reference,
    /// Wasted paths listed, biggest first.
    pub top: usize,
}

#[derive(Debug, Serialize)]
pub struct LayerRow {
    /// 1-based position in the manifest.
    pub layer: usize,
    pub digest: Digest,
    pub created_by: Option<String>,
    pub compressed: Option<u64>,
    /// None for a foreign layer not at hand (never scanned).
    pub uncompressed: Option<u64>,
    pub files: Option<u64>,
    /// A non-distributable layer (its blob lives at URLs, not in registries).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub foreign: bool,
    #[serde(flatten)]
    pub changes: LayerChanges,
}

#[derive(Debug, Serialize)]
pub struct Layers {
    pub image: String,
    pub platform: Option<String>,
    pub layers: Vec<LayerRow>,
    pub total: Totals,
    /// strata's waste: every copy of a path but the one that survives.
    pub waste: Waste,
    /// dive 0.13's figures, computed as dive computes them.
    pub dive: DiveEfficiency,
}

#[derive(Debug, Serialize)]
pub struct Totals {
    pub compressed: Option<u64>,
    pub uncompressed: Option<u64>,
    /// File bytes stored in all layers.
    pub files: Option<u64>,
    /// File bytes a container of the image sees.
    pub merged_files: u64,
}

pub fn run(session: &Session, args: &Args, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let image = one_image(
        session.load(std::slice::from_ref(&args.reference))?,
        "layers",
    )?;
    let store = session.store()?;
    let indexes = store.indexes(std::slice::from_ref(&image), session.progress())?;
    let by_digest = indexes.summaries();
    // A foreign layer not at hand has no summary (and no entries in the merge).
    let summaries: Vec<Option<&LayerSummary>> = image
        .layers
        .iter()
        .map(|l| by_digest.get(&l.digest))
        .collect();
    let files = summaries.iter().map(|s| s.map_or(0, |s| s.files)).collect();
    let audit = changes(merged(&indexes, &image)?, files, args.top).map_err(index_error)?;
    let info = legend(&image);
    let layers: Vec<LayerRow> = info
        .into_iter()
        .zip(&summaries)
        .zip(&audit.layers)
        .zip(&image.layers)
        .map(|(((l, s), c), desc)| LayerRow {
            layer: l.layer,
            digest: l.digest,
            created_by: l.created_by,
            // An engine's uncompressed export has no compressed size; a
            // foreign layer not at hand has its declared one.
            compressed: match s {
                Some(s) => (image.name.transport.keeps_compressed()
                    || s.compression != crate::image::Compression::None)
                    .then_some(s.compressed),
                None => Some(desc.size),
            },
            uncompressed: s.map(|s| s.uncompressed),
            files: s.map(|s| s.files),
            foreign: l.foreign,
            changes: *c,
        })
        .collect();
    let report = Layers {
        image: image.name.to_string(),
        platform: image.platform.clone(),
        total: Totals {
            compressed: layers.iter().map(|l| l.compressed).sum(),
            uncompressed: layers.iter().map(|l| l.uncompressed).sum(),
            files: layers.iter().map(|l| l.files).sum(),
            merged_files: audit.merged_files,
        },
        layers,
        waste: audit.waste,
        dive: audit.dive,
    };
    session.render(out, &report)?;
    Ok(Outcome::Ok)
}

impl View for Layers {
    const COMMAND: &'static str = "layers";

    fn doc(&self) -> Doc {
        let mut doc = Doc::new();
        doc.line(headline(
            &self.image,
            self.platform.as_deref(),
            spans![Span::Count(self.layers.len() as u64), " layers",],
        ))
        .blank();
        let mut t = Table::new(vec![
            Column::figure("#"),
            Column::text("DIGEST"),
            Column::text("CREATED BY"),
            Column::figure("COMPRESSED"),
            Column::figure("UNCOMPRESSED"),
            Column::figure("FILES"),
            Column::figure("ADDED"),
            Column::figure("MODIFIED"),
            Column::figure("DELETED"),
            Column::figure("WASTED LATER"),
        ]);
        let count = |c: &Tally| spans![Span::Count(c.files), " (", Span::size(c.bytes), ")"];
        for l in &self.layers {
            t.row(vec![
                spans![Span::Count(l.layer as u64)],
                layer_digest(&l.digest, l.foreign),
                spans![Span::command_or_dash(l.created_by.as_deref())],
                spans![Span::Bytes(l.compressed)],
                spans![Span::Bytes(l.uncompressed)],
                spans![Span::Bytes(l.files)],
                count(&l.changes.added),
                count(&l.changes.modified),
                count(&l.changes.deleted),
                spans![Span::size(l.changes.wasted_later)],
            ]);
        }
        t.row(vec![
            Spans::new(),
            spans!["total"],
            Spans::new(),
            spans![Span::Bytes(self.total.compressed)],
            spans![Span::Bytes(self.total.uncompressed)],
            spans![Span::Bytes(self.total.files)],
            Spans::new(),
            Spans::new(),
            Spans::new(),
            spans![Span::size(self.waste.wasted_bytes)],
        ]);
        doc.table(t).blank();
        doc.line(spans![
            "merged filesystem: ",
            Span::size(self.total.merged_files),
            " of ",
            Span::Bytes(self.total.files),
            " stored file bytes survive; wasted ",
            Span::size(self.waste.wasted_bytes),
            " (efficiency ",
            Span::percent(self.waste.efficiency * 100.0),
            ")",
        ]);
        doc.line(spans![
            "dive 0.13: efficiency ",
            Span::Number(self.dive.efficiency),
            ", wasted ",
            Span::size(self.dive.wasted_bytes),
            ", user wasted ",
            Span::percent(self.dive.user_wasted_percent * 100.0),
            " (dive counts every copy, the surviving one too)",
        ]);
        if !self.waste.top.is_empty() {
            doc.blank();
            let mut w = Table::new(vec![
                Column::text("WASTED PATH"),
                Column::figure("WASTED"),
                Column::text("COPIES (LAYER: BYTES)"),
                Column::text("SURVIVES IN"),
            ]);
            for p in &self.waste.top {
                let copies = p
                    .copies
                    .iter()
                    .map(|&(l, b)| spans![Span::Layer(l), ": ", Span::size(b)]);
                w.row(vec![
                    spans![Span::path(&p.path)],
                    spans![Span::size(p.wasted)],
                    Spans::join(copies, ", "),
                    p.survives_in
                        .map_or(spans!["deleted"], |l| spans![Span::Layer(l)]),
                ]);
            }
            doc.table(w);
        }
        doc
    }
}
