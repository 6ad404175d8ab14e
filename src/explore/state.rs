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
use crate::layer::LayerSummary;

/// One layer as the layers pane lists it.
#[derive(Debug, Clone)]
pub struct LayerFacts {
    pub digest: String,
    pub created_by: Option<String>,
    /// None for an engine's uncompressed export.
    pub compressed: Option<u64>,
    pub uncompressed: u64,
    pub files: u64,
}

/// The image, as the header and the layers pane show it.
#[derive(Debug, Clone)]
pub struct Facts {
    pub image: String,
    pub platform: Option<String>,
    pub layers: Vec<LayerFacts>,
}

impl Facts {
    /// From an image and its layers' verified summaries, in layer order.
    pub fn new(image: &Image, summaries: &[&LayerSummary]) -> Facts {
        let keeps = image.name.transport.keeps_compressed();
        Facts {
            image: image.name.to_string(),
            platform: image.platform.clone(),
            layers: image
                .layers
                .iter()
                .zip(summaries)
                .map(|(l, s)| LayerFacts {
                    digest: l.digest.to_string(),
                    created_by: l.history.as_ref().and_then(|h| h.created_by.clone()),
                    compressed: (keeps || s.compression != Compression::None)
                        .then_some(s.compressed),
                    uncompressed: s.uncompressed,
                    files: s.files,
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
}

impl Ask {
    pub fn title(self) -> &'static str {
        match self {
            Ask::Filter => "Filter by path (glob with * ? [ ], else a substring; empty: off)",
            Ask::MinSize => "Minimum size (e.g. 1MB, 512k; empty: off)",
            Ask::Search => "Search names (glob or substring; n/N: next/previous)",
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
    /// One line for the status bar (a search miss, an error).
    pub status: Option<String>,
    pub quit: bool,
    /// Colours allowed (not NO_COLOR).
    pub color: bool,
    /// The terminal's size, as last drawn or resized.
    pub size: (u16, u16),
}

impl App {
    /// The explorer of an image at its first layer, and the job that fills it.
    pub fn new(facts: Facts, color: bool, size: (u16, u16)) -> (App, Vec<Job>) {
        let lens = Lens {
            layer: 0,
            mode: Mode::UpTo,
            sort: Sort::Size,
            filter: Filter::default(),
        };
        let start = Job::Start {
            lens: lens.clone(),
            dirs: vec![DirReq {
                key: Vec::new(),
                limit: PAGE,
                pins: Vec::new(),
            }],
        };
        let app = App {
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
            status: None,
            quit: false,
            color,
            size,
        };
        (app, vec![start])
    }

    pub fn layer_count(&self) -> usize {
        self.facts.layers.len()
    }

    /// Whether anything is on its way (the title shows it).
    pub fn busy(&self) -> bool {
        self.changes.is_none()
            || self.tree.loading()
            || self.searching
            || (self.pane == Pane::Packages && self.packages.result.is_none())
    }
}
