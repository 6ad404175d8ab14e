//! The terminal renderer (comfy-table), docker-CLI style: no borders, text
//! columns left, figures right; every name, path and command escaped (no
//! control, bidi or zero-width character raw) and cut at a display cap —
//! names and paths in the middle, so that two distinct ones never print
//! alike, commands at their end; trees indented by depth; bars in Unicode
//! block characters. Draws any Doc.

use std::io::{self, Write};

use comfy_table::{presets::NOTHING, CellAlignment};

use super::bars;
use super::chart::{Bars, Node, Series, Tree};
use super::doc::{Align, Block, Column, Doc, Table};
use super::figure::{dir, figure};
use super::span::{Span, Spans};
use super::Style;
use crate::cut::{self, Measure};
use crate::escape::{escape, one_line};

/// Display caps, in terminal columns, of text from inputs.
#[derive(Clone, Copy)]
struct Caps {
    name: usize,
    path: usize,
    command: usize,
}

/// In a table cell: the columns beside it must stay on the screen.
const CELL: Caps = Caps {
    name: 80,
    path: 70,
    command: 48,
};

/// In a line of its own.
const LINE: Caps = Caps {
    name: 200,
    path: 200,
    command: 80,
};

fn span(s: &Span, style: Style, caps: Caps) -> String {
    if let Some(f) = figure(s, style) {
        return f;
    }
    let middle = |t: &str, max| cut::middle(&escape(t), max, Measure::Columns).into_owned();
    match s {
        Span::Name(t) => middle(t, caps.name),
        Span::Path(t) => middle(t, caps.path),
        Span::Dir(t) => middle(&dir(t), caps.path),
        Span::Command(t) => {
            cut::end(&escape(&one_line(t)), caps.command, Measure::Columns).into_owned()
        }
        Span::Local(t) => escape(t).into_owned(),
        _ => unreachable!("figure() formats every other span"),
    }
}

fn text(spans: &Spans, style: Style, caps: Caps) -> String {
    spans.0.iter().map(|s| span(s, style, caps)).collect()
}

