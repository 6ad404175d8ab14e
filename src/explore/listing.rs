//! Directory listings for the tree pane, made in one pass over a subtree of
//! the merged filesystem: for each directory asked for, its children (each
//! with its subtree's bytes, status, waste and origin layers), the best
//! `limit` of them by the sort kept and the rest only counted. Memory is the
//! rows kept, one child being summed per directory asked for, and names cut
//! at NAME_CAP (a cut name is its first bytes and a hash, still unique).

use std::cmp::Reverse;
use std::collections::HashMap;
use std::io;

use super::classify::{seen, Mode, Seen, Status};
use super::filter::{Filter, Sort};
use crate::analyze::overlay::Node;
use crate::analyze::path::{self, NAME_CAP};
use crate::analyze::top::Top;
use crate::layer::index::find_slash;
use crate::layer::EntryKind;

/// A name as rows keep it: the bytes, or past NAME_CAP its first bytes and a hash.
pub type Name = Box<[u8]>;
/// A directory: its names from the root ("" is the root: no names).
pub type DirKey = Vec<Name>;

/// The bytes of a link target kept for the details line.
const LINK_CAP: usize = 256;
/// Layers listed for a path in the details line.
const HELD_CAP: usize = 8;
/// Nodes between two looks at whether the pass is still wanted.
const CHECK_EVERY: u32 = 4096;

/// How the tree is looked at: from which layer, what, filtered and sorted how.
#[derive(Debug, Clone)]
pub struct Lens {
    /// 0-based.
    pub layer: usize,
    pub mode: Mode,
    pub sort: Sort,
    pub filter: Filter,
}

/// One directory to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirReq {
    pub key: DirKey,
    /// Rows kept (the best by the sort).
    pub limit: usize,
    /// Children kept whatever the limit (an open directory, a search hit).
    pub pins: Vec<Name>,
}

/// A path's own entry, for the details line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Own {
    pub kind: EntryKind,
    pub status: Status,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub link: Option<String>,
    pub hash: Option<[u8; 16]>,
    /// 0-based layer of the version seen.
    pub layer: usize,
    pub wasted_by: Option<usize>,
    /// Layers (0-based) that hold a version or a whiteout of the path, the first HELD_CAP.
    pub held: [u16; HELD_CAP],
    pub held_len: usize,
    /// All of them.
    pub held_count: usize,
}

/// Sums over a subtree (or a whole directory).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    /// File bytes shown (not removed).
    pub size: u64,
    /// File bytes the layer removes.
    pub removed: u64,
    /// File bytes shown that a later layer wastes.
    pub wasted: u64,
    /// Entries shown that are not directories (removed ones not counted).
    pub files: u64,
    /// Status bits of what is shown.
    pub statuses: u8,
    /// Lowest and highest 0-based layer of the files shown.
    pub layers: Option<(u16, u16)>,
}

impl Sums {
    fn add(&mut self, s: &Seen) {
        self.statuses |= s.status.bit();
        if s.status == Status::Removed {
            self.removed += s.bytes();
            return;
        }
        self.size += s.bytes();
        self.wasted += s.wasted();
        if !s.is_dir() {
            self.files += 1;
            let l = s.version.layer.min(u16::MAX as usize) as u16;
            self.layers = Some(match self.layers {
                Some((lo, hi)) => (lo.min(l), hi.max(l)),
                None => (l, l),
            });
        }
    }

    fn merge(&mut self, o: &Sums) {
        self.size += o.size;
        self.removed += o.removed;
        self.wasted += o.wasted;
        self.files += o.files;
        self.statuses |= o.statuses;
        self.layers = match (self.layers, o.layers) {
            (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
            (x, None) => x,
            (None, y) => y,
        };
    }
}

/// One child of a listed directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub name: Name,
    /// The name was longer than NAME_CAP: `name` holds its start and a hash.
    pub cut: bool,
    /// Its own entry as seen from the layer; None for a directory only
    /// implied by what is below it.
    pub own: Option<Own>,
    /// Something is below it (it is a directory).
    pub below: bool,
    pub sums: Sums,
}

impl Row {
    pub fn is_dir(&self) -> bool {
        self.below || self.own.as_ref().is_some_and(|o| o.kind == EntryKind::Dir)
    }

    /// The status the row shows: its own entry's when that is added or
    /// removed, else changed when anything below it changed.
    pub fn status(&self) -> Status {
        let own = self.own.as_ref().map(|o| o.status);
        let changes = self.sums.statuses & !Status::Unchanged.bit();
        match own {
            Some(s @ (Status::Added | Status::Removed)) => s,
            _ if !self.below => own.unwrap_or(Status::Unchanged),
            None if self.sums.statuses == Status::Added.bit() => Status::Added,
            None if self.sums.statuses == Status::Removed.bit() => Status::Removed,
            _ if changes != 0 || own == Some(Status::Changed) => Status::Changed,
            _ => Status::Unchanged,
        }
    }

    /// The bytes the row is sized by: what it holds, or what was removed.
    pub fn bytes(&self) -> u64 {
        if self.status() == Status::Removed {
            self.sums.removed
        } else {
            self.sums.size
        }
    }

    /// The name for people (lossy UTF-8; a cut name ends in `…`).
    pub fn display_name(&self) -> String {
        let shown = String::from_utf8_lossy(&self.name[..self.name.len().min(NAME_CAP)]);
        if self.cut {
            format!("{shown}…")
        } else {
            shown.into_owned()
        }
    }
}

