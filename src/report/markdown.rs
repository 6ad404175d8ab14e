//! GitHub-flavoured Markdown tables, for PR comments and CI summaries.

use std::io::{self, Write};

use super::{cells, Style};
use crate::analyze::footprint::Footprint;

fn table(out: &mut dyn Write, header: &[&str], rows: Vec<Vec<String>>) -> io::Result<()> {
    writeln!(out, "| {} |", header.join(" | "))?;
    let align: Vec<&str> = (0..header.len())
        .map(|i| {
            if i == 0 || header[i] == "PLATFORM" {
                "---"
            } else {
                "---:"
            }
        })
        .collect();
    writeln!(out, "| {} |", align.join(" | "))?;
    for row in rows {
        let row: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
        writeln!(out, "| {} |", row.join(" | "))?;
    }
    Ok(())
}

pub fn footprint(out: &mut dyn Write, style: Style, fp: &Footprint) -> io::Result<()> {
    table(out, &cells::IMAGE_HEADER, cells::image_rows(fp, style))?;
    writeln!(out)?;
    table(out, &cells::SET_HEADER, cells::set_rows(fp, style))?;
    writeln!(out)?;
    for line in cells::summary_lines(fp) {
        writeln!(out, "{line}")?;
    }
    for sc in &fp.same_content {
        writeln!(out, "\n> {}", cells::same_content_line(sc, style))?;
    }
    Ok(())
}
