//! The merged-filesystem facts a gate policy asks for besides waste and
//! findings, as sinks of the gate's one pass: the file bytes under each
//! `max_under` path (the roll-up, measured to depth 0 at that path) and the
//! files matching each forbidden pattern (counted, the first few named).

use std::collections::BTreeMap;

use globset::{Glob, GlobSet, GlobSetBuilder};

use super::merged::Sink;
use super::overlay::Node;
use super::path::show;
use super::rollup::{Bytes, NodeKind, Rollup};
use crate::layer::EntryKind;

/// File bytes of the merged filesystem under each of some paths.
pub struct Under {
    paths: Vec<(String, Rollup<Bytes>)>,
}

impl Under {
    /// `paths` as a policy names them (`/usr/lib`, `usr/lib/`).
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a String>) -> Under {
        let keys: std::collections::BTreeSet<&String> = paths.into_iter().collect();
        Under {
            paths: keys
                .into_iter()
                .map(|p| (p.clone(), Rollup::new(p.trim_matches('/').as_bytes(), 0, 0)))
                .collect(),
        }
    }

    pub fn finish(self) -> BTreeMap<String, u64> {
        self.paths
            .into_iter()
            .map(|(key, rollup)| (key, rollup.finish().tally.0))
            .collect()
    }
}

impl Sink for Under {
    fn add(&mut self, node: &Node) {
        let Some(v) = &node.visible else { return };
        let bytes = v.entry.file_bytes();
        if bytes == 0 {
            return;
        }
        for (_, rollup) in &mut self.paths {
            rollup.add(&node.path, NodeKind::File, Bytes(bytes));
        }
    }
}

/// The files matching one pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matches {
    pub pattern: String,
    pub files: u64,
    pub bytes: u64,
    /// The first few, `/path (layer #N)`.
    pub first: Vec<String>,
}

/// Paths named in each match.
const NAMED: usize = 5;

/// Files of the merged filesystem matching each of some glob patterns.
pub struct Forbidden {
    set: GlobSet,
    found: Vec<Matches>,
}

impl Forbidden {
    pub fn new(patterns: &[String]) -> Result<Forbidden, globset::Error> {
        let mut set = GlobSetBuilder::new();
        for p in patterns {
            set.add(Glob::new(p.trim_start_matches('/'))?);
        }
        Ok(Forbidden {
            set: set.build()?,
            found: patterns
                .iter()
                .map(|p| Matches {
                    pattern: p.clone(),
                    files: 0,
                    bytes: 0,
                    first: Vec::new(),
                })
                .collect(),
        })
    }

    pub fn finish(self) -> Vec<Matches> {
        self.found
    }
}

impl Sink for Forbidden {
    fn add(&mut self, node: &Node) {
        if self.found.is_empty() {
            return;
        }
        let Some(v) = &node.visible else { return };
        if v.entry.kind.is_marker() || v.entry.kind == EntryKind::Dir {
            return;
        }
        let path = String::from_utf8_lossy(&node.path);
        for i in self.set.matches(path.as_ref()) {
            let f = &mut self.found[i];
            f.files += 1;
            f.bytes += v.entry.file_bytes();
            if f.first.len() < NAMED {
                f.first
                    .push(format!("{} (layer #{})", show(&node.path), v.layer + 1));
            }
        }
    }
}
