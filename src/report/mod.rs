//! Reports: a view's data goes out as JSON as it is, or as a Doc of typed
//! spans and charts drawn by the table or markdown renderer. Views say what
//! to show; renderers own units, escaping, cutting and layout, and compute
//! nothing.

pub mod bars;
pub mod chart;
pub mod doc;
pub mod figure;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod progress;
pub mod sbom;
pub mod span;
pub mod table;

use std::io::{self, Write};

use serde::Serialize;

pub use chart::{Bar, Bars, Curve, Layout, Node, Series, Tree, TreeRow};
pub use doc::{Column, Doc, Table};
pub use span::{Span, Spans};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Markdown,
}

/// How the text renderers show figures.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// Raw byte counts instead of SI units (table and markdown; JSON is always raw).
    pub raw_bytes: bool,
}

/// What a command hands the report: its figures, serializable as they are,
/// and how to tell them to a person.
pub trait View: Serialize {
    /// The `command` field of the JSON document.
    const COMMAND: &'static str;
    /// What to show, as typed spans and charts: the renderer formats it.
    fn doc(&self) -> Doc;
}

pub fn render<V: View>(
    out: &mut dyn Write,
    format: Format,
    style: Style,
    view: &V,
) -> io::Result<()> {
    match format {
        Format::Json => json::render(out, V::COMMAND, view),
        Format::Table => table::render(out, &view.doc(), style),
        Format::Markdown => markdown::render(out, &view.doc(), style),
    }
}
