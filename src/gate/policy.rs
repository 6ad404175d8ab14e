//! The gate's policy: a TOML file of size, layer, waste, efficiency and path
//! rules per image glob and for the whole set, each failing or warning; or a
//! dive `.dive-ci` file (its three rules). Validated whole before any work.

use std::path::Path;

use serde::{Deserialize, Deserializer};

use super::user_file::{self, NOT_A_GLOB, NOT_A_SIZE, UNKNOWN_FINDING};
use crate::error::{Error, Result};
use crate::units;

/// The most a policy file may hold: a bigger file is not a policy.
const MAX_POLICY: u64 = 1 << 20;

/// A glob, checked as it is read (the error names its place, not its text).
fn glob<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    let text = String::deserialize(d)?;
    check_glob(&text).map_err(serde::de::Error::custom)?;
    Ok(text)
}

fn globs<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    let list = Vec::<String>::deserialize(d)?;
    for text in &list {
        check_glob(text).map_err(serde::de::Error::custom)?;
    }
    Ok(list)
}

/// Why `text` is no glob, in globset's words for the kind of error only.
fn check_glob(text: &str) -> std::result::Result<(), String> {
    use globset::ErrorKind as K;
    let Err(e) = globset::Glob::new(text) else {
        return Ok(());
    };
    let why = match e.kind() {
        K::InvalidRecursive => "`**` must be a whole path component",
        K::UnclosedClass => "an unclosed character class: missing `]`",
        K::InvalidRange(..) => "an invalid range in a character class",
        K::UnopenedAlternates => "a `}` without its `{`",
        K::UnclosedAlternates => "an unclosed `{`",
        K::NestedAlternates => "nested `{…}`",
        K::DanglingEscape => "a dangling `\\`",
        _ => "an invalid pattern",
    };
    Err(format!("{NOT_A_GLOB}: {why}"))
}

thread_local! {
    /// The kinds the policy being read names in `[advise] extra` (read
    /// first), which `max_findings` may limit besides strata's own.
    static OWN_KINDS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// `max_findings`: every key a kind `strata advise` reports, or one the
/// policy's `[advise] extra` names.
fn finding_limits<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<std::collections::BTreeMap<String, Size>, D::Error> {
    let map = std::collections::BTreeMap::<String, Size>::deserialize(d)?;
    let kinds = crate::analyze::advise::Kind::ALL;
    let own = OWN_KINDS.with(|k| k.borrow().clone());
    if map
        .keys()
        .any(|k| !kinds.iter().any(|kind| kind.key() == k) && !own.contains(k))
    {
        let known: Vec<&str> = kinds.iter().map(|k| k.key()).collect();
        return Err(serde::de::Error::custom(format!(
            "{UNKNOWN_FINDING}, expected {}",
            known.join(", ")
        )));
    }
    Ok(map)
}

/// A kind of finding a rule of `[advise] extra` reports: one of strata's
/// (`build_cache`) or a name of its own (`archives`: lower case letters,
/// digits, `_` and `-`, at most 64).
fn extra_kind<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    let text = String::deserialize(d)?;
    let ok = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !ok {
        return Err(serde::de::Error::custom(
            "not a kind: lower case letters, digits, `_` and `-`, at most 64",
        ));
    }
    Ok(text)
}

/// `[advise] off`: strata's kinds only.
fn kinds_off<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<crate::analyze::advise::Kind>, D::Error> {
    use crate::analyze::advise::Kind;
    let list = Vec::<String>::deserialize(d)?;
    list.iter()
        .map(|k| {
            Kind::parse(k).ok_or_else(|| {
                let known: Vec<&str> = Kind::ALL.iter().map(|k| k.key()).collect();
                serde::de::Error::custom(format!(
                    "{UNKNOWN_FINDING}, expected {}",
                    known.join(", ")
                ))
            })
        })
        .collect()
}

/// A path rule of the policy's own: `{ kind = "archives", paths = ["**/*.zip"] }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraRule {
    #[serde(deserialize_with = "extra_kind")]
    pub kind: String,
    #[serde(deserialize_with = "globs")]
    pub paths: Vec<String>,
}

/// `[advise]`: rules `strata advise` (and the gate's `max_findings`) apply
/// besides strata's table, and kinds turned off.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdviseRules {
    #[serde(default)]
    pub extra: Vec<ExtraRule>,
    #[serde(default, deserialize_with = "kinds_off")]
    pub off: Vec<crate::analyze::advise::Kind>,
}

impl AdviseRules {
    /// The rules as advise takes them (a kind of strata's, or its own name).
    pub fn extra_rules(&self) -> Vec<crate::analyze::advise::ExtraRule> {
        use crate::analyze::advise::{ExtraRule as Rule, Kind};
        self.extra
            .iter()
            .map(
                |e| match Kind::parse(&e.kind).filter(|k| *k != Kind::Custom) {
                    Some(kind) => Rule {
                        kind,
                        name: None,
                        paths: e.paths.clone(),
                    },
                    None => Rule {
                        kind: Kind::Custom,
                        name: Some(e.kind.clone()),
                        paths: e.paths.clone(),
                    },
                },
            )
            .collect()
    }
}

/// Just the kinds `[advise] extra` names, read before the whole policy.
#[derive(Deserialize)]
struct Peek {
    advise: Option<PeekAdvise>,
}

#[derive(Deserialize)]
struct PeekAdvise {
    #[serde(default)]
    extra: Vec<PeekExtra>,
}

#[derive(Deserialize)]
struct PeekExtra {
    kind: Option<String>,
}

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
            Raw::Text(t) => units::parse_size(&t)
                .map(Size)
                .ok_or_else(|| serde::de::Error::custom(NOT_A_SIZE)),
        }
    }
}

