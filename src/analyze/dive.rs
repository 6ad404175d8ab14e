//! dive 0.13's efficiency figures (`dive --ci`, `--json`), reproduced from
//! one pass over the merged filesystem: every copy of a path seen in two or
//! more layers is wasted, whiteouts of directories are sized by what dive's
//! stacked tree below them held. Memory: one small frame per open path and a
//! few per-layer counters; nothing is propagated to every ancestor as it is
//! met (what a directory needs from below is folded in when a child closes,
//! and the sizes of directory whiteouts are running sums per stack bound).

use std::collections::BTreeMap;

use serde::Serialize;

use super::overlay::Node;
use super::stack::PathStack;
use crate::layer::EntryKind;

/// dive 0.13's figures, reproduced.
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

/// A path on the way down.
struct Frame {
    /// Real entries here: (layer, size).
    present: Vec<(usize, u64)>,
    /// Every whiteout here (they remove this path from dive's stacks).
    whiteouts: Vec<usize>,
    /// Whiteouts here of something that was not a directory: size 0 each.
    flat_whiteouts: usize,
    /// Layers with something below this path (filled as children close).
    has_child: Vec<usize>,
    /// Whiteouts here of a directory: (stack bound, its running sum when opened).
    sizing: Vec<(usize, u64)>,
}

/// Per-path figures, as dive keeps them.
struct Totals {
    min_sum: i64,
    cumulative_sum: i64,
    wasted: u64,
    aborted: Vec<bool>,
    /// The whiteout layers of the open paths, counted.
    whiteouts: BTreeMap<usize, u32>,
    /// The stack bounds some open directory whiteout is sized against, counted.
    bounds: BTreeMap<usize, u32>,
    /// Per bound: what every path met so far held in dive's stack below it.
    sums: Vec<u64>,
}

pub struct DiveBuilder {
    stack: PathStack<Frame>,
    totals: Totals,
}

impl DiveBuilder {
    /// For an image of `layers` layers.
    pub fn new(layers: usize) -> DiveBuilder {
        DiveBuilder {
            stack: PathStack::new(),
            totals: Totals {
                min_sum: 0,
                cumulative_sum: 0,
                wasted: 0,
                aborted: vec![false; layers],
                whiteouts: BTreeMap::new(),
                bounds: BTreeMap::new(),
                sums: vec![0; layers + 1],
            },
        }
    }

    pub fn add(&mut self, node: &Node) {
        if node.path.is_empty() {
            return; // dive never visits the root
        }
        let totals = &mut self.totals;
        self.stack
            .close_to(&node.path, |_, f, parent| totals.close(f, parent));
        let frame = self.totals.enter(node);
        self.stack.open(&node.path, frame);
    }

    /// `layer_files`: each layer's file bytes (its summary's `files`).
    pub fn finish(mut self, layer_files: &[u64]) -> DiveEfficiency {
        let totals = &mut self.totals;
        self.stack.close_all(|_, f, parent| totals.close(f, parent));
        let t = &self.totals;
        let size_bytes: u64 = layer_files.iter().sum();
        let user_size_bytes: u64 = layer_files.iter().skip(1).sum();
        DiveEfficiency {
            efficiency: if t.cumulative_sum == 0 {
                1.0
            } else {
                t.min_sum as f64 / t.cumulative_sum as f64
            },
            wasted_bytes: t.wasted,
            user_wasted_percent: t.wasted as f64 / user_size_bytes as f64,
            size_bytes,
            user_size_bytes,
        }
    }
}

fn count(set: &mut BTreeMap<usize, u32>, key: usize, up: bool) {
    let n = set.entry(key).or_default();
    if up {
        *n += 1;
    } else {
        *n -= 1;
        if *n == 0 {
            set.remove(&key);
        }
    }
}

