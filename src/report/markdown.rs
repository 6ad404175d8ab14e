//! The GitHub-flavoured Markdown renderer, for merge requests and CI
//! summaries: every name, path and command from an input escaped so that the
//! pasted report is inert (no HTML, link, image, code span, emphasis or
//! block), and never cut (full paths: markdown is for pasting). Charts are
//! tables; a tree is indented with no-break spaces, which a table cell keeps.
//! Draws any Doc.

use std::io::{self, Write};

use super::bars;
use super::chart::{Bars, Layout, Series, Tree};
use super::doc::{Align, Block, Column, Doc, Table};
use super::figure::{dir, figure};
use super::span::{Span, Spans};
use super::table::{bars_title, tree_label};
use super::Style;
use crate::escape::{self, one_line, Place};

fn span(s: &Span, style: Style, place: Place) -> String {
    if let Some(f) = figure(s, style) {
        return f;
    }
    match s {
        Span::Name(t) | Span::Path(t) | Span::Local(t) => escape::markdown(t, place),
        Span::Dir(t) => escape::markdown(&dir(t), place),
        Span::Command(t) => escape::markdown(&one_line(t), place),
        _ => unreachable!("figure() formats every other span"),
    }
}

/// `spans` as markdown; `place` is where the first of them goes.
fn text(spans: &Spans, style: Style, place: Place) -> String {
    spans
        .0
        .iter()
        .enumerate()
        .map(|(i, s)| span(s, style, if i == 0 { place } else { Place::Inline }))
        .collect()
}

fn cell(spans: &Spans, style: Style) -> String {
    text(spans, style, Place::Inline)
}

fn grid(
    out: &mut dyn Write,
    header: &[String],
    align: &[Align],
    rows: &[Vec<String>],
) -> io::Result<()> {
    writeln!(out, "| {} |", header.join(" | "))?;
    let align: Vec<&str> = align
        .iter()
        .map(|a| match a {
            Align::Left => "---",
            Align::Right => "---:",
        })
        .collect();
    writeln!(out, "| {} |", align.join(" | "))?;
    for row in rows {
        writeln!(out, "| {} |", row.join(" | "))?;
    }
    Ok(())
}

/// Rows under the headers of `columns`, aligned as they say.
fn under(
    out: &mut dyn Write,
    columns: &[Column],
    rows: &[Vec<String>],
    style: Style,
) -> io::Result<()> {
    let header: Vec<String> = columns.iter().map(|c| cell(&c.header, style)).collect();
    let align: Vec<Align> = columns.iter().map(|c| c.align).collect();
    grid(out, &header, &align, rows)
}

fn draw(out: &mut dyn Write, t: &Table, style: Style) -> io::Result<()> {
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| r.iter().map(|c| cell(c, style)).collect())
        .collect();
    under(out, &t.columns, &rows, style)
}

fn draw_tree(out: &mut dyn Write, t: &Tree, style: Style) -> io::Result<()> {
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| {
            // No-break spaces: a cell's leading spaces would be trimmed.
            let mut row = vec![tree_label(r.depth, &r.node, '\u{a0}', |s| {
                span(s, style, Place::Inline)
            })];
            row.extend(r.cells.iter().map(|c| cell(c, style)));
            row
        })
        .collect();
    under(out, &t.columns, &rows, style)
}

/// A chart as a table: its label, the series of a grouped bar, the bar in
/// block characters and its figure.
fn draw_bars(out: &mut dyn Write, b: &Bars, style: Style) -> io::Result<()> {
    writeln!(
        out,
        "{}\n",
        bars_title(b, |s| text(s, style, Place::LineStart))
    )?;
    let grouped = b.series.len() > 1 && b.layout == Layout::Grouped;
    let mut header = vec![cell(&b.label, style)];
    let mut align = vec![Align::Left];
    if grouped {
        header.push(String::new());
        align.push(Align::Left);
    }
    header.extend([String::new(), "BYTES".to_owned()]);
    align.extend([Align::Left, Align::Right]);
    let rows: Vec<Vec<String>> = bars::lines(b)
        .into_iter()
        .map(|l| {
            let mut row = vec![l.label.map(|s| cell(s, style)).unwrap_or_default()];
            if grouped {
                row.push(l.series.map(|s| cell(s, style)).unwrap_or_default());
            }
            row.push(l.bar.trim_end().to_owned());
            row.push(figure(&Span::Bytes(l.value), style).unwrap_or_default());
            row
        })
        .collect();
    grid(out, &header, &align, &rows)
}

fn draw_series(out: &mut dyn Write, s: &Series, style: Style) -> io::Result<()> {
    writeln!(out, "{}\n", text(&s.title, style, Place::LineStart))?;
    let mut header = vec![cell(&s.axis, style)];
    header.extend(s.curves.iter().map(|c| cell(&c.name, style)));
    let mut align = vec![Align::Left];
    align.extend(s.curves.iter().map(|_| Align::Right));
    let rows: Vec<Vec<String>> = s
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut row = vec![cell(p, style)];
            row.extend(s.curves.iter().map(|c| {
                figure(&Span::Bytes(c.values.get(i).copied().flatten()), style).unwrap_or_default()
            }));
            row
        })
        .collect();
    grid(out, &header, &align, &rows)?;
    if let Some(limit) = s.limit {
        writeln!(
            out,
            "\nlimit: {}",
            figure(&Span::size(limit), style).unwrap_or_default()
        )?;
    }
    Ok(())
}

