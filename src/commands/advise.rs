//! `strata advise`: what could go, how many bytes each fix saves, and which
//! build step is to blame.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::analyze::advise::{advise_image, AllPaths, FreedPackage, Kind, PathBytes, Settings};
use crate::gate::policy::Policy;
use crate::image::{Digest, Image};
use crate::reference::Reference;
use crate::report::{Bars, Chart, Column, Doc, Format, Layout, Span, Spans, Table, View};
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
    /// A policy whose `[advise]` table adds rules and turns kinds off.
    pub policy: Option<PathBuf>,
}

/// A finding's paths: every one in JSON, the first few in tables.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Paths {
    All(AllPaths),
    First(Vec<PathBytes>),
}

/// A layer named by a finding: its position, digest and build step.
#[derive(Debug, Serialize)]
pub struct LayerRef {
    pub layer: usize,
    pub digest: Digest,
    pub created_by: Option<String>,
}

impl LayerRef {
    fn of(image: &Image, layer: usize) -> LayerRef {
        let l = &image.layers[layer - 1];
        LayerRef {
            layer,
            digest: l.digest.clone(),
            created_by: l.history.as_ref().and_then(|h| h.created_by.clone()),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct FindingRow {
    pub kind: Kind,
    /// What it is about within its kind (a rule's label, a test folder, a tool).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub bytes: u64,
    /// The bytes scaled by the layer's compression ratio: what the fix saves a pull.
    pub compressed_estimate: u64,
    pub files: u64,
    pub layer: usize,
    pub digest: Digest,
    pub created_by: Option<String>,
    /// Deleted or overwritten later: the layer that did it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub later: Option<LayerRef>,
    pub fix: &'static str,
    pub paths: Paths,
    /// Dev tooling: the packages the fix removes, with their bytes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<FreedPackage>,
    /// The first paths (tables).
    #[serde(skip)]
    pub first: Vec<PathBytes>,
}

#[derive(Debug, Serialize)]
pub struct ImageAdvice {
    pub image: String,
    pub findings: Vec<FindingRow>,
    /// What the findings shown save together, each path counted once.
    pub total_bytes: u64,
}

#[derive(Debug, Serialize)]
pub struct Advice {
    pub images: Vec<ImageAdvice>,
    #[serde(skip)]
    pub top: usize,
}

pub fn run(session: &Session, args: &Args, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let policy = args.policy.as_deref().map(Policy::load_rules).transpose()?;
    let rules = policy.map(|p| p.advise).unwrap_or_default();
    let mut settings = Settings::new(
        args.big,
        &args.kinds,
        args.top,
        &rules.extra_rules(),
        &rules.off,
    )
    .map_err(|e| anyhow::anyhow!("advise rules: {e}"))?;
    settings.all_paths = session.options().format == Format::Json;
    let images = session.load(&args.refs)?;
    let store = session.store()?;
    let indexes = store.indexes(&images, session.progress())?;
    let summaries = indexes.summaries();
    let mut report = Advice {
        images: Vec::new(),
        top: args.top,
    };
    for image in &images {
        let advice = advise_image(&indexes, image, &settings, &mut |w| session.warn(w))?;
        let shown = |f: &crate::analyze::advise::Finding| f.bytes >= args.min_bytes;
        let total_bytes = advice.could_go(shown);
        let rows: Vec<FindingRow> = advice
            .findings
            .into_iter()
            .filter(|f| f.bytes >= args.min_bytes)
            .map(|f| {
                let at = LayerRef::of(image, f.layer);
                let s = &summaries[&at.digest];
                let ratio = if s.uncompressed == 0 {
                    1.0
                } else {
                    s.compressed as f64 / s.uncompressed as f64
                };
                FindingRow {
                    kind: f.kind,
                    subject: f.subject,
                    bytes: f.bytes,
                    compressed_estimate: (f.bytes as f64 * ratio).round() as u64,
                    files: f.files,
                    layer: f.layer,
                    digest: at.digest,
                    created_by: at.created_by,
                    later: f.later.map(|l| LayerRef::of(image, l)),
                    fix: f.kind.fix(),
                    paths: match f.all_paths {
                        Some(all) => Paths::All(all),
                        None => Paths::First(f.paths.clone()),
                    },
                    packages: f.packages,
                    first: f.paths,
                }
            })
            .collect();
        report.images.push(ImageAdvice {
            image: image.name.to_string(),
            total_bytes,
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
                let shown = f.first.iter().take(self.top);
                let listed = shown.len() as u64;
                let mut paths = Spans::join(shown.map(|p| spans![Span::path(&p.path)]), ", ");
                if f.files > listed {
                    if listed > 0 {
                        paths.push(", ");
                    }
                    paths
                        .push("+")
                        .push(Span::Count(f.files - listed))
                        .push(" more");
                }
                let mut kind = spans![f.kind.name()];
                if let Some(s) = &f.subject {
                    kind.push(" (").push(Span::name(s)).push(")");
                }
                let mut layer = spans![Span::Layer(f.layer)];
                if let Some(l) = &f.later {
                    let then = match f.kind {
                        Kind::OverwrittenLater => ", written again in ",
                        _ => ", deleted in ",
                    };
                    layer.push(then).push(Span::Layer(l.layer));
                }
                t.row(vec![
                    kind,
                    spans![Span::size(f.bytes)],
                    spans![Span::size(f.compressed_estimate)],
                    spans![Span::Count(f.files)],
                    layer,
                    spans![Span::command_or_dash(f.created_by.as_deref())],
                    paths,
                ]);
            }
            doc.table(t);
            let mut kinds: Vec<Kind> = img.findings.iter().map(|f| f.kind).collect();
            kinds.sort();
            kinds.dedup();
            let mut bars = Bars::new(
                spans![
                    "Bytes each kind of finding saves in ",
                    Span::name(&img.image)
                ],
                "KIND",
                Layout::Grouped,
                vec![spans!["saves"]],
            );
            for &k in &kinds {
                let saves = img.findings.iter().filter(|f| f.kind == k).map(|f| f.bytes);
                bars.row(spans![k.name()], vec![Some(saves.sum())]);
            }
            doc.picture(Chart::Bars(bars));
            for k in kinds {
                doc.note(spans![k.name(), ": ", k.fix()]);
            }
        }
        doc
    }
}
