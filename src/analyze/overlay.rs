//! The merged filesystem: a k-way merge of an image's path-sorted layer
//! indexes, in layer order, honouring whiteouts, opaque directories, a
//! directory replaced by a file (and back) — what a container of the image
//! sees. For each path it yields the surviving version with the layer that
//! wrote it, and every lower version the image no longer shows, with the
//! layer that hid it: the raw material of du, diff, waste and audit.
//! Memory is one small frame per open directory and the layer count, never
//! the number of entries (nor a path per level of a deep tree).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::io;

use super::stack::PathStack;
use crate::layer::index::path_order;
use crate::layer::{Entry, EntryKind};

/// An entry and the layer (0-based, manifest order) it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub layer: usize,
    pub entry: Entry,
}

/// Why a lower version is not in the merged filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiddenBy {
    /// A higher layer wrote the same path again.
    Overwritten,
    /// A higher layer's whiteout deleted the path.
    Deleted,
    /// A higher layer deleted, replaced or made opaque a directory above it.
    Ancestor,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hidden {
    pub version: Version,
    /// The layer that hid it.
    pub by: usize,
    pub how: HiddenBy,
}

/// One path of the merged filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub path: Vec<u8>,
    /// What a container sees here; None when the path is deleted or hidden.
    pub visible: Option<Version>,
    /// Lower versions the image no longer shows, bottom layer first.
    pub hidden: Vec<Hidden>,
    /// Layers whose whiteout names this path.
    pub whiteouts: Vec<usize>,
    /// Layers that made this directory opaque.
    pub opaque: Vec<usize>,
}

/// A layer's next entry, ordered for the merge: smallest path, then lowest layer.
struct Head {
    entry: Entry,
    layer: usize,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap pops the greatest.
        path_order(&other.entry.path, &self.entry.path)
            .then(other.layer.cmp(&self.layer))
            .then(other.entry.kind.rank().cmp(&self.entry.kind.rank()))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

pub struct Overlay<I> {
    layers: Vec<I>,
    heads: BinaryHeap<Head>,
    /// The paths on the way down, each with the layers whose events there
    /// (a whiteout, an opaque marker, a non-directory) hide lower layers'
    /// content below it.
    stack: PathStack<Vec<usize>>,
    /// Those layers over every open path, counted: what hides what below.
    events: BTreeMap<usize, u32>,
    failed: bool,
}

impl<I: Iterator<Item = io::Result<Entry>>> Overlay<I> {
    /// `layers`: each layer's index entries in index order, bottom layer first.
    pub fn new(layers: Vec<I>) -> io::Result<Overlay<I>> {
        let mut o = Overlay {
            layers,
            heads: BinaryHeap::new(),
            stack: PathStack::new(),
            events: BTreeMap::new(),
            failed: false,
        };
        for layer in 0..o.layers.len() {
            o.refill(layer)?;
        }
        Ok(o)
    }

    /// Each layer's entries, bottom first.
    pub fn layers(&self) -> &[I] {
        &self.layers
    }

    /// The layers' entries back, for another read.
    pub fn into_layers(self) -> Vec<I> {
        self.layers
    }

    fn refill(&mut self, layer: usize) -> io::Result<()> {
        if let Some(entry) = self.layers[layer].next().transpose()? {
            self.heads.push(Head { entry, layer });
        }
        Ok(())
    }

