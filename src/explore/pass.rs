//! One pass over a subtree of the merged filesystem lists every directory
//! asked for at once, and ahead of need the directories they hold (within
//! a budget), so those open without a pass of their own. For each
//! directory: one child summed at a time (children are contiguous in index
//! order), the best `limit` kept by the sort — a child that would not be
//! kept costs no allocation — and the rest counted. Memory: the rows kept.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::io;

use super::classify::{seen, Seen};
use super::filter::Sort;
use super::listing::{
    name_key, own, row_bytes, row_status, DirReq, Lens, Listing, More, Name, Own, Row, Sums,
};
use super::tree::PAGE;
use crate::analyze::overlay::Node;
use crate::analyze::path::NAME_CAP;
use crate::layer::index::find_slash;
use crate::layer::EntryKind;

/// Nodes between two looks at whether the pass is still wanted.
const CHECK_EVERY: u32 = 4096;
/// Directories one pass lists ahead of need.
pub const PREFETCH_DIRS: usize = 32;

/// A kept row, ranked so that the heap's top is the worst kept: the fewest
/// bytes, then the greatest name.
struct Ranked(Row);

impl Ranked {
    fn rank(&self) -> (std::cmp::Reverse<u64>, &[u8]) {
        (std::cmp::Reverse(self.0.bytes()), &self.0.name)
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.rank() == other.rank()
    }
}

impl Eq for Ranked {}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

/// The child being summed.
#[derive(Default)]
struct Child {
    own: Option<Own>,
    below: bool,
    sums: Sums,
}

/// A directory being listed.
struct Accum {
    req: DirReq,
    sort: Sort,
    min_size: u64,
    prefetched: bool,
    /// The child being summed, and its whole name as met.
    current: Option<Child>,
    name: Vec<u8>,
    /// Size order: the best kept, worst on top. Name order: the first met.
    heap: BinaryHeap<Ranked>,
    first: Vec<Row>,
    pinned: Vec<Row>,
    more: More,
    own: Option<Own>,
    sums: Sums,
}

impl Accum {
    fn new(req: DirReq, lens: &Lens, prefetched: bool) -> Accum {
        Accum {
            req,
            sort: lens.sort,
            min_size: lens.filter.min_size,
            prefetched,
            current: None,
            name: Vec::new(),
            heap: BinaryHeap::new(),
            first: Vec::new(),
            pinned: Vec::new(),
            more: More::default(),
            own: None,
            sums: Sums::default(),
        }
    }

    /// A node at or below child `name`; `last`: the node is that child.
    fn feed(&mut self, name: &[u8], last: bool, node: &Node, s: Option<&Seen>, shown: bool) {
        if self.current.is_none() || self.name != name {
            self.finish_child();
            self.current = Some(Child::default());
            self.name.clear();
            self.name.extend_from_slice(name);
        }
        let Some(child) = self.current.as_mut() else {
            return;
        };
        if last {
            child.own = s.map(|s| own(node, s));
        } else {
            child.below = true;
        }
        if let (Some(s), true) = (s, shown) {
            child.sums.add(s);
        }
    }

    fn row(&self, child: Child) -> Row {
        Row {
            name: name_key(&self.name),
            cut: self.name.len() > NAME_CAP,
            own: child.own,
            below: child.below,
            sums: child.sums,
        }
    }

    /// Whether a child of `bytes` named as met would be kept now.
    fn admits(&self, bytes: u64, pinned: bool) -> bool {
        if pinned {
            return true;
        }
        match self.sort {
            Sort::Name => self.first.len() < self.req.limit,
            Sort::Size if self.heap.len() < self.req.limit => true,
            Sort::Size => self.heap.peek().is_some_and(|worst| {
                let key;
                let name: &[u8] = if self.name.len() > NAME_CAP {
                    key = name_key(&self.name);
                    &key
                } else {
                    &self.name
                };
                (std::cmp::Reverse(bytes), name) < worst.rank()
            }),
        }
    }

    fn finish_child(&mut self) {
        let Some(child) = self.current.take() else {
            return;
        };
        if child.sums.statuses == 0 {
            return; // nothing below it is shown
        }
        let status = row_status(
            child.own.as_ref().map(|o| o.status),
            child.below,
            &child.sums,
        );
        let bytes = row_bytes(status, &child.sums);
        if bytes < self.min_size {
            return;
        }
        self.sums.merge(&child.sums);
        let pinned = !self.req.pins.is_empty() && {
            let key = name_key(&self.name);
            self.req.pins.contains(&key)
        };
        if !self.admits(bytes, pinned) {
            self.more.rows += 1;
            self.more.bytes += bytes;
            return;
        }
        let row = self.row(child);
        if pinned {
            self.pinned.push(row);
            return;
        }
        match self.sort {
            Sort::Name => self.first.push(row),
            Sort::Size => {
                self.heap.push(Ranked(row));
                if self.heap.len() > self.req.limit {
                    if let Some(Ranked(r)) = self.heap.pop() {
                        self.more.rows += 1;
                        self.more.bytes += r.bytes();
                    }
                }
            }
        }
    }

