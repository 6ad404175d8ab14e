//! `strata packages`: every package of an image's merged filesystem (deb, rpm,
//! apk, Python, npm, gems), its version, its installed bytes and the layer
//! that added it, with totals per ecosystem and the bytes no package owns.

use std::io::Write;

use serde::Serialize;

use super::{legend, legend_lines, one_image, LayerInfo};
use crate::analyze::packages::{BytesSource, Ecosystem, Package, Tally};
use crate::commands::headline;
use crate::reference::Reference;
use crate::report::sbom::{self, SbomFormat, SbomPackage, Subject};
use crate::report::{Column, Doc, Span, Table, View};
use crate::session::{Outcome, Session};
use crate::spans;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Bytes,
    Name,
}

#[derive(Debug)]
pub struct Args {
    pub reference: Reference,
    /// Ecosystems to list (empty: all).
    pub ecosystems: Vec<Ecosystem>,
    pub sort: SortBy,
    /// `--format cyclonedx|spdx`: an SBOM instead of the report.
    pub sbom: Option<SbomFormat>,
}

/// One package, as JSON carries it.
#[derive(Debug, Serialize)]
pub struct Row {
    #[serde(flatten)]
    pub package: Package,
    /// 1-based layer that introduced (or last changed) it.
    pub layer: usize,
    /// Its package URL (purl spec, as syft writes it).
    pub purl: String,
    /// The purl of the system package whose files these are (python3-yaml
    /// for PyYAML): the bytes are counted there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
    /// Its owner is listed too: tables show it under the owner only.
    #[serde(skip)]
    pub under_owner: bool,
}

#[derive(Debug, Serialize)]
pub struct EcosystemTotal {
    pub ecosystem: Ecosystem,
    pub packages: u64,
    /// Bytes of the files its packages own: with `unowned`, the ecosystems
    /// add up to `total`.
    pub bytes: u64,
    pub files: u64,
    /// Declared sizes of its packages without an owned file (not in `bytes`).
    pub declared: u64,
}

#[derive(Debug, Serialize)]
pub struct Packages {
    pub image: String,
    pub platform: Option<String>,
    /// The ecosystems listed.
    pub ecosystems: Vec<Ecosystem>,
    pub packages: Vec<Row>,
    pub totals: Vec<EcosystemTotal>,
    /// Regular files of the merged filesystem that no package (of any ecosystem) owns.
    pub unowned: Tally,
    /// Every regular file of the merged filesystem.
    pub total: Tally,
    pub layers: Vec<LayerInfo>,
}

pub fn run(session: &Session, args: &Args, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let image = one_image(
        session.load(std::slice::from_ref(&args.reference))?,
        "packages",
    )?;
    let store = session.store()?;
    let indexes = store.indexes(std::slice::from_ref(&image), session.progress())?;
    let inventory = crate::analyze::merged::inventory(&indexes, &image, &mut |w| session.warn(w))?;
    let ecosystems = if args.ecosystems.is_empty() {
        Ecosystem::ALL.to_vec()
    } else {
        args.ecosystems.clone()
    };
    let owners: Vec<(String, Ecosystem)> = inventory
        .packages
        .iter()
        .map(|p| (p.purl.clone(), p.ecosystem))
        .collect();
    let mut rows: Vec<Row> = inventory
        .packages
        .into_iter()
        .filter(|p| ecosystems.contains(&p.ecosystem))
        .map(|p| {
            let owner = p.owned_by.and_then(|i| owners.get(i));
            Row {
                layer: p.layer + 1,
                purl: p.purl.clone(),
                owned_by: owner.map(|(purl, _)| purl.clone()),
                under_owner: owner.is_some_and(|(_, e)| ecosystems.contains(e)),
                package: p,
            }
        })
        .collect();
    let by_name = |a: &Row, b: &Row| {
        (a.package.ecosystem, &a.package.name, &a.package.version).cmp(&(
            b.package.ecosystem,
            &b.package.name,
            &b.package.version,
        ))
    };
    match args.sort {
        SortBy::Name => rows.sort_by(by_name),
        SortBy::Bytes => {
            rows.sort_by(|a, b| b.package.bytes.cmp(&a.package.bytes).then(by_name(a, b)))
        }
    }
    let totals = ecosystems
        .iter()
        .filter_map(|&e| {
            let mine: Vec<&Row> = rows.iter().filter(|r| r.package.ecosystem == e).collect();
            (!mine.is_empty()).then(|| EcosystemTotal {
                ecosystem: e,
                packages: mine.len() as u64,
                bytes: measured(&mine, BytesSource::Files),
                files: mine.iter().map(|r| r.package.files).sum(),
                declared: measured(&mine, BytesSource::Declared),
            })
        })
        .collect();
    let report = Packages {
        image: image.name.to_string(),
        platform: image.platform.clone(),
        ecosystems,
        packages: rows,
        totals,
        unowned: inventory.unowned,
        total: inventory.total,
        layers: legend(&image),
    };
    match args.sbom {
        Some(format) => sbom::write(out, format, &subject(&image, &report))?,
        None => session.render(out, &report)?,
    }
    Ok(Outcome::Ok)
}

