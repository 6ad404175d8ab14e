//! `strata diff BASE TARGET`: what TARGET adds over BASE — its layers (shared,
//! same content, only in one), its files (added, removed, changed, by
//! directory), and the bytes each costs.

use std::collections::HashSet;
use std::io::Write;

use serde::Serialize;

use crate::analyze::diff::{diff_files, Change, FileDiff};
use crate::analyze::footprint::{known_figures, LayerFigures};
use crate::analyze::merged::{index_error, inventory, merged};
use crate::analyze::package_diff::{diff_packages, PackageChange, PackageDiff};
use crate::analyze::sizes::{distinct_layers, Sizes};
use crate::commands::{layer_digest, one_image};
use crate::image::{Digest, Image};
use crate::reference::Reference;
use crate::report::{Column, Doc, Span, Spans, Table, View};
use crate::session::{Outcome, Session};
use crate::spans;

#[derive(Debug)]
pub struct Args {
    pub base: Reference,
    pub target: Reference,
    pub layers: bool,
    pub files: bool,
    pub packages: bool,
    pub depth: usize,
    pub top: usize,
    /// Exit 1 when the images differ.
    pub exit_code: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerStatus {
    /// The same digest in both.
    Shared,
    /// Another digest, the same tar (diff_id): a recompressed copy.
    SameContent,
    OnlyInBase,
    OnlyInTarget,
}

#[derive(Debug, Serialize)]
pub struct LayerDiff {
    pub status: LayerStatus,
    pub digest: Digest,
    pub diff_id: Digest,
    /// 1-based positions in each image.
    pub base_layer: Option<usize>,
    pub target_layer: Option<usize>,
    pub compressed: u64,
    /// None for a foreign layer not at hand (never scanned).
    pub uncompressed: Option<u64>,
    pub files: Option<u64>,
    pub created_by: Option<String>,
    /// A non-distributable layer (its blob lives at URLs, not in registries).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub foreign: bool,
}

#[derive(Debug, Serialize)]
pub struct Diff {
    pub base: String,
    pub target: String,
    /// Layers (by digest) of TARGET that BASE lacks, and their bytes: what
    /// pulling TARGET costs a node that holds BASE.
    pub added_layers: usize,
    pub adds: Sizes,
    pub shared_layers: usize,
    /// Each distinct layer of both once: what storing both costs.
    pub store_both: Sizes,
    pub differs: bool,
    pub layers: Option<Vec<LayerDiff>>,
    pub files: Option<FileDiff>,
    pub packages: Option<PackageDiff>,
}

fn distinct(image: &Image) -> Vec<(usize, &Digest)> {
    distinct_layers([image])
}

pub fn run(session: &Session, args: &Args, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let base = one_image(session.load(std::slice::from_ref(&args.base))?, "diff")?;
    let target = one_image(session.load(std::slice::from_ref(&args.target))?, "diff")?;
    let store = session.store()?;
    let both = [base.clone(), target.clone()];
    // Indexes only when a view reads the merged filesystems.
    let indexes = if args.files || args.packages {
        Some(store.indexes(&both, session.progress())?)
    } else {
        None
    };
    let fetched;
    let summaries = match &indexes {
        Some(indexes) => indexes.summaries(),
        None => {
            fetched = store.summaries(&both, session.progress())?.0;
            &fetched
        }
    };
    // A foreign layer not at hand: its declared size, the rest unknown.
    let s = &known_figures(&both, summaries);
    let sum = |ds: &mut dyn Iterator<Item = &Digest>| -> Sizes { ds.map(|d| s[d].sizes).sum() };
    let base_digests: HashSet<&Digest> = base.layers.iter().map(|l| &l.digest).collect();
    let target_digests: HashSet<&Digest> = target.layers.iter().map(|l| &l.digest).collect();
    let added: Vec<&Digest> = distinct(&target)
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| !base_digests.contains(d))
        .collect();
    let shared = distinct(&target)
        .iter()
        .filter(|(_, d)| base_digests.contains(d))
        .count();
    let all: Vec<&Digest> = distinct(&base)
        .into_iter()
        .map(|(_, d)| d)
        .chain(added.iter().copied())
        .collect();
    let files = match &indexes {
        Some(indexes) if args.files => {
            let f = diff_files(
                merged(indexes, &base)?,
                merged(indexes, &target)?,
                args.depth,
                args.top,
            )
            .map_err(index_error)?;
            Some(f)
        }
        _ => None,
    };
    let layers = args.layers.then(|| layer_rows(&base, &target, s));
    let packages = match &indexes {
        Some(indexes) if args.packages => {
            let mut warn = |w| session.warn(w);
            let (a, b) = (
                inventory(indexes, &base, &mut warn)?,
                inventory(indexes, &target, &mut warn)?,
            );
            let file_delta = b.total.bytes as i64 - a.total.bytes as i64;
            Some(diff_packages(&a.packages, &b.packages, file_delta))
        }
        _ => None,
    };
    let report = Diff {
        base: base.name.to_string(),
        target: target.name.to_string(),
        added_layers: added.len(),
        adds: sum(&mut added.iter().copied()),
        shared_layers: shared,
        store_both: sum(&mut all.iter().copied()),
        differs: match &files {
            Some(f) => f.differs(),
            None => base_digests != target_digests,
        } || packages.as_ref().is_some_and(|p| !p.changes.is_empty()),
        layers,
        files,
        packages,
    };
    session.render(out, &report)?;
    Ok(if args.exit_code && report.differs {
        Outcome::Failed
    } else {
        Outcome::Ok
    })
}

