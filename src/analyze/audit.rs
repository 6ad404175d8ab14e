//! What each layer adds, changes, deletes and wastes, from one pass over the
//! merged filesystem: per-layer change counts, strata's wasted bytes (every
//! copy of a path but the one that survives), and the efficiency figures
//! exactly as dive 0.13 computes them (every copy of a path seen in two or
//! more layers, whiteouts of directories sized by what they hid).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;

use serde::Serialize;

use super::overlay::{HiddenBy, Node};
use crate::layer::index::is_below;
use crate::layer::EntryKind;

/// Files (not directories) and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Count {
    pub files: u64,
    pub bytes: u64,
}

impl Count {
    fn add(&mut self, bytes: u64) {
        self.files += 1;
        self.bytes += bytes;
    }
}

/// One layer against the filesystem below it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LayerChanges {
    /// Paths that did not exist below.
    pub added: Count,
    /// Paths that existed below and are written again (bytes: the new version).
    pub modified: Count,
    /// Paths of lower layers this layer deletes (whiteouts, opaque
    /// directories, a directory replaced by a file); bytes: what they held.
    pub deleted: Count,
    /// Bytes of this layer that later layers overwrite or delete.
    pub wasted_later: u64,
}

/// dive 0.13's figures (`dive --ci`, `--json`), reproduced.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DiveEfficiency {
    pub efficiency: f64,
    pub wasted_bytes: u64,
    pub user_wasted_percent: f64,
    /// Sum of the layers' file bytes.
    pub size_bytes: u64,
    /// The same without the first layer.
    pub user_size_bytes: u64,
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

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Audit {
    pub layers: Vec<LayerChanges>,
    /// File bytes a container of the image sees.
    pub merged_files: u64,
    pub waste: Waste,
    pub dive: DiveEfficiency,
}

/// A directory on the way down, for dive's per-layer leaves and the sizes
/// of its directory whiteouts.
struct Frame {
    path: Vec<u8>,
    /// Real entries here: (layer, size).
    present: Vec<(usize, u64)>,
    /// Every whiteout here (they remove this path from dive's stacks).
    whiteouts: Vec<usize>,
    /// Whiteouts here of something that was not a directory: size 0.
    flat_whiteouts: Vec<usize>,
    /// Layers with something below this path.
    has_child: Vec<usize>,
    /// Whiteouts here of a directory: (whiteout layer, stack bound, bytes so far).
    sizing: Vec<(usize, usize, u64)>,
}

/// Per-path figures, as dive keeps them.
struct DiveTotals {
    min_sum: i64,
    cumulative_sum: i64,
    wasted: u64,
    aborted: Vec<bool>,
}

/// A wasted path ranked by its bytes: (wasted, path, copies, survives in).
type Ranked = (u64, String, Vec<(usize, u64)>, Option<usize>);

pub struct AuditBuilder {
    layers: Vec<LayerChanges>,
    layer_files: Vec<u64>,
    stack: Vec<Frame>,
    dive: DiveTotals,
    merged: u64,
    wasted: u64,
    top: BinaryHeap<Reverse<Ranked>>,
    top_n: usize,
}

impl AuditBuilder {
    /// `layer_files`: each layer's file bytes (its summary's `files`).
    pub fn new(layer_files: Vec<u64>, top_n: usize) -> AuditBuilder {
        let n = layer_files.len();
        AuditBuilder {
            layers: vec![LayerChanges::default(); n],
            layer_files,
            stack: Vec::new(),
            dive: DiveTotals {
                min_sum: 0,
                cumulative_sum: 0,
                wasted: 0,
                aborted: vec![false; n],
            },
            merged: 0,
            wasted: 0,
            top: BinaryHeap::new(),
            top_n,
        }
    }

    pub fn add(&mut self, node: &Node) {
        self.strata(node);
        if node.path.is_empty() {
            return; // dive never visits the root
        }
        while self
            .stack
            .last()
            .is_some_and(|f| !is_below(&node.path, &f.path))
        {
            self.pop();
        }
        self.dive_enter(node);
    }

