//! The two panes: the layers (one row each, columns by the width there
//! is) and the tree (status, name, size, share, origin layers per row);
//! the right pane shows the tree or one of the lists (`lists`).

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

use super::classify::Status;
use super::listing::Row;
use super::state::{App, Focus, Pane};
use super::tree::{Line as TreeLine, MAX_LIMIT};
use super::view::{clean, fit, lens_title, Paint};
use crate::analyze::layers::LayerChanges;
use crate::units;

/// Cells of one table line, each padded or cut to its width; the last one
/// takes what is left. `right`: numbers, aligned right.
pub(super) fn cells(parts: &[(String, usize, bool)], width: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for (i, (text, w, right)) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        let w = if last { width.saturating_sub(used) } else { *w };
        if w == 0 {
            continue;
        }
        let t = fit(text, w);
        let pad = w.saturating_sub(t.width());
        if *right {
            out.push_str(&" ".repeat(pad));
            out.push_str(&t);
        } else {
            out.push_str(&t);
            if !last {
                out.push_str(&" ".repeat(pad));
            }
        }
        if !last {
            out.push(' ');
            used += w + 1;
        }
    }
    out
}

/// `part` as a percentage of `whole`; `-` for an empty whole.
pub(super) fn share(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".to_owned()
    } else {
        units::percent(part as f64 * 100.0 / whole as f64)
    }
}

fn short_digest(d: &str) -> String {
    let hex = d.split_once(':').map_or(d, |(_, h)| h);
    hex.chars().take(12).collect()
}

/// The layers pane.
/// A pane's border and title; the room inside it.
pub(super) fn pane(
    frame: &mut Frame,
    area: Rect,
    title: impl Into<Line<'static>>,
    focused: bool,
    paint: Paint,
) -> Rect {
    let block = Block::bordered()
        .title(title)
        .border_style(paint.border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    inner
}

/// One column of the layers pane: its header, width, alignment and cell.
type Column<'a> = (&'static str, usize, bool, Box<dyn Fn(usize) -> String + 'a>);

/// The layers pane's columns for `w` columns of room: all of them, the
/// main ones, or the few that fit 40 columns.
fn layer_columns(app: &App, w: usize) -> Vec<Column<'_>> {
    let facts = &app.facts.layers;
    let changes = app.changes.as_ref();
    let change = move |i: usize, f: fn(&LayerChanges) -> String| {
        changes.map_or_else(|| "…".to_owned(), |c| f(&c.layers[i]))
    };
    let num: Column = ("#", 3, true, Box::new(|i| (i + 1).to_string()));
    let digest: Column = (
        "DIGEST",
        12,
        false,
        Box::new(|i| short_digest(&facts[i].digest)),
    );
    // Unknown: still being read, or a foreign layer not at hand.
    let unknown = if app.loading.is_some() { "…" } else { "-" };
    let uncompressed = move |i: usize| {
        facts[i]
            .uncompressed
            .map_or_else(|| unknown.into(), units::human)
    };
    let size: Column = ("UNCOMPR", 7, true, Box::new(uncompressed));
    let wasted: Column = (
        "WASTED",
        7,
        true,
        Box::new(move |i| change(i, |c| units::human(c.wasted_later))),
    );
    let by: Column = (
        "CREATED BY",
        0,
        false,
        Box::new(|i| clean(facts[i].created_by.as_deref().unwrap_or("-"))),
    );
    if w >= 99 {
        let compressed: Column = (
            "COMPR",
            7,
            true,
            Box::new(|i| facts[i].compressed.map_or_else(|| "-".into(), units::human)),
        );
        let counts = |name, f: fn(&LayerChanges) -> String| -> Column {
            (name, 7, true, Box::new(move |i| change(i, f)))
        };
        vec![
            num,
            digest,
            compressed,
            ("UNCOMPR", 7, true, Box::new(uncompressed)),
            counts("ADDED", |c| c.added.files.to_string()),
            counts("CHANGED", |c| c.modified.files.to_string()),
            counts("REMOVED", |c| c.deleted.files.to_string()),
            wasted,
            by,
        ]
    } else if w >= 56 {
        let counts: Column = (
            "ADD/CHG/DEL",
            11,
            true,
            Box::new(move |i| {
                change(i, |c| {
                    format!("{}/{}/{}", c.added.files, c.modified.files, c.deleted.files)
                })
            }),
        );
        vec![num, digest, size, counts, wasted, by]
    } else {
        vec![num, size, by]
    }
}

