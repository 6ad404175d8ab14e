//! `strata audit REF --layer N`: what one layer holds, deletes, overwrites
//! and wastes.

use std::io::Write;

use serde::Serialize;

use crate::analyze::audit::{audit_layer, DeletionKind, LayerAudit};
use crate::analyze::du::DuNode;
use crate::analyze::merged::{index_error, inventory, merged};
use crate::analyze::package_diff::{diff_packages, PackageChange, PackageDiff};
use crate::commands::{legend, one_image, resolve_layer, LayerChoice, LayerInfo};
use crate::reference::Reference;
use crate::report::{Column, Doc, Style, Table, View};
use crate::session::{Outcome, Session};
use crate::units;

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
    let mut packages = diff_packages(&below.packages, &with.packages, file_delta);
    // Like every section, the packages to the top N (the rest counted).
    packages.keep(args.top);
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

fn du_rows(node: &DuNode, level: usize, style: Style, t: &mut Table) {
    t.row(vec![
        format!("{}{}", "  ".repeat(level), units::cut(&node.path, 70)),
        style.size(node.bytes),
        node.files.to_string(),
    ]);
    for c in &node.children {
        du_rows(c, level + 1, style, t);
    }
    if let Some(more) = &node.more {
        t.row(vec![
            format!("{}  … {} more", "  ".repeat(level), more.entries),
            style.size(more.bytes),
            more.files.to_string(),
        ]);
    }
}

impl View for AuditReport {
    const COMMAND: &'static str = "audit";

    fn doc(&self, style: Style) -> Doc {
        let mut doc = Doc::new();
        doc.line(format!(
            "{} ({}): layer #{} {}",
            self.image,
            self.platform.as_deref().unwrap_or("-"),
            self.layer.layer,
            self.layer.digest.short()
        ));
        doc.line(format!(
            "created by: {}",
            units::cut(self.layer.created_by.as_deref().unwrap_or("-"), 200)
        ));
        doc.line(format!(
            "{} compressed, {} uncompressed, {} in files",
            style.size(self.compressed),
            style.size(self.uncompressed),
            style.size(self.files)
        ));
        doc.blank().heading("Largest files");
        let mut t = Table::new(vec![
            Column::text("PATH"),
            Column::figure("SIZE"),
            Column::text("SURVIVES"),
        ]);
        for f in self.audit.largest.iter() {
            t.row(vec![
                units::cut(&f.path, 70),
                style.size(f.bytes),
                if f.survives {
                    "yes"
                } else {
                    "no: later layers hide it"
                }
                .to_owned(),
            ]);
        }
        if self.audit.largest.is_empty() {
            doc.line("no files");
        } else {
            doc.table(t);
        }
        doc.blank().heading("Where its bytes are");
        let mut t = Table::new(vec![
            Column::text("PATH"),
            Column::figure("SIZE"),
            Column::figure("FILES"),
        ]);
        du_rows(&self.audit.rollup, 0, style, &mut t);
        doc.table(t).blank().heading("Deletes");
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
                    units::cut(&d.path, 70),
                    match d.kind {
                        DeletionKind::Whiteout => "whiteout",
                        DeletionKind::Opaque => "opaque directory",
                        DeletionKind::Replaced => "directory replaced",
                    }
                    .to_owned(),
                    d.hidden_files.to_string(),
                    style.size(d.hidden_bytes),
                ]);
            }
            if let Some(more) = &self.audit.deletes_more {
                t.row(vec![
                    format!("… {} more", more.entries),
                    String::new(),
                    more.files.to_string(),
                    style.size(more.bytes),
                ]);
            }
            doc.table(t);
        }
        doc.blank().heading(format!(
            "Overwrites ({} wasted below)",
            style.size(self.audit.overwritten_bytes)
        ));
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
                    units::cut(&o.path, 70),
                    format!("#{}", o.below),
                    style.size(o.wasted_below),
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
                let (change, version, bytes) = match c.change {
                    PackageChange::Added => ("installs", c.target_version.clone(), c.target_bytes),
                    PackageChange::Removed => ("removes", c.base_version.clone(), c.base_bytes),
                    PackageChange::VersionChanged => (
                        "upgrades",
                        Some(format!(
                            "{} -> {}",
                            c.base_version.as_deref().unwrap_or("-"),
                            c.target_version.as_deref().unwrap_or("-")
                        )),
                        c.target_bytes,
                    ),
                };
                t.row(vec![
                    c.ecosystem.name().to_owned(),
                    units::cut(&c.name, 50),
                    change.to_owned(),
                    version.unwrap_or_else(|| "-".to_owned()),
                    style.size(bytes),
                ]);
            }
            if self.packages.changes_more > 0 {
                t.row(vec![
                    String::new(),
                    format!("… {} more", self.packages.changes_more),
                    String::new(),
                    String::new(),
                    String::new(),
                ]);
            }
            doc.table(t);
        }
        doc
    }
}
