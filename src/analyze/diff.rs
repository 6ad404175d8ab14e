//! What one image's merged filesystem has that another's has not: a
//! merge-join of two overlays by path. A path is changed when its kind,
//! content hash, size, mode, owner or link target differ (never its mtime: a
//! rebuilt layer with the same content is no change). Files and bytes added,
//! removed and changed, a directory roll-up of the delta, the biggest changes.

use std::cmp::{Ordering, Reverse};
use std::io;

use serde::Serialize;

use super::overlay::Node;
use super::path::{self, show};
use super::rollup::{NodeKind, Rollup, Totals};
use super::sizes::Tally;
use super::top::Top;
use crate::layer::index::path_order;
use crate::layer::{Entry, EntryKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileChange {
    pub path: String,
    pub change: Change,
    /// File bytes in the base and in the target.
    pub base_bytes: u64,
    pub target_bytes: u64,
    /// What differs, for a changed path: "content", "size", "mode", "owner", "link", "kind".
    pub what: Vec<&'static str>,
    /// 1-based layer of the target (or, removed, of the base) that wrote it.
    pub layer: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirDelta {
    pub path: String,
    /// Target bytes minus base bytes below this directory.
    pub delta: i64,
    pub added: u64,
    pub removed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDiff {
    pub added: Tally,
    pub removed: Tally,
    pub changed: Tally,
    /// Target file bytes minus base file bytes.
    pub delta: i64,
    pub top: Vec<FileChange>,
    /// The directories (to the depth) whose bytes changed most, biggest first.
    pub dirs: Vec<DirDelta>,
    /// Directories that changed and are not listed.
    #[serde(skip_serializing_if = "is_zero")]
    pub dirs_more: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl FileDiff {
    pub fn differs(&self) -> bool {
        self.added.files + self.removed.files + self.changed.files > 0
    }
}

/// What differs between two versions of a path (empty: the same).
fn differences(a: &Entry, b: &Entry) -> Vec<&'static str> {
    let mut what = Vec::new();
    if a.kind != b.kind {
        what.push("kind");
    }
    if a.hash != b.hash {
        what.push("content");
    }
    if a.size != b.size {
        what.push("size");
    }
    if a.mode != b.mode {
        what.push("mode");
    }
    if (a.uid, a.gid) != (b.uid, b.gid) {
        what.push("owner");
    }
    if a.link != b.link {
        what.push("link");
    }
    what
}

/// The bytes a directory's changes add and remove.
#[derive(Debug, Default)]
struct Delta {
    added: u64,
    removed: u64,
}

impl Delta {
    fn net(&self) -> i64 {
        self.added as i64 - self.removed as i64
    }
}

impl Totals for Delta {
    fn absorb(&mut self, other: &Self) {
        self.added += other.added;
        self.removed += other.removed;
    }

    fn rank(&self) -> u64 {
        self.net().unsigned_abs()
    }
}

/// Diffs two merged filesystems (each an overlay in index order): the
/// changes counted, the `top` biggest listed, directories to `depth` rolled
/// up and the `top` that changed most listed.
pub fn diff_files<A, B>(base: A, target: B, depth: usize, top: usize) -> io::Result<FileDiff>
where
    A: Iterator<Item = io::Result<Node>>,
    B: Iterator<Item = io::Result<Node>>,
{
    // Only what a container sees matters here.
    let visible = |n: io::Result<Node>| -> Option<io::Result<(Vec<u8>, usize, Entry)>> {
        match n {
            Ok(n) => n.visible.map(|v| Ok((n.path, v.layer, v.entry))),
            Err(e) => Some(Err(e)),
        }
    };
    let mut a = base.filter_map(visible).peekable();
    let mut b = target.filter_map(visible).peekable();
    let mut out = FileDiff {
        added: Tally::default(),
        removed: Tally::default(),
        changed: Tally::default(),
        delta: 0,
        top: Vec::new(),
        dirs: Vec::new(),
        dirs_more: 0,
    };
    // Changes rank by their bytes, then the smaller path first.
    let mut heap: Top<(u64, Reverse<Vec<u8>>), FileChange> = Top::new(top);
    let mut rollup: Rollup<Delta> = Rollup::new(b"", depth, 0).with_dirs(top);
    loop {
        let order = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(Err(_)), _) => {
                return Err(a
                    .next()
                    .and_then(Result::err)
                    .unwrap_or_else(|| io::Error::other("index")))
            }
            (_, Some(Err(_))) => {
                return Err(b
                    .next()
                    .and_then(Result::err)
                    .unwrap_or_else(|| io::Error::other("index")))
            }
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(Ok(x)), Some(Ok(y))) => path_order(&x.0, &y.0),
        };
        let (base_v, target_v) = match order {
            Ordering::Less => (a.next().and_then(Result::ok), None),
            Ordering::Greater => (None, b.next().and_then(Result::ok)),
            Ordering::Equal => (a.next().and_then(Result::ok), b.next().and_then(Result::ok)),
        };
        let (change, path, layer, base_bytes, target_bytes, what) = match (base_v, target_v) {
            // Directories added or removed count through what is in them.
            (Some((_, _, e)), None) | (None, Some((_, _, e))) if e.kind == EntryKind::Dir => {
                continue
            }
            (Some((p, l, e)), None) => (Change::Removed, p, l, e.file_bytes(), 0, Vec::new()),
            (None, Some((p, l, e))) => (Change::Added, p, l, 0, e.file_bytes(), Vec::new()),
            (Some((p, _, x)), Some((_, l, y))) => {
                let what = differences(&x, &y);
                if what.is_empty() || (x.kind == EntryKind::Dir && y.kind == EntryKind::Dir) {
                    continue;
                }
                (Change::Changed, p, l, x.file_bytes(), y.file_bytes(), what)
            }
            (None, None) => continue,
        };
        let tally = match change {
            Change::Added => &mut out.added,
            Change::Removed => &mut out.removed,
            Change::Changed => &mut out.changed,
        };
        tally.add(match change {
            Change::Removed => base_bytes,
            _ => target_bytes,
        });
        out.delta += target_bytes as i64 - base_bytes as i64;
        let delta = Delta {
            added: target_bytes,
            removed: base_bytes,
        };
        rollup.add(&path, NodeKind::File, delta);
        let weight = base_bytes.max(target_bytes);
        heap.offer(
            &(weight, Reverse(Vec::new())),
            || (weight, Reverse(path::key(&path, path::PATH_CAP))),
            || FileChange {
                path: show(&path),
                change,
                base_bytes,
                target_bytes,
                what,
                layer: layer + 1,
            },
        );
    }
    let mut top_changes: Vec<FileChange> = heap.into_sorted().into_iter().map(|(_, c)| c).collect();
    top_changes.sort_by(|x, y| {
        y.base_bytes
            .max(y.target_bytes)
            .cmp(&x.base_bytes.max(x.target_bytes))
            .then(x.path.cmp(&y.path))
    });
    out.top = top_changes;
    let (dirs, more) = rollup.finish_dirs();
    out.dirs = dirs
        .into_iter()
        .map(|(path, d)| DirDelta {
            path,
            delta: d.net(),
            added: d.added,
            removed: d.removed,
        })
        .collect();
    out.dirs_more = more;
    Ok(out)
}
