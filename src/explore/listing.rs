//! Directory listings for the tree pane (made by `pass`): for a directory,
//! its children, each with its subtree's bytes, status, waste and origin
//! layers, and its own entry's details; how the tree is looked at (`Lens`)
//! and what is asked for (`DirReq`). Names are cut at NAME_CAP (a cut name
//! is its first bytes and a hash, still unique).

use super::classify::{Mode, Seen, Status};
use super::filter::{Filter, Sort};
use crate::analyze::overlay::Node;
use crate::analyze::path::{self, NAME_CAP};
use crate::layer::EntryKind;

/// A name as rows keep it: the bytes, or past NAME_CAP its first bytes and a hash.
pub type Name = Box<[u8]>;
/// A directory: its names from the root ("" is the root: no names).
pub type DirKey = Vec<Name>;

/// The bytes of a link target kept for the details line.
const LINK_CAP: usize = 256;
/// Layers listed for a path in the details line.
const HELD_CAP: usize = 8;

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
    /// Also list, as the pass meets them, the directories it holds (one
    /// level down, within the pass's budget): they then open at once.
    pub prefetch: bool,
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
    pub fn add(&mut self, s: &Seen) {
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

    pub fn merge(&mut self, o: &Sums) {
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
        row_status(self.own.as_ref().map(|o| o.status), self.below, &self.sums)
    }

    /// The bytes the row is sized by: what it holds, or what was removed.
    pub fn bytes(&self) -> u64 {
        row_bytes(self.status(), &self.sums)
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

/// A row's status from its own entry's (if any), whether anything is below
/// it, and the statuses of what is shown below it (see `Row::status`).
pub fn row_status(own: Option<Status>, below: bool, sums: &Sums) -> Status {
    let changes = sums.statuses & !Status::Unchanged.bit();
    match own {
        Some(s @ (Status::Added | Status::Removed)) => s,
        _ if !below => own.unwrap_or(Status::Unchanged),
        None if sums.statuses == Status::Added.bit() => Status::Added,
        None if sums.statuses == Status::Removed.bit() => Status::Removed,
        _ if changes != 0 || own == Some(Status::Changed) => Status::Changed,
        _ => Status::Unchanged,
    }
}

/// The bytes a row of `status` is sized by.
pub fn row_bytes(status: Status, sums: &Sums) -> u64 {
    if status == Status::Removed {
        sums.removed
    } else {
        sums.size
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
    /// Listed ahead, not asked for: kept aside until its directory opens.
    pub prefetched: bool,
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

/// A path's own entry as seen from the layer (no allocation but a link's text).
pub fn own(node: &Node, s: &Seen) -> Own {
    // The layers holding it, in order, each once: the first HELD_CAP kept.
    let mut held = [0u16; HELD_CAP];
    let (mut held_len, mut held_count) = (0, 0);
    let mut layers = node
        .hidden
        .iter()
        .map(|h| h.version.layer)
        .chain(node.visible.iter().map(|v| v.layer))
        .chain(node.whiteouts.iter().copied());
    let mut last = None;
    let mut sorted = true;
    for l in layers.by_ref() {
        if last.is_some_and(|p| l < p) {
            sorted = false;
        }
        if last != Some(l) {
            held_count += 1;
            if held_len < HELD_CAP {
                held[held_len] = l.min(u16::MAX as usize) as u16;
                held_len += 1;
            }
        }
        last = Some(l);
    }
    if !sorted {
        // Whiteouts come after the versions: rare, sorted the slow way.
        let mut all: Vec<usize> = node
            .hidden
            .iter()
            .map(|h| h.version.layer)
            .chain(node.visible.iter().map(|v| v.layer))
            .chain(node.whiteouts.iter().copied())
            .collect();
        all.sort_unstable();
        all.dedup();
        held_count = all.len();
        held_len = all.len().min(HELD_CAP);
        for (slot, l) in held.iter_mut().zip(&all) {
            *slot = (*l).min(u16::MAX as usize) as u16;
        }
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
        held_len,
        held_count,
    }
}
