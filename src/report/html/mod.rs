//! The HTML renderer: one self-contained page per report — inline CSS and
//! SVG, no script, and a Content-Security-Policy that lets the page load
//! nothing from anywhere (its one style element is allowed by its hash);
//! readable printed and in dark mode. Text from inputs is escaped
//! (`escape::html`); every figure is the JSON's number in a `<data value>`
//! (or an SVG shape's `data-bytes`), shown as the terminal shows it. Charts
//! are SVG: bars, a treemap of a tree, a line of a series. Draws any Doc.

mod page;
mod svg;
mod treemap;

use std::fmt::Write as _;
use std::io::{self, Write};

use super::chart::{Chart, Node, Series, Tree};
use super::doc::{Align, Block, Column, Doc, Table};
use super::figure::{dir, figure};
use super::span::{Span, Spans};
use super::Style;
use crate::escape::{html, one_line};

/// The deepest indent of a listing (a roll-up lists at most 32 levels).
const MAX_INDENT: usize = 32;

/// A number as the JSON document writes it (serde_json's shortest form).
fn number(f: f64) -> Option<String> {
    serde_json::Number::from_f64(f).map(|n| n.to_string())
}

/// `shown`, carrying its machine-readable value when there is one.
fn data(value: Option<String>, shown: &str) -> String {
    match value {
        Some(v) => format!("<data value=\"{v}\">{}</data>", html(shown)),
        None => html(shown),
    }
}

/// One span as HTML: text escaped, figures in `<data>`.
pub(super) fn span(s: &Span, style: Style) -> String {
    let shown = || figure(s, style).unwrap_or_default();
    match s {
        Span::Name(t) | Span::Path(t) | Span::Local(t) => html(t),
        Span::Dir(t) => html(&dir(t)),
        Span::Command(t) => format!("<span class=\"cmd\">{}</span>", html(&one_line(t))),
        Span::Bytes(Some(n)) | Span::Count(n) | Span::Counted(n, _, _) => {
            data(Some(n.to_string()), &shown())
        }
        Span::Delta(Some(n)) => data(Some(n.to_string()), &shown()),
        Span::Percent(Some(f)) | Span::Ratio(Some(f)) | Span::Fraction(f) | Span::Number(f) => {
            data(number(*f), &shown())
        }
        Span::Digest(d) => format!(
            "<span class=\"digest\" title=\"{}\">{}</span>",
            html(d.as_str()),
            html(d.short())
        ),
        _ => html(&shown()),
    }
}

pub(super) fn text(spans: &Spans, style: Style) -> String {
    spans.0.iter().map(|s| span(s, style)).collect()
}

/// Spans as unmarked text (a label to cut): figures as the terminal shows
/// them, inputs with their hidden characters made visible; not yet HTML.
pub(super) fn raw(spans: &Spans, style: Style) -> String {
    spans
        .0
        .iter()
        .map(|s| match figure(s, style) {
            Some(f) => f,
            None => match s {
                Span::Dir(t) => dir(t),
                Span::Command(t) => one_line(t).into_owned(),
                Span::Name(t) | Span::Path(t) | Span::Local(t) => t.clone(),
                _ => unreachable!("figure() formats every other span"),
            },
        })
        .collect()
}

/// Spans as plain text for an SVG `<title>` or label: escaped.
pub(super) fn plain(spans: &Spans, style: Style) -> String {
    html(&raw(spans, style))
}

fn class(align: Align) -> &'static str {
    match align {
        Align::Left => "",
        Align::Right => " class=\"r\"",
    }
}

fn head(out: &mut String, columns: &[Column], style: Style) {
    out.push_str("<div class=\"wide\"><table><thead><tr>");
    for c in columns {
        let _ = write!(out, "<th{}>{}</th>", class(c.align), text(&c.header, style));
    }
    out.push_str("</tr></thead><tbody>\n");
}

fn row(out: &mut String, columns: &[Column], first: Option<String>, cells: &[Spans], style: Style) {
    out.push_str("<tr>");
    let mut aligns = columns.iter().map(|c| c.align);
    if let Some(f) = first {
        let a = aligns.next().unwrap_or(Align::Left);
        let _ = write!(out, "<td{}>{f}</td>", class(a));
    }
    for c in cells {
        let a = aligns.next().unwrap_or(Align::Left);
        let _ = write!(out, "<td{}>{}</td>", class(a), text(c, style));
    }
    out.push_str("</tr>\n");
}