/// What the SBOM of `image` describes: its packages (all listed, those
/// another package owns too, linked to it) with their layers.
fn subject(image: &crate::image::Image, report: &Packages) -> Subject {
    let packages = report
        .packages
        .iter()
        .map(|r| {
            let layer = &report.layers[r.layer - 1];
            SbomPackage {
                name: r.package.name.clone(),
                version: r.package.version.clone(),
                purl: r.purl.clone(),
                ecosystem: r.package.ecosystem.name(),
                arch: r.package.arch.clone(),
                installed_bytes: r.package.bytes,
                declared: r.package.bytes_source == BytesSource::Declared,
                files: r.package.files,
                layer: r.layer,
                layer_digest: layer.digest.clone(),
                created_by: layer.created_by.clone(),
                owned_by: r.owned_by.clone(),
            }
        })
        .collect();
    Subject {
        name: report.image.clone(),
        basename: image.name.basename().to_owned(),
        platform: report.platform.clone(),
        manifest_digest: image.manifest_digest.clone(),
        config_digest: image.config_digest.clone(),
        packages,
        created: created_now(),
    }
}

/// Now, or `$SOURCE_DATE_EPOCH` (reproducible builds' convention), as RFC 3339 UTC.
fn created_now() -> String {
    let at = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
        .unwrap_or_else(chrono::Utc::now);
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn measured(rows: &[&Row], source: BytesSource) -> u64 {
    rows.iter()
        .filter(|r| r.package.bytes_source == source)
        .map(|r| r.package.bytes)
        .sum()
}

impl View for Packages {
    const COMMAND: &'static str = "packages";

    fn doc(&self) -> Doc {
        let mut doc = Doc::new();
        let shown: Vec<&Row> = self.packages.iter().filter(|r| !r.under_owner).collect();
        doc.line(headline(
            &self.image,
            self.platform.as_deref(),
            spans![
                Span::Count(shown.len() as u64),
                " packages in the merged filesystem of ",
                Span::Count(self.layers.len() as u64),
                " layers",
            ],
        ))
        .blank();
        let mut table = Table::new(vec![
            Column::text("ECOSYSTEM"),
            Column::text("NAME"),
            Column::text("VERSION"),
            Column::text("ARCH"),
            Column::figure("SIZE"),
            Column::figure("FILES"),
            Column::figure("LAYER"),
        ]);
        let mut declared = false;
        for r in &shown {
            let p = &r.package;
            let mut size = spans![Span::size(p.bytes)];
            if p.bytes_source == BytesSource::Declared {
                declared = true;
                size.push(" (declared)");
            }
            table.row(vec![
                spans![p.ecosystem.name()],
                spans![Span::name(&p.name)],
                spans![Span::name(&p.version)],
                spans![Span::or_dash(p.arch.as_deref())],
                size,
                spans![Span::Count(p.files)],
                spans![Span::Layer(r.layer)],
            ]);
        }
        if self.packages.is_empty() {
            doc.line("No package database found.").blank();
        } else {
            doc.table(table).blank();
        }
        let under = self.packages.len() - shown.len();
        if under > 0 {
            doc.note(spans![
                Span::Count(under as u64),
                " language package(s) installed by a system package are shown as that \
                 package, which owns their files (JSON: owned_by)",
            ])
            .blank();
        }
        if declared {
            doc.note(
                "(declared): no owned file found; the size its database declares, not in the totals",
            )
            .blank();
        }
        let mut totals = Table::new(vec![
            Column::text("ECOSYSTEM"),
            Column::figure("PACKAGES"),
            Column::figure("SIZE"),
            Column::figure("FILES"),
        ]);
        for t in &self.totals {
            totals.row(vec![
                spans![t.ecosystem.name()],
                spans![Span::Count(t.packages)],
                spans![Span::size(t.bytes)],
                spans![Span::Count(t.files)],
            ]);
        }
        for (label, tally) in [
            ("(no package)", &self.unowned),
            ("(all files)", &self.total),
        ] {
            totals.row(vec![
                spans![label],
                spans!["-"],
                spans![Span::size(tally.bytes)],
                spans![Span::Count(tally.files)],
            ]);
        }
        doc.table(totals).blank();
        legend_lines(&mut doc, &self.layers);
        doc
    }
}
