//! The gate: a policy and an optional baseline applied to an image set's
//! figures, giving every check with actual vs limit and pass / warn / fail —
//! decided before any report is rendered, whatever the format.

mod checks;
mod dive_ci;
mod growth;
pub mod names;
pub mod policy;
pub mod user_file;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::image::Digest;
pub use growth::{Baseline, BaselineImage};
pub use names::Names;
pub use policy::{Level, Policy};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    Bytes,
    Count,
    Ratio,
    Percent,
}

/// One rule applied to one image (or the set).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// The image's name, or "set".
    pub scope: String,
    pub rule: String,
    pub actual: f64,
    pub limit: f64,
    pub unit: Unit,
    pub status: Status,
    /// What is behind a tripped rule (paths, layers).
    pub detail: Vec<String>,
}

/// What the gate knows of one image.
#[derive(Debug, Clone, Default)]
pub struct ImageFacts {
    pub name: String,
    /// What a policy's `match` and a baseline entry are matched against.
    pub names: Names,
    /// The name without its tag: how baselines before `repository` and
    /// `tag` were recorded matched an image.
    pub key: String,
    pub compressed: Option<u64>,
    pub uncompressed: u64,
    pub files: u64,
    pub layers: u64,
    pub layer_digests: Vec<(Digest, u64, Option<String>)>,
    pub audit: Option<AuditFacts>,
    /// `ecosystem/name`, version and installed bytes of every package.
    pub packages: Option<Vec<(String, String, u64)>>,
    /// Bytes per kind of `strata advise` finding, with their paths.
    pub findings: Option<std::collections::BTreeMap<String, (u64, Vec<String>)>>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFacts {
    pub wasted: u64,
    pub stored_files: u64,
    pub dive_efficiency: f64,
    pub dive_wasted: u64,
    pub dive_user_wasted: f64,
    /// Per forbidden pattern: (pattern, matching files, their bytes, first paths).
    pub forbidden: Vec<Forbidden>,
    /// File bytes under each `max_under` path.
    pub under: std::collections::BTreeMap<String, u64>,
}

/// A forbidden-path pattern and what matched it: (pattern, files, bytes, first paths).
pub type Forbidden = (String, u64, u64, Vec<String>);

/// What the gate knows of the whole set.
#[derive(Debug, Clone, Copy, Default)]
pub struct SetFacts {
    /// Each distinct layer once; None when an image has no compressed size.
    pub dedup_compressed: Option<u64>,
    pub dedup_uncompressed: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateReport {
    pub status: Status,
    pub checks: Vec<Check>,
    pub warnings: Vec<String>,
}

/// The checks and warnings of one evaluation, as they accumulate.
#[derive(Default)]
struct Found {
    checks: Vec<Check>,
    warnings: Vec<String>,
}

impl Found {
    /// A check of `rule` on `scope`: it trips when `tripped`, failing or warning by `level`.
    #[allow(clippy::too_many_arguments)]
    fn check(
        &mut self,
        scope: &str,
        rule: &str,
        actual: f64,
        limit: f64,
        unit: Unit,
        level: Level,
        tripped: bool,
    ) -> &mut Check {
        self.checks.push(Check {
            scope: scope.to_owned(),
            rule: rule.to_owned(),
            actual,
            limit,
            unit,
            status: match (tripped, level) {
                (false, _) => Status::Pass,
                (true, Level::Warn) => Status::Warn,
                (true, Level::Fail) => Status::Fail,
            },
            detail: Vec::new(),
        });
        let last = self.checks.len() - 1;
        &mut self.checks[last]
    }

    /// A byte limit: trips above it.
    fn max(&mut self, scope: &str, rule: &str, actual: u64, limit: u64, level: Level) {
        self.check(
            scope,
            rule,
            actual as f64,
            limit as f64,
            Unit::Bytes,
            level,
            actual > limit,
        );
    }

    fn warn_once(&mut self, warning: String) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }
}

/// The images rule `index` selects: those whose names (`Names::forms`) its
/// `match` glob matches. A rule that selects none is an error, naming the
/// rule and the names it was tried against: a gate never passes by
/// checking nothing.
fn select<'a>(
    policy: &Policy,
    index: usize,
    images: &'a [ImageFacts],
) -> Result<Vec<&'a ImageFacts>> {
    let pattern = &policy.images[index].pattern;
    let glob = globset::Glob::new(pattern)
        .map_err(|_| {
            Error::malformed(
                &policy.source,
                format!("{}: not a glob", policy.rule_name(index)),
            )
        })?
        .compile_matcher();
    let selected: Vec<&ImageFacts> = images.iter().filter(|i| i.names.matches(&glob)).collect();
    if selected.is_empty() {
        const SHOWN: usize = 8;
        let mut tried: Vec<String> = images
            .iter()
            .take(SHOWN)
            .map(|i| i.names.full.clone())
            .collect();
        if images.len() > SHOWN {
            tried.push(format!("+{} more", images.len() - SHOWN));
        }
        return Err(Error::malformed(
            &policy.source,
            format!(
                "{}: its match selects no image; tried against {} (each also without its transport, registry host or tag: REPO:TAG, REPO)",
                policy.rule_name(index),
                tried.join(", ")
            ),
        ));
    }
    Ok(selected)
}

/// The size limit of `measure` that the rules selecting an image named
/// `names` set (the smallest, when several do), and whether it fails or warns.
pub fn size_limit(
    policy: &Policy,
    names: &Names,
    measure: crate::analyze::sizes::Measure,
) -> Option<(u64, Level)> {
    use crate::analyze::sizes::Measure;
    policy
        .images
        .iter()
        .filter(|r| {
            globset::Glob::new(&r.pattern).is_ok_and(|g| names.matches(&g.compile_matcher()))
        })
        .filter_map(|r| {
            let limit = match measure {
                Measure::Compressed => r.max_compressed,
                Measure::Uncompressed => r.max_uncompressed,
                Measure::Files => r.max_files,
            };
            limit.map(|l| (l.0, r.level))
        })
        .min_by_key(|(bytes, level)| (*bytes, *level == Level::Warn))
}

/// Applies `policy` (and the baseline) to the set's figures. An error when a
/// rule selects no image, or when no check could run at all.
pub fn evaluate(
    policy: &Policy,
    images: &[ImageFacts],
    set: SetFacts,
    baseline: Option<&Baseline>,
) -> Result<GateReport> {
    let mut found = Found::default();
    for (index, rules) in policy.images.iter().enumerate() {
        for img in select(policy, index, images)? {
            checks::image(&mut found, rules, img);
            growth::image(&mut found, rules, img, images.len(), baseline);
        }
    }
    if let Some(rules) = &policy.set {
        checks::set(&mut found, rules, set);
        growth::set(&mut found, rules, set, baseline);
    }
    let Found { checks, warnings } = found;
    if checks.is_empty() {
        return Err(Error::malformed(
            &policy.source,
            format!("no check could run: {}", warnings.join("; ")),
        ));
    }
    let status = if checks.iter().any(|c| c.status == Status::Fail) {
        Status::Fail
    } else if checks.iter().any(|c| c.status == Status::Warn) {
        Status::Warn
    } else {
        Status::Pass
    };
    Ok(GateReport {
        status,
        checks,
        warnings,
    })
}
