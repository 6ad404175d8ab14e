//! What one image's merged filesystem has that another's has not: a
//! merge-join of two overlays by path. A path is changed when its kind,
//! content hash, size, mode, owner or link target differ (never its mtime: a
//! rebuilt layer with the same content is no change). Files and bytes added,
//! removed and changed, a directory roll-up of the delta, the biggest changes.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};
use std::io;

use serde::Serialize;

use super::overlay::Node;
use crate::layer::index::path_order;
use crate::layer::{Entry, EntryKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

/// Files (not directories) and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub files: u64,
    pub bytes: u64,
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
    pub dirs: Vec<DirDelta>,
}

impl FileDiff {
    pub fn differs(&self) -> bool {
        self.added.files + self.removed.files + self.changed.files > 0
    }
}

fn show(path: &[u8]) -> String {
    format!("/{}", String::from_utf8_lossy(path))
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

struct Rollup {
    depth: usize,
    dirs: BTreeMap<Vec<u8>, DirDelta>,
}

impl Rollup {
    fn add(&mut self, path: &[u8], added: u64, removed: u64) {
        let parts: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
        // Every directory above the path, to the depth.
        for d in 0..parts.len().saturating_sub(1).min(self.depth) + 1 {
            let dir = parts[..d].join(&b'/');
            let e = self.dirs.entry(dir.clone()).or_insert_with(|| DirDelta {
                path: show(&dir),
                delta: 0,
                added: 0,
                removed: 0,
            });
            e.delta += added as i64 - removed as i64;
            e.added += added;
            e.removed += removed;
        }
    }
}

/// Diffs two merged filesystems (each an overlay in index order).
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
    };
    let mut heap: BinaryHeap<Reverse<(u64, String, FileChangeKey)>> = BinaryHeap::new();
    let mut rollup = Rollup {
        depth,
        dirs: BTreeMap::new(),
    };
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
        tally.files += 1;
        tally.bytes += match change {
            Change::Removed => base_bytes,
            _ => target_bytes,
        };
        out.delta += target_bytes as i64 - base_bytes as i64;
        rollup.add(&path, target_bytes, base_bytes);
        let weight = base_bytes.max(target_bytes);
        heap.push(Reverse((
            weight,
            show(&path),
            FileChangeKey {
                change,
                base_bytes,
                target_bytes,
                what,
                layer: layer + 1,
            },
        )));
        if heap.len() > top {
            heap.pop();
        }
    }
    let mut top_changes: Vec<FileChange> = heap
        .into_iter()
        .map(|Reverse((_, path, k))| FileChange {
            path,
            change: k.change,
            base_bytes: k.base_bytes,
            target_bytes: k.target_bytes,
            what: k.what,
            layer: k.layer,
        })
        .collect();
    top_changes.sort_by(|x, y| {
        y.base_bytes
            .max(y.target_bytes)
            .cmp(&x.base_bytes.max(x.target_bytes))
            .then(x.path.cmp(&y.path))
    });
    out.top = top_changes;
    let mut dirs: Vec<DirDelta> = rollup.dirs.into_values().collect();
    dirs.sort_by(|x, y| y.delta.abs().cmp(&x.delta.abs()).then(x.path.cmp(&y.path)));
    out.dirs = dirs;
    Ok(out)
}

/// A change's details, ordered only so the heap can hold it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct FileChangeKey {
    change: Change,
    base_bytes: u64,
    target_bytes: u64,
    what: Vec<&'static str>,
    layer: usize,
}

impl PartialOrd for Change {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Change {
    fn cmp(&self, other: &Self) -> Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}
