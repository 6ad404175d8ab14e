//! Where the tree pane's directories come from: the nodes of one subtree of
//! an image's merged filesystem, every layer merged (later layers say what
//! is wasted). `TreeSource` is what the panes ask; `Merged` answers it from
//! the store's verified indexes, each layer's index seeking to the
//! directory (its ancestors' markers first), so a directory costs what is
//! below it, not what comes before it (memory: a block per layer).

use std::io;

use crate::analyze::merged::{merged, subtree};
use crate::analyze::overlay::Node;
use crate::analyze::subtree::Scope;
use crate::image::Image;
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
        if dir.is_empty() {
            return Ok(Box::new(merged(self.indexes, self.image)?));
        }
        Ok(Box::new(subtree(
            self.indexes,
            self.image,
            dir,
            Scope::All,
        )?))
    }
}
