//! The terminal renderer (comfy-table), docker-CLI style: no borders, text
//! columns left, figures right. Draws any Doc.

use std::io::{self, Write};

use comfy_table::{presets::NOTHING, CellAlignment};

use super::doc::{Align, Block, Doc, Table};
use crate::escape::escape;

fn draw(t: &Table) -> String {
    let mut table = comfy_table::Table::new();
    table
        .load_preset(NOTHING)
        .set_header(t.columns.iter().map(|c| c.header.as_str()));
    for row in &t.rows {
        table.add_row(row.iter().map(|c| escape(c)));
    }
    for (i, c) in t.columns.iter().enumerate() {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(match c.align {
                Align::Left => CellAlignment::Left,
                Align::Right => CellAlignment::Right,
            });
        }
    }
    table
        .lines()
        .map(|l| l.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn render(out: &mut dyn Write, doc: &Doc) -> io::Result<()> {
    for block in &doc.blocks {
        match block {
            Block::Heading(text) => writeln!(out, "{}", escape(text))?,
            Block::Table(t) => writeln!(out, "{}", draw(t))?,
            Block::Line(text) | Block::Note(text) => writeln!(out, "{}", escape(text))?,
            Block::Blank => writeln!(out)?,
        }
    }
    Ok(())
}