/// Children a listing left out, counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct More {
    pub rows: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub key: DirKey,
    /// In the lens's order.
    pub rows: Vec<Row>,
    pub more: More,
    /// The directory's own entry.
    pub own: Option<Own>,
    /// Everything below it that is shown.
    pub sums: Sums,
}

/// A name's key: its bytes, or past NAME_CAP a prefix and a hash.
pub fn name_key(name: &[u8]) -> Name {
    path::key(name, NAME_CAP).into_boxed_slice()
}

/// The real path of `key` up to its first cut name: where a pass must read.
pub fn real_prefix(key: &DirKey) -> Vec<u8> {
    let mut out = Vec::new();
    for name in key {
        if name.len() > NAME_CAP {
            break;
        }
        if !out.is_empty() {
            out.push(b'/');
        }
        out.extend_from_slice(name);
    }
    out
}

fn own(node: &Node, s: &Seen) -> Own {
    let mut held = [0u16; HELD_CAP];
    let mut layers: Vec<usize> = node
        .hidden
        .iter()
        .map(|h| h.version.layer)
        .chain(node.visible.iter().map(|v| v.layer))
        .chain(node.whiteouts.iter().copied())
        .collect();
    layers.sort_unstable();
    layers.dedup();
    for (slot, l) in held.iter_mut().zip(&layers) {
        *slot = (*l).min(u16::MAX as usize) as u16;
    }
    let e = s.entry();
    Own {
        kind: e.kind,
        status: s.status,
        mode: e.mode,
        uid: e.uid,
        gid: e.gid,
        link: e.link.as_ref().map(|l| {
            let cut = &l[..l.len().min(LINK_CAP)];
            let mut t = String::from_utf8_lossy(cut).into_owned();
            if l.len() > LINK_CAP {
                t.push('…');
            }
            t
        }),
        hash: e.hash,
        layer: s.version.layer,
        wasted_by: s.wasted_by,
        held,
        held_len: layers.len().min(HELD_CAP),
        held_count: layers.len(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Size(u64, Reverse<Name>),
    Name(Reverse<Name>),
}

/// A directory being listed.
struct Accum {
    req: DirReq,
    sort: Sort,
    min_size: u64,
    /// The child being summed, and its name as met.
    current: Option<Row>,
    current_name: Vec<u8>,
    kept: Top<Key, Row>,
    pinned: Vec<Row>,
    more: More,
    own: Option<Own>,
    sums: Sums,
}

impl Accum {
    fn new(req: DirReq, lens: &Lens) -> Accum {
        Accum {
            kept: Top::new(req.limit),
            req,
            sort: lens.sort,
            min_size: lens.filter.min_size,
            current: None,
            current_name: Vec::new(),
            pinned: Vec::new(),
            more: More::default(),
            own: None,
            sums: Sums::default(),
        }
    }

    /// A node at or below child `name`; `last`: the node is that child.
    fn feed(&mut self, name: &[u8], last: bool, node: &Node, s: Option<&Seen>, shown: bool) {
        if self.current.is_none() || self.current_name != name {
            self.finish_child();
            self.current = Some(Row {
                name: name_key(name),
                cut: name.len() > NAME_CAP,
                own: None,
                below: false,
                sums: Sums::default(),
            });
            self.current_name.clear();
            self.current_name.extend_from_slice(name);
        }
        let Some(row) = self.current.as_mut() else {
            return;
        };
        if last {
            row.own = s.map(|s| own(node, s));
        } else {
            row.below = true;
        }
        if let (Some(s), true) = (s, shown) {
            row.sums.add(s);
        }
    }

    fn finish_child(&mut self) {
        let Some(row) = self.current.take() else {
            return;
        };
        if row.sums.statuses == 0 {
            return; // nothing below it is shown
        }
        let bytes = row.bytes();
        if bytes < self.min_size {
            return;
        }
        self.sums.merge(&row.sums);
        if self.req.pins.contains(&row.name) {
            self.pinned.push(row);
            return;
        }
        let dropped = match self.sort {
            Sort::Size => self
                .kept
                .push(Key::Size(bytes, Reverse(row.name.clone())), row),
            // Names come in order: the first `limit` are the ones kept.
            Sort::Name if self.kept.len() >= self.req.limit => {
                Some((Key::Name(Reverse(Box::default())), row))
            }
            Sort::Name => self.kept.push(Key::Name(Reverse(row.name.clone())), row),
        };
        if let Some((_, r)) = dropped {
            self.more.rows += 1;
            self.more.bytes += r.bytes();
        }
    }

    fn finish(mut self) -> Listing {
        self.finish_child();
        let mut rows: Vec<Row> = self
            .kept
            .into_sorted()
            .into_iter()
            .map(|(_, r)| r)
            .collect();
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
        }
    }
}

/// The directories asked for, as a tree of names from the root; each one
/// asked for has its listing under way.
struct Trie {
    nodes: Vec<(Option<Accum>, HashMap<Name, usize>)>,
}

impl Trie {
    fn new(reqs: Vec<DirReq>, lens: &Lens) -> Trie {
        let mut t = Trie {
            nodes: vec![(None, HashMap::new())],
        };
        for req in reqs {
            let mut at = 0;
            for name in &req.key {
                let next = t.nodes.len();
                at = *t.nodes[at].1.entry(name.clone()).or_insert(next);
                if at == next {
                    t.nodes.push((None, HashMap::new()));
                }
            }
            t.nodes[at].0 = Some(Accum::new(req, lens));
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
            let Some(next) = trie.child(at, name) else {
                break;
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
