//! One directory of the merged filesystem without decoding the rest: each
//! layer's index seeks to the directory's ancestors first (their whiteouts,
//! opaque markers and replacements decide what below survives), then to the
//! directory, and the overlay merges only that — the path itself, its
//! children (one level, each child's subtree skipped by a seek), or its
//! whole subtree, lazily.

use std::io;

use super::overlay::{Node, Overlay};
use crate::layer::index::{find_slash, is_below};
use crate::layer::{Entry, IndexReader};
use crate::store::LayerEntries;

/// A layer's entries that can jump to a path (an index reader).
pub trait SeekPath: Iterator<Item = io::Result<Entry>> {
    /// The next entry is the first whose path sorts at or after `path`.
    fn seek_path(&mut self, path: &[u8]) -> io::Result<()>;
}

impl SeekPath for IndexReader {
    fn seek_path(&mut self, path: &[u8]) -> io::Result<()> {
        self.seek(path)
    }
}

impl SeekPath for LayerEntries {
    fn seek_path(&mut self, path: &[u8]) -> io::Result<()> {
        self.seek(path)
    }
}

/// How much below the directory to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The path alone.
    Node,
    /// The path and its children.
    Children,
    /// The path and everything below it.
    All,
}

enum Phase {
    /// Yielding the entries of the ancestor that ends at `dir[..ends[i]]`.
    Ancestor(usize),
    /// Yielding the directory's own entries and those below it.
    Dir,
    Done,
}

/// One layer's entries for a subtree: the ancestors' own entries, then the
/// directory's and those in scope below it, in index order.
pub struct Scoped<R> {
    inner: R,
    dir: Vec<u8>,
    /// Where each ancestor's path ends in `dir` ("" first).
    ends: Vec<usize>,
    scope: Scope,
    phase: Phase,
    /// The phase has sought its path.
    sought: bool,
}

impl<R: SeekPath> Scoped<R> {
    fn new(inner: R, dir: &[u8], scope: Scope) -> Scoped<R> {
        let mut ends = Vec::new();
        if !dir.is_empty() {
            ends.push(0);
            let mut at = 0;
            while let Some(i) = find_slash(&dir[at..]) {
                ends.push(at + i);
                at += i + 1;
            }
        }
        Scoped {
            inner,
            dir: dir.to_vec(),
            phase: if ends.is_empty() {
                Phase::Dir
            } else {
                Phase::Ancestor(0)
            },
            ends,
            scope,
            sought: false,
        }
    }

    /// The layer's reader (to count what it read).
    pub fn inner(&self) -> &R {
        &self.inner
    }

    fn next_entry(&mut self) -> io::Result<Option<Entry>> {
        loop {
            match self.phase {
                Phase::Done => return Ok(None),
                Phase::Ancestor(i) => {
                    let path = &self.dir[..self.ends[i]];
                    if !self.sought {
                        self.inner.seek_path(path)?;
                        self.sought = true;
                    }
                    match self.inner.next().transpose()? {
                        Some(e) if e.path == path => return Ok(Some(e)),
                        _ => {
                            self.sought = false;
                            self.phase = match i + 1 < self.ends.len() {
                                true => Phase::Ancestor(i + 1),
                                false => Phase::Dir,
                            };
                        }
                    }
                }
                Phase::Dir => {
                    if !self.sought {
                        self.inner.seek_path(&self.dir)?;
                        self.sought = true;
                    }
                    let Some(e) = self.inner.next().transpose()? else {
                        self.phase = Phase::Done;
                        return Ok(None);
                    };
                    if e.path == self.dir {
                        return Ok(Some(e));
                    }
                    if self.scope == Scope::Node || !is_below(&e.path, &self.dir) {
                        self.phase = Phase::Done;
                        return Ok(None);
                    }
                    if self.scope == Scope::All {
                        return Ok(Some(e));
                    }
                    // Children: a grandchild sends the reader past its child's subtree.
                    let name = if self.dir.is_empty() {
                        0
                    } else {
                        self.dir.len() + 1
                    };
                    match find_slash(&e.path[name..]) {
                        None => return Ok(Some(e)),
                        Some(i) => {
                            let mut past = e.path[..name + i].to_vec();
                            past.push(0); // sorts after every `child/…`, before any sibling
                            self.inner.seek_path(&past)?;
                        }
                    }
                }
            }
        }
    }
}

impl<R: SeekPath> Iterator for Scoped<R> {
    type Item = io::Result<Entry>;

    fn next(&mut self) -> Option<io::Result<Entry>> {
        match self.next_entry() {
            Ok(e) => e.map(Ok),
            Err(e) => {
                self.phase = Phase::Done;
                Some(Err(e))
            }
        }
    }
}

/// The nodes of one directory of the merged filesystem (see `Overlay::subtree`).
pub struct Subtree<R> {
    overlay: Overlay<Scoped<R>>,
    dir: Vec<u8>,
}

impl<R: SeekPath> Overlay<Scoped<R>> {
    /// The merged filesystem at `dir` and below it as far as `scope` says,
    /// `layers` bottom first: the ancestors' markers are read first, then
    /// only the blocks that hold `dir`'s entries. Nodes come in index order,
    /// `dir`'s own first when any layer names it.
    pub fn subtree(layers: Vec<R>, dir: &[u8], scope: Scope) -> io::Result<Subtree<R>> {
        let scoped = layers
            .into_iter()
            .map(|r| Scoped::new(r, dir, scope))
            .collect();
        Ok(Subtree {
            overlay: Overlay::new(scoped)?,
            dir: dir.to_vec(),
        })
    }
}

impl<R: SeekPath> Subtree<R> {
    /// Each layer's reader, bottom first.
    pub fn layers(&self) -> impl Iterator<Item = &R> {
        self.overlay.layers().iter().map(|s| &s.inner)
    }

    /// Each layer's reader back (its block held), for another seek.
    pub fn into_layers(self) -> Vec<R> {
        self.overlay
            .into_layers()
            .into_iter()
            .map(|s| s.inner)
            .collect()
    }
}

impl<R: SeekPath> Iterator for Subtree<R> {
    type Item = io::Result<Node>;

    fn next(&mut self) -> Option<io::Result<Node>> {
        loop {
            match self.overlay.next()? {
                Ok(node) if node.path != self.dir && !is_below(&node.path, &self.dir) => continue,
                found => return Some(found),
            }
        }
    }
}

#[cfg(test)]
mod tests;