fn layer_rows(
    base: &Image,
    target: &Image,
    s: &std::collections::HashMap<Digest, LayerFigures>,
) -> Vec<LayerDiff> {
    let diff_id = |d: &Digest| s[d].diff_id.clone().unwrap_or_else(|| d.clone());
    let row = |status, i: Option<usize>, j: Option<usize>, d: &Digest, by: Option<String>| {
        let x = &s[d];
        LayerDiff {
            status,
            digest: d.clone(),
            diff_id: diff_id(d),
            base_layer: i.map(|i| i + 1),
            target_layer: j.map(|j| j + 1),
            compressed: x.sizes.compressed.unwrap_or_default(),
            uncompressed: x.sizes.uncompressed,
            files: x.sizes.files,
            created_by: by,
            foreign: x.foreign,
        }
    };
    let by = |image: &Image, i: usize| {
        image.layers[i]
            .history
            .as_ref()
            .and_then(|h| h.created_by.clone())
    };
    let mut rows = Vec::new();
    fn find<'i>(image: &'i Image, f: &dyn Fn(&Digest) -> bool) -> Option<(usize, &'i Digest)> {
        distinct(image).into_iter().find(|(_, d)| f(d))
    }
    for (j, d) in distinct(target) {
        let id = diff_id(d);
        if let Some((i, _)) = find(base, &|x| x == d) {
            rows.push(row(LayerStatus::Shared, Some(i), Some(j), d, by(target, j)));
        } else if let Some((i, _)) = find(base, &|x| diff_id(x) == id) {
            rows.push(row(
                LayerStatus::SameContent,
                Some(i),
                Some(j),
                d,
                by(target, j),
            ));
        } else {
            rows.push(row(
                LayerStatus::OnlyInTarget,
                None,
                Some(j),
                d,
                by(target, j),
            ));
        }
    }
    for (i, d) in distinct(base) {
        let id = diff_id(d);
        let matched = distinct(target)
            .iter()
            .any(|(_, x)| *x == d || diff_id(x) == id);
        if !matched {
            rows.push(row(LayerStatus::OnlyInBase, Some(i), None, d, by(base, i)));
        }
    }
    rows
}

fn delta(n: i64) -> Spans {
    spans![Span::Delta(Some(n))]
}

/// A layer's position in one image, `-` when it is not there.
fn position(p: Option<usize>) -> Spans {
    p.map_or(spans!["-"], |p| spans![Span::Layer(p)])
}

impl View for Diff {
    const COMMAND: &'static str = "diff";

