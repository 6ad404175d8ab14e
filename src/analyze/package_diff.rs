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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageDiff {
    pub changes: Vec<PackageDelta>,
    /// Target minus base installed bytes over the changed packages.
    pub delta: i64,
    /// The file delta no package change explains.
    pub unexplained: i64,
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
            }),
            Some(o) if o.version != p.version => changes.push(PackageDelta {
                ecosystem: p.ecosystem,
                name: p.name.clone(),
                change: PackageChange::VersionChanged,
                base_version: Some(o.version.clone()),
                target_version: Some(p.version.clone()),
                base_bytes: o.bytes,
                target_bytes: p.bytes,
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
        delta,
        unexplained: file_delta - delta,
    }
}