/// Rules for the images a glob matches.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRules {
    /// Glob on the image's name as strata prints it (`*` by default).
    #[serde(rename = "match", default = "any", deserialize_with = "glob")]
    pub pattern: String,
    /// Where the rule's `[[image]]` header is in the file, when known.
    #[serde(skip)]
    pub line: Option<usize>,
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
    #[serde(default, deserialize_with = "globs")]
    pub forbidden_paths: Vec<String>,
    /// Packages the image may not have: `ECOSYSTEM/NAME` globs (`python/pytest`, `deb/*-dev`, `*/ipython`).
    #[serde(default, deserialize_with = "globs")]
    pub forbidden_packages: Vec<String>,
    /// Growth of compressed bytes against the baseline.
    pub max_growth: Option<Size>,
    pub max_growth_percent: Option<f64>,
    /// Bytes allowed under a path of the merged filesystem: `{ "usr/share/doc" = "10MB" }`.
    #[serde(default)]
    pub max_under: std::collections::BTreeMap<String, Size>,
    /// Bytes allowed per kind of `strata advise` finding:
    /// `{ metadata_only_copy = "50MB", deleted_later = "100MB" }`.
    #[serde(default, deserialize_with = "finding_limits")]
    pub max_findings: std::collections::BTreeMap<String, Size>,
}

pub(super) fn any() -> String {
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
    /// advise's own rules.
    #[serde(default)]
    pub advise: AdviseRules,
    /// The file it was read from, as given.
    #[serde(skip)]
    pub source: String,
}

impl Policy {
    /// Reads a strata TOML policy or a dive `.dive-ci` file; an error names
    /// the file, the line and column and what was expected, never the text.
    pub fn load(path: &Path) -> Result<Policy> {
        let policy = Policy::load_rules(path)?;
        if policy.checks_nothing() {
            return Err(Error::malformed(
                policy.source,
                "no rule to check: expected [[image]] or [set] tables with limits (see fixtures/policy/strata.toml)",
            ));
        }
        Ok(policy)
    }

    /// Reads a policy for its rules alone (`strata advise --policy` takes
    /// its `[advise]` table, which checks nothing by itself).
    pub fn load_rules(path: &Path) -> Result<Policy> {
        let text = user_file::read_text(path, MAX_POLICY, "policy")?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut policy = if name == ".dive-ci"
            || name.ends_with(".dive-ci")
            || !text.contains('[') && text.contains("rules:")
        {
            super::dive_ci::parse(&text, path)?
        } else {
            // The kinds `[advise] extra` names, for `max_findings` to accept.
            let own: Vec<String> = toml::from_str::<Peek>(&text)
                .ok()
                .and_then(|p| p.advise)
                .map(|a| a.extra.into_iter().filter_map(|e| e.kind).collect())
                .unwrap_or_default();
            OWN_KINDS.with(|k| *k.borrow_mut() = own);
            let parsed = toml::from_str::<Policy>(&text);
            OWN_KINDS.with(|k| k.borrow_mut().clear());
            let mut policy: Policy = parsed.map_err(|e| user_file::toml_error(path, &text, &e))?;
            let headers = image_headers(&text);
            if headers.len() == policy.images.len() {
                for (rules, line) in policy.images.iter_mut().zip(headers) {
                    rules.line = Some(line);
                }
            }
            policy
        };
        policy.source = path.display().to_string();
        Ok(policy)
    }

    /// Whether no table of the policy sets any limit.
    fn checks_nothing(&self) -> bool {
        let image = |r: &ImageRules| {
            r.max_compressed.is_none()
                && r.max_uncompressed.is_none()
                && r.max_files.is_none()
                && r.max_layers.is_none()
                && r.max_growth.is_none()
                && r.max_growth_percent.is_none()
                && r.max_findings.is_empty()
                && r.forbidden_packages.is_empty()
        };
        let set = |s: &SetRules| {
            s.max_dedup_total.is_none() && s.max_growth.is_none() && s.max_growth_percent.is_none()
        };
        self.images.iter().all(|r| image(r) && !r.needs_audit())
            && self.set.as_ref().is_none_or(set)
    }

    /// How a rule is named in messages: `[[image]] #2 (line 7)`.
    pub fn rule_name(&self, index: usize) -> String {
        match self.images.get(index).and_then(|r| r.line) {
            Some(line) => format!("[[image]] #{} (line {line})", index + 1),
            None => format!("[[image]] #{}", index + 1),
        }
    }

    /// Whether any rule limits the dev tooling findings (which read the packages).
    pub fn needs_tooling(&self) -> bool {
        let key = crate::analyze::advise::Kind::DevTooling.key();
        self.images.iter().any(|r| r.max_findings.contains_key(key))
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
        self.images.iter().any(ImageRules::needs_audit)
    }
}

impl ImageRules {
    fn needs_audit(&self) -> bool {
        self.max_wasted.is_some()
            || self.max_wasted_percent.is_some()
            || self.min_efficiency.is_some()
            || self.max_dive_wasted.is_some()
            || self.max_dive_user_wasted.is_some()
            || !self.forbidden_paths.is_empty()
            || !self.max_under.is_empty()
    }
}

/// Lines of the `[[image]]` headers, in order.
fn image_headers(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let l = l.trim();
            l.starts_with("[[")
                && l.trim_start_matches('[')
                    .split(']')
                    .next()
                    .is_some_and(|name| name.trim() == "image")
        })
        .map(|(i, _)| i + 1)
        .collect()
}
