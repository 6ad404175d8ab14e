//! The directory roll-up every view shares (du, audit's "where its bytes
//! are", diff's delta by directory, the gate's bytes under a path): a stack
//! over a path-sorted stream. Each item's tally goes to its node (or, past
//! the depth, to its deepest listed ancestor); a node closes when the stream
//! leaves it and folds into its parent, which keeps its N biggest children
//! and the exact total of the rest (dua's per-level accumulator). What is
//! held: one frame per open level (at most MAX_DEPTH + 1) and the children
//! kept so far — never a node per entry, never a path per level.

use std::cmp::Reverse;

use serde::Serialize;

use super::path;
use super::stack::PathStack;
use super::top::Top;
use crate::layer::index::{find_slash, is_below, rfind_slash};

/// The deepest level listed. A person reads a few levels; a tar can nest
/// 32,000, and every listed level costs a row, an indent and a path.
pub const MAX_DEPTH: usize = 32;

/// What a roll-up adds up per node.
pub trait Totals: Default {
    /// Adds another node's figures to this one's.
    fn absorb(&mut self, other: &Self);
    /// The size that ranks a node among its siblings.
    fn rank(&self) -> u64;
}

/// The simplest tally: bytes.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Bytes(pub u64);

impl Totals for Bytes {
    fn absorb(&mut self, other: &Self) {
        self.0 += other.0;
    }

    fn rank(&self) -> u64 {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Dir,
    File,
}

/// A node of the rolled-up tree.
#[derive(Debug)]
pub struct Node<T> {
    /// Its name as shown (cut at path::NAME_CAP); "" for the root.
    pub name: String,
    pub kind: NodeKind,
    /// Its own figures and everything below it.
    pub tally: T,
    /// The children kept, biggest first (then by name).
    pub children: Vec<Node<T>>,
    /// The children cut, counted in `tally`, not listed.
    pub more: Option<More<T>>,
}

/// What a node's children beyond the top N add up to.
#[derive(Debug, Default)]
pub struct More<T> {
    pub entries: u64,
    pub tally: T,
}

/// Siblings rank by size, then by name (the smaller name first).
type Key = (u64, Reverse<Vec<u8>>);

/// The greatest key of a size: if it would not be kept, no key of that size would.
fn best_key(rank: u64) -> Key {
    (rank, Reverse(Vec::new()))
}

struct Frame<T> {
    kind: Option<NodeKind>,
    /// Items at exactly this path.
    own: T,
    /// Closed children, and items below the depth.
    below: T,
    has_below: bool,
    /// Children kept, each with the count of nodes in its subtree.
    children: Top<Key, (Node<T>, usize)>,
    more: Option<More<T>>,
    /// Nodes kept under this frame.
    kept: usize,
}

impl<T: Totals> Frame<T> {
    fn new(top: usize, kind: Option<NodeKind>) -> Frame<T> {
        Frame {
            kind,
            own: T::default(),
            below: T::default(),
            has_below: false,
            children: Top::new(top),
            more: None,
            kept: 0,
        }
    }
}

/// What is kept while the stream flows, and its high-water mark.
#[derive(Debug, Default, Clone, Copy)]
struct Count {
    kept: usize,
    peak: usize,
}

pub struct Rollup<T: Totals> {
    root: Vec<u8>,
    depth: usize,
    stack: PathStack<Frame<T>>,
    closed: Closed<T>,
    found: bool,
}

/// Where closed frames go.
struct Closed<T> {
    /// Children kept per directory.
    top: usize,
    /// The closed directories with something below them, ranked by their
    /// `below` figures (diff's list), when asked for.
    dirs: Option<Top<Key, (String, T)>>,
    dirs_more: u64,
    /// The root, once closed.
    done: Option<Node<T>>,
    count: Count,
}

impl<T: Totals> Rollup<T> {
    /// `root`: the subtree to measure ("" for all); `depth`: levels listed
    /// below it (capped at MAX_DEPTH); `top`: children kept per directory
    /// (0: none, only totals).
    pub fn new(root: &[u8], depth: usize, top: usize) -> Rollup<T> {
        let mut stack = PathStack::new();
        stack.open(root, Frame::new(top, Some(NodeKind::Dir)));
        Rollup {
            root: root.to_vec(),
            depth: depth.min(MAX_DEPTH),
            stack,
            closed: Closed {
                top,
                dirs: None,
                dirs_more: 0,
                done: None,
                count: Count::default(),
            },
            found: false,
        }
    }

