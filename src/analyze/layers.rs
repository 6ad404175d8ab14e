//! What each layer adds, changes, deletes and wastes (`strata layers`), from
//! one pass over the merged filesystem: per-layer change counts, strata's
//! wasted bytes (every copy of a path but the one that survives, the top N
//! paths listed), and the efficiency figures exactly as dive 0.13 computes
//! them (dive.rs).

use std::cmp::Reverse;
use std::io;

use serde::Serialize;

use super::dive::DiveBuilder;
pub use super::dive::DiveEfficiency;
use super::merged::Sink;
use super::overlay::{HiddenBy, Node};
use super::path::{self, show};
use super::sizes::Tally;
use super::top::Top;
use crate::layer::EntryKind;

/// One layer against the filesystem below it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LayerChanges {
    /// Paths that did not exist below.
    pub added: Tally,
    /// Paths that existed below and are written again (bytes: the new version).
    pub modified: Tally,
    /// Paths of lower layers this layer deletes (whiteouts, opaque
    /// directories, a directory replaced by a file); bytes: what they held.
    pub deleted: Tally,
    /// Bytes of this layer that later layers overwrite or delete.
    pub wasted_later: u64,
}

/// One path whose bytes are stored more than once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WastedPath {
    pub path: String,
    /// Bytes of the copies that do not survive.
    pub wasted: u64,
    /// Those copies: (1-based layer, bytes).
    pub copies: Vec<(usize, u64)>,
    /// The 1-based layer whose copy survives; None when the path is deleted.
    pub survives_in: Option<usize>,
}

/// strata's waste: every stored copy of a path but the surviving one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Waste {
    pub wasted_bytes: u64,
    /// Surviving file bytes / all file bytes stored in the layers.
    pub efficiency: f64,
    pub top: Vec<WastedPath>,
}

/// What the layers of one image change, and what it wastes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changes {
    pub layers: Vec<LayerChanges>,
    /// File bytes a container of the image sees.
    pub merged_files: u64,
    pub waste: Waste,
    pub dive: DiveEfficiency,
}

/// Paths rank by their bytes, then the smaller path first.
type Rank = (u64, Reverse<Vec<u8>>);

pub struct ChangesBuilder {
    layers: Vec<LayerChanges>,
    layer_files: Vec<u64>,
    dive: DiveBuilder,
    merged: u64,
    wasted: u64,
    top: Top<Rank, WastedPath>,
}

impl ChangesBuilder {
    /// `layer_files`: each layer's file bytes (its summary's `files`);
    /// `top_n`: wasted paths listed.
    pub fn new(layer_files: Vec<u64>, top_n: usize) -> ChangesBuilder {
        let n = layer_files.len();
        ChangesBuilder {
            layers: vec![LayerChanges::default(); n],
            layer_files,
            dive: DiveBuilder::new(n),
            merged: 0,
            wasted: 0,
            top: Top::new(top_n),
        }
    }

    pub fn add(&mut self, node: &Node) {
        self.strata(node);
        self.dive.add(node);
    }

    pub fn finish(self) -> Changes {
        let stored: u64 = self.layer_files.iter().sum();
        let mut top: Vec<WastedPath> = self.top.into_sorted().into_iter().map(|(_, w)| w).collect();
        top.sort_by(|a, b| b.wasted.cmp(&a.wasted).then(a.path.cmp(&b.path)));
        Changes {
            layers: self.layers,
            merged_files: self.merged,
            waste: Waste {
                wasted_bytes: self.wasted,
                efficiency: ratio(self.merged, stored),
                top,
            },
            dive: self.dive.finish(&self.layer_files),
        }
    }

    /// Layer changes and strata's waste, from what the overlay says hid what.
    fn strata(&mut self, node: &Node) {
        if let Some(v) = &node.visible {
            self.merged += v.entry.file_bytes();
        }
        let mut overwritten_by = Vec::new();
        let mut copies = Vec::new();
        for h in &node.hidden {
            let bytes = h.version.entry.file_bytes();
            self.wasted += bytes;
            self.layers[h.version.layer].wasted_later += bytes;
            if bytes > 0 {
                copies.push((h.version.layer + 1, bytes));
            }
            if h.version.entry.kind == EntryKind::Dir {
                continue;
            }
            match h.how {
                HiddenBy::Overwritten => overwritten_by.push(h.by),
                HiddenBy::Deleted | HiddenBy::Ancestor => self.layers[h.by].deleted.add(bytes),
            }
        }
        let versions = node.hidden.iter().map(|h| &h.version).chain(&node.visible);
        for v in versions {
            if v.entry.kind == EntryKind::Dir || v.entry.kind.is_marker() {
                continue;
            }
            let bytes = v.entry.file_bytes();
            if overwritten_by.contains(&v.layer) {
                self.layers[v.layer].modified.add(bytes);
            } else {
                self.layers[v.layer].added.add(bytes);
            }
        }
        if !copies.is_empty() {
            let wasted: u64 = copies.iter().map(|(_, b)| b).sum();
            self.top.offer(
                &(wasted, Reverse(Vec::new())),
                || (wasted, Reverse(path::key(&node.path, path::PATH_CAP))),
                || WastedPath {
                    path: show(&node.path),
                    wasted,
                    copies,
                    survives_in: node.visible.as_ref().map(|v| v.layer + 1),
                },
            );
        }
    }
}

impl Sink for ChangesBuilder {
    fn add(&mut self, node: &Node) {
        ChangesBuilder::add(self, node);
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// Runs the analysis over an overlay.
pub fn changes<I: Iterator<Item = io::Result<Node>>>(
    nodes: I,
    layer_files: Vec<u64>,
    top_n: usize,
) -> io::Result<Changes> {
    let mut b = ChangesBuilder::new(layer_files, top_n);
    for node in nodes {
        b.add(&node?);
    }
    Ok(b.finish())
}