fn table(out: &mut String, t: &Table, style: Style) {
    head(out, &t.columns, style);
    for r in &t.rows {
        row(out, &t.columns, None, r, style);
    }
    out.push_str("</tbody></table></div>\n");
}

/// The most rows a listing shows: deeper levels are left out past it.
pub const MAX_ROWS: usize = 4_000;

/// The deepest level whose rows, with those above it, fit MAX_ROWS (None: all do).
fn listed_depth(t: &Tree) -> Option<usize> {
    if t.rows.len() <= MAX_ROWS {
        return None;
    }
    let mut per_depth: Vec<usize> = Vec::new();
    for r in &t.rows {
        let d = r.depth.min(MAX_INDENT);
        if per_depth.len() <= d {
            per_depth.resize(d + 1, 0);
        }
        per_depth[d] += 1;
    }
    let mut sum = 0;
    let fits = per_depth.iter().take_while(|&&n| {
        sum += n;
        sum <= MAX_ROWS
    });
    Some(fits.count().saturating_sub(1))
}

/// A tree's rows as a listing, indented by depth; at most MAX_ROWS of them,
/// the deepest levels left out first (and said so).
fn listing(out: &mut String, t: &Tree, style: Style) {
    let upto = listed_depth(t);
    head(out, &t.columns, style);
    let mut left = 0u64;
    for r in &t.rows {
        if upto.is_some_and(|d| r.depth > d) {
            left += 1;
            continue;
        }
        let indent = "\u{a0}\u{a0}".repeat(r.depth.min(MAX_INDENT));
        let label = match &r.node {
            Node::Entry(s) => span(s, style),
            Node::More { entries } => format!(
                "… {} more",
                data(Some(entries.to_string()), &entries.to_string())
            ),
        };
        row(
            out,
            &t.columns,
            Some(format!("{indent}{label}")),
            &r.cells,
            style,
        );
    }
    out.push_str("</tbody></table></div>\n");
    if left > 0 {
        let _ = writeln!(
            out,
            "<p class=\"note\">{} deeper rows are left out of this page (it lists {MAX_ROWS} at most); a smaller --depth or --top, or --format json, lists them.</p>",
            data(Some(left.to_string()), &left.to_string())
        );
    }
}

fn series(out: &mut String, s: &Series, style: Style) {
    svg::series(out, s, style);
    let mut columns = vec![Column::text(s.axis.clone())];
    columns.extend(s.curves.iter().map(|c| Column::figure(c.name.clone())));
    head(out, &columns, style);
    for (i, p) in s.points.iter().enumerate() {
        let mut cells = vec![p.clone()];
        cells.extend(
            s.curves
                .iter()
                .map(|c| Spans::from(Span::Bytes(c.values.get(i).copied().flatten()))),
        );
        row(out, &columns, None, &cells, style);
    }
    out.push_str("</tbody></table></div>\n");
    if let Some(limit) = s.limit {
        let _ = writeln!(out, "<p>limit: {}</p>", span(&Span::size(limit), style));
    }
}

/// The page's body: each block in order.
fn body(out: &mut String, doc: &Doc, style: Style) {
    for block in &doc.blocks {
        match block {
            Block::Heading(t) => {
                let _ = writeln!(out, "<h2>{}</h2>", text(t, style));
            }
            Block::Line(t) => {
                let _ = writeln!(out, "<p>{}</p>", text(t, style));
            }
            Block::Note(t) => {
                let _ = writeln!(out, "<p class=\"note\">{}</p>", text(t, style));
            }
            Block::Blank => {}
            Block::Table(t) => table(out, t, style),
            Block::Tree(t) => {
                treemap::draw(out, t, style);
                listing(out, t, style);
            }
            Block::Bars(b) | Block::Picture(Chart::Bars(b)) => svg::bars(out, b, style),
            Block::Picture(Chart::Tree(t)) => treemap::draw(out, t, style),
            Block::Series(s) => series(out, s, style),
        }
    }
}

/// `doc` as a page titled after `command`.
pub fn render(out: &mut dyn Write, doc: &Doc, style: Style, command: &str) -> io::Result<()> {
    let mut b = String::with_capacity(64 * 1024);
    body(&mut b, doc, style);
    out.write_all(page::open(&format!("strata {command}")).as_bytes())?;
    out.write_all(b.as_bytes())?;
    out.write_all(page::CLOSE.as_bytes())
}

#[cfg(test)]
mod tests;