    /// Also ranks every directory that holds an item, keeping `n` of them.
    pub fn with_dirs(mut self, n: usize) -> Rollup<T> {
        self.closed.dirs = Some(Top::new(n));
        self
    }

    /// Adds an item; `path` comes in index order (relative to the image root).
    pub fn add(&mut self, path: &[u8], kind: NodeKind, tally: T) {
        if path != self.root && !is_below(path, &self.root) {
            return;
        }
        self.found = true;
        let Rollup { stack, closed, .. } = self;
        stack.close_to(path, |p, f, below| closed.fold(p, f, below));
        let top = closed.top;
        let mut end = stack.top_path().len();
        loop {
            if end == path.len() {
                if let Some(f) = stack.top_mut() {
                    f.own.absorb(&tally);
                    f.kind = Some(kind);
                }
                return;
            }
            if stack.len() > self.depth {
                if let Some(f) = stack.top_mut() {
                    f.below.absorb(&tally);
                    f.has_below = true;
                }
                return;
            }
            let from = if end == 0 { 0 } else { end + 1 };
            end = find_slash(&path[from..]).map_or(path.len(), |i| from + i);
            stack.open(&path[..end], Frame::new(top, None));
        }
    }

    /// Whether anything at or below the root was added.
    pub fn found(&self) -> bool {
        self.found
    }

    /// The most nodes kept at once so far.
    pub fn peak_nodes(&self) -> usize {
        self.closed.count.peak
    }

    fn close_all(&mut self) {
        let Rollup { stack, closed, .. } = self;
        stack.close_all(|p, f, below| closed.fold(p, f, below));
    }

    /// The tree, from its root.
    pub fn finish(mut self) -> Node<T> {
        self.close_all();
        self.closed.done.take().unwrap_or_else(|| Node {
            name: String::new(),
            kind: NodeKind::Dir,
            tally: T::default(),
            children: Vec::new(),
            more: None,
        })
    }

