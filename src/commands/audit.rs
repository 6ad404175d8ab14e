//! `strata audit REF --layer N`: what one layer holds, deletes, overwrites
//! and wastes.

use std::io::Write;

use serde::Serialize;

use crate::analyze::audit::{audit_layer, DeletionKind, LayerAudit};
use crate::analyze::merged::{index_error, inventory, merged};
use crate::analyze::package_diff::{diff_packages, PackageChange, PackageDiff};
use crate::commands::rollup::{self, Line};
use crate::commands::{headline, legend, one_image, resolve_layer, LayerChoice, LayerInfo};
use crate::reference::Reference;
use crate::report::{Column, Doc, Span, Spans, Table, View};
use crate::session::{Outcome, Session};
use crate::spans;

#[derive(Debug)]
pub struct Args {
    pub reference: Reference,
    pub layer: LayerChoice,
    pub depth: usize,
    pub top: usize,
}

#[derive(Debug, Serialize)]
pub struct AuditReport {
    pub image: String,
    pub platform: Option<String>,
    pub layer: LayerInfo,
    pub compressed: u64,
    pub uncompressed: u64,
    pub files: u64,
    /// Its files, deletions and overwrites.
    #[serde(flatten)]
    pub audit: LayerAudit,
    /// Packages this layer installs, removes or changes (against the layers below).
    pub packages: PackageDiff,
}

pub fn run(session: &Session, args: &Args, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let image = one_image(
        session.load(std::slice::from_ref(&args.reference))?,
        "audit",
    )?;
    let i = resolve_layer(&image, &args.layer)?;
    let store = session.store()?;
    let indexes = store.indexes(std::slice::from_ref(&image), session.progress())?;
    let summaries = indexes.summaries();
    let a = audit_layer(merged(&indexes, &image)?, i, args.depth, args.top).map_err(index_error)?;
    let s = &summaries[&image.layers[i].digest];
    // The image as it stood below this layer, and with it.
    let upto = |n: usize| {
        let mut img = image.clone();
        img.layers.truncate(n);
        img
    };
    let mut warn = |w| session.warn(w);
    let below = inventory(&indexes, &upto(i), &mut warn)?;
    let with = inventory(&indexes, &upto(i + 1), &mut warn)?;
    let file_delta = with.total.bytes as i64 - below.total.bytes as i64;
    let packages = diff_packages(&below.packages, &with.packages, file_delta);
    let report = AuditReport {
        image: image.name.to_string(),
        platform: image.platform.clone(),
        layer: legend(&image).swap_remove(i),
        compressed: s.compressed,
        uncompressed: s.uncompressed,
        files: s.files,
        audit: a,
        packages,
    };
    session.render(out, &report)?;
    Ok(Outcome::Ok)
}

impl View for AuditReport {
    const COMMAND: &'static str = "audit";

    fn doc(&self) -> Doc {
        let mut doc = Doc::new();
        doc.line(headline(
            &self.image,
            self.platform.as_deref(),
            spans![
                "layer ",
                Span::Layer(self.layer.layer),
                " ",
                Span::digest(&self.layer.digest),
            ],
        ));
        doc.line(spans![
            "created by: ",
            Span::command_or_dash(self.layer.created_by.as_deref()),
        ]);
        doc.line(spans![
            Span::size(self.compressed),
            " compressed, ",
            Span::size(self.uncompressed),
            " uncompressed, ",
            Span::size(self.files),
            " in files",
        ]);
        doc.blank().heading("Largest files");
        let mut t = Table::new(vec![
            Column::text("PATH"),
            Column::figure("SIZE"),
            Column::text("SURVIVES"),
        ]);
        for f in self.audit.largest.iter() {
            t.row(vec![
                spans![Span::path(&f.path)],
                spans![Span::size(f.bytes)],
                spans![if f.survives {
                    "yes"
                } else {
                    "no: later layers hide it"
                }],
            ]);
        }
        if self.audit.largest.is_empty() {
            doc.line("no files");
        } else {
            doc.table(t);
        }
        doc.blank().heading("Where its bytes are");
        let columns = vec![
            Column::text("PATH"),
            Column::figure("SIZE"),
            Column::figure("FILES"),
        ];
        let tree = rollup::tree(&self.audit.rollup, columns, false, |line| {
            let (bytes, files) = match line {
                Line::Node(n) => (n.bytes, n.files),
                Line::More(m) => (m.bytes, m.files),
            };
            vec![spans![Span::size(bytes)], spans![Span::Count(files)]]
        });
        doc.tree(tree).blank().heading("Deletes");
        if self.audit.deletes.is_empty() {
            doc.line("nothing");
        } else {
            let mut t = Table::new(vec![
                Column::text("PATH"),
                Column::text("HOW"),
                Column::figure("HIDDEN FILES"),
                Column::figure("HIDDEN BYTES"),
            ]);
            for d in &self.audit.deletes {
                t.row(vec![
                    spans![Span::path(&d.path)],
                    spans![match d.kind {
                        DeletionKind::Whiteout => "whiteout",
                        DeletionKind::Opaque => "opaque directory",
                        DeletionKind::Replaced => "directory replaced",
                    }],
                    spans![Span::Count(d.hidden_files)],
                    spans![Span::size(d.hidden_bytes)],
                ]);
            }
            if let Some(more) = &self.audit.deletes_more {
                t.row(vec![
                    spans!["… ", Span::Count(more.entries), " more"],
                    Spans::new(),
                    spans![Span::Count(more.files)],
                    spans![Span::size(more.bytes)],
                ]);
            }
            doc.table(t);
        }
        doc.blank().heading(spans![
            "Overwrites (",
            Span::size(self.audit.overwritten_bytes),
            " wasted below)",
        ]);
        if self.audit.overwrites.is_empty() {
            doc.line("nothing");
        } else {
            let mut t = Table::new(vec![
                Column::text("PATH"),
                Column::figure("LAYER BELOW"),
                Column::figure("WASTED BELOW"),
            ]);
            for o in &self.audit.overwrites {
                t.row(vec![
                    spans![Span::path(&o.path)],
                    spans![Span::Layer(o.below)],
                    spans![Span::size(o.wasted_below)],
                ]);
            }
            doc.table(t);
        }
        doc.blank().heading("Packages");
        if self.packages.changes.is_empty() {
            doc.line("none installed, removed or changed");
        } else {
            let mut t = Table::new(vec![
                Column::text("ECOSYSTEM"),
                Column::text("PACKAGE"),
                Column::text("CHANGE"),
                Column::text("VERSION"),
                Column::figure("BYTES"),
            ]);
            for c in &self.packages.changes {
                let version = |v: &Option<String>| spans![Span::or_dash(v.as_deref())];
                let (change, version, bytes) = match c.change {
                    PackageChange::Added => {
                        ("installs", version(&c.target_version), c.target_bytes)
                    }
                    PackageChange::Removed => ("removes", version(&c.base_version), c.base_bytes),
                    PackageChange::VersionChanged => {
                        let mut v = version(&c.base_version);
                        v.push(" -> ").append(version(&c.target_version));
                        ("upgrades", v, c.target_bytes)
                    }
                };
                t.row(vec![
                    spans![c.ecosystem.name()],
                    spans![Span::name(&c.name)],
                    spans![change],
                    version,
                    spans![Span::size(bytes)],
                ]);
            }
            doc.table(t);
        }
        doc
    }
}