/// The layers pane.
pub fn layers(frame: &mut Frame, app: &App, area: Rect, paint: Paint) {
    let focused = app.focus == Focus::Layers;
    let inner = pane(frame, area, " Layers ", focused, paint);
    let w = inner.width as usize;
    let columns = layer_columns(app, w);
    let head: Vec<(String, usize, bool)> = columns
        .iter()
        .map(|(h, width, right, _)| (h.to_string(), *width, *right))
        .collect();
    let mut lines = vec![Line::styled(cells(&head, w), paint.bold())];
    let rows = inner.height.saturating_sub(1) as usize;
    for i in app.layers_offset..(app.layers_offset + rows).min(app.layer_count()) {
        let row: Vec<(String, usize, bool)> = columns
            .iter()
            .map(|(_, width, right, cell)| (cell(i), *width, *right))
            .collect();
        let style = if i == app.lens.layer {
            paint.cursor(focused)
        } else {
            Style::default()
        };
        lines.push(Line::styled(cells(&row, w), style));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

/// The right pane: the tree, the wasted paths or the packages.
pub fn right(frame: &mut Frame, app: &App, area: Rect, paint: Paint) {
    match app.pane {
        Pane::Tree => tree(frame, app, area, paint),
        Pane::Wasted => super::lists::wasted(frame, app, area, paint),
        Pane::Packages => super::lists::packages(frame, app, area, paint),
    }
}

pub fn status_style(paint: Paint, status: Status, wasted: bool) -> Style {
    match status {
        Status::Removed => paint.fg(Color::Red),
        _ if wasted => paint.fg(Color::Magenta),
        Status::Added => paint.fg(Color::Green),
        Status::Changed => paint.fg(Color::Yellow),
        Status::Unchanged => Style::default(),
    }
}

/// Whether the row's bytes (a file's own, or some below a directory) are wasted later.
fn row_wasted(r: &Row) -> bool {
    if r.is_dir() {
        r.sums.wasted > 0
    } else {
        r.own.as_ref().is_some_and(|o| o.wasted_by.is_some()) && r.status() != Status::Removed
    }
}

fn layers_of(r: &Row) -> String {
    match (&r.own, r.sums.layers) {
        (Some(o), _) if !r.is_dir() => format!("#{}", o.layer + 1),
        (_, Some((lo, hi))) if lo == hi => format!("#{}", lo + 1),
        (_, Some((lo, hi))) => format!("#{}-{}", lo + 1, hi + 1),
        _ => String::new(),
    }
}

fn tree(frame: &mut Frame, app: &App, area: Rect, paint: Paint) {
    let focused = app.focus == Focus::Right;
    let inner = pane(
        frame,
        area,
        format!(" Tree{}", lens_title(app)),
        focused,
        paint,
    );
    let w = inner.width as usize;
    let total = app.tree.root().sums.size;
    let (show_share, show_layer) = (w >= 50, w >= 36);
    // Status (2), size (8), share (6), layers (7), a space after each but the last.
    let fixed = 3 + 8 + if show_share { 7 } else { 0 } + if show_layer { 8 } else { 0 };
    let name_w = w.saturating_sub(fixed);
    let max_indent = (name_w / 3).max(2) / 2;
    let mut lines = Vec::new();
    let t = &app.tree;
    if t.lines.is_empty() {
        let why = if app.lens.filter.is_empty() {
            "(nothing here as seen from this layer)"
        } else {
            "(nothing matches the filter)"
        };
        lines.push(Line::raw(fit(why, w)));
    }
    let end = (t.offset + inner.height as usize).min(t.lines.len());
    for i in t.offset..end {
        let l = t.lines[i];
        let depth = l.depth();
        let indent = if depth > max_indent {
            format!("{:<width$}", format!("‹{depth}›"), width = max_indent * 2)
        } else {
            "  ".repeat(depth)
        };
        let cursor = i == t.cursor;
        let line = match l {
            TreeLine::Row { dir, row, .. } => {
                let d = t.dir(dir);
                let r = &d.rows[row];
                let status = r.status();
                let wasted = row_wasted(r);
                let marker = match (r.is_dir(), d.open[row].is_some()) {
                    (true, true) => "▾ ",
                    (true, false) => "▸ ",
                    _ => "  ",
                };
                let mut name = clean(&r.display_name());
                if let Some(link) = r.own.as_ref().and_then(|o| o.link.as_ref()) {
                    name.push_str(" → ");
                    name.push_str(&clean(link));
                }
                let bytes = r.bytes();
                // A directory whose only change here is what was removed below it.
                let size = if status != Status::Removed && r.sums.size == 0 && r.sums.removed > 0 {
                    units::delta(-(r.sums.removed.min(i64::MAX as u64) as i64), false)
                } else {
                    units::human(bytes)
                };
                let mut parts = vec![
                    (
                        format!("{}{}", status.letter(), if wasted { 'w' } else { ' ' }),
                        2,
                        false,
                    ),
                    (format!("{indent}{marker}{name}"), name_w, false),
                    (size, 8, true),
                ];
                if show_share {
                    parts.push((share(r.sums.size, total), 6, true));
                }
                if show_layer {
                    parts.push((layers_of(r), 7, true));
                }
                let style = status_style(paint, status, wasted);
                Line::styled(cells(&parts, w), style)
            }
            TreeLine::More { dir, .. } => {
                let d = t.dir(dir);
                let how = if d.limit >= MAX_LIMIT {
                    "narrow with f or >"
                } else {
                    "Enter lists more"
                };
                let text = format!(
                    "{indent}  … {} more ({}) · {how}",
                    d.more.rows,
                    units::human(d.more.bytes)
                );
                Line::styled(
                    format!("   {}", fit(&text, w.saturating_sub(3))),
                    paint.fg(Color::DarkGray),
                )
            }
            TreeLine::Loading { .. } => Line::raw(format!("   {indent}  reading…")),
        };
        let line = if cursor {
            line.patch_style(paint.cursor(focused))
        } else {
            line
        };
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
