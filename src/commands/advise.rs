//! `strata advise`: what could go, how many bytes each fix saves, and which
//! build step is to blame.

use std::io::Write;

use serde::Serialize;

use crate::analyze::advise::{advise, Kind};
use crate::analyze::merged::{index_error, merged};
use crate::image::Digest;
use crate::reference::Reference;
use crate::report::{Column, Doc, Span, Spans, Table, View};
use crate::session::{Outcome, Session};
use crate::spans;

#[derive(Debug)]
pub struct Args {
    pub refs: Vec<Reference>,
    /// A single file from this size on is a finding.
    pub big: u64,
    /// Findings below this many bytes are not shown.
    pub min_bytes: u64,
    /// Kinds to report (empty: all).
    pub kinds: Vec<Kind>,
    /// Paths shown per finding in tables.
    pub top: usize,
}

#[derive(Debug, Serialize)]
pub struct FindingRow {
    pub kind: Kind,
    pub bytes: u64,
    /// The bytes scaled by the layer's compression ratio: what the fix saves a pull.
    pub compressed_estimate: u64,
    pub files: u64,
    pub layer: usize,
    pub digest: Digest,
    pub created_by: Option<String>,
    pub fix: &'static str,
    pub paths: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ImageAdvice {
    pub image: String,
    pub findings: Vec<FindingRow>,
    pub total_bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct Advice {
    pub images: Vec<ImageAdvice>,
    #[serde(skip)]
    pub top: usize,
}

pub fn run(session: &Session, args: &Args, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let images = session.load(&args.refs)?;
    let store = session.store()?;
    let indexes = store.indexes(&images, session.progress())?;
    let summaries = indexes.summaries();
    let mut report = Advice {
        images: Vec::new(),
        top: args.top,
    };
    for image in &images {
        let findings = advise(merged(&indexes, image)?, args.big, args.top).map_err(index_error)?;
        let rows: Vec<FindingRow> = findings
            .into_iter()
            .filter(|f| f.bytes >= args.min_bytes)
            .filter(|f| args.kinds.is_empty() || args.kinds.contains(&f.kind))
            .map(|f| {
                let layer = &image.layers[f.layer - 1];
                let s = &summaries[&layer.digest];
                let ratio = if s.uncompressed == 0 {
                    1.0
                } else {
                    s.compressed as f64 / s.uncompressed as f64
                };
                FindingRow {
                    kind: f.kind,
                    bytes: f.bytes,
                    compressed_estimate: (f.bytes as f64 * ratio).round() as u64,
                    files: f.files,
                    layer: f.layer,
                    digest: layer.digest.clone(),
                    created_by: layer.history.as_ref().and_then(|h| h.created_by.clone()),
                    fix: f.kind.fix(),
                    paths: f.paths,
                }
            })
            .collect();
        report.images.push(ImageAdvice {
            image: image.name.to_string(),
            total_bytes: rows.iter().map(|r| r.bytes).sum(),
            findings: rows,
        });
    }
    session.render(out, &report)?;
    Ok(Outcome::Ok)
}

impl View for Advice {
    const COMMAND: &'static str = "advise";

    fn doc(&self) -> Doc {
        let mut doc = Doc::new();
        for (n, img) in self.images.iter().enumerate() {
            if n > 0 {
                doc.blank();
            }
            doc.heading(spans![
                Span::name(&img.image),
                ": ",
                Span::Counted(img.findings.len() as u64, "finding", "findings"),
                ", ",
                Span::size(img.total_bytes),
                " could go",
            ]);
            if img.findings.is_empty() {
                doc.line("nothing to advise");
                continue;
            }
            let mut t = Table::new(vec![
                Column::text("KIND"),
                Column::figure("SAVES"),
                Column::figure("~COMPRESSED"),
                Column::figure("FILES"),
                Column::text("LAYER"),
                Column::text("CREATED BY"),
                Column::text("PATHS"),
            ]);
            for f in &img.findings {
                let shown = f.paths.iter().take(self.top);
                let listed = shown.len() as u64;
                let mut paths = Spans::join(shown.map(|p| spans![Span::path(p)]), ", ");
                if f.files > listed {
                    if listed > 0 {
                        paths.push(", ");
                    }
                    paths
                        .push("+")
                        .push(Span::Count(f.files - listed))
                        .push(" more");
                }
                t.row(vec![
                    spans![f.kind.name()],
                    spans![Span::size(f.bytes)],
                    spans![Span::size(f.compressed_estimate)],
                    spans![Span::Count(f.files)],
                    spans![Span::Layer(f.layer)],
                    spans![Span::command_or_dash(f.created_by.as_deref())],
                    paths,
                ]);
            }
            doc.table(t);
            let mut kinds: Vec<Kind> = img.findings.iter().map(|f| f.kind).collect();
            kinds.sort();
            kinds.dedup();
            for k in kinds {
                doc.note(spans![k.name(), ": ", k.fix()]);
            }
        }
        doc
    }
}
