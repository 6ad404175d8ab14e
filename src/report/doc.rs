//! The report document model: what a view says to a person, as headings,
//! tables, lines, notes and charts made of typed spans. Views build a Doc from
//! their figures; each renderer (table, markdown, and pictures to come) draws
//! any Doc without knowing which view made it.

use super::chart::{Bars, Series, Tree};
use super::span::Spans;

/// How a column's cells line up: text to the left, figures to the right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub header: Spans,
    pub align: Align,
}

impl Column {
    /// A text column (names, paths, platforms): left-aligned.
    pub fn text(header: impl Into<Spans>) -> Column {
        Column {
            header: header.into(),
            align: Align::Left,
        }
    }

    /// A figure column (bytes, counts, percentages): right-aligned.
    pub fn figure(header: impl Into<Spans>) -> Column {
        Column {
            header: header.into(),
            align: Align::Right,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Spans>>,
}

impl Table {
    pub fn new(columns: Vec<Column>) -> Table {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    /// One row, a cell per column.
    pub fn row<C: Into<Spans>>(&mut self, cells: Vec<C>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A section title.
    Heading(Spans),
    Table(Table),
    /// A line of a paragraph.
    Line(Spans),
    /// A remark set apart from the figures (markdown: a quote).
    Note(Spans),
    /// An empty line between sections.
    Blank,
    /// Bars, grouped or stacked, one row per label.
    Bars(Bars),
    /// A size roll-up by directory (du, audit): a listing, and a treemap in pictures.
    Tree(Tree),
    /// Figures over an ordered axis (an image's size over its tags).
    Series(Series),
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Doc {
    pub blocks: Vec<Block>,
}

impl Doc {
    pub fn new() -> Doc {
        Doc::default()
    }

    pub fn heading(&mut self, text: impl Into<Spans>) -> &mut Self {
        self.blocks.push(Block::Heading(text.into()));
        self
    }

    pub fn table(&mut self, table: Table) -> &mut Self {
        self.blocks.push(Block::Table(table));
        self
    }

    pub fn line(&mut self, text: impl Into<Spans>) -> &mut Self {
        self.blocks.push(Block::Line(text.into()));
        self
    }

    pub fn note(&mut self, text: impl Into<Spans>) -> &mut Self {
        self.blocks.push(Block::Note(text.into()));
        self
    }

    pub fn blank(&mut self) -> &mut Self {
        self.blocks.push(Block::Blank);
        self
    }

    pub fn bars(&mut self, bars: Bars) -> &mut Self {
        self.blocks.push(Block::Bars(bars));
        self
    }

    pub fn tree(&mut self, tree: Tree) -> &mut Self {
        self.blocks.push(Block::Tree(tree));
        self
    }

    pub fn series(&mut self, series: Series) -> &mut Self {
        self.blocks.push(Block::Series(series));
        self
    }
}