    fn next_node(&mut self) -> io::Result<Option<Node>> {
        let Some(first) = self.heads.pop() else {
            return Ok(None);
        };
        self.refill(first.layer)?;
        let mut group = vec![first];
        while self
            .heads
            .peek()
            .is_some_and(|h| h.entry.path == group[0].entry.path)
        {
            if let Some(h) = self.heads.pop() {
                self.refill(h.layer)?;
                group.push(h);
            }
        }
        let path = group[0].entry.path.clone();
        let events = &mut self.events;
        self.stack.close_to(&path, |_, closed, _| {
            for layer in closed {
                if let Some(n) = events.get_mut(&layer) {
                    *n -= 1;
                    if *n == 0 {
                        events.remove(&layer);
                    }
                }
            }
        });
        // The lowest ancestor event above a layer hides that layer's version.
        let ancestor = |layer: usize| -> Option<usize> {
            self.events.range(layer + 1..).next().map(|(&m, _)| m)
        };
        let mut node = Node {
            path,
            visible: None,
            hidden: Vec::new(),
            whiteouts: Vec::new(),
            opaque: Vec::new(),
        };
        let mut real: Vec<Version> = Vec::new();
        let mut events = Vec::new();
        for h in group {
            match h.entry.kind {
                EntryKind::Whiteout => {
                    node.whiteouts.push(h.layer);
                    events.push(h.layer);
                }
                EntryKind::OpaqueDir => {
                    node.opaque.push(h.layer);
                    events.push(h.layer);
                }
                kind => {
                    if kind != EntryKind::Dir {
                        events.push(h.layer);
                    }
                    real.push(Version {
                        layer: h.layer,
                        entry: h.entry,
                    });
                }
            }
        }
        real.sort_by_key(|v| v.layer);
        let written: Vec<usize> = real.iter().map(|v| v.layer).collect();
        for v in real {
            let above = |m: &usize| *m > v.layer;
            // The first thing above this version that hides it, if any.
            let hider = [
                (ancestor(v.layer), HiddenBy::Ancestor),
                (
                    node.whiteouts.iter().copied().filter(above).min(),
                    HiddenBy::Deleted,
                ),
                (
                    written.iter().copied().filter(above).min(),
                    HiddenBy::Overwritten,
                ),
            ]
            .into_iter()
            .filter_map(|(m, how)| m.map(|m| (m, how)))
            .min_by_key(|(m, _)| *m);
            match hider {
                Some((by, how)) => node.hidden.push(Hidden {
                    version: v,
                    by,
                    how,
                }),
                None => node.visible = Some(v),
            }
        }
        for &layer in &events {
            *self.events.entry(layer).or_default() += 1;
        }
        self.stack.open(&node.path, events);
        Ok(Some(node))
    }
}

impl<I: Iterator<Item = io::Result<Entry>>> Iterator for Overlay<I> {
    type Item = io::Result<Node>;