pub fn render(out: &mut dyn Write, doc: &Doc, style: Style) -> io::Result<()> {
    let mut quoted = false;
    for block in &doc.blocks {
        // A line or a table right under a quote would continue it: end the quote.
        if quoted && !matches!(block, Block::Blank | Block::Note(_) | Block::Heading(_)) {
            writeln!(out)?;
        }
        quoted = matches!(block, Block::Note(_));
        match block {
            // A heading's text is inline: nothing in it opens a block.
            Block::Heading(t) => writeln!(out, "### {}\n", text(t, style, Place::Inline))?,
            Block::Table(t) => draw(out, t, style)?,
            Block::Tree(t) => draw_tree(out, t, style)?,
            Block::Bars(b) => draw_bars(out, b, style)?,
            Block::Series(s) => draw_series(out, s, style)?,
            Block::Line(t) => writeln!(out, "{}", text(t, style, Place::LineStart))?,
            Block::Note(t) => writeln!(out, "\n> {}", text(t, style, Place::LineStart))?,
            Block::Blank => writeln!(out)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::chart::{Curve, Node, TreeRow};
    use crate::spans;
    use pulldown_cmark::{Event, Options, Parser, Tag};

    fn md(doc: &Doc) -> String {
        let mut out = Vec::new();
        render(&mut out, doc, Style::default()).unwrap();
        String::from_utf8(out).unwrap()
    }

    const EVIL: &str = "<img src=x onerror=alert(1)>[a](https://e)`c`*e*";

    /// Every block kind, an input first on each line it can start.
    fn hostile_doc() -> Doc {
        let mut doc = Doc::new();
        doc.heading(spans![Span::name("# title "), Span::name(EVIL)]);
        doc.line(spans![Span::name("# heading"), " and ", Span::name(EVIL)]);
        doc.line(spans![Span::name("1. list")]);
        doc.line(spans![Span::name("_a_b_ snake_case__name_ x_")]);
        doc.line(spans![Span::command("- item\n===")]);
        doc.note(spans![Span::path("> quote"), Span::name(EVIL)]);
        doc.line("a line after a note is not in it");
        let mut t = Table::new(vec![Column::text(spans![Span::name(EVIL)])]);
        t.row(vec![spans![Span::Dir(EVIL.into())]]);
        doc.table(t).blank();
        let mut tree = Tree::new(vec![Column::text("PATH")]);
        tree.push(TreeRow {
            depth: 1,
            node: Node::Entry(Span::path(EVIL)),
            bytes: 1,
            layer: None,
            cells: vec![],
        });
        doc.tree(tree).blank();
        let mut bars = Bars::new(
            spans![Span::name(EVIL)],
            "IMAGE",
            Layout::Grouped,
            vec![spans![Span::name(EVIL)], spans!["b"]],
        );
        bars.row(spans![Span::name(EVIL)], vec![Some(1), Some(2)]);
        doc.bars(bars).blank();
        doc.series(Series {
            title: spans![Span::name(EVIL)],
            axis: "TAG".into(),
            points: vec![spans![Span::name(EVIL)]],
            curves: vec![Curve {
                name: spans![Span::name(EVIL)],
                values: vec![Some(3)],
            }],
            limit: Some(4),
        });
        doc
    }

    #[test]
    fn no_input_acts_in_any_block() {
        let out = md(&hostile_doc());
        assert!(!out.contains('<'), "{out}");
        let (mut headings, mut quotes) = (0, 0);
        for e in Parser::new_ext(&out, Options::all()) {
            match e {
                Event::Html(_) | Event::InlineHtml(_) | Event::Code(_) => panic!("{e:?}\n{out}"),
                Event::Start(Tag::Heading { .. }) => headings += 1,
                Event::Start(Tag::BlockQuote(_)) => quotes += 1,
                Event::Start(
                    Tag::Link { .. }
                    | Tag::Image { .. }
                    | Tag::Emphasis
                    | Tag::Strong
                    | Tag::List(_)
                    | Tag::CodeBlock(_),
                ) => panic!("{e:?}\n{out}"),
                _ => {}
            }
        }
        assert_eq!(quotes, 1, "only the note: {out}");
        assert_eq!(headings, 1, "only the heading block: {out}");
        assert!(out.contains("\n\na line after a note"), "{out}");
    }

    #[test]
    fn charts_are_tables() {
        let out = md(&hostile_doc());
        assert!(out.contains("| IMAGE |  |  | BYTES |"), "{out}");
        assert!(out.contains("| TAG | "), "{out}");
        assert!(out.contains("\nlimit: 4B"), "{out}");
        assert!(
            out.contains("| \u{a0}\u{a0}&lt;img"),
            "a tree's depth indents its path: {out}"
        );
    }

    #[test]
    fn a_trees_indentation_survives_in_a_rendered_cell() {
        let mut tree = Tree::new(vec![Column::text("PATH")]);
        for (depth, path) in [(0, "/"), (1, "/usr"), (2, "/usr/lib")] {
            tree.push(TreeRow {
                depth,
                node: Node::Entry(Span::Dir(path.into())),
                bytes: 1,
                layer: None,
                cells: vec![],
            });
        }
        let out = md(&Doc {
            blocks: vec![Block::Tree(tree)],
        });
        let cells: Vec<String> = Parser::new_ext(&out, Options::all())
            .filter_map(|e| match e {
                Event::Text(t) => Some(t.into_string()),
                _ => None,
            })
            .collect();
        let nbsp = |n| "\u{a0}".repeat(n);
        assert_eq!(
            cells,
            [
                "PATH",
                "/",
                &format!("{}/usr/", nbsp(2)),
                &format!("{}/usr/lib/", nbsp(4))
            ],
            "{out}"
        );
    }
}
