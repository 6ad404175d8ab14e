//! The terminal table (comfy-table), docker-CLI style: no borders, SI units.

use std::io::{self, Write};

use comfy_table::{presets::NOTHING, CellAlignment, Table};

use super::{cells, Style};
use crate::analyze::footprint::Footprint;

fn table(header: &[&str], rows: Vec<Vec<String>>) -> Table {
    let mut t = Table::new();
    t.load_preset(NOTHING).set_header(header.to_vec());
    for row in rows {
        t.add_row(row);
    }
    for i in 1..header.len() {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

fn trimmed(t: &Table) -> String {
    t.lines()
        .map(|l| l.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn footprint(out: &mut dyn Write, style: Style, fp: &Footprint) -> io::Result<()> {
    let mut images = table(&cells::IMAGE_HEADER, cells::image_rows(fp, style));
    if let Some(col) = images.column_mut(1) {
        col.set_cell_alignment(CellAlignment::Left);
    }
    writeln!(out, "{}", trimmed(&images))?;
    writeln!(out)?;
    writeln!(
        out,
        "{}",
        trimmed(&table(&cells::SET_HEADER, cells::set_rows(fp, style)))
    )?;
    writeln!(out)?;
    for line in cells::summary_lines(fp) {
        writeln!(out, "{line}")?;
    }
    for sc in &fp.same_content {
        writeln!(out, "{}", cells::same_content_line(sc, style))?;
    }
    Ok(())
}
