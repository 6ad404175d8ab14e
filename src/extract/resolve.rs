//! Which layer's entry a path of an image names, in the merged filesystem
//! or in one layer alone: symbolic links followed as the kernel follows them
//! in a container (relative to their directory, `..` stopping at the root),
//! hard links to their target as of their layer, at most 40 links in all
//! (Linux's limit), so a loop is an error, never a hang.

use std::collections::VecDeque;

use crate::analyze::overlay::Overlay;
use crate::analyze::subtree::Scope;
use crate::error::Error;
use crate::image::Image;
use crate::layer::index::rfind_slash;
use crate::layer::{Entry, EntryKind};
use crate::store::{Indexes, LayerEntries};

/// Links followed at most (symbolic and hard together), as Linux's MAXSYMLINKS.
pub const MAX_LINKS: usize = 40;

/// Where lookups look: some layers of an image, bottom first.
pub struct View<'a> {
    indexes: &'a Indexes<'a>,
    image: &'a Image,
    /// Positions in the image, bottom first.
    layers: Vec<usize>,
    /// The layers' readers, kept between lookups (their blocks held).
    readers: Option<Vec<LayerEntries>>,
    /// One layer alone: hard links resolve within it.
    alone: bool,
}

/// A path resolved: its own path (links followed), the layer whose entry
/// shows there, and that entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub path: Vec<u8>,
    pub layer: usize,
    pub entry: Entry,
}