    fn finish(mut self) -> Listing {
        self.finish_child();
        let mut rows: Vec<Row> = self.heap.into_iter().map(|r| r.0).collect();
        rows.extend(self.first);
        rows.extend(self.pinned);
        match self.sort {
            Sort::Size => rows.sort_by(|a, b| b.bytes().cmp(&a.bytes()).then(a.name.cmp(&b.name))),
            Sort::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        }
        Listing {
            key: self.req.key,
            rows,
            more: self.more,
            own: self.own,
            sums: self.sums,
            prefetched: self.prefetched,
        }
    }
}

/// The directories being listed, as a tree of names from the root.
struct Trie {
    nodes: Vec<(Option<Accum>, BTreeMap<Name, usize>)>,
    /// Directories still to list ahead of need in this pass.
    budget: usize,
}

impl Trie {
    fn new(reqs: Vec<DirReq>, lens: &Lens) -> Trie {
        let mut t = Trie {
            nodes: vec![(None, BTreeMap::new())],
            budget: PREFETCH_DIRS,
        };
        for req in reqs {
            let mut at = 0;
            for name in &req.key {
                let next = t.nodes.len();
                at = *t.nodes[at].1.entry(name.clone()).or_insert(next);
                if at == next {
                    t.nodes.push((None, BTreeMap::new()));
                }
            }
            t.nodes[at].0 = Some(Accum::new(req, lens, false));
        }
        t
    }

    fn child(&self, at: usize, name: &[u8]) -> Option<usize> {
        let map = &self.nodes[at].1;
        if map.is_empty() {
            return None;
        }
        if name.len() <= NAME_CAP {
            map.get(name).copied()
        } else {
            map.get(&name_key(name)).copied()
        }
    }

    /// Lists directory `name` of the one at `at` ahead of need, if that
    /// one asks for it and the pass's budget allows.
    fn prefetch(&mut self, at: usize, name: &[u8], lens: &Lens) -> Option<usize> {
        let parent = self.nodes[at].0.as_ref()?;
        if !parent.req.prefetch || self.budget == 0 {
            return None;
        }
        self.budget -= 1;
        let mut key = parent.req.key.clone();
        key.push(name_key(name));
        let req = DirReq {
            key,
            limit: PAGE,
            pins: Vec::new(),
            prefetch: false,
        };
        let next = self.nodes.len();
        self.nodes
            .push((Some(Accum::new(req, lens, true)), BTreeMap::new()));
        self.nodes[at].1.insert(name_key(name), next);
        Some(next)
    }
}

/// Lists the directories `reqs` name from the nodes of a subtree holding
/// them all (in index order), as seen through `lens`. `each` sees every
/// node (the layer figures are summed beside); `stop` is asked now and then
/// whether the pass is still wanted (None when it was stopped).
pub fn list(
    nodes: impl Iterator<Item = io::Result<Node>>,
    lens: &Lens,
    reqs: Vec<DirReq>,
    each: &mut dyn FnMut(&Node),
    stop: &dyn Fn() -> bool,
) -> io::Result<Option<Vec<Listing>>> {
    let mut trie = Trie::new(reqs, lens);
    let mut count = 0u32;
    for node in nodes {
        let node = node?;
        count += 1;
        if count.is_multiple_of(CHECK_EVERY) && stop() {
            return Ok(None);
        }
        each(&node);
        let s = seen(&node, lens.layer);
        let shown = s
            .as_ref()
            .is_some_and(|s| s.shown_in(lens.mode) && lens.filter.accepts(&node.path, s));
        if node.path.is_empty() {
            if let Some(acc) = trie.nodes[0].0.as_mut() {
                acc.own = s.as_ref().map(|s| own(&node, s));
            }
            continue;
        }
        let is_dir = node
            .visible
            .as_ref()
            .is_some_and(|v| v.entry.kind == EntryKind::Dir);
        let mut at = 0;
        let mut rest: &[u8] = &node.path;
        loop {
            let (name, tail) = match find_slash(rest) {
                Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                None => (rest, None),
            };
            if let Some(acc) = trie.nodes[at].0.as_mut() {
                acc.feed(name, tail.is_none(), &node, s.as_ref(), shown);
            }
            let next = match trie.child(at, name) {
                Some(next) => next,
                None if tail.is_some() || is_dir => match trie.prefetch(at, name, lens) {
                    Some(next) => next,
                    None => break,
                },
                None => break,
            };
            match tail {
                Some(tail) => {
                    at = next;
                    rest = tail;
                }
                None => {
                    // A listed directory's own node: kept for its details.
                    if let Some(acc) = trie.nodes[next].0.as_mut() {
                        acc.own = s.as_ref().map(|s| own(&node, s));
                    }
                    break;
                }
            }
        }
    }
    let listings = trie
        .nodes
        .into_iter()
        .filter_map(|(acc, _)| acc.map(Accum::finish))
        .collect();
    Ok(Some(listings))
}
