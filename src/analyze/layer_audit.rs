//! One layer under the magnifier, from one pass over the merged filesystem:
//! its largest files (and whether they survive), a roll-up of its bytes,
//! the paths it deletes with the bytes of lower layers they hide, and the
//! paths it overwrites with the bytes wasted below.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;

use serde::Serialize;

use super::du::{DuBuilder, DuNode};
use super::overlay::{HiddenBy, Node};
use crate::layer::index::is_below;
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
    pub overwrites: Vec<Overwrite>,
    /// All overwrites' wasted bytes (the list may be cut).
    pub overwritten_bytes: u64,
}

fn show(path: &[u8]) -> String {
    format!("/{}", String::from_utf8_lossy(path))
}

/// Audits layer `layer` (0-based) of the image whose merged filesystem `nodes` is.
pub fn audit_layer<I: Iterator<Item = io::Result<Node>>>(
    nodes: I,
    layer: usize,
    depth: usize,
    top: usize,
) -> io::Result<LayerAudit> {
    let mut rollup = DuBuilder::new(b"", depth, top);
    let mut largest: BinaryHeap<Reverse<(u64, String, bool)>> = BinaryHeap::new();
    let mut deletes: Vec<Deletion> = Vec::new();
    // Deletion roots on the way down: (path, index into `deletes`).
    let mut roots: Vec<(Vec<u8>, usize)> = Vec::new();
    let mut overwrites: BinaryHeap<Reverse<(u64, String, usize)>> = BinaryHeap::new();
    let mut overwritten_bytes = 0;
    for node in nodes {
        let node = node?;
        while roots.last().is_some_and(|(p, _)| !is_below(&node.path, p)) {
            roots.pop();
        }
        let mine = node
            .visible
            .iter()
            .map(|v| (v, true))
            .chain(node.hidden.iter().map(|h| (&h.version, false)))
            .find(|(v, _)| v.layer == layer);
        if let Some((v, survives)) = mine {
            rollup.add(layer, &v.entry);
            if v.entry.kind == EntryKind::File {
                largest.push(Reverse((v.entry.size, show(&node.path), survives)));
                if largest.len() > top {
                    largest.pop();
                }
            }
        }
        let mut root = |kind| {
            deletes.push(Deletion {
                path: show(&node.path),
                kind,
                hidden_files: 0,
                hidden_bytes: 0,
            });
            roots.push((node.path.clone(), deletes.len() - 1));
        };
        if node.whiteouts.contains(&layer) {
            root(DeletionKind::Whiteout);
        } else if node.opaque.contains(&layer) {
            root(DeletionKind::Opaque);
        } else if mine.is_some_and(|(v, _)| v.entry.kind != EntryKind::Dir) {
            root(DeletionKind::Replaced);
        }
        for h in node.hidden.iter().filter(|h| h.by == layer) {
            let bytes = h.version.entry.file_bytes();
            let file = u64::from(h.version.entry.kind == EntryKind::File);
            match h.how {
                // A directory listed again is not an overwrite.
                HiddenBy::Overwritten if h.version.entry.kind == EntryKind::Dir => {}
                HiddenBy::Overwritten => {
                    overwritten_bytes += bytes;
                    overwrites.push(Reverse((bytes, show(&node.path), h.version.layer + 1)));
                    if overwrites.len() > top {
                        overwrites.pop();
                    }
                }
                HiddenBy::Deleted | HiddenBy::Ancestor => {
                    if let Some(&(_, i)) = roots.last() {
                        deletes[i].hidden_files += file;
                        deletes[i].hidden_bytes += bytes;
                    }
                }
            }
        }
    }
    // A "replaced" root that hid nothing is an ordinary new file.
    deletes.retain(|d| d.kind != DeletionKind::Replaced || d.hidden_files > 0);
    deletes.sort_by(|a, b| {
        b.hidden_bytes
            .cmp(&a.hidden_bytes)
            .then(a.path.cmp(&b.path))
    });
    let mut largest: Vec<LargeFile> = largest
        .into_iter()
        .map(|Reverse((bytes, path, survives))| LargeFile {
            path,
            bytes,
            survives,
        })
        .collect();
    largest.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.path.cmp(&b.path)));
    let mut overwrites: Vec<Overwrite> = overwrites
        .into_iter()
        .map(|Reverse((wasted_below, path, below))| Overwrite {
            path,
            below,
            wasted_below,
        })
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
        overwrites,
        overwritten_bytes,
    })
}