/// Rows of text as a borderless grid, without trailing blanks.
fn grid(header: Option<Vec<String>>, align: &[Align], rows: Vec<Vec<String>>) -> String {
    let mut table = comfy_table::Table::new();
    table.load_preset(NOTHING);
    if let Some(h) = header {
        table.set_header(h);
    }
    for row in rows {
        table.add_row(row);
    }
    for (i, a) in align.iter().enumerate() {
        if let Some(col) = table.column_mut(i) {
            col.set_cell_alignment(match a {
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

/// Rows under the headers of `columns`, aligned as they say.
fn under(columns: &[Column], rows: Vec<Vec<String>>, style: Style) -> String {
    let header = columns.iter().map(|c| text(&c.header, style, CELL));
    let align: Vec<Align> = columns.iter().map(|c| c.align).collect();
    grid(Some(header.collect()), &align, rows)
}

fn draw(t: &Table, style: Style) -> String {
    let rows = t
        .rows
        .iter()
        .map(|r| r.iter().map(|c| text(c, style, CELL)).collect())
        .collect();
    under(&t.columns, rows, style)
}

/// The label of a tree's row: indented two `space`s a level.
pub fn tree_label(
    depth: usize,
    node: &Node,
    space: char,
    show: impl Fn(&Span) -> String,
) -> String {
    let indent: String = std::iter::repeat_n(space, 2 * depth).collect();
    match node {
        Node::Entry(s) => format!("{indent}{}", show(s)),
        Node::More { entries } => format!("{indent}… {entries} more"),
    }
}

fn draw_tree(t: &Tree, style: Style) -> String {
    let rows = t
        .rows
        .iter()
        .map(|r| {
            let mut row = vec![tree_label(r.depth, &r.node, ' ', |s| span(s, style, CELL))];
            row.extend(r.cells.iter().map(|c| text(c, style, CELL)));
            row
        })
        .collect();
    under(&t.columns, rows, style)
}

/// The chart's title and, for stacked bars, which glyph is which.
pub fn bars_title(b: &Bars, show: impl Fn(&Spans) -> String) -> String {
    let legend: Vec<String> = bars::legend(b)
        .into_iter()
        .map(|(glyph, name)| format!("{glyph} {}", show(name)))
        .collect();
    if legend.is_empty() {
        show(&b.title)
    } else {
        format!("{}: {}", show(&b.title), legend.join(", "))
    }
}

fn draw_bars(b: &Bars, style: Style) -> String {
    let show = |s: &Spans| text(s, style, CELL);
    let grouped = b.series.len() > 1 && b.layout == super::chart::Layout::Grouped;
    let rows = bars::lines(b)
        .into_iter()
        .map(|l| {
            let mut row = vec![l.label.map(show).unwrap_or_default()];
            if grouped {
                row.push(l.series.map(show).unwrap_or_default());
            }
            row.push(l.bar);
            row.push(figure(&Span::Bytes(l.value), style).unwrap_or_default());
            row
        })
        .collect();
    let mut align = vec![Align::Left; if grouped { 3 } else { 2 }];
    align.push(Align::Right);
    format!(
        "{}\n{}",
        bars_title(b, |s| text(s, style, LINE)),
        grid(None, &align, rows)
    )
}

fn draw_series(s: &Series, style: Style) -> String {
    let mut header = vec![text(&s.axis, style, CELL)];
    header.extend(s.curves.iter().map(|c| text(&c.name, style, CELL)));
    let mut align = vec![Align::Left];
    align.extend(s.curves.iter().map(|_| Align::Right));
    let rows = s
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut row = vec![text(p, style, CELL)];
            row.extend(s.curves.iter().map(|c| {
                text(
                    &Span::Bytes(c.values.get(i).copied().flatten()).into(),
                    style,
                    CELL,
                )
            }));
            row
        })
        .collect();
    let mut out = format!(
        "{}\n{}",
        text(&s.title, style, LINE),
        grid(Some(header), &align, rows)
    );
    if let Some(limit) = s.limit {
        out.push_str(&format!(
            "\nlimit: {}",
            text(&Span::size(limit).into(), style, LINE)
        ));
    }
    out
}

pub fn render(out: &mut dyn Write, doc: &Doc, style: Style) -> io::Result<()> {
    for block in &doc.blocks {
        match block {
            Block::Heading(t) | Block::Line(t) | Block::Note(t) => {
                writeln!(out, "{}", text(t, style, LINE))?
            }
            Block::Table(t) => writeln!(out, "{}", draw(t, style))?,
            Block::Tree(t) => writeln!(out, "{}", draw_tree(t, style))?,
            Block::Bars(b) => writeln!(out, "{}", draw_bars(b, style))?,
            Block::Series(s) => writeln!(out, "{}", draw_series(s, style))?,
            Block::Blank => writeln!(out)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::chart::{Layout, TreeRow};
    use crate::spans;

    fn shown(doc: &Doc) -> String {
        let mut out = Vec::new();
        render(&mut out, doc, Style::default()).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn no_control_bidi_or_zero_width_character_reaches_the_terminal() {
        let mut doc = Doc::new();
        let mut t = Table::new(vec![Column::text("NAME")]);
        t.row(vec![spans![Span::name("a\u{200b}b\u{202e}c\x1b[2J\u{9b}")]]);
        doc.line(spans![Span::path("/x\u{2066}y\u{feff}")]).table(t);
        let out = shown(&doc);
        assert!(
            !out.chars().any(|c| crate::escape::hidden(c) && c != '\n'),
            "{out:?}"
        );
        assert!(
            out.contains("a\\u{200b}b\\u{202e}c\\x1b[2J\\u{9b}"),
            "{out}"
        );
        assert!(out.contains("/x\\u{2066}y\\u{feff}"), "{out}");
    }

    #[test]
    fn long_paths_are_cut_in_the_middle_and_stay_distinct() {
        let a = format!("/srv/{}/a/{}/lib.so", "x".repeat(100), "y".repeat(100));
        let b = format!("/srv/{}/b/{}/lib.so", "x".repeat(100), "y".repeat(100));
        let mut t = Table::new(vec![Column::text("PATH"), Column::figure("SIZE")]);
        t.row(vec![spans![Span::path(a)], spans![Span::size(1)]]);
        t.row(vec![spans![Span::path(b)], spans![Span::size(1)]]);
        let out = shown(&Doc {
            blocks: vec![Block::Table(t)],
        });
        let lines: Vec<&str> = out.lines().skip(1).collect();
        assert_eq!(lines.len(), 2);
        assert_ne!(lines[0], lines[1]);
        for l in lines {
            assert!(l.trim_start().starts_with("/srv/xxx"), "{l}");
            assert!(l.contains("/lib.so"), "{l}");
            assert!(Measure::Columns.of(l) < 90, "{l}");
        }
    }

    #[test]
    fn commands_are_one_line_cut_at_their_end() {
        let mut t = Table::new(vec![Column::text("CREATED BY")]);
        t.row(vec![spans![Span::command(format!(
            "RUN a &&\n\tb {}",
            "c".repeat(80)
        ))]]);
        let out = shown(&Doc {
            blocks: vec![Block::Table(t)],
        });
        let row = out.lines().nth(1).unwrap().trim();
        assert!(
            row.starts_with("RUN a && b ccc") && row.ends_with('…'),
            "{row}"
        );
        assert_eq!(row.chars().count(), 48);
    }

    #[test]
    fn a_tree_is_indented_by_depth_with_its_rest_last() {
        let mut t = Tree::new(vec![Column::text("PATH"), Column::figure("SIZE")]);
        for (depth, node, bytes) in [
            (0, Node::Entry(Span::path("/")), 30),
            (1, Node::Entry(Span::Dir("/usr".into())), 20),
            (2, Node::More { entries: 3 }, 10),
        ] {
            t.push(TreeRow {
                depth,
                node,
                bytes,
                layer: None,
                cells: vec![spans![Span::size(bytes)]],
            });
        }
        let out = shown(&Doc {
            blocks: vec![Block::Tree(t)],
        });
        insta::assert_snapshot!(out, @r"
         PATH          SIZE
         /              30B
           /usr/        20B
             … 3 more   10B
        ");
    }

    #[test]
    fn footprints_stacked_bars_on_a_terminal() {
        let mut b = Bars::new(
            spans!["Shared and unique compressed bytes per image"],
            "IMAGE",
            Layout::Stacked,
            vec![spans!["shared"], spans!["unique"]],
        );
        b.mark = Some(spans!["fair share"]);
        b.row(spans![Span::name("app")], vec![Some(191_040), Some(0)])
            .mark = Some(88_769);
        b.row(
            spans![Span::name("app-dev")],
            vec![Some(191_040), Some(50_333)],
        )
        .mark = Some(139_101);
        let out = shown(&Doc {
            blocks: vec![Block::Bars(b)],
        });
        insta::assert_snapshot!(out, @r"
        Shared and unique compressed bytes per image: █ shared, ▒ unique, │ fair share
         app      ██████████████│█████████████████          191kB
         app-dev  ██████████████████████│█████████▒▒▒▒▒▒▒▒  241kB
        ");
    }

    #[test]
    fn a_series_is_a_table_over_its_axis_with_its_limit() {
        let s = Series {
            title: spans!["Size over tags"],
            axis: "TAG".into(),
            points: vec![spans![Span::name("1.0")], spans![Span::name("1.1")]],
            curves: vec![
                crate::report::chart::Curve {
                    name: "COMPRESSED".into(),
                    values: vec![Some(20_000_000), Some(9_800_000)],
                },
                crate::report::chart::Curve {
                    name: "FILES".into(),
                    values: vec![None, Some(30_000_000)],
                },
            ],
            limit: Some(25_000_000),
        };
        let out = shown(&Doc {
            blocks: vec![Block::Series(s)],
        });
        insta::assert_snapshot!(out, @r"
        Size over tags
         TAG  COMPRESSED  FILES
         1.0        20MB      -
         1.1       9.8MB   30MB
        limit: 25MB
        ");
    }
}
