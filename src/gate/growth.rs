//! The baseline (`--write-baseline`) and growth against it: each image is
//! compared with its own entry, found by repository path and tag (never the
//! transport or the registry host), in compressed bytes when both sides
//! know them, else uncompressed.

use serde::{Deserialize, Serialize};

use super::policy::{ImageRules, Level, SetRules, Size};
use super::{Found, ImageFacts, Names, SetFacts, Unit};
use crate::image::Digest;

/// The baseline a gate compares against.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Baseline {
    pub schema_version: u32,
    pub command: String,
    pub images: Vec<BaselineImage>,
    /// None when an image of the set had no compressed size.
    pub dedup_compressed: Option<u64>,
    pub dedup_uncompressed: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BaselineImage {
    pub name: String,
    /// The name without its tag (how older baselines matched).
    pub key: String,
    /// The repository path without host (`app/api`); None for a layout's
    /// plain ref name.
    pub repository: Option<String>,
    pub tag: Option<String>,
    /// None for an engine's image (no compressed size).
    pub compressed: Option<u64>,
    pub uncompressed: u64,
    pub files: u64,
    pub layers: Vec<Digest>,
}

impl BaselineImage {
    pub fn new(img: &ImageFacts) -> BaselineImage {
        BaselineImage {
            name: img.name.clone(),
            key: img.key.clone(),
            repository: img.names.repository.clone(),
            tag: img.names.tag.clone(),
            compressed: img.compressed,
            uncompressed: img.uncompressed,
            files: img.files,
            layers: img.layer_digests.iter().map(|l| l.0.clone()).collect(),
        }
    }
}

/// Which entry an image is compared with.
enum Entry<'a> {
    Found(&'a BaselineImage),
    Missing,
    /// Several entries of the image's repository, none of its tag.
    Ambiguous(Vec<&'a str>),
}

impl Baseline {
    /// The entry of the same repository and tag; else the only entry of the
    /// same repository; else (a layout's plain ref name) the same ref name;
    /// else an entry of a baseline recorded before repository and tag by its
    /// key; else, one image against a one-entry baseline whose repositories
    /// do not differ.
    fn entry_for(&self, img: &Names, key: &str, images: usize) -> Entry<'_> {
        let same_repo: Vec<&BaselineImage> = match &img.repository {
            Some(r) => self
                .images
                .iter()
                .filter(|e| e.repository.as_ref() == Some(r))
                .collect(),
            None => Vec::new(),
        };
        if let Some(e) = same_repo.iter().find(|e| e.tag == img.tag) {
            return Entry::Found(e);
        }
        match same_repo.as_slice() {
            [one] => return Entry::Found(one),
            [] => {}
            many => {
                return Entry::Ambiguous(many.iter().filter_map(|e| e.tag.as_deref()).collect())
            }
        }
        let by_ref = self.images.iter().find(|e| {
            img.repository.is_none()
                && e.repository.is_none()
                && e.tag.is_some()
                && e.tag == img.tag
        });
        let by_key = || {
            self.images
                .iter()
                .find(|e| e.repository.is_none() && e.tag.is_none() && e.key == key)
        };
        if let Some(e) = by_ref.or_else(by_key) {
            return Entry::Found(e);
        }
        match (self.images.as_slice(), images) {
            ([only], 1) if only.repository.is_none() || img.repository.is_none() => {
                Entry::Found(only)
            }
            _ => Entry::Missing,
        }
    }
}

/// Growth in the measure both sides know: compressed, else uncompressed.
fn growth(
    now: (Option<u64>, Option<u64>),
    before: (Option<u64>, Option<u64>),
) -> Option<(i64, u64, bool)> {
    match (now, before) {
        ((Some(n), _), (Some(b), _)) => Some((n as i64 - b as i64, b, false)),
        ((_, Some(n)), (_, Some(b))) => Some((n as i64 - b as i64, b, true)),
        _ => None,
    }
}

/// `max_growth` and `max_growth_percent` of `img` against its baseline entry,
/// naming the layers the entry lacks.
pub(super) fn image(
    found: &mut Found,
    rules: &ImageRules,
    img: &ImageFacts,
    images: usize,
    baseline: Option<&Baseline>,
) {
    if rules.max_growth.is_none() && rules.max_growth_percent.is_none() {
        return;
    }
    let n = img.name.as_str();
    let Some(baseline) = baseline else {
        found.warn_once("growth rules are not checked without --baseline".to_owned());
        return;
    };
    let before = match baseline.entry_for(&img.names, &img.key, images) {
        Entry::Found(b) => b,
        Entry::Missing => {
            found
                .warnings
                .push(format!("{n} is not in the baseline: growth not checked"));
            return;
        }
        Entry::Ambiguous(tags) => {
            found.warnings.push(format!(
                "{n}: the baseline holds its repository under tags {} and none is its own: growth not checked",
                tags.join(", ")
            ));
            return;
        }
    };
    let Some((growth, was, uncompressed)) = growth(
        (img.compressed, Some(img.uncompressed)),
        (before.compressed, Some(before.uncompressed)),
    ) else {
        return;
    };
    let mut behind: Vec<String> = img
        .layer_digests
        .iter()
        .filter(|(d, _, _)| !before.layers.contains(d))
        .map(|(d, size, by)| {
            format!(
                "new layer {} ({size} bytes): {}",
                d.short(),
                by.as_deref().unwrap_or("-")
            )
        })
        .collect();
    if uncompressed {
        behind.insert(
            0,
            "in uncompressed bytes: one side has no compressed size".to_owned(),
        );
    }
    checks(
        found,
        n,
        (rules.max_growth, rules.max_growth_percent),
        rules.level,
        (growth, was),
        behind,
    );
}

/// `max_growth` and `max_growth_percent` of `scope`: `growth` over `was` bytes.
fn checks(
    found: &mut Found,
    scope: &str,
    (max, max_percent): (Option<Size>, Option<f64>),
    level: Level,
    (growth, was): (i64, u64),
    detail: Vec<String>,
) {
    if let Some(l) = max {
        let c = found.check(
            scope,
            "max_growth",
            growth as f64,
            l.0 as f64,
            Unit::Bytes,
            level,
            growth > l.0 as i64,
        );
        c.detail = detail.clone();
    }
    if let Some(p) = max_percent {
        let pct = if was == 0 {
            0.0
        } else {
            growth as f64 * 100.0 / was as f64
        };
        let c = found.check(
            scope,
            "max_growth_percent",
            pct,
            p,
            Unit::Percent,
            level,
            pct > p,
        );
        c.detail = detail;
    }
}

/// `[set] max_growth` and `max_growth_percent` of the dedup total.
pub(super) fn set(found: &mut Found, rules: &SetRules, set: SetFacts, baseline: Option<&Baseline>) {
    if rules.max_growth.is_none() && rules.max_growth_percent.is_none() {
        return;
    }
    let Some(b) = baseline else {
        found.warn_once("growth rules are not checked without --baseline".to_owned());
        return;
    };
    let Some((growth, was, uncompressed)) = growth(
        (set.dedup_compressed, set.dedup_uncompressed),
        (b.dedup_compressed, b.dedup_uncompressed),
    ) else {
        found
            .warnings
            .push("set: the baseline and the set share no measure: growth not checked".to_owned());
        return;
    };
    let detail: Vec<String> = if uncompressed {
        vec!["in uncompressed bytes: one side has no compressed size".to_owned()]
    } else {
        Vec::new()
    };
    checks(
        found,
        "set",
        (rules.max_growth, rules.max_growth_percent),
        rules.level,
        (growth, was),
        detail,
    );
}
