//! `strata gate`: a CI size-regression gate — a policy and a baseline applied
//! to an image set; exit 1 when a fail rule trips, whatever the format.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use crate::analyze::advise::AdviseBuilder;
use crate::analyze::footprint::footprint;
use crate::analyze::gate::{Forbidden as ForbiddenSink, Under};
use crate::analyze::layers::ChangesBuilder;
use crate::analyze::merged::{feed, inventory, Sink};
use crate::analyze::sizes::Measure;
use crate::commands::layer_figures;
use crate::error::Error;
use crate::gate::{
    evaluate, AuditFacts, Baseline, BaselineImage, GateReport, ImageFacts, Names, Policy, SetFacts,
    Status, Unit,
};
use crate::image::Image;
use crate::reference::Reference;
use crate::report::{junit, Column, Doc, Span, Spans, Table, View};
use crate::session::{Outcome, Session};
use crate::spans;
use crate::store::Indexes;

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
    // The merged filesystems are read when a rule asks for them.
    let walks = policy
        .as_ref()
        .is_some_and(|p| p.needs_findings() || p.needs_audit() || p.needs_packages());
    let indexed = if walks {
        Some(store.indexes(&images, session.progress())?)
    } else {
        None
    };
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
        if let (Some(policy), Some(indexes)) = (&policy, &indexed) {
            image_facts(session, &mut f, policy, image, indexes)?;
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

/// What the policy asks of the image's merged filesystem, from one pass
/// (the package inventory reads it twice more on its own).
fn image_facts(
    session: &Session,
    f: &mut ImageFacts,
    policy: &Policy,
    image: &Image,
    indexes: &Indexes,
) -> anyhow::Result<()> {
    let rules = || policy.images.iter();
    // The paths of the first findings of each kind (five named).
    let mut findings = policy
        .needs_findings()
        .then(|| AdviseBuilder::new(u64::MAX, 5));
    // Each layer's file bytes (the indexes were made sure of when a walk is needed).
    let layer_files = || -> Vec<u64> {
        image
            .layers
            .iter()
            .map(|l| indexes.summaries().get(&l.digest).map_or(0, |s| s.files))
            .collect()
    };
    let audit = policy.needs_audit();
    let mut changes = audit.then(|| ChangesBuilder::new(layer_files(), 0));
    let mut under = audit.then(|| Under::new(rules().flat_map(|r| r.max_under.keys())));
    let patterns: Vec<String> = rules()
        .flat_map(|r| r.forbidden_paths.iter().cloned())
        .collect();
    let mut forbidden = audit.then(|| ForbiddenSink::new(&patterns)).transpose()?;
    let mut sinks: Vec<&mut dyn Sink> = Vec::new();
    if let Some(s) = findings.as_mut() {
        sinks.push(s);
    }
    if let Some(s) = changes.as_mut() {
        sinks.push(s);
    }
    if let Some(s) = under.as_mut() {
        sinks.push(s);
    }
    if let Some(s) = forbidden.as_mut() {
        sinks.push(s);
    }
    if !sinks.is_empty() {
        feed(indexes, image, &mut sinks)?;
    }
    if let Some(found) = findings {
        let mut by_kind: BTreeMap<String, (u64, Vec<String>)> = BTreeMap::new();
        for f in found.finish() {
            let e = by_kind.entry(f.kind.key().to_owned()).or_default();
            e.0 += f.bytes;
            e.1.extend(f.paths);
        }
        f.findings = Some(by_kind);
    }
    if policy.needs_packages() {
        let inventory = inventory(indexes, image, &mut |w| session.warn(w))?;
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
    if let (Some(changes), Some(under), Some(forbidden)) = (changes, under, forbidden) {
        let a = changes.finish();
        f.audit = Some(AuditFacts {
            wasted: a.waste.wasted_bytes,
            stored_files: layer_files().iter().sum(),
            dive_efficiency: a.dive.efficiency,
            dive_wasted: a.dive.wasted_bytes,
            dive_user_wasted: a.dive.user_wasted_percent,
            under: under.finish(),
            forbidden: forbidden
                .finish()
                .into_iter()
                .map(|m| (m.pattern, m.files, m.bytes, m.first))
                .collect(),
        });
    }
    Ok(())
}

/// A check's figure in its unit: bytes (a shrinking baseline's growth is
/// negative), a count, a ratio or a percentage.
fn value(unit: Unit, v: f64) -> Span {
    match unit {
        Unit::Bytes if v < 0.0 => Span::Delta(Some(v as i64)),
        Unit::Bytes => Span::size(v as u64),
        Unit::Count => Span::Number(v),
        Unit::Ratio => Span::Fraction(v),
        Unit::Percent => Span::percent(v),
    }
}

impl View for GateReport {
    const COMMAND: &'static str = "gate";

    fn doc(&self) -> Doc {
        let mut doc = Doc::new();
        let count = |s: Status| self.checks.iter().filter(|c| c.status == s).count() as u64;
        doc.line(spans![
            "gate: ",
            match self.status {
                Status::Pass => "PASS",
                Status::Warn => "PASS with warnings",
                Status::Fail => "FAIL",
            },
            " — ",
            Span::Counted(self.checks.len() as u64, "check", "checks"),
            ", ",
            Span::Count(count(Status::Fail)),
            " failed, ",
            Span::Count(count(Status::Warn)),
            " warned",
        ])
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
                spans![match c.status {
                    Status::Pass => "pass",
                    Status::Warn => "warn",
                    Status::Fail => "FAIL",
                }],
                spans![Span::name(&c.scope)],
                spans![Span::name(&c.rule)],
                spans![value(c.unit, c.actual)],
                spans![value(c.unit, c.limit)],
            ]);
        }
        doc.table(t);
        for c in self
            .checks
            .iter()
            .filter(|c| c.status != Status::Pass && !c.detail.is_empty())
        {
            let mut note = spans![Span::name(&c.scope), " ", Span::name(&c.rule), ": "];
            note.append(Spans::join(
                c.detail.iter().map(|d| spans![Span::name(d)]),
                "; ",
            ));
            doc.note(note);
        }
        doc
    }
}