    fn next(&mut self) -> Option<io::Result<Node>> {
        if self.failed {
            return None;
        }
        match self.next_node() {
            Ok(n) => n.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// The overlay of layers given as entries in any order (tests).
#[cfg(test)]
pub(crate) fn of_entries(
    layers: Vec<Vec<Entry>>,
) -> io::Result<Overlay<std::vec::IntoIter<io::Result<Entry>>>> {
    let iters = layers
        .into_iter()
        .map(|mut l| {
            l.sort_by(crate::layer::index::entry_order);
            l.into_iter().map(Ok).collect::<Vec<_>>().into_iter()
        })
        .collect();
    Overlay::new(iters)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::index::entry_order;

    fn e(path: &str, kind: EntryKind, size: u64) -> Entry {
        Entry::sample(path, kind, size)
    }

    fn merged(layers: Vec<Vec<Entry>>) -> Vec<Node> {
        of_entries(layers)
            .unwrap()
            .collect::<io::Result<Vec<_>>>()
            .unwrap()
    }

    /// path -> (visible layer, size) for what survives.
    fn survivors(nodes: &[Node]) -> Vec<(String, usize, u64)> {
        nodes
            .iter()
            .filter_map(|n| {
                let v = n.visible.as_ref()?;
                Some((
                    String::from_utf8_lossy(&n.path).into_owned(),
                    v.layer,
                    v.entry.size,
                ))
            })
            .collect()
    }

    use EntryKind::{Dir, File, OpaqueDir, Symlink, Whiteout};

    #[test]
    fn later_layers_overwrite_and_whiteouts_delete_subtrees() {
        let nodes = merged(vec![
            vec![
                e("a", Dir, 0),
                e("a/x", File, 10),
                e("a/y", File, 20),
                e("b", Dir, 0),
                e("b/z", File, 30),
            ],
            vec![e("a/x", File, 11), e("b", Whiteout, 0)],
        ]);
        assert_eq!(
            survivors(&nodes),
            [
                ("a".into(), 0, 0),
                ("a/x".into(), 1, 11),
                ("a/y".into(), 0, 20)
            ]
        );
        let ax = nodes.iter().find(|n| n.path == b"a/x").unwrap();
        assert_eq!(ax.hidden[0].how, HiddenBy::Overwritten);
        assert_eq!((ax.hidden[0].version.layer, ax.hidden[0].by), (0, 1));
        let bz = nodes.iter().find(|n| n.path == b"b/z").unwrap();
        assert_eq!(bz.hidden[0].how, HiddenBy::Ancestor);
        assert_eq!(bz.hidden[0].by, 1);
        let b = nodes.iter().find(|n| n.path == b"b").unwrap();
        assert_eq!(
            (b.whiteouts.clone(), b.hidden[0].how),
            (vec![1], HiddenBy::Deleted)
        );
    }

    #[test]
    fn an_opaque_directory_hides_lower_content_but_keeps_its_own() {
        let nodes = merged(vec![
            vec![e("d", Dir, 0), e("d/old", File, 5)],
            vec![e("d", Dir, 0), e("d", OpaqueDir, 0), e("d/new", File, 7)],
            vec![e("d/top", File, 9)],
        ]);
        assert_eq!(
            survivors(&nodes),
            [
                ("d".into(), 1, 0),
                ("d/new".into(), 1, 7),
                ("d/top".into(), 2, 9)
            ]
        );
    }

    #[test]
    fn a_directory_replaced_by_a_file_and_back() {
        let nodes = merged(vec![
            vec![e("p", Dir, 0), e("p/one", File, 1)],
            vec![e("p", File, 100)],
            vec![e("p", Dir, 0), e("p/two", File, 2)],
        ]);
        assert_eq!(
            survivors(&nodes),
            [("p".into(), 2, 0), ("p/two".into(), 2, 2)]
        );
        let one = nodes.iter().find(|n| n.path == b"p/one").unwrap();
        assert_eq!(
            (one.hidden[0].by, one.hidden[0].how),
            (1, HiddenBy::Ancestor)
        );
        let p = nodes.iter().find(|n| n.path == b"p").unwrap();
        let hidden: Vec<(usize, usize)> =
            p.hidden.iter().map(|h| (h.version.layer, h.by)).collect();
        assert_eq!(hidden, [(0, 1), (1, 2)]);
    }

    #[test]
    fn a_whiteout_then_a_new_file_in_a_higher_layer() {
        let nodes = merged(vec![
            vec![e("f", File, 1)],
            vec![e("f", Whiteout, 0)],
            vec![e("f", Symlink, 0)],
        ]);
        assert_eq!(survivors(&nodes), [("f".into(), 2, 0)]);
        let f = &nodes[0];
        assert_eq!((f.hidden[0].by, f.hidden[0].how), (1, HiddenBy::Deleted));
    }

    /// 8,000 directories each in the one before, opaque in a second layer
    /// at every level: one path and a small frame per level are held (a
    /// path per level would be 64 MB), and the file at the bottom is
    /// hidden by the lowest opaque directory above it.
    #[test]
    fn a_deep_chain_holds_one_path_and_a_small_frame_per_level() {
        let depth = 8_000;
        let (mut lower, mut upper) = (Vec::new(), Vec::new());
        let mut p = String::new();
        for i in 0..depth {
            if i > 0 {
                p.push('/');
            }
            p.push('d');
            lower.push(e(&p, Dir, 0));
            upper.push(e(&p, OpaqueDir, 0));
            upper.push(e(&p, Dir, 0));
        }
        lower.push(e(&format!("{p}/f"), File, 7));
        let iters = [lower, upper].into_iter().map(|mut l| {
            l.sort_by(entry_order);
            l.into_iter().map(Ok)
        });
        let mut o = Overlay::new(iters.collect()).unwrap();
        let (mut nodes, mut held) = (0, 0);
        let mut last = None;
        while let Some(node) = o.next() {
            last = Some(node.unwrap());
            nodes += 1;
            held = held.max(o.stack.held_bytes() + o.events.len() * 64);
        }
        assert_eq!(nodes, depth + 1);
        assert!(held < 1 << 20, "{held}");
        let f = last.unwrap();
        assert_eq!((f.hidden[0].by, f.hidden[0].how), (1, HiddenBy::Ancestor));
    }

    #[test]
    fn a_whiteout_in_the_same_layer_as_the_file_does_not_delete_it() {
        let nodes = merged(vec![
            vec![e("f", File, 1)],
            vec![e("f", Whiteout, 0), e("f", File, 2)],
        ]);
        assert_eq!(survivors(&nodes), [("f".into(), 1, 2)]);
    }
}
