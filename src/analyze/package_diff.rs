//! Packages one image has that another has not: added, removed and version
//! changed, by ecosystem and name, with their installed bytes, and the bytes
//! of a file delta that no package explains.

use std::collections::BTreeMap;

use serde::Serialize;

use super::packages::{Ecosystem, Package};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageChange {
    Added,
    Removed,
    VersionChanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageDelta {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub change: PackageChange,
    pub base_version: Option<String>,
    pub target_version: Option<String>,
    pub base_bytes: u64,
    pub target_bytes: u64,
    /// An added package that dev and test tooling installs: the finding of
    /// `strata advise` that would remove it (`deb/gcc`, or the tools together).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tooling: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageDiff {
    /// The biggest changes (all of them, unless cut to a top N).
    pub changes: Vec<PackageDelta>,
    /// Changes not listed (past a top N), and their net bytes.
    #[serde(skip_serializing_if = "is_zero")]
    pub changes_more: u64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    pub changes_more_delta: i64,
    /// Target minus base installed bytes over the changed packages.
    pub delta: i64,
    /// The file delta no package change explains.
    pub unexplained: i64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

impl PackageDiff {
    /// Keeps the `top` biggest changes; the rest are counted (the totals
    /// still cover every change).
    pub fn keep(&mut self, top: usize) {
        if self.changes.len() <= top {
            return;
        }
        let rest = self.changes.split_off(top);
        self.changes_more += rest.len() as u64;
        self.changes_more_delta += rest
            .iter()
            .map(|c| c.target_bytes as i64 - c.base_bytes as i64)
            .sum::<i64>();
    }

    /// Marks each added package of `target` that `tooling` (per package of
    /// `target`, the finding that frees it) names.
    pub fn mark_tooling(&mut self, target: &[Package], tooling: &[Option<String>]) {
        let by_key: BTreeMap<(Ecosystem, &str), &String> = target
            .iter()
            .zip(tooling)
            .filter_map(|(p, t)| Some(((p.ecosystem, p.name.as_str()), t.as_ref()?)))
            .collect();
        for c in &mut self.changes {
            if c.change == PackageChange::Added {
                c.tooling = by_key
                    .get(&(c.ecosystem, c.name.as_str()))
                    .map(|t| (*t).clone());
            }
        }
    }
}

/// Diffs two inventories; `file_delta` is the merged filesystems' byte delta.
pub fn diff_packages(base: &[Package], target: &[Package], file_delta: i64) -> PackageDiff {
    let key = |p: &Package| (p.ecosystem, p.name.clone());
    let a: BTreeMap<_, &Package> = base.iter().map(|p| (key(p), p)).collect();
    let b: BTreeMap<_, &Package> = target.iter().map(|p| (key(p), p)).collect();
    let mut changes = Vec::new();
    for (k, p) in &b {
        match a.get(k) {
            None => changes.push(PackageDelta {
                ecosystem: p.ecosystem,
                name: p.name.clone(),
                change: PackageChange::Added,
                base_version: None,
                target_version: Some(p.version.clone()),
                base_bytes: 0,
                target_bytes: p.bytes,
                tooling: None,
            }),
            Some(o) if o.version != p.version => changes.push(PackageDelta {
                ecosystem: p.ecosystem,
                name: p.name.clone(),
                change: PackageChange::VersionChanged,
                base_version: Some(o.version.clone()),
                target_version: Some(p.version.clone()),
                base_bytes: o.bytes,
                target_bytes: p.bytes,
                tooling: None,
            }),
            Some(_) => {}
        }
    }
    for (k, o) in &a {
        if !b.contains_key(k) {
            changes.push(PackageDelta {
                ecosystem: o.ecosystem,
                name: o.name.clone(),
                change: PackageChange::Removed,
                base_version: Some(o.version.clone()),
                target_version: None,
                base_bytes: o.bytes,
                target_bytes: 0,
                tooling: None,
            });
        }
    }
    changes.sort_by(|x, y| {
        y.base_bytes
            .max(y.target_bytes)
            .cmp(&x.base_bytes.max(x.target_bytes))
            .then(x.name.cmp(&y.name))
    });
    let delta: i64 = changes
        .iter()
        .map(|c| c.target_bytes as i64 - c.base_bytes as i64)
        .sum();
    PackageDiff {
        changes,
        changes_more: 0,
        changes_more_delta: 0,
        delta,
        unexplained: file_delta - delta,
    }
}
