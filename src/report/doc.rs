//! The report document model: what a view says to a person, as tables,
//! lines and notes. Views build a Doc from their figures; the table and
//! markdown renderers draw any Doc without knowing which view made it.

/// How a column's cells line up: text to the left, figures to the right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub header: String,
    pub align: Align,
}

impl Column {
    /// A text column (names, paths, platforms): left-aligned.
    pub fn text(header: &str) -> Column {
        Column {
            header: header.to_owned(),
            align: Align::Left,
        }
    }

    /// A figure column (bytes, counts, percentages): right-aligned.
    pub fn figure(header: &str) -> Column {
        Column {
            header: header.to_owned(),
            align: Align::Right,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(columns: Vec<Column>) -> Table {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.rows.push(cells);
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Block {
    /// A section title.
    Heading(String),
    Table(Table),
    /// A plain line of text.
    Line(String),
    /// A remark set apart from the figures (markdown: a quote).
    Note(String),
    /// An empty line between sections.
    Blank,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Doc {
    pub blocks: Vec<Block>,
}

impl Doc {
    pub fn new() -> Doc {
        Doc::default()
    }

    pub fn heading(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Heading(text.into()));
        self
    }

    pub fn table(&mut self, table: Table) -> &mut Self {
        self.blocks.push(Block::Table(table));
        self
    }

    pub fn line(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Line(text.into()));
        self
    }

    pub fn note(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Note(text.into()));
        self
    }

    pub fn blank(&mut self) -> &mut Self {
        self.blocks.push(Block::Blank);
        self
    }
}
