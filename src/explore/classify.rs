//! One path of the merged filesystem as the tree pane sees it from one
//! layer: which version a container built up to that layer sees, whether
//! that layer added, changed or removed it, and whether a later layer
//! wastes it (overwrites or deletes what is seen here).

use crate::analyze::overlay::{Node, Version};
use crate::layer::{Entry, EntryKind};

/// What the tree shows: one layer's own changes, or everything up to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Only the paths the selected layer writes or removes.
    Changes,
    /// The merged filesystem of the layers up to the selected one.
    UpTo,
}

/// A path's status in the selected layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// The layer writes it; nothing below had it.
    Added,
    /// The layer writes it again over what a lower layer had.
    Changed,
    /// The layer deletes it (a whiteout, an opaque directory, a directory
    /// replaced by a file).
    Removed,
    /// A lower layer wrote it; this one leaves it be.
    Unchanged,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Added,
        Status::Changed,
        Status::Removed,
        Status::Unchanged,
    ];

    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// The letter a row shows (what carries the status without colour).
    pub fn letter(self) -> char {
        match self {
            Status::Added => 'A',
            Status::Changed => 'M',
            Status::Removed => 'D',
            Status::Unchanged => ' ',
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Status::Added => "added",
            Status::Changed => "changed",
            Status::Removed => "removed",
            Status::Unchanged => "unchanged",
        }
    }
}

/// A path as seen from layer `layer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen<'n> {
    pub status: Status,
    /// The version seen as of the layer; for a removed path, the version
    /// the layer removed.
    pub version: &'n Version,
    /// The later layer (0-based) that overwrites or deletes the version
    /// seen here: its bytes are then wasted.
    pub wasted_by: Option<usize>,
}

impl Seen<'_> {
    pub fn entry(&self) -> &Entry {
        &self.version.entry
    }

    /// File bytes of the version seen (or removed).
    pub fn bytes(&self) -> u64 {
        self.version.entry.file_bytes()
    }

    pub fn is_dir(&self) -> bool {
        self.version.entry.kind == EntryKind::Dir
    }

    /// Bytes a later layer wastes of what is seen here.
    pub fn wasted(&self) -> u64 {
        if self.wasted_by.is_some() && self.status != Status::Removed {
            self.bytes()
        } else {
            0
        }
    }

    /// Whether the tree shows it in `mode`.
    pub fn shown_in(&self, mode: Mode) -> bool {
        mode == Mode::UpTo || self.status != Status::Unchanged
    }
}

/// The version of `node` a container built from layers `0..=layer` sees,
/// and the layer that hides it later (None: it survives in the image).
pub fn visible_at(node: &Node, layer: usize) -> Option<(&Version, Option<usize>)> {
    if let Some(v) = &node.visible {
        if v.layer <= layer {
            return Some((v, None));
        }
    }
    // At most one lower version is still seen at `layer`: any version
    // written between it and `layer` would have hidden it by then.
    node.hidden
        .iter()
        .find(|h| h.version.layer <= layer && h.by > layer)
        .map(|h| (&h.version, Some(h.by)))
}

/// `node` as seen from `layer` (0-based); None when no layer up to it has
/// the path and it does not remove it.
pub fn seen(node: &Node, layer: usize) -> Option<Seen<'_>> {
    let now = visible_at(node, layer);
    let before = layer.checked_sub(1).and_then(|l| visible_at(node, l));
    match (now, before) {
        (Some((version, wasted_by)), before) => {
            let status = if version.layer < layer {
                Status::Unchanged
            } else if before.is_some() {
                Status::Changed
            } else {
                Status::Added
            };
            Some(Seen {
                status,
                version,
                wasted_by,
            })
        }
        (None, Some((version, _))) => Some(Seen {
            status: Status::Removed,
            version,
            wasted_by: None,
        }),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::overlay::of_entries;
    use crate::layer::Entry;
    use EntryKind::{Dir, File, Whiteout};

    fn nodes(layers: Vec<Vec<Entry>>) -> Vec<Node> {
        of_entries(layers)
            .unwrap()
            .collect::<std::io::Result<_>>()
            .unwrap()
    }

    fn e(path: &str, kind: EntryKind, size: u64) -> Entry {
        Entry::sample(path, kind, size)
    }

    fn at(nodes: &[Node], path: &str, layer: usize) -> Option<(Status, usize, u64, Option<usize>)> {
        let n = nodes.iter().find(|n| n.path == path.as_bytes()).unwrap();
        seen(n, layer).map(|s| (s.status, s.version.layer, s.bytes(), s.wasted_by))
    }

    #[test]
    fn a_file_written_overwritten_then_deleted_reads_layer_by_layer() {
        let n = nodes(vec![
            vec![e("f", File, 10)],
            vec![e("g", File, 1)],
            vec![e("f", File, 20)],
            vec![e("f", Whiteout, 0)],
        ]);
        use Status::*;
        assert_eq!(at(&n, "f", 0), Some((Added, 0, 10, Some(2))));
        assert_eq!(at(&n, "f", 1), Some((Unchanged, 0, 10, Some(2))));
        assert_eq!(at(&n, "f", 2), Some((Changed, 2, 20, Some(3))));
        assert_eq!(at(&n, "f", 3), Some((Removed, 2, 20, None)));
        assert_eq!(at(&n, "g", 0), None);
        assert_eq!(at(&n, "g", 3), Some((Unchanged, 1, 1, None)));
    }

    #[test]
    fn a_directory_deleted_above_removes_what_was_below_it() {
        let n = nodes(vec![
            vec![e("d", Dir, 0), e("d/x", File, 5)],
            vec![e("d", Whiteout, 0)],
            vec![e("d", Dir, 0), e("d/y", File, 7)],
        ]);
        use Status::*;
        assert_eq!(at(&n, "d/x", 0), Some((Added, 0, 5, Some(1))));
        assert_eq!(at(&n, "d/x", 1), Some((Removed, 0, 5, None)));
        assert_eq!(at(&n, "d/x", 2), None);
        assert_eq!(at(&n, "d", 1), Some((Removed, 0, 0, None)));
        assert_eq!(at(&n, "d", 2), Some((Added, 2, 0, None)));
        let x = n.iter().find(|n| n.path == b"d/x").unwrap();
        let s = seen(x, 0).unwrap();
        assert_eq!((s.wasted(), s.shown_in(Mode::Changes)), (5, true));
        assert!(seen(x, 0).is_none_or(|s| s.status != Unchanged));
    }
}
