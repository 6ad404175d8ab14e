//! The gate: a policy and an optional baseline applied to an image set's
//! figures, giving every check with actual vs limit and pass / warn / fail —
//! decided before any report is rendered, whatever the format.

pub mod policy;

use serde::{Deserialize, Serialize};

use crate::image::Digest;
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
    /// Matched against the baseline (the name without its tag).
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

/// The baseline a gate compares against (`--write-baseline`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Baseline {
    pub schema_version: u32,
    pub command: String,
    pub images: Vec<BaselineImage>,
    pub dedup_compressed: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BaselineImage {
    pub name: String,
    pub key: String,
    pub compressed: u64,
    pub uncompressed: u64,
    pub files: u64,
    pub layers: Vec<Digest>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GateReport {
    pub status: Status,
    pub checks: Vec<Check>,
    pub warnings: Vec<String>,
}

fn check(
    scope: &str,
    rule: &str,
    actual: f64,
    limit: f64,
    unit: Unit,
    level: Level,
    tripped: bool,
) -> Check {
    Check {
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
    }
}

/// Applies `policy` (and the baseline) to the set's figures.
pub fn evaluate(
    policy: &Policy,
    images: &[ImageFacts],
    dedup_compressed: u64,
    baseline: Option<&Baseline>,
) -> GateReport {
    let mut checks = Vec::new();
    let mut warnings = Vec::new();
    for rules in &policy.images {
        let matcher = globset::Glob::new(&rules.pattern)
            .map(|g| g.compile_matcher())
            .ok();
        for img in images
            .iter()
            .filter(|i| matcher.as_ref().is_some_and(|m| m.is_match(&i.name)))
        {
            let lvl = rules.level;
            let n = &img.name;
            let max = |rule: &str, actual: u64, limit: Option<policy::Size>| {
                limit.map(|l| {
                    check(
                        n,
                        rule,
                        actual as f64,
                        l.0 as f64,
                        Unit::Bytes,
                        lvl,
                        actual > l.0,
                    )
                })
            };
            if let Some(c) = img.compressed {
                checks.extend(max("max_compressed", c, rules.max_compressed));
            }
            checks.extend(max(
                "max_uncompressed",
                img.uncompressed,
                rules.max_uncompressed,
            ));
            checks.extend(max("max_files", img.files, rules.max_files));
            if let Some(l) = rules.max_layers {
                checks.push(check(
                    n,
                    "max_layers",
                    img.layers as f64,
                    l as f64,
                    Unit::Count,
                    lvl,
                    img.layers > l,
                ));
            }
            if let Some(a) = &img.audit {
                checks.extend(max("max_wasted", a.wasted, rules.max_wasted));
                checks.extend(max("max_dive_wasted", a.dive_wasted, rules.max_dive_wasted));
                if let Some(p) = rules.max_wasted_percent {
                    let actual = if a.stored_files == 0 {
                        0.0
                    } else {
                        a.wasted as f64 * 100.0 / a.stored_files as f64
                    };
                    checks.push(check(
                        n,
                        "max_wasted_percent",
                        actual,
                        p,
                        Unit::Percent,
                        lvl,
                        actual > p,
                    ));
                }
                if let Some(e) = rules.min_efficiency {
                    checks.push(check(
                        n,
                        "min_efficiency",
                        a.dive_efficiency,
                        e,
                        Unit::Ratio,
                        lvl,
                        a.dive_efficiency < e,
                    ));
                }
                if let Some(u) = rules.max_dive_user_wasted {
                    checks.push(check(
                        n,
                        "max_dive_user_wasted",
                        a.dive_user_wasted,
                        u,
                        Unit::Ratio,
                        lvl,
                        a.dive_user_wasted > u,
                    ));
                }
                for (path, limit) in &rules.max_under {
                    let bytes = a.under.get(path).copied().unwrap_or(0);
                    checks.extend(max(
                        &format!("max_under /{}", path.trim_matches('/')),
                        bytes,
                        Some(*limit),
                    ));
                }
                for (pattern, files, bytes, first) in &a.forbidden {
                    if rules.forbidden_paths.contains(pattern) {
                        let mut c = check(
                            n,
                            &format!("forbidden_paths {pattern}"),
                            *files as f64,
                            0.0,
                            Unit::Count,
                            lvl,
                            *files > 0,
                        );
                        c.detail = first.clone();
                        if *files > 0 {
                            c.detail.push(format!("{files} files, {bytes} bytes"));
                        }
                        checks.push(c);
                    }
                }
            }
            if let Some(findings) = &img.findings {
                for (kind, limit) in &rules.max_findings {
                    let (bytes, paths) = findings.get(kind).cloned().unwrap_or_default();
                    let mut c = check(
                        n,
                        &format!("max_findings {kind}"),
                        bytes as f64,
                        limit.0 as f64,
                        Unit::Bytes,
                        lvl,
                        bytes > limit.0,
                    );
                    c.detail = paths.into_iter().take(5).collect();
                    checks.push(c);
                }
            }
            if let Some(pkgs) = &img.packages {
                for pattern in &rules.forbidden_packages {
                    let Ok(glob) = globset::Glob::new(pattern) else {
                        continue;
                    };
                    let m = glob.compile_matcher();
                    let hits: Vec<&(String, String, u64)> =
                        pkgs.iter().filter(|p| m.is_match(&p.0)).collect();
                    let mut c = check(
                        n,
                        &format!("forbidden_packages {pattern}"),
                        hits.len() as f64,
                        0.0,
                        Unit::Count,
                        lvl,
                        !hits.is_empty(),
                    );
                    c.detail = hits
                        .iter()
                        .map(|(name, version, bytes)| format!("{name} {version} ({bytes} bytes)"))
                        .collect();
                    checks.push(c);
                }
            }
            if rules.max_growth.is_some() || rules.max_growth_percent.is_some() {
                let before = baseline.and_then(|b| {
                    b.images.iter().find(|x| x.key == img.key).or(
                        match (b.images.len(), images.len()) {
                            (1, 1) => b.images.first(),
                            _ => None,
                        },
                    )
                });
                match (before, img.compressed) {
                    (Some(b), Some(now)) => {
                        let growth = now as i64 - b.compressed as i64;
                        let behind: Vec<String> = img
                            .layer_digests
                            .iter()
                            .filter(|(d, _, _)| !b.layers.contains(d))
                            .map(|(d, size, by)| {
                                format!(
                                    "new layer {} ({size} bytes): {}",
                                    d.short(),
                                    by.as_deref().unwrap_or("-")
                                )
                            })
                            .collect();
                        if let Some(l) = rules.max_growth {
                            let mut c = check(
                                n,
                                "max_growth",
                                growth as f64,
                                l.0 as f64,
                                Unit::Bytes,
                                lvl,
                                growth > l.0 as i64,
                            );
                            c.detail = behind.clone();
                            checks.push(c);
                        }
                        if let Some(p) = rules.max_growth_percent {
                            let pct = if b.compressed == 0 {
                                0.0
                            } else {
                                growth as f64 * 100.0 / b.compressed as f64
                            };
                            let mut c =
                                check(n, "max_growth_percent", pct, p, Unit::Percent, lvl, pct > p);
                            c.detail = behind;
                            checks.push(c);
                        }
                    }
                    (None, _) if baseline.is_some() => {
                        warnings.push(format!("{n} is not in the baseline: growth not checked"))
                    }
                    (None, _) => {
                        let w = "growth rules are not checked without --baseline".to_owned();
                        if !warnings.contains(&w) {
                            warnings.push(w);
                        }
                    }
                    (Some(_), None) => {
                        warnings.push(format!("{n}: compressed size unknown: growth not checked"))
                    }
                }
            }
        }
    }
    if let Some(set) = &policy.set {
        if let Some(l) = set.max_dedup_total {
            checks.push(check(
                "set",
                "max_dedup_total",
                dedup_compressed as f64,
                l.0 as f64,
                Unit::Bytes,
                set.level,
                dedup_compressed > l.0,
            ));
        }
        match baseline {
            Some(b) => {
                let growth = dedup_compressed as i64 - b.dedup_compressed as i64;
                if let Some(l) = set.max_growth {
                    checks.push(check(
                        "set",
                        "max_growth",
                        growth as f64,
                        l.0 as f64,
                        Unit::Bytes,
                        set.level,
                        growth > l.0 as i64,
                    ));
                }
                if let Some(p) = set.max_growth_percent {
                    let pct = if b.dedup_compressed == 0 {
                        0.0
                    } else {
                        growth as f64 * 100.0 / b.dedup_compressed as f64
                    };
                    checks.push(check(
                        "set",
                        "max_growth_percent",
                        pct,
                        p,
                        Unit::Percent,
                        set.level,
                        pct > p,
                    ));
                }
            }
            None if set.max_growth.is_some() || set.max_growth_percent.is_some() => {
                let w = "growth rules are not checked without --baseline".to_owned();
                if !warnings.contains(&w) {
                    warnings.push(w);
                }
            }
            None => {}
        }
    }
    let status = if checks.iter().any(|c| c.status == Status::Fail) {
        Status::Fail
    } else if checks.iter().any(|c| c.status == Status::Warn) {
        Status::Warn
    } else {
        Status::Pass
    };
    GateReport {
        status,
        checks,
        warnings,
    }
}
