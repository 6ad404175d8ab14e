//! One layer under the magnifier (`strata audit`), from one pass over the
//! merged filesystem: its largest files (and whether they survive), a
//! roll-up of its bytes, the paths it deletes with the bytes of lower layers
//! they hide, and the paths it overwrites with the bytes wasted below — each
//! list its top N, what is cut counted exactly.

use std::cmp::Reverse;
use std::io;

use serde::Serialize;

use super::du::{DuBuilder, DuNode, Rest};
use super::overlay::{HiddenBy, Node};
use super::path::{self, show};
use super::stack::PathStack;
use super::top::Top;
use crate::layer::EntryKind;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LargeFile {
    pub path: String,
    pub bytes: u64,
    /// False when a later layer overwrites or deletes it.
    pub survives: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletionKind {
    /// `.wh.NAME`
    Whiteout,
    /// `.wh..wh..opq`: the directory's lower content is hidden.
    Opaque,
    /// A directory of lower layers replaced by a file or link.
    Replaced,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deletion {
    pub path: String,
    pub kind: DeletionKind,
    /// Lower layers' files it hides, and their bytes.
    pub hidden_files: u64,
    pub hidden_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overwrite {
    pub path: String,
    /// 1-based layer of the version it replaces.
    pub below: usize,
    /// Bytes of that version, stored and no longer seen.
    pub wasted_below: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerAudit {
    pub largest: Vec<LargeFile>,
    pub rollup: DuNode,
    pub deletes: Vec<Deletion>,
    /// Deletions cut from the list: how many, and the files and bytes they hide.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deletes_more: Option<Rest>,
    pub overwrites: Vec<Overwrite>,
    /// All overwrites' wasted bytes (the list may be cut).
    pub overwritten_bytes: u64,
}

/// Lists rank by bytes, then the smaller path first.
type Rank = (u64, Reverse<Vec<u8>>);

fn rank(bytes: u64, path: &[u8]) -> Rank {
    (bytes, Reverse(path::key(path, path::PATH_CAP)))
}

/// The best rank of these bytes: if it would not be kept, none of them would.
fn best(bytes: u64) -> Rank {
    (bytes, Reverse(Vec::new()))
}

/// Audits layer `layer` (0-based) of the image whose merged filesystem `nodes` is.
pub fn audit_layer<I: Iterator<Item = io::Result<Node>>>(
    nodes: I,
    layer: usize,
    depth: usize,
    top: usize,
) -> io::Result<LayerAudit> {
    let mut rollup = DuBuilder::new(b"", depth, top);
    let mut largest: Top<Rank, LargeFile> = Top::new(top);
    // Deletion roots on the way down: how each deletes, what it hides so far.
    let mut roots: PathStack<(DeletionKind, Rest)> = PathStack::new();
    let mut deletes: Top<Rank, Deletion> = Top::new(top);
    let mut deletes_more: Option<Rest> = None;
    let mut close = |path: &[u8], (kind, hid): (DeletionKind, Rest)| {
        // A "replaced" root that hid nothing is an ordinary new file.
        if kind == DeletionKind::Replaced && hid.files == 0 {
            return;
        }
        let key = deletes
            .would_keep(&best(hid.bytes))
            .then(|| rank(hid.bytes, path))
            .filter(|key| deletes.would_keep(key));
        let cut = match key {
            Some(key) => {
                let d = Deletion {
                    path: show(path),
                    kind,
                    hidden_files: hid.files,
                    hidden_bytes: hid.bytes,
                };
                deletes
                    .push(key, d)
                    .map(|(_, d)| (d.hidden_files, d.hidden_bytes))
            }
            None => Some((hid.files, hid.bytes)),
        };
        if let Some((files, bytes)) = cut {
            let more = deletes_more.get_or_insert_with(Rest::default);
            more.entries += 1;
            more.files += files;
            more.bytes += bytes;
        }
    };
    let mut overwrites: Top<Rank, Overwrite> = Top::new(top);
    let mut overwritten_bytes = 0;
    for node in nodes {
        let node = node?;
        roots.close_to(&node.path, |p, d, _| close(p, d));
        let mine = node
            .visible
            .iter()
            .map(|v| (v, true))
            .chain(node.hidden.iter().map(|h| (&h.version, false)))
            .find(|(v, _)| v.layer == layer);
        if let Some((v, survives)) = mine {
            rollup.add(layer, &v.entry);
            if v.entry.kind == EntryKind::File {
                let bytes = v.entry.size;
                largest.offer(
                    &best(bytes),
                    || rank(bytes, &node.path),
                    || LargeFile {
                        path: show(&node.path),
                        bytes,
                        survives,
                    },
                );
            }
        }
        let kind = if node.whiteouts.contains(&layer) {
            Some(DeletionKind::Whiteout)
        } else if node.opaque.contains(&layer) {
            Some(DeletionKind::Opaque)
        } else if mine.is_some_and(|(v, _)| v.entry.kind != EntryKind::Dir) {
            Some(DeletionKind::Replaced)
        } else {
            None
        };
        if let Some(kind) = kind {
            roots.open(&node.path, (kind, Rest::default()));
        }
        for h in node.hidden.iter().filter(|h| h.by == layer) {
            let bytes = h.version.entry.file_bytes();
            let file = u64::from(h.version.entry.kind == EntryKind::File);
            match h.how {
                // A directory listed again is not an overwrite.
                HiddenBy::Overwritten if h.version.entry.kind == EntryKind::Dir => {}
                HiddenBy::Overwritten => {
                    overwritten_bytes += bytes;
                    overwrites.offer(
                        &best(bytes),
                        || rank(bytes, &node.path),
                        || Overwrite {
                            path: show(&node.path),
                            below: h.version.layer + 1,
                            wasted_below: bytes,
                        },
                    );
                }
                HiddenBy::Deleted | HiddenBy::Ancestor => {
                    if let Some((_, hid)) = roots.top_mut() {
                        hid.files += file;
                        hid.bytes += bytes;
                    }
                }
            }
        }
    }
    roots.close_all(|p, d, _| close(p, d));
    let deletes: Vec<Deletion> = deletes.into_sorted().into_iter().map(|(_, d)| d).collect();
    let mut largest: Vec<LargeFile> = largest.into_sorted().into_iter().map(|(_, f)| f).collect();
    largest.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.path.cmp(&b.path)));
    let mut overwrites: Vec<Overwrite> = overwrites
        .into_sorted()
        .into_iter()
        .map(|(_, o)| o)
        .collect();
    overwrites.sort_by(|a, b| {
        b.wasted_below
            .cmp(&a.wasted_below)
            .then(a.path.cmp(&b.path))
    });
    Ok(LayerAudit {
        largest,
        rollup: rollup.finish(),
        deletes,
        deletes_more,
        overwrites,
        overwritten_bytes,
    })
}
