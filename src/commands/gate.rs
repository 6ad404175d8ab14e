//! `strata gate`: a CI size-regression gate — a policy and a baseline applied
//! to an image set; exit 1 when a fail rule trips, whatever the format.

use std::io::Write;
use std::path::PathBuf;

use crate::analyze::footprint::footprint;
use crate::analyze::sizes::Measure;
use crate::commands::footprint::layer_figures;
use crate::commands::layers::audit_image;
use crate::commands::{index_error, merged};
use crate::error::Error;
use crate::gate::{
    evaluate, AuditFacts, Baseline, BaselineImage, Forbidden, GateReport, ImageFacts, Names,
    Policy, SetFacts, Status, Unit,
};
use crate::image::Image;
use crate::reference::Reference;
use crate::report::{junit, Column, Doc, Style, Table, View};
use crate::session::{Outcome, Session};
use crate::units;

#[derive(Debug)]
pub struct Args {
    pub refs: Vec<Reference>,
    pub policy: Option<PathBuf>,
    pub baseline: Option<PathBuf>,
    pub write_baseline: Option<PathBuf>,
    pub junit: Option<PathBuf>,
}

/// Bump when the baseline's shape changes.
pub const BASELINE_VERSION: u32 = 1;

/// The most a baseline file may hold (a few hundred bytes per image).
const MAX_BASELINE: u64 = 16 << 20;

fn key(image: &Image) -> String {
    let mut n = image.name.clone();
    n.tag = None;
    n.digest = None;
    n.to_string()
}

pub fn run(session: &Session, args: &Args, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let policy = args.policy.as_deref().map(Policy::load).transpose()?;
    let baseline = args.baseline.as_deref().map(read_baseline).transpose()?;
    let images = session.load(&args.refs)?;
    let store = session.store()?;
    // As footprint has them: an engine's layers have no compressed size.
    let figures = layer_figures(session, &images)?;
    let fp = footprint(&images, &figures, Measure::Compressed, false);
    let set = SetFacts {
        dedup_compressed: fp.set.dedup_total.compressed,
        dedup_uncompressed: fp.set.dedup_total.uncompressed,
    };
    let mut facts = Vec::new();
    for (image, row) in images.iter().zip(&fp.images) {
        let mut f = ImageFacts {
            name: row.name.clone(),
            names: Names::of(&image.name),
            key: key(image),
            compressed: row.total.compressed,
            uncompressed: row.total.uncompressed.unwrap_or(0),
            files: row.total.files.unwrap_or(0),
            layers: image.layers.len() as u64,
            layer_digests: image
                .layers
                .iter()
                .map(|l| {
                    (
                        l.digest.clone(),
                        l.size,
                        l.history.as_ref().and_then(|h| h.created_by.clone()),
                    )
                })
                .collect(),
            audit: None,
            packages: None,
            findings: None,
        };
        if policy.as_ref().is_some_and(Policy::needs_findings) {
            let found = crate::analyze::advise::advise(merged(session, image)?, u64::MAX)
                .map_err(index_error)?;
            let mut by_kind: std::collections::BTreeMap<String, (u64, Vec<String>)> =
                std::collections::BTreeMap::new();
            for f in found {
                let e = by_kind.entry(f.kind.key().to_owned()).or_default();
                e.0 += f.bytes;
                e.1.extend(f.paths);
            }
            f.findings = Some(by_kind);
        }
        if policy.as_ref().is_some_and(Policy::needs_packages) {
            let inventory = crate::commands::packages::image_inventory(session, image)?;
            f.packages = Some(
                inventory
                    .packages
                    .iter()
                    .map(|p| {
                        (
                            format!("{}/{}", p.ecosystem.name(), p.name),
                            p.version.clone(),
                            p.bytes,
                        )
                    })
                    .collect(),
            );
        }
        if policy.as_ref().is_some_and(Policy::needs_audit) {
            let (a, per_layer) = audit_image(session, store, image, 0)?;
            let patterns: Vec<String> = policy
                .iter()
                .flat_map(|p| &p.images)
                .flat_map(|r| r.forbidden_paths.iter().cloned())
                .collect();
            f.audit = Some(AuditFacts {
                wasted: a.waste.wasted_bytes,
                stored_files: per_layer.iter().flatten().map(|s| s.files).sum(),
                dive_efficiency: a.dive.efficiency,
                dive_wasted: a.dive.wasted_bytes,
                dive_user_wasted: a.dive.user_wasted_percent,
                under: under(
                    session,
                    image,
                    policy
                        .iter()
                        .flat_map(|p| &p.images)
                        .flat_map(|r| r.max_under.keys()),
                )?,
                forbidden: forbidden(session, image, &patterns)?,
            });
        }
        facts.push(f);
    }
    if let Some(path) = &args.write_baseline {
        let b = Baseline {
            schema_version: BASELINE_VERSION,
            command: "baseline".to_owned(),
            images: facts.iter().map(BaselineImage::new).collect(),
            dedup_compressed: set.dedup_compressed,
            dedup_uncompressed: set.dedup_uncompressed,
        };
        let text = serde_json::to_vec_pretty(&b)?;
        std::fs::write(path, text).map_err(|e| Error::io(path, e))?;
    }
    let Some(policy) = policy else {
        return Ok(Outcome::Ok);
    };
    let report = evaluate(&policy, &facts, set, baseline.as_ref())?;
    for w in &report.warnings {
        session.warn(w.clone());
    }
    if let Some(path) = &args.junit {
        junit::write(path, &report)?;
    }
    session.render(out, &report)?;
    Ok(if report.status == Status::Fail {
        Outcome::Failed
    } else {
        Outcome::Ok
    })
}

