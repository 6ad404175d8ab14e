//! Disk usage of a filesystem tree (an image's merged filesystem, or one
//! layer's own entries): bytes and file counts rolled up by directory, with
//! the layers the bytes come from, aggregated once and cut to a depth and a
//! number of children per directory.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::layer::index::is_below;
use crate::layer::{Entry, EntryKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Dir,
    File,
}

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

/// Aggregation state: one node per path up to the depth limit.
#[derive(Default)]
struct Agg {
    kind: Option<NodeKind>,
    bytes: u64,
    files: u64,
    by_layer: BTreeMap<usize, u64>,
    children: BTreeMap<Vec<u8>, Agg>,
}

pub struct DuBuilder {
    root: Vec<u8>,
    depth: usize,
    tree: Agg,
    found: bool,
}

impl DuBuilder {
    /// `root`: the subtree to measure ("" for the whole filesystem);
    /// `depth`: levels of directories listed below it.
    pub fn new(root: &[u8], depth: usize) -> DuBuilder {
        DuBuilder {
            root: root.to_vec(),
            depth,
            tree: Agg {
                kind: Some(NodeKind::Dir),
                ..Agg::default()
            },
            found: root.is_empty(),
        }
    }

    /// Adds one entry that exists in the tree, written by `layer` (0-based).
    pub fn add(&mut self, layer: usize, e: &Entry) {
        if e.kind.is_marker() {
            return;
        }
        let rel: &[u8] = if e.path == self.root {
            self.found = true;
            if e.kind != EntryKind::Dir {
                self.tree.kind = Some(NodeKind::File);
            }
            &[]
        } else if is_below(&e.path, &self.root) {
            self.found = true;
            if self.root.is_empty() {
                &e.path
            } else {
                &e.path[self.root.len() + 1..]
            }
        } else {
            return;
        };
        let bytes = e.file_bytes();
        let file = u64::from(e.kind == EntryKind::File);
        let mut node = &mut self.tree;
        let add = |n: &mut Agg| {
            n.bytes += bytes;
            n.files += file;
            if bytes > 0 {
                *n.by_layer.entry(layer).or_default() += bytes;
            }
        };
        add(node);
        if rel.is_empty() {
            return;
        }
        let parts: Vec<&[u8]> = rel.split(|&b| b == b'/').collect();
        for (depth, part) in parts.iter().enumerate() {
            if depth == self.depth {
                // Below the depth limit: counted in the ancestors, not listed.
                return;
            }
            node = node.children.entry(part.to_vec()).or_default();
            add(node);
            if depth + 1 == parts.len() {
                node.kind = Some(match e.kind {
                    EntryKind::Dir => NodeKind::Dir,
                    _ => NodeKind::File,
                });
            } else if node.kind.is_none() {
                node.kind = Some(NodeKind::Dir);
            }
        }
    }

    /// Whether anything at or below the root was seen.
    pub fn found(&self) -> bool {
        self.found
    }

    /// The tree, children sorted by bytes (then path), `top` per directory.
    pub fn finish(self, top: usize) -> DuNode {
        let root = format!("/{}", String::from_utf8_lossy(&self.root));
        node(root, self.tree, top)
    }
}

fn node(path: String, agg: Agg, top: usize) -> DuNode {
    let mut by_layer: Vec<LayerBytes> = agg
        .by_layer
        .into_iter()
        .map(|(layer, bytes)| LayerBytes {
            layer: layer + 1,
            bytes,
        })
        .collect();
    by_layer.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.layer.cmp(&b.layer)));
    let mut children: Vec<(Vec<u8>, Agg)> = agg.children.into_iter().collect();
    children.sort_by(|a, b| b.1.bytes.cmp(&a.1.bytes).then(a.0.cmp(&b.0)));
    let mut more = Rest::default();
    let listed: Vec<DuNode> = children
        .into_iter()
        .enumerate()
        .filter_map(|(i, (name, child))| {
            if i >= top {
                more.entries += 1;
                more.bytes += child.bytes;
                more.files += child.files;
                return None;
            }
            let sep = if path.ends_with('/') { "" } else { "/" };
            let child_path = format!("{path}{sep}{}", String::from_utf8_lossy(&name));
            Some(node(child_path, child, top))
        })
        .collect();
    DuNode {
        path,
        kind: agg.kind.unwrap_or(NodeKind::Dir),
        bytes: agg.bytes,
        files: agg.files,
        by_layer,
        children: listed,
        more: (more.entries > 0).then_some(more),
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
        let mut b = DuBuilder::new(b"", 1);
        b.add(0, &e("usr", EntryKind::Dir, 0));
        b.add(0, &e("usr/lib/a.so", EntryKind::File, 100));
        b.add(1, &e("usr/lib/b.so", EntryKind::File, 300));
        b.add(1, &e("usr/bin/x", EntryKind::HardLink, 300));
        b.add(0, &e("etc/os-release", EntryKind::File, 5));
        b.add(0, &e("big", EntryKind::File, 1000));
        let root = b.finish(2);
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
        let mut b = DuBuilder::new(b"usr/lib", 2);
        b.add(0, &e("usr/libexec/x", EntryKind::File, 7));
        b.add(0, &e("usr/lib/a", EntryKind::File, 3));
        let root = b.finish(10);
        assert!(b_found_helper());
        assert_eq!((root.path.as_str(), root.bytes), ("/usr/lib", 3));
        assert_eq!(root.children[0].path, "/usr/lib/a");
    }

    fn b_found_helper() -> bool {
        let mut b = DuBuilder::new(b"nope", 2);
        b.add(0, &e("usr/x", EntryKind::File, 1));
        !b.found()
    }
}
