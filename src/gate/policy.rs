//! The gate's policy: a TOML file of size, layer, waste, efficiency and path
//! rules per image glob and for the whole set, each failing or warning; or a
//! dive `.dive-ci` file (its three rules). Validated whole before any work.

use std::path::Path;

use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result};
use crate::units;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    #[default]
    Fail,
    Warn,
}

/// Bytes, written as an integer or a size: `450MB`, `1.2GiB`, `512kB`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Size, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(n) => Ok(Size(n)),
            Raw::Text(t) => units::parse_size(&t).map(Size).ok_or_else(|| {
                serde::de::Error::custom(format!("{t:?} is not a size (e.g. 450MB, 1.2GiB)"))
            }),
        }
    }
}

/// Rules for the images a glob matches.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRules {
    /// Glob on the image's name as strata prints it (`*` by default).
    #[serde(rename = "match", default = "any")]
    pub pattern: String,
    #[serde(default)]
    pub level: Level,
    pub max_compressed: Option<Size>,
    pub max_uncompressed: Option<Size>,
    pub max_files: Option<Size>,
    pub max_layers: Option<u64>,
    /// strata's wasted bytes (every copy but the survivor).
    pub max_wasted: Option<Size>,
    /// Wasted bytes as a percent of the file bytes stored.
    pub max_wasted_percent: Option<f64>,
    /// dive-compatible efficiency score (0-1).
    pub min_efficiency: Option<f64>,
    /// dive-compatible wasted bytes.
    pub max_dive_wasted: Option<Size>,
    /// dive-compatible wasted / user bytes (0-1).
    pub max_dive_user_wasted: Option<f64>,
    /// Paths no file of the merged filesystem may have (globs: `app/spec/**`, `**/*.pyc`).
    #[serde(default)]
    pub forbidden_paths: Vec<String>,
    /// Packages the image may not have: `ECOSYSTEM/NAME` globs (`python/pytest`, `deb/*-dev`, `*/ipython`).
    #[serde(default)]
    pub forbidden_packages: Vec<String>,
    /// Growth of compressed bytes against the baseline.
    pub max_growth: Option<Size>,
    pub max_growth_percent: Option<f64>,
    /// Bytes allowed under a path of the merged filesystem: `{ "usr/share/doc" = "10MB" }`.
    #[serde(default)]
    pub max_under: std::collections::BTreeMap<String, Size>,
    /// Bytes allowed per kind of `strata advise` finding:
    /// `{ metadata_only_copy = "50MB", deleted_later = "100MB" }`.
    #[serde(default)]
    pub max_findings: std::collections::BTreeMap<String, Size>,
}

fn any() -> String {
    "*".to_owned()
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetRules {
    #[serde(default)]
    pub level: Level,
    /// Compressed dedup total of the whole set.
    pub max_dedup_total: Option<Size>,
    pub max_growth: Option<Size>,
    pub max_growth_percent: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default, rename = "image")]
    pub images: Vec<ImageRules>,
    pub set: Option<SetRules>,
}

impl Policy {
    pub fn load(path: &Path) -> Result<Policy> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if name == ".dive-ci"
            || name.ends_with(".dive-ci")
            || !text.contains('[') && text.contains("rules:")
        {
            return dive_ci(&text, path);
        }
        let policy: Policy = toml::from_str(&text).map_err(|e| {
            Error::malformed(
                path.display().to_string(),
                e.to_string()
                    .replace('\n', " ")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })?;
        for rules in &policy.images {
            globset::Glob::new(&rules.pattern).map_err(|e| {
                Error::malformed(
                    path.display().to_string(),
                    format!("match = {:?}: {e}", rules.pattern),
                )
            })?;
            for kind in rules.max_findings.keys() {
                let known = crate::analyze::advise::Kind::ALL
                    .iter()
                    .any(|k| k.key() == kind.as_str());
                if !known {
                    return Err(Error::malformed(
                        path.display().to_string(),
                        format!(
                            "max_findings: unknown kind {kind:?} (deleted_later, metadata_only_copy, package_manager_leftovers, build_only_content, duplicate_content, big_file)"
                        ),
                    ));
                }
            }
            for p in rules
                .forbidden_paths
                .iter()
                .chain(&rules.forbidden_packages)
            {
                globset::Glob::new(p).map_err(|e| {
                    Error::malformed(
                        path.display().to_string(),
                        format!("forbidden_paths {p:?}: {e}"),
                    )
                })?;
            }
        }
        Ok(policy)
    }

    /// Whether any rule needs `strata advise`'s findings.
    pub fn needs_findings(&self) -> bool {
        self.images.iter().any(|r| !r.max_findings.is_empty())
    }

    /// Whether any rule needs the package inventory.
    pub fn needs_packages(&self) -> bool {
        self.images.iter().any(|r| !r.forbidden_packages.is_empty())
    }

    /// Whether any rule needs the merged filesystem (waste, efficiency, paths).
    pub fn needs_audit(&self) -> bool {
        self.images.iter().any(|r| {
            r.max_wasted.is_some()
                || r.max_wasted_percent.is_some()
                || r.min_efficiency.is_some()
                || r.max_dive_wasted.is_some()
                || r.max_dive_user_wasted.is_some()
                || !r.forbidden_paths.is_empty()
                || !r.max_under.is_empty()
        })
    }
}

/// dive's CI file: `rules:` then `lowestEfficiency`, `highestWastedBytes`,
/// `highestUserWastedPercent` (values may be `disabled`).
fn dive_ci(text: &str, path: &Path) -> Result<Policy> {
    let mut rules = ImageRules {
        pattern: any(),
        ..ImageRules::default()
    };
    let bad = |line: usize, reason: String| {
        Error::malformed(format!("{}: line {line}", path.display()), reason)
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() || line == "rules:" {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(bad(i + 1, "expected KEY: VALUE".into()));
        };
        let value = value.trim().trim_matches('"');
        if value == "disabled" {
            continue;
        }
        let number = || {
            value
                .parse::<f64>()
                .map_err(|_| bad(i + 1, format!("{key}: {value:?} is not a number")))
        };
        match key.trim() {
            "lowestEfficiency" => rules.min_efficiency = Some(number()?),
            "highestUserWastedPercent" => rules.max_dive_user_wasted = Some(number()?),
            "highestWastedBytes" => {
                rules.max_dive_wasted =
                    Some(Size(units::parse_size(value).ok_or_else(|| {
                        bad(i + 1, format!("{value:?} is not a size"))
                    })?))
            }
            other => return Err(bad(i + 1, format!("unknown rule {other:?}"))),
        }
    }
    Ok(Policy {
        images: vec![rules],
        set: None,
    })
}