fn read_baseline(path: &std::path::Path) -> anyhow::Result<Baseline> {
    let text = crate::gate::user_file::read_text(path, MAX_BASELINE, "baseline")?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::json(path.display().to_string(), e))?;
    let version = value.get("schema_version").and_then(|v| v.as_u64());
    if version != Some(u64::from(BASELINE_VERSION))
        || value.get("command").and_then(|c| c.as_str()) != Some("baseline")
    {
        return Err(Error::malformed(
            path.display().to_string(),
            format!(
                "not a strata baseline of schema_version {BASELINE_VERSION} (found {}); record one with `strata gate --write-baseline`",
                version.map_or("none".to_owned(), |v| v.to_string())
            ),
        )
        .into());
    }
    // Parsed again from the text, so an error has its line and column.
    Ok(serde_json::from_str(&text).map_err(|e| Error::json(path.display().to_string(), e))?)
}

/// Files of the merged filesystem matching each forbidden pattern.
/// File bytes of the merged filesystem under each path.
fn under<'a>(
    session: &Session,
    image: &Image,
    paths: impl Iterator<Item = &'a String>,
) -> anyhow::Result<std::collections::BTreeMap<String, u64>> {
    let mut sums: std::collections::BTreeMap<String, u64> = paths.map(|p| (p.clone(), 0)).collect();
    if sums.is_empty() {
        return Ok(sums);
    }
    let dirs: Vec<(String, Vec<u8>)> = sums
        .keys()
        .map(|p| (p.clone(), p.trim_matches('/').as_bytes().to_vec()))
        .collect();
    for node in merged(session, image)? {
        let node = node.map_err(index_error)?;
        let Some(v) = &node.visible else { continue };
        let bytes = v.entry.file_bytes();
        if bytes == 0 {
            continue;
        }
        for (key, dir) in &dirs {
            if node.path == *dir || crate::layer::index::is_below(&node.path, dir) {
                *sums.entry(key.clone()).or_default() += bytes;
            }
        }
    }
    Ok(sums)
}

fn forbidden(
    session: &Session,
    image: &Image,
    patterns: &[String],
) -> anyhow::Result<Vec<Forbidden>> {
    if patterns.is_empty() {
        return Ok(Vec::new());
    }
    let mut set = globset::GlobSetBuilder::new();
    for p in patterns {
        set.add(globset::Glob::new(p.trim_start_matches('/'))?);
    }
    let set = set.build()?;
    let mut found: Vec<Forbidden> = patterns
        .iter()
        .map(|p| (p.clone(), 0, 0, Vec::new()))
        .collect();
    for node in merged(session, image)? {
        let node = node.map_err(index_error)?;
        let Some(v) = &node.visible else { continue };
        if v.entry.kind.is_marker() || v.entry.kind == crate::layer::EntryKind::Dir {
            continue;
        }
        let path = String::from_utf8_lossy(&node.path);
        for i in set.matches(path.as_ref()) {
            let f = &mut found[i];
            f.1 += 1;
            f.2 += v.entry.file_bytes();
            if f.3.len() < 5 {
                f.3.push(format!("/{path} (layer #{})", v.layer + 1));
            }
        }
    }
    Ok(found)
}

fn value(style: Style, unit: Unit, v: f64) -> String {
    match unit {
        Unit::Bytes if v < 0.0 => format!("-{}", style.size((-v) as u64)),
        Unit::Bytes => style.size(v as u64),
        Unit::Count => format!("{v}"),
        Unit::Ratio => format!("{v:.4}"),
        Unit::Percent => units::percent(v),
    }
}

impl View for GateReport {
    const COMMAND: &'static str = "gate";

    fn doc(&self, style: Style) -> Doc {
        let mut doc = Doc::new();
        let (fails, warns) = (
            self.checks
                .iter()
                .filter(|c| c.status == Status::Fail)
                .count(),
            self.checks
                .iter()
                .filter(|c| c.status == Status::Warn)
                .count(),
        );
        doc.line(format!(
            "gate: {} — {} checks, {fails} failed, {warns} warned",
            match self.status {
                Status::Pass => "PASS",
                Status::Warn => "PASS with warnings",
                Status::Fail => "FAIL",
            },
            self.checks.len()
        ))
        .blank();
        let mut t = Table::new(vec![
            Column::text("STATUS"),
            Column::text("IMAGE"),
            Column::text("RULE"),
            Column::figure("ACTUAL"),
            Column::figure("LIMIT"),
        ]);
        for c in &self.checks {
            t.row(vec![
                match c.status {
                    Status::Pass => "pass",
                    Status::Warn => "warn",
                    Status::Fail => "FAIL",
                }
                .to_owned(),
                units::cut(&c.scope, 60),
                c.rule.clone(),
                value(style, c.unit, c.actual),
                value(style, c.unit, c.limit),
            ]);
        }
        doc.table(t);
        for c in self
            .checks
            .iter()
            .filter(|c| c.status != Status::Pass && !c.detail.is_empty())
        {
            doc.note(format!("{} {}: {}", c.scope, c.rule, c.detail.join("; ")));
        }
        doc
    }
}
