//! Charts a view declares once and every renderer draws: bars (grouped or
//! stacked), a size tree (a listing on a terminal and in markdown, a treemap
//! in pictures) and series over an ordered axis. Figures are bytes, as the
//! view's JSON has them; how they look is the renderer's.

use super::doc::Column;
use super::span::{Span, Spans};

/// How the values of one row make bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One bar per series, side by side (two families' totals for one image).
    Grouped,
    /// One bar per row, its series as segments (shared then unique bytes).
    Stacked,
}

/// Bars of bytes, one row per label.
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    /// What the bars measure.
    pub title: Spans,
    /// The header of the labels (`IMAGE`).
    pub label: Spans,
    pub layout: Layout,
    /// The name of each series: the segments of a stacked bar, the bars of a group.
    pub series: Vec<Spans>,
    /// The name of the figure marked on each bar (footprint's fair share), if any.
    pub mark: Option<Spans>,
    pub rows: Vec<Bar>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: Spans,
    /// One value per series; None: not known (no bar).
    pub values: Vec<Option<u64>>,
    /// The marked figure.
    pub mark: Option<u64>,
}

impl Bars {
    pub fn new(
        title: impl Into<Spans>,
        label: impl Into<Spans>,
        layout: Layout,
        series: Vec<Spans>,
    ) -> Bars {
        Bars {
            title: title.into(),
            label: label.into(),
            layout,
            series,
            mark: None,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, label: impl Into<Spans>, values: Vec<Option<u64>>) -> &mut Bar {
        debug_assert_eq!(values.len(), self.series.len());
        self.rows.push(Bar {
            label: label.into(),
            values,
            mark: None,
        });
        self.rows.last_mut().expect("just pushed")
    }
}

/// A size roll-up by directory, in depth-first order: each row a path at its
/// depth (or the rest of a directory's entries, `… N more`), its bytes and the
/// other cells of its line.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// Every column, the paths' first.
    pub columns: Vec<Column>,
    pub rows: Vec<TreeRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TreeRow {
    /// 0 for the root of the listing.
    pub depth: usize,
    pub node: Node,
    /// What the node holds: a treemap's area, summed by its parent.
    pub bytes: u64,
    /// The layer most of those bytes come from (a picture's colour).
    pub layer: Option<usize>,
    /// The cells of the other columns.
    pub cells: Vec<Spans>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A path or a directory (`Span::Path`, `Span::Dir`).
    Entry(Span),
    /// The entries of a directory not listed one by one.
    More { entries: u64 },
}

impl Tree {
    pub fn new(columns: Vec<Column>) -> Tree {
        Tree {
            columns,
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: TreeRow) {
        debug_assert_eq!(row.cells.len() + 1, self.columns.len());
        self.rows.push(row);
    }
}

/// Figures over an ordered axis: one curve per measure, a point per label.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub title: Spans,
    /// The header of the axis (`TAG`).
    pub axis: Spans,
    /// The points, in order (tags by creation time).
    pub points: Vec<Spans>,
    pub curves: Vec<Curve>,
    /// A limit drawn across (a gate's), if any.
    pub limit: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    pub name: Spans,
    /// One value per point; None: not known.
    pub values: Vec<Option<u64>>,
}