    pub fn finish(mut self) -> Audit {
        while !self.stack.is_empty() {
            self.pop();
        }
        let stored: u64 = self.layer_files.iter().sum();
        let size_bytes = stored;
        let user_size_bytes: u64 = self.layer_files.iter().skip(1).sum();
        let d = &self.dive;
        let mut top: Vec<WastedPath> = self
            .top
            .into_sorted_vec()
            .into_iter()
            .map(|Reverse((wasted, path, copies, survives_in))| WastedPath {
                path,
                wasted,
                copies,
                survives_in,
            })
            .collect();
        top.sort_by(|a, b| b.wasted.cmp(&a.wasted).then(a.path.cmp(&b.path)));
        Audit {
            layers: self.layers,
            merged_files: self.merged,
            waste: Waste {
                wasted_bytes: self.wasted,
                efficiency: ratio(self.merged, stored),
                top,
            },
            dive: DiveEfficiency {
                efficiency: if d.cumulative_sum == 0 {
                    1.0
                } else {
                    d.min_sum as f64 / d.cumulative_sum as f64
                },
                wasted_bytes: d.wasted,
                user_wasted_percent: d.wasted as f64 / user_size_bytes as f64,
                size_bytes,
                user_size_bytes,
            },
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
        if !copies.is_empty() && self.top_n > 0 {
            let wasted: u64 = copies.iter().map(|(_, b)| b).sum();
            let path = format!("/{}", String::from_utf8_lossy(&node.path));
            let survives = node.visible.as_ref().map(|v| v.layer + 1);
            self.top.push(Reverse((wasted, path, copies, survives)));
            if self.top.len() > self.top_n {
                self.top.pop();
            }
        }
    }

    fn dive_enter(&mut self, node: &Node) {
        // Dive's stacked tree of the layers below a whiteout ignores opaque
        // directories and removes a whited-out path with what is under it.
        let mut present: Vec<(usize, u64)> = Vec::new();
        let mut versions: Vec<(usize, u64, bool)> = Vec::new();
        for v in node.hidden.iter().map(|h| &h.version).chain(&node.visible) {
            present.push((v.layer, v.entry.size));
            versions.push((v.layer, v.entry.size, v.entry.kind == EntryKind::Dir));
        }
        versions.sort_by_key(|v| v.0);
        // Everything present here makes each ancestor a non-leaf in that layer.
        let layers_here: Vec<usize> = present
            .iter()
            .map(|p| p.0)
            .chain(node.whiteouts.iter().copied())
            .collect();
        let ancestor_whiteouts: Vec<usize> = self
            .stack
            .iter()
            .flat_map(|f| f.whiteouts.iter().copied())
            .collect();
        // This path's payload in dive's stack of the layers below `bound`.
        let payload = |bound: usize| -> Option<(u64, bool)> {
            let removed = ancestor_whiteouts
                .iter()
                .chain(&node.whiteouts)
                .copied()
                .filter(|&r| r < bound)
                .max();
            versions
                .iter()
                .rev()
                .find(|(l, _, _)| *l < bound && removed.is_none_or(|r| *l > r))
                .map(|&(_, size, dir)| (size, dir))
        };
        for f in self.stack.iter_mut() {
            for &l in &layers_here {
                if !f.has_child.contains(&l) {
                    f.has_child.push(l);
                }
            }
            // Directory whiteouts above this path add what their stack held here.
            for s in f.sizing.iter_mut() {
                if let Some((size, _)) = payload(s.1) {
                    s.2 += size;
                }
            }
        }
        let mut sizing = Vec::new();
        let mut flat_whiteouts = Vec::new();
        for &l in &node.whiteouts {
            if self.dive.aborted[l] {
                continue;
            }
            let bound = l.max(1);
            match payload(bound) {
                Some((_, true)) => sizing.push((l, bound, 0)),
                Some((_, false)) => flat_whiteouts.push(l),
                // dive cannot find the path below: it stops reading that layer.
                None => {
                    self.dive.aborted[l] = true;
                    if versions.is_empty() {
                        // The path's record exists with no size at all (-1).
                        self.dive.min_sum -= 1;
                    }
                }
            }
        }
        self.stack.push(Frame {
            path: node.path.clone(),
            present,
            whiteouts: node.whiteouts.clone(),
            flat_whiteouts,
            has_child: Vec::new(),
            sizing,
        });
    }

    /// A path whose subtree is done: its occurrences are known.
    fn pop(&mut self) {
        let Some(f) = self.stack.pop() else { return };
        let mut sizes: Vec<u64> = Vec::new();
        // A real entry counts where it is a leaf of its layer; a whiteout always is.
        for &(layer, size) in &f.present {
            if !f.has_child.contains(&layer) && !self.dive.aborted[layer] {
                sizes.push(size);
            }
        }
        // Whiteouts were checked against aborted layers when they were met:
        // dive visits `.wh.NAME` before anything below NAME.
        sizes.extend(f.flat_whiteouts.iter().map(|_| 0));
        sizes.extend(f.sizing.iter().map(|s| s.2));
        if sizes.is_empty() {
            return;
        }
        let cumulative: u64 = sizes.iter().sum();
        let min = sizes.iter().copied().min().unwrap_or(0);
        self.dive.cumulative_sum += cumulative as i64;
        self.dive.min_sum += min as i64;
        if sizes.len() >= 2 {
            self.dive.wasted += cumulative;
        }
    }
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// Runs the audit over an overlay.
pub fn audit<I: Iterator<Item = io::Result<Node>>>(
    nodes: I,
    layer_files: Vec<u64>,
    top_n: usize,
) -> io::Result<Audit> {
    let mut b = AuditBuilder::new(layer_files, top_n);
    for node in nodes {
        b.add(&node?);
    }
    Ok(b.finish())
}
