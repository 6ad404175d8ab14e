//! The explorer's model: the image's layers and figures, which layer and
//! pane are selected, how the tree is looked at, what is on its way, and
//! the popup open. Views read it; only `update` changes it.

use super::classify::Mode;
use super::filter::{Filter, Pattern, Sort};
use super::jobs::Job;
use super::listing::{DirReq, Lens, Name};
use super::tree::{Tree, PAGE};
use crate::analyze::layers::Changes;
use crate::analyze::package_diff::PackageDiff;
use crate::image::{Compression, Image};
use crate::store::Indexes;

/// One layer as the layers pane lists it.
#[derive(Debug, Clone)]
pub struct LayerFacts {
    pub digest: String,
    pub created_by: Option<String>,
    /// None for an engine's uncompressed export.
    pub compressed: Option<u64>,
    /// None until the layer's index is read (the manifest does not say).
    pub uncompressed: Option<u64>,
    pub files: Option<u64>,
}

/// The image, as the header and the layers pane show it.
#[derive(Debug, Clone)]
pub struct Facts {
    pub image: String,
    pub platform: Option<String>,
    pub layers: Vec<LayerFacts>,
}

impl Facts {
    /// From an image and, once they are read, its layers' verified
    /// summaries; before, what the manifest declares (and always for a
    /// foreign layer not at hand).
    pub fn new(image: &Image, indexes: Option<&Indexes>) -> Facts {
        let keeps = image.name.transport.keeps_compressed();
        Facts {
            image: image.name.to_string(),
            platform: image.platform.clone(),
            layers: image
                .layers
                .iter()
                .map(|l| {
                    let s = indexes.and_then(|x| x.summaries().get(&l.digest));
                    LayerFacts {
                        digest: l.digest.to_string(),
                        created_by: l.history.as_ref().and_then(|h| h.created_by.clone()),
                        compressed: match s {
                            Some(s) => (keeps || s.compression != Compression::None)
                                .then_some(s.compressed),
                            None => keeps.then_some(l.size),
                        },
                        uncompressed: s.map(|s| s.uncompressed),
                        files: s.map(|s| s.files),
                    }
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Layers,
    Right,
}

/// What the right-hand pane shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Tree,
    Wasted,
    Packages,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    Filter,
    MinSize,
    Search,
    /// Where to write the selected file or directory.
    Export,
}

impl Ask {
    pub fn title(self) -> &'static str {
        match self {
            Ask::Filter => "Filter by path (glob with * ? [ ], else a substring; empty: off)",
            Ask::MinSize => "Minimum size (e.g. 1MB, 512k; empty: off)",
            Ask::Search => "Search names (glob or substring; n/N: next/previous)",
            Ask::Export => "Write to this new file (a directory is written as a tar)",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Popup {
    /// The keys, scrolled down this many lines.
    Help(u16),
    /// The selected layer's full `created_by`.
    Command,
    Prompt {
        ask: Ask,
        text: String,
        error: Option<String>,
    },
}

/// A list's cursor and first line on screen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scroll {
    pub cursor: usize,
    pub offset: usize,
}

impl Scroll {
    /// Moves by `delta` within `len` lines.
    pub fn step(&mut self, delta: isize, len: usize) {
        let last = len.saturating_sub(1) as isize;
        self.cursor = (self.cursor as isize + delta).clamp(0, last.max(0)) as usize;
    }

    /// Keeps the cursor on a screen of `height` lines.
    pub fn follow(&mut self, height: usize) {
        let height = height.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + height {
            self.offset = self.cursor + 1 - height;
        }
    }
}

/// The packages view of one layer.
#[derive(Debug, Default)]
pub struct PackagesView {
    /// The layer asked for, and its answer when it came.
    pub layer: Option<usize>,
    pub result: Option<Result<PackageDiff, String>>,
    pub warnings: Vec<String>,
    pub scroll: Scroll,
}

pub struct App {
    pub facts: Facts,
    /// The layer figures; None until the first pass is done.
    pub changes: Option<Box<Changes>>,
    pub focus: Focus,
    pub pane: Pane,
    pub popup: Option<Popup>,
    pub lens: Lens,
    pub tree: Tree,
    /// The layers pane's first line on screen.
    pub layers_offset: usize,
    pub wasted: Scroll,
    pub packages: PackagesView,
    pub search: Option<Pattern>,
    /// A search is on its way.
    pub searching: bool,
    /// A row to select once the listings on its way come.
    pub reveal: Option<Vec<Name>>,
    /// Bumped by every new look at the tree; older answers are dropped.
    pub epoch: u64,
    /// The epoch the first pass was asked at.
    pub started_at: u64,
    /// One line for the status bar (a search miss, an error).
    pub status: Option<String>,
    pub quit: bool,
    /// Colours allowed (not NO_COLOR).
    pub color: bool,
    /// The terminal's size, as last drawn or resized.
    pub size: (u16, u16),
    /// While the layers' indexes are read (or scanned): what is under way.
    pub loading: Option<String>,
}

impl App {
    /// The explorer of an image at its first layer, its indexes still to read.
    pub fn new(facts: Facts, color: bool, size: (u16, u16)) -> App {
        let lens = Lens {
            layer: 0,
            mode: Mode::UpTo,
            sort: Sort::Size,
            filter: Filter::default(),
        };
        App {
            facts,
            changes: None,
            focus: Focus::Right,
            pane: Pane::Tree,
            popup: None,
            lens,
            tree: Tree::new(),
            layers_offset: 0,
            wasted: Scroll::default(),
            packages: PackagesView::default(),
            search: None,
            searching: false,
            reveal: None,
            epoch: 0,
            started_at: 0,
            status: None,
            quit: false,
            color,
            size,
            loading: Some("reading the layers".into()),
        }
    }

    /// The indexes are read: the layers' figures, and the job of the first pass.
    pub fn start(&mut self, facts: Facts) -> Vec<Job> {
        self.facts = facts;
        self.loading = None;
        // The first pass looks as the user looks now; a look changed after
        // this is listed again when its answer comes (`done`). Jobs queued
        // meanwhile (a search) keep the epoch they were asked at.
        self.started_at = self.epoch;
        vec![Job::Start {
            lens: self.lens.clone(),
            dirs: vec![DirReq {
                key: Vec::new(),
                limit: PAGE,
                pins: Vec::new(),
                prefetch: true,
            }],
        }]
    }

    pub fn layer_count(&self) -> usize {
        self.facts.layers.len()
    }

    /// Whether anything is on its way (the title shows it).
    pub fn busy(&self) -> bool {
        self.loading.is_some()
            || self.changes.is_none()
            || self.tree.loading()
            || self.searching
            || (self.pane == Pane::Packages && self.packages.result.is_none())
    }
}