    /// The directories ranked (see `with_dirs`): each shown path with what
    /// is below it, biggest first, and how many more there were.
    pub fn finish_dirs(mut self) -> (Vec<(String, T)>, u64) {
        self.close_all();
        let dirs = self.closed.dirs.take().map_or_else(Vec::new, |d| {
            d.into_sorted().into_iter().map(|(_, d)| d).collect()
        });
        (dirs, self.closed.dirs_more)
    }
}

impl<T: Totals> Closed<T> {
    /// Closes one frame into the one below it (or, for the root, into `done`).
    fn fold(&mut self, path: &[u8], f: Frame<T>, below: Option<&mut Frame<T>>) {
        let Closed {
            top,
            dirs,
            dirs_more,
            done,
            count,
        } = self;
        let top = *top;
        if let Some(dirs) = dirs.as_mut().filter(|_| f.has_below) {
            let rank = f.below.rank();
            let before = dirs.len();
            dirs.offer(
                &best_key(rank),
                || (rank, Reverse(path::key(path, path::PATH_CAP))),
                || {
                    let mut figures = T::default();
                    figures.absorb(&f.below);
                    (path::show(path), figures)
                },
            );
            // Kept when the list grew or held on; dropped otherwise.
            *dirs_more += u64::from(dirs.len() == before);
        }
        let mut tally = f.own;
        tally.absorb(&f.below);
        let node = |name: String, f_children: Top<Key, (Node<T>, usize)>, more, kind, tally| Node {
            name,
            kind,
            tally,
            children: f_children
                .into_sorted()
                .into_iter()
                .map(|(_, (n, _))| n)
                .collect(),
            more,
        };
        let kind = f.kind.unwrap_or(NodeKind::Dir);
        let Some(parent) = below else {
            *done = Some(node(String::new(), f.children, f.more, kind, tally));
            return;
        };
        parent.below.absorb(&tally);
        parent.has_below = true;
        let rank = tally.rank();
        if top == 0 {
            return;
        }
        let base = rfind_slash(path).map_or(path, |i| &path[i + 1..]);
        let key = if parent.children.would_keep(&best_key(rank)) {
            Some((rank, Reverse(path::key(base, path::NAME_CAP))))
        } else {
            None
        };
        let evicted = match key {
            Some(key) if parent.children.would_keep(&key) => {
                let name = path::name(base).into_owned();
                let size = 1 + f.kept;
                count.kept += 1;
                count.peak = count.peak.max(count.kept);
                parent.kept += size;
                let node = node(name, f.children, f.more, kind, tally);
                parent
                    .children
                    .push(key, (node, size))
                    .map(|(_, (n, size))| {
                        count.kept -= size;
                        parent.kept -= size;
                        n.tally
                    })
            }
            _ => {
                // Not kept: its subtree goes with it.
                count.kept -= f.kept;
                Some(tally)
            }
        };
        if let Some(tally) = evicted {
            let more = parent.more.get_or_insert_with(More::default);
            more.entries += 1;
            more.tally.absorb(&tally);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &Node<Bytes>) -> Vec<(&str, u64)> {
        n.children
            .iter()
            .map(|c| (c.name.as_str(), c.tally.0))
            .collect()
    }

    #[test]
    fn totals_to_a_depth_with_the_top_children_and_the_rest_exact() {
        let mut r = Rollup::new(b"", 1, 2);
        for (path, kind, bytes) in [
            ("a", NodeKind::Dir, 0),
            ("a/x", NodeKind::File, 5),
            ("a/y/z", NodeKind::File, 7),
            ("b", NodeKind::File, 100),
            ("c", NodeKind::File, 1),
            ("d/e", NodeKind::File, 3),
        ] {
            r.add(path.as_bytes(), kind, Bytes(bytes));
        }
        let root = r.finish();
        assert_eq!(root.tally.0, 116);
        assert_eq!(names(&root), [("b", 100), ("a", 12)]);
        assert!(
            root.children[1].children.is_empty(),
            "depth 1 lists no grandchild"
        );
        let more = root.more.as_ref().unwrap();
        assert_eq!((more.entries, more.tally.0), (2, 4));
        assert_eq!(root.children[0].kind, NodeKind::File);
    }

    #[test]
    fn a_subtree_root_and_ties_by_name() {
        let mut r = Rollup::new(b"usr/lib", 2, 2);
        for path in [
            "usr/libexec/x",
            "usr/lib/c",
            "usr/lib/b",
            "usr/lib/a",
            "var/x",
        ] {
            r.add(path.as_bytes(), NodeKind::File, Bytes(1));
        }
        assert!(r.found());
        let root = r.finish();
        assert_eq!(names(&root), [("a", 1), ("b", 1)]);
        assert_eq!(root.more.unwrap().entries, 1);
        let none: Rollup<Bytes> = Rollup::new(b"nope", 2, 2);
        assert!(!none.found());
    }

    #[test]
    fn directories_ranked_by_what_is_below_them() {
        let mut r: Rollup<Bytes> = Rollup::new(b"", 2, 0).with_dirs(2);
        for (path, bytes) in [("a/b/c/d", 4), ("a/x", 1), ("e/f", 9), ("g", 2)] {
            r.add(path.as_bytes(), NodeKind::File, Bytes(bytes));
        }
        let (dirs, more) = r.finish_dirs();
        let got: Vec<(&str, u64)> = dirs.iter().map(|(p, b)| (p.as_str(), b.0)).collect();
        assert_eq!(got, [("/", 16), ("/e", 9)]);
        assert_eq!(more, 2, "/a and /a/b");
    }

    /// A million files in one directory and a deep chain keep what is read.
    #[test]
    fn what_is_kept_is_bounded_by_the_top_and_the_depth() {
        let mut r = Rollup::new(b"", 2, 20);
        for i in 0..1_000_000u64 {
            r.add(
                format!("d/f{i:07}").as_bytes(),
                NodeKind::File,
                Bytes(i % 1000),
            );
        }
        assert!(r.peak_nodes() <= 22, "{}", r.peak_nodes());
        let root = r.finish();
        let d = &root.children[0];
        assert_eq!(d.children.len(), 20);
        assert_eq!(d.more.as_ref().unwrap().entries, 1_000_000 - 20);
        let listed: u64 = d.children.iter().map(|c| c.tally.0).sum();
        assert_eq!(listed + d.more.as_ref().unwrap().tally.0, d.tally.0);
        let mut r = Rollup::new(b"", 8000, 20);
        let deep = "d/".repeat(32_000) + "f";
        r.add(deep.as_bytes(), NodeKind::File, Bytes(1));
        let root = r.finish();
        let mut levels = 0;
        let mut n = &root;
        while let Some(c) = n.children.first() {
            levels += 1;
            n = c;
        }
        assert_eq!((levels, n.tally.0), (MAX_DEPTH, 1));
    }
}
