//! Where the tree pane's directories come from: the nodes of one subtree of
//! an image's merged filesystem, every layer merged (later layers say what
//! is wasted). `TreeSource` is what the panes ask; `Merged` answers it from
//! the store's verified indexes, reading each layer's index in order and
//! keeping only the subtree asked for (memory: the overlay's, one block per
//! layer, whatever the subtree).

use std::io;

use crate::analyze::merged::merged;
use crate::analyze::overlay::Node;
use crate::image::Image;
use crate::layer::index::{is_below, path_order};
use crate::store::Indexes;

/// The merged nodes at and below a directory, in index order.
pub type Nodes<'a> = Box<dyn Iterator<Item = io::Result<Node>> + 'a>;

/// The merged filesystem, one subtree at a time.
pub trait TreeSource: Sync {
    /// The node of `dir` ("" is the root) and every node below it.
    fn subtree(&self, dir: &[u8]) -> anyhow::Result<Nodes<'_>>;
}

/// An image's merged filesystem read from its layer indexes.
pub struct Merged<'i> {
    indexes: &'i Indexes<'i>,
    image: &'i Image,
}

impl<'i> Merged<'i> {
    pub fn new(indexes: &'i Indexes<'i>, image: &'i Image) -> Merged<'i> {
        Merged { indexes, image }
    }
}

impl TreeSource for Merged<'_> {
    fn subtree(&self, dir: &[u8]) -> anyhow::Result<Nodes<'_>> {
        let all = merged(self.indexes, self.image)?;
        if dir.is_empty() {
            return Ok(Box::new(all));
        }
        Ok(Box::new(within(all, dir.to_vec())))
    }
}

/// The nodes of `all` at or below `dir`: those before it skipped, the
/// stream ended past its subtree (a subtree is contiguous in index order).
pub fn within<I: Iterator<Item = io::Result<Node>>>(
    all: I,
    dir: Vec<u8>,
) -> impl Iterator<Item = io::Result<Node>> {
    let before = dir.clone();
    all.skip_while(move |n| {
        n.as_ref()
            .is_ok_and(|n| path_order(&n.path, &before) == std::cmp::Ordering::Less)
    })
    .take_while(move |n| {
        n.as_ref()
            .map_or(true, |n| n.path == dir || is_below(&n.path, &dir))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::overlay::Overlay;
    use crate::layer::index::entry_order;
    use crate::layer::{Entry, EntryKind};

    #[test]
    fn a_subtree_is_its_directory_and_what_is_below_it_and_nothing_else() {
        let mut layer: Vec<Entry> = ["a", "a/b", "a/b/c", "a-b", "ab", "a.b/x", "b"]
            .iter()
            .map(|p| Entry::sample(p, EntryKind::Dir, 0))
            .collect();
        layer.sort_by(entry_order);
        let all = Overlay::new(vec![layer.into_iter().map(Ok)]).unwrap();
        let paths: Vec<String> = within(all, b"a".to_vec())
            .map(|n| String::from_utf8(n.unwrap().path).unwrap())
            .collect();
        assert_eq!(paths, ["a", "a/b", "a/b/c"]);
    }
}