impl Totals {
    /// A path met: its frame (the open paths are its ancestors).
    fn enter(&mut self, node: &Node) -> Frame {
        // Dive's stacked tree of the layers below a whiteout ignores opaque
        // directories and removes a whited-out path with what is under it.
        let mut present: Vec<(usize, u64)> = Vec::new();
        let mut versions: Vec<(usize, u64, bool)> = Vec::new();
        for v in node.hidden.iter().map(|h| &h.version).chain(&node.visible) {
            present.push((v.layer, v.entry.size));
            versions.push((v.layer, v.entry.size, v.entry.kind == EntryKind::Dir));
        }
        versions.sort_by_key(|v| v.0);
        // This path's payload in dive's stack of the layers below `bound`.
        let whiteouts = &self.whiteouts;
        let payload = |bound: usize| -> Option<(u64, bool)> {
            let above = whiteouts.range(..bound).next_back().map(|(&r, _)| r);
            let here = node.whiteouts.iter().copied().filter(|&r| r < bound).max();
            let removed = above.max(here);
            versions
                .iter()
                .rev()
                .find(|(l, _, _)| *l < bound && removed.is_none_or(|r| *l > r))
                .map(|&(_, size, dir)| (size, dir))
        };
        // Directory whiteouts above this path add what their stack held here.
        for &bound in self.bounds.keys() {
            if let Some((size, _)) = payload(bound) {
                self.sums[bound] += size;
            }
        }
        let mut sizing = Vec::new();
        let mut flat_whiteouts = 0;
        for &l in &node.whiteouts {
            if self.aborted[l] {
                continue;
            }
            let bound = l.max(1);
            match payload(bound) {
                Some((_, true)) => sizing.push((bound, self.sums[bound])),
                Some((_, false)) => flat_whiteouts += 1,
                // dive cannot find the path below: it stops reading that layer.
                None => {
                    self.aborted[l] = true;
                    if versions.is_empty() {
                        // The path's record exists with no size at all (-1).
                        self.min_sum -= 1;
                    }
                }
            }
        }
        for &(bound, _) in &sizing {
            count(&mut self.bounds, bound, true);
        }
        for &l in &node.whiteouts {
            count(&mut self.whiteouts, l, true);
        }
        Frame {
            present,
            whiteouts: node.whiteouts.clone(),
            flat_whiteouts,
            has_child: Vec::new(),
            sizing,
        }
    }

    /// A path whose subtree is done: its occurrences are known.
    fn close(&mut self, f: Frame, parent: Option<&mut Frame>) {
        let mut sizes: Vec<u64> = Vec::new();
        // A real entry counts where it is a leaf of its layer; a whiteout always is.
        for &(layer, size) in &f.present {
            if !f.has_child.contains(&layer) && !self.aborted[layer] {
                sizes.push(size);
            }
        }
        // Whiteouts were checked against aborted layers when they were met:
        // dive visits `.wh.NAME` before anything below NAME.
        sizes.extend((0..f.flat_whiteouts).map(|_| 0));
        for &(bound, start) in &f.sizing {
            sizes.push(self.sums[bound] - start);
            count(&mut self.bounds, bound, false);
        }
        for &l in &f.whiteouts {
            count(&mut self.whiteouts, l, false);
        }
        // Everything here makes the parent a non-leaf in its layers.
        if let Some(parent) = parent {
            let here = f
                .present
                .iter()
                .map(|p| p.0)
                .chain(f.whiteouts.iter().copied());
            for l in here.chain(f.has_child.iter().copied()) {
                if !parent.has_child.contains(&l) {
                    parent.has_child.push(l);
                }
            }
        }
        if sizes.is_empty() {
            return;
        }
        let cumulative: u64 = sizes.iter().sum();
        let min = sizes.iter().copied().min().unwrap_or(0);
        self.cumulative_sum += cumulative as i64;
        self.min_sum += min as i64;
        if sizes.len() >= 2 {
            self.wasted += cumulative;
        }
    }
}