    fn doc(&self) -> Doc {
        let mut doc = Doc::new();
        doc.line(spans![
            Span::name(&self.target),
            " adds ",
            Span::Bytes(self.adds.compressed),
            " compressed / ",
            Span::Bytes(self.adds.uncompressed),
            " uncompressed / ",
            Span::Bytes(self.adds.files),
            " files bytes over ",
            Span::name(&self.base),
            " in ",
            Span::Counted(self.added_layers as u64, "layer", "layers"),
            "; ",
            Span::Counted(self.shared_layers as u64, "layer", "layers"),
            " shared",
        ]);
        doc.line(spans![
            "pulling it where the base is: ",
            Span::Bytes(self.adds.compressed),
            " compressed; storing both: ",
            Span::Bytes(self.store_both.compressed),
            " compressed (",
            Span::Bytes(self.store_both.uncompressed),
            " uncompressed)",
        ]);
        if let Some(layers) = &self.layers {
            doc.blank().heading("Layers");
            let mut t = Table::new(vec![
                Column::text("STATUS"),
                Column::text("BASE"),
                Column::text("TARGET"),
                Column::text("DIGEST"),
                Column::figure("COMPRESSED"),
                Column::figure("UNCOMPRESSED"),
                Column::figure("FILES"),
                Column::text("CREATED BY"),
            ]);
            for l in layers {
                t.row(vec![
                    spans![match l.status {
                        LayerStatus::Shared => "shared",
                        LayerStatus::SameContent => "same content",
                        LayerStatus::OnlyInBase => "only in base",
                        LayerStatus::OnlyInTarget => "only in target",
                    }],
                    position(l.base_layer),
                    position(l.target_layer),
                    layer_digest(&l.digest, l.foreign),
                    spans![Span::size(l.compressed)],
                    spans![Span::Bytes(l.uncompressed)],
                    spans![Span::Bytes(l.files)],
                    spans![Span::command_or_dash(l.created_by.as_deref())],
                ]);
            }
            doc.table(t);
        }
        if let Some(f) = &self.files {
            doc.blank().heading("Files");
            doc.line(spans![
                "added ",
                Span::Count(f.added.files),
                " (",
                Span::size(f.added.bytes),
                "), removed ",
                Span::Count(f.removed.files),
                " (",
                Span::size(f.removed.bytes),
                "), changed ",
                Span::Count(f.changed.files),
                " (",
                Span::size(f.changed.bytes),
                " now); net ",
                Span::Delta(Some(f.delta)),
            ]);
            if !f.dirs.is_empty() {
                doc.blank();
                let mut t = Table::new(vec![
                    Column::text("DIRECTORY"),
                    Column::figure("DELTA"),
                    Column::figure("ADDED"),
                    Column::figure("REMOVED"),
                ]);
                for d in &f.dirs {
                    t.row(vec![
                        spans![Span::path(&d.path)],
                        delta(d.delta),
                        spans![Span::size(d.added)],
                        spans![Span::size(d.removed)],
                    ]);
                }
                if f.dirs_more > 0 {
                    t.row(vec![
                        spans!["… ", Span::Count(f.dirs_more), " more"],
                        Spans::new(),
                        Spans::new(),
                        Spans::new(),
                    ]);
                }
                doc.table(t);
            }
            if !f.top.is_empty() {
                doc.blank();
                let mut t = Table::new(vec![
                    Column::text("PATH"),
                    Column::text("CHANGE"),
                    Column::figure("BASE"),
                    Column::figure("TARGET"),
                    Column::text("LAYER"),
                ]);
                for c in &f.top {
                    t.row(vec![
                        spans![Span::path(&c.path)],
                        match c.change {
                            Change::Added => spans!["added"],
                            Change::Removed => spans!["removed"],
                            Change::Changed => {
                                let mut what = spans!["changed ("];
                                what.append(Spans::join(c.what.iter().copied(), ", "))
                                    .push(")");
                                what
                            }
                        },
                        spans![Span::size(c.base_bytes)],
                        spans![Span::size(c.target_bytes)],
                        spans![Span::Layer(c.layer)],
                    ]);
                }
                doc.table(t);
            }
        }
        if let Some(p) = &self.packages {
            doc.blank().heading("Packages");
            if p.changes.is_empty() {
                doc.line("no package added, removed or changed");
            } else {
                let mut t = Table::new(vec![
                    Column::text("ECOSYSTEM"),
                    Column::text("PACKAGE"),
                    Column::text("CHANGE"),
                    Column::text("BASE"),
                    Column::text("TARGET"),
                    Column::figure("BYTES"),
                ]);
                for c in &p.changes {
                    t.row(vec![
                        spans![c.ecosystem.name()],
                        spans![Span::name(&c.name)],
                        spans![match c.change {
                            PackageChange::Added => "added",
                            PackageChange::Removed => "removed",
                            PackageChange::VersionChanged => "version changed",
                        }],
                        spans![Span::or_dash(c.base_version.as_deref())],
                        spans![Span::or_dash(c.target_version.as_deref())],
                        delta(c.target_bytes as i64 - c.base_bytes as i64),
                    ]);
                }
                doc.table(t);
            }
            doc.line(spans![
                "packages explain ",
                Span::Delta(Some(p.delta)),
                " of the delta; no package explains ",
                Span::Delta(Some(p.unexplained)),
            ]);
        }
        doc
    }
}