impl<'a> View<'a> {
    /// The merged filesystem of every layer.
    pub fn merged(indexes: &'a Indexes<'a>, image: &'a Image) -> View<'a> {
        View::of(indexes, image, (0..image.layers.len()).collect(), false)
    }

    /// Layer `n` (0-based) alone: what its tar holds.
    pub fn layer(indexes: &'a Indexes<'a>, image: &'a Image, n: usize) -> View<'a> {
        View::of(indexes, image, vec![n], true)
    }

    fn of(indexes: &'a Indexes<'a>, image: &'a Image, layers: Vec<usize>, alone: bool) -> View<'a> {
        View {
            indexes,
            image,
            layers,
            readers: None,
            alone,
        }
    }

    /// What a hard link in layer `top` sees: the layers up to it (or the
    /// one layer of a view of one).
    fn as_of(&self, top: usize) -> View<'a> {
        if self.alone {
            return View::of(self.indexes, self.image, self.layers.clone(), true);
        }
        View::of(self.indexes, self.image, (0..=top).collect(), false)
    }

    pub fn image(&self) -> &'a Image {
        self.image
    }

    pub fn indexes(&self) -> &'a Indexes<'a> {
        self.indexes
    }

    /// The layers looked at, bottom first.
    pub fn layers(&self) -> &[usize] {
        &self.layers
    }

    /// The layers' readers: those kept from the last lookup, or opened.
    fn readers(&mut self) -> anyhow::Result<Vec<LayerEntries>> {
        match self.readers.take() {
            Some(r) => Ok(r),
            None => Ok(self.indexes.open_layers_of(self.image, &self.layers)?),
        }
    }

    /// What the view shows at `path`, and the layer (position in the image)
    /// it comes from; None when nothing is there (or it was deleted).
    pub fn lookup(&mut self, path: &[u8]) -> anyhow::Result<Option<(usize, Entry)>> {
        let readers = self.readers()?;
        let mut sub = Overlay::subtree(readers, path, Scope::Node).map_err(index_error)?;
        let mut found = None;
        for node in sub.by_ref() {
            let node = node.map_err(index_error)?;
            if node.path == path {
                found = node.visible.map(|v| (self.layers[v.layer], v.entry));
            }
        }
        self.readers = Some(sub.into_layers());
        Ok(found)
    }

    /// `path` as a directory no layer names, when the view shows something
    /// below it: found in the layer of the first thing below.
    fn implicit_dir(&mut self, path: &[u8]) -> anyhow::Result<Option<Found>> {
        let readers = self.readers()?;
        let mut sub = Overlay::subtree(readers, path, Scope::Children).map_err(index_error)?;
        let mut found = None;
        for node in sub.by_ref() {
            let node = node.map_err(index_error)?;
            if let Some(v) = node.visible.filter(|_| node.path != path) {
                found = Some(Found {
                    path: path.to_vec(),
                    layer: self.layers[v.layer],
                    entry: dir_entry(path.to_vec()),
                });
                break;
            }
        }
        self.readers = Some(sub.into_layers());
        Ok(found)
    }
}

fn index_error(e: std::io::Error) -> Error {
    crate::analyze::merged::index_error(e)
}

/// `path` as people read it: rooted, lossy.
pub fn shown(path: &[u8]) -> String {
    format!("/{}", String::from_utf8_lossy(path))
}

/// The error for `path` of the view's image.
pub fn bad_path(image: &Image, path: &[u8], reason: impl Into<String>) -> anyhow::Error {
    Error::BadPath {
        image: image.name.to_string(),
        path: shown(path),
        reason: reason.into(),
    }
    .into()
}

/// The path's components, as `/` splits them.
fn components(path: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    path.split(|&b| b == b'/')
}

/// Resolves `path` in `view`: every symbolic link on the way and at its end
/// followed, then a hard link at the end to its target. The result is a
/// regular file, a directory, or another kind a link does not continue.
pub fn resolve(view: &mut View, path: &[u8]) -> anyhow::Result<Found> {
    let image = view.image();
    let bad = |reason: &str| bad_path(image, path, reason);
    let mut links = 0;
    let mut todo: VecDeque<Vec<u8>> = components(path).map(<[u8]>::to_vec).collect();
    let mut cur: Vec<u8> = Vec::new();
    while let Some(part) = todo.pop_front() {
        match &part[..] {
            b"" | b"." => continue,
            b".." => {
                cur.truncate(rfind_slash(&cur).unwrap_or(0));
                continue;
            }
            _ => {}
        }
        let mut next = cur.clone();
        if !next.is_empty() {
            next.push(b'/');
        }
        next.extend_from_slice(&part);
        let more = !todo.iter().all(|p| p.is_empty() || p == b".");
        let Some((layer, entry)) = view.lookup(&next)? else {
            // A directory a tar leaves implicit (only what is below it is
            // named); what is below decides.
            if more {
                cur = next;
                continue;
            }
            return match view.implicit_dir(&next)? {
                Some(found) => Ok(found),
                None => Err(bad("no such file or directory")),
            };
        };
        match entry.kind {
            EntryKind::Symlink => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(bad("too many levels of symbolic links"));
                }
                let target = entry.link.unwrap_or_default();
                if target.is_empty() {
                    return Err(bad("no such file or directory"));
                }
                if target.starts_with(b"/") {
                    cur.clear();
                }
                for c in components(&target).rev() {
                    todo.push_front(c.to_vec());
                }
            }
            EntryKind::Dir => cur = next,
            _ if more => {
                return Err(bad("not a directory"));
            }
            _ => {
                let found = Found {
                    path: next,
                    layer,
                    entry,
                };
                return follow_hard_links(view, found, links, path);
            }
        }
    }
    // A directory (or the root, which every image has).
    match view.lookup(&cur)? {
        Some((layer, entry)) => Ok(Found {
            path: cur,
            layer,
            entry,
        }),
        None if cur.is_empty() => Ok(Found {
            path: cur,
            layer: view.layers().first().copied().unwrap_or(0),
            entry: dir_entry(Vec::new()),
        }),
        None => view
            .implicit_dir(&cur)?
            .ok_or_else(|| bad("no such file or directory")),
    }
}

/// A hard link's target as its layer saw it, and so on while it is one.
fn follow_hard_links(
    view: &View,
    mut found: Found,
    mut links: usize,
    asked: &[u8],
) -> anyhow::Result<Found> {
    let image = view.image();
    while found.entry.kind == EntryKind::HardLink {
        links += 1;
        if links > MAX_LINKS {
            return Err(bad_path(image, asked, "too many levels of links"));
        }
        let target = found.entry.link.clone().unwrap_or_default();
        let mut below = view.as_of(found.layer);
        let Some((layer, entry)) = below.lookup(&target)? else {
            return Err(bad_path(
                image,
                asked,
                format!("a hard link to {}, which is not there", shown(&target)),
            ));
        };
        found = Found {
            path: target,
            layer,
            entry,
        };
    }
    Ok(found)
}

/// A directory no layer names (the root, or one a tar leaves implicit).
fn dir_entry(path: Vec<u8>) -> Entry {
    Entry {
        path,
        kind: EntryKind::Dir,
        size: 0,
        mode: 0o755,
        uid: 0,
        gid: 0,
        mtime: 0,
        link: None,
        hash: None,
    }
}
