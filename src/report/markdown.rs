//! The GitHub-flavoured Markdown renderer, for merge requests and CI
//! summaries. Draws any Doc.

use std::io::{self, Write};

use super::doc::{Align, Block, Doc, Table};
use crate::escape::escape;

fn cell(text: &str) -> String {
    escape(text).replace('|', "\\|")
}

fn draw(out: &mut dyn Write, t: &Table) -> io::Result<()> {
    let header: Vec<String> = t.columns.iter().map(|c| cell(&c.header)).collect();
    writeln!(out, "| {} |", header.join(" | "))?;
    let align: Vec<&str> = t
        .columns
        .iter()
        .map(|c| match c.align {
            Align::Left => "---",
            Align::Right => "---:",
        })
        .collect();
    writeln!(out, "| {} |", align.join(" | "))?;
    for row in &t.rows {
        let row: Vec<String> = row.iter().map(|c| cell(c)).collect();
        writeln!(out, "| {} |", row.join(" | "))?;
    }
    Ok(())
}

pub fn render(out: &mut dyn Write, doc: &Doc) -> io::Result<()> {
    for block in &doc.blocks {
        match block {
            Block::Heading(text) => writeln!(out, "### {}\n", escape(text))?,
            Block::Table(t) => draw(out, t)?,
            Block::Line(text) => writeln!(out, "{}", escape(text))?,
            Block::Note(text) => writeln!(out, "\n> {}", escape(text))?,
            Block::Blank => writeln!(out)?,
        }
    }
    Ok(())
}
