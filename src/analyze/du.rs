//! Disk usage of a filesystem tree (an image's merged filesystem, or one
//! layer's own entries): bytes and file counts rolled up by directory, with
//! the layers the bytes come from, aggregated once and cut to a depth and a
//! number of children per directory.

use serde::Serialize;

use super::path;
pub use super::rollup::NodeKind;
use super::rollup::{Node, Rollup, Totals};
use crate::layer::{Entry, EntryKind};

/// Bytes of a subtree that one layer wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LayerBytes {
    /// 1-based position in the manifest.
    pub layer: usize,
    pub bytes: u64,
}

/// What a directory's children beyond `--top` add up to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Rest {
    pub entries: u64,
    pub bytes: u64,
    pub files: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuNode {
    /// Absolute, as a container sees it (`/usr/lib`).
    pub path: String,
    pub kind: NodeKind,
    /// Regular-file bytes in the subtree (hard links counted once).
    pub bytes: u64,
    /// Regular files in the subtree.
    pub files: u64,
    /// The subtree's bytes by the layer that wrote them, most first.
    pub by_layer: Vec<LayerBytes>,
    pub children: Vec<DuNode>,
    /// Children cut by `--top` (counted in this node, not listed).
    pub more: Option<Rest>,
}

/// A subtree's figures while it is rolled up.
#[derive(Debug, Default)]
pub struct DuTally {
    bytes: u64,
    files: u64,
    /// (0-based layer, bytes), by layer.
    by_layer: Vec<(usize, u64)>,
}

impl Totals for DuTally {
    fn absorb(&mut self, other: &Self) {
        self.bytes += other.bytes;
        self.files += other.files;
        for &(layer, bytes) in &other.by_layer {
            match self.by_layer.binary_search_by_key(&layer, |l| l.0) {
                Ok(i) => self.by_layer[i].1 += bytes,
                Err(i) => self.by_layer.insert(i, (layer, bytes)),
            }
        }
    }

    fn rank(&self) -> u64 {
        self.bytes
    }
}

pub struct DuBuilder {
    root: Vec<u8>,
    rollup: Rollup<DuTally>,
}

impl DuBuilder {
    /// `root`: the subtree to measure ("" for the whole filesystem);
    /// `depth`: levels of directories listed below it; `top`: children
    /// listed per directory.
    pub fn new(root: &[u8], depth: usize, top: usize) -> DuBuilder {
        DuBuilder {
            root: root.to_vec(),
            rollup: Rollup::new(root, depth, top),
        }
    }

    /// Adds one entry that exists in the tree, written by `layer` (0-based).
    pub fn add(&mut self, layer: usize, e: &Entry) {
        if e.kind.is_marker() {
            return;
        }
        let bytes = e.file_bytes();
        let tally = DuTally {
            bytes,
            files: u64::from(e.kind == EntryKind::File),
            by_layer: if bytes > 0 {
                vec![(layer, bytes)]
            } else {
                Vec::new()
            },
        };
        let kind = match e.kind {
            EntryKind::Dir => NodeKind::Dir,
            _ => NodeKind::File,
        };
        self.rollup.add(&e.path, kind, tally);
    }

    /// Whether anything at or below the root was seen.
    pub fn found(&self) -> bool {
        self.rollup.found()
    }

    /// The tree, children sorted by bytes (then name).
    pub fn finish(self) -> DuNode {
        let root = path::show(&self.root);
        du_node(root.clone(), root, self.rollup.finish())
    }
}

/// `shown`: the node's path as built from its names (not yet cut). The
/// recursion is as deep as the tree kept: at most rollup::MAX_DEPTH.
fn du_node(shown: String, path: String, n: Node<DuTally>) -> DuNode {
    let mut by_layer: Vec<LayerBytes> = n
        .tally
        .by_layer
        .iter()
        .map(|&(layer, bytes)| LayerBytes {
            layer: layer + 1,
            bytes,
        })
        .collect();
    by_layer.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.layer.cmp(&b.layer)));
    let children = n
        .children
        .into_iter()
        .map(|c| {
            let sep = if shown.ends_with('/') { "" } else { "/" };
            let child = format!("{shown}{sep}{}", c.name);
            du_node(child.clone(), path::cap(child), c)
        })
        .collect();
    DuNode {
        path,
        kind: n.kind,
        bytes: n.tally.bytes,
        files: n.tally.files,
        by_layer,
        children,
        more: n.more.map(|m| Rest {
            entries: m.entries,
            bytes: m.tally.bytes,
            files: m.tally.files,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(path: &str, kind: EntryKind, size: u64) -> Entry {
        Entry::sample(path, kind, size)
    }

    #[test]
    fn rolls_up_by_directory_to_a_depth_with_layer_shares() {
        let mut b = DuBuilder::new(b"", 1, 2);
        b.add(0, &e("usr", EntryKind::Dir, 0));
        b.add(0, &e("usr/lib/a.so", EntryKind::File, 100));
        b.add(1, &e("usr/lib/b.so", EntryKind::File, 300));
        b.add(1, &e("usr/bin/x", EntryKind::HardLink, 300));
        b.add(0, &e("etc/os-release", EntryKind::File, 5));
        b.add(0, &e("big", EntryKind::File, 1000));
        let root = b.finish();
        assert_eq!((root.bytes, root.files), (1405, 4));
        let names: Vec<&str> = root.children.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(names, ["/big", "/usr"]);
        let usr = &root.children[1];
        assert_eq!((usr.bytes, usr.files), (400, 2));
        assert_eq!(
            usr.by_layer,
            [
                LayerBytes {
                    layer: 2,
                    bytes: 300
                },
                LayerBytes {
                    layer: 1,
                    bytes: 100
                }
            ]
        );
        assert!(usr.children.is_empty() && usr.more.is_none());
        assert_eq!(
            root.more,
            Some(Rest {
                entries: 1,
                bytes: 5,
                files: 1
            })
        );
    }

    #[test]
    fn a_subtree_is_measured_alone() {
        let mut b = DuBuilder::new(b"usr/lib", 2, 10);
        b.add(0, &e("usr/libexec/x", EntryKind::File, 7));
        b.add(0, &e("usr/lib/a", EntryKind::File, 3));
        let root = b.finish();
        assert!(b_found_helper());
        assert_eq!((root.path.as_str(), root.bytes), ("/usr/lib", 3));
        assert_eq!(root.children[0].path, "/usr/lib/a");
    }

    fn b_found_helper() -> bool {
        let mut b = DuBuilder::new(b"nope", 2, 10);
        b.add(0, &e("usr/x", EntryKind::File, 1));
        !b.found()
    }
}
