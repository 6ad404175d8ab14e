//! Reports: a view's data goes out as JSON as it is, or as a Doc drawn by the
//! table or markdown renderer. Renderers format; they compute nothing.

pub mod doc;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod progress;
pub mod sbom;
pub mod table;

use std::io::{self, Write};

use serde::Serialize;

pub use doc::{Column, Doc, Table};

use crate::units;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// Raw byte counts instead of SI units (table and markdown; JSON is always raw).
    pub raw_bytes: bool,
}

impl Style {
    /// Bytes as the report shows them, or `-` where they are unknown.
    pub fn bytes(&self, n: Option<u64>) -> String {
        n.map_or_else(|| "-".to_owned(), |n| units::bytes(n, self.raw_bytes))
    }

    pub fn size(&self, n: u64) -> String {
        units::bytes(n, self.raw_bytes)
    }
}

/// What a command hands the report: its figures, serializable as they are,
/// and how to tell them to a person.
pub trait View: Serialize {
    /// The `command` field of the JSON document.
    const COMMAND: &'static str;
    fn doc(&self, style: Style) -> Doc;
}

pub fn render<V: View>(
    out: &mut dyn Write,
    format: Format,
    style: Style,
    view: &V,
) -> io::Result<()> {
    match format {
        Format::Json => json::render(out, V::COMMAND, view),
        Format::Table => table::render(out, &view.doc(style)),
        Format::Markdown => markdown::render(out, &view.doc(style)),
    }
}
