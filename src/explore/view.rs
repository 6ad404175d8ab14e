//! What the explorer draws, a pure function of its model: the header (the
//! image's totals and efficiency), the two panes, the details line, the
//! footer's key hints and the popup open. Text taken from the image goes
//! through `clean` first: no control, bidi or zero-width character reaches
//! the terminal raw. Without colour (NO_COLOR), statuses still read from
//! their letters.

use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::classify::Mode;
use super::filter::Sort;
use super::keys::{FOOTER, KEYS};
use super::layout::{areas, header_height};
use super::panes;
use super::state::{App, Ask, Focus, Popup};
use crate::units;

/// `text` safe for a terminal: controls, bidi and zero-width characters
/// escaped, as everywhere.
pub fn clean(text: &str) -> String {
    crate::escape::escape(text).into_owned()
}

/// `text` in at most `width` terminal columns (wide characters count
/// two), ending in `…` when cut; spaces kept as they are.
pub fn fit(text: &str, width: usize) -> String {
    if width == 0 {
        return String::new();
    }
    crate::cut::end(text, width, crate::cut::Measure::Columns).into_owned()
}

/// Styles, with or without colour.
#[derive(Debug, Clone, Copy)]
pub struct Paint {
    pub color: bool,
}

impl Paint {
    pub fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    pub fn bold(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    /// A pane's border: bright when it has the focus.
    pub fn border(&self, focused: bool) -> Style {
        match (focused, self.color) {
            (true, true) => Style::default().fg(Color::Cyan),
            (true, false) => self.bold(),
            (false, _) => Style::default(),
        }
    }

    pub fn cursor(&self, focused: bool) -> Style {
        if focused {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
        }
    }
}

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let a = areas(area, app.layer_count());
    let paint = Paint { color: app.color };
    header(frame, app, a.header);
    panes::layers(frame, app, a.layers, paint);
    panes::right(frame, app, a.right, paint);
    details(frame, app, a.details);
    footer(frame, app, a.footer, paint);
    if let Some(p) = &app.popup {
        popup(frame, app, p, area, paint);
    }
}

fn pct(p: f64) -> String {
    units::percent(p * 100.0)
}

/// The header: the image, its totals, its efficiency (strata's and dive's).
fn header(frame: &mut Frame, app: &App, area: Rect) {
    let f = &app.facts;
    let busy = match &app.loading {
        Some(what) => format!("  {}…", clean(what)),
        None if app.busy() => "  reading…".to_owned(),
        None => String::new(),
    };
    let title = format!(
        "{} ({}) · {}{busy}",
        clean(&f.image),
        clean(f.platform.as_deref().unwrap_or("-")),
        units::count(f.layers.len() as u64, "layer", "layers"),
    );
    let compressed: Option<u64> = f.layers.iter().map(|l| l.compressed).sum();
    let uncompressed: Option<u64> = f.layers.iter().map(|l| l.uncompressed).sum();
    let files: Option<u64> = f.layers.iter().map(|l| l.files).sum();
    let or = |n: Option<u64>, none: &str| n.map_or_else(|| none.to_owned(), units::human);
    // Unknown: still being read, or a foreign layer not at hand.
    let unknown = if app.loading.is_some() { "…" } else { "-" };
    let sizes = format!(
        "compressed {} · uncompressed {} · files {}",
        or(compressed, "-"),
        or(uncompressed, unknown),
        or(files, unknown),
    );
    let eff = match &app.changes {
        Some(c) => format!(
            "merged {} · wasted {} · efficiency {} (dive {})",
            units::human(c.merged_files),
            units::human(c.waste.wasted_bytes),
            pct(c.waste.efficiency),
            pct(c.dive.efficiency),
        ),
        None => "merged … · wasted … · efficiency …".to_owned(),
    };
    let w = area.width as usize;
    let lines: Vec<String> = if header_height(area.width) == 2 {
        vec![title, format!("{sizes} · {eff}")]
    } else {
        vec![title, sizes, eff]
    };
    let text: Vec<Line> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let style = if i == 0 {
                Style::default().add_modifier(Modifier::BOLD)
            } else {
                Style::default()
            };
            Line::styled(fit(l, w), style)
        })
        .collect();
    frame.render_widget(Paragraph::new(text), area);
}

/// What the tree pane's title says about the look: layer, mode, sort, filter.
pub fn lens_title(app: &App) -> String {
    let mode = match app.lens.mode {
        Mode::UpTo => "up to it",
        Mode::Changes => "its changes",
    };
    let sort = match app.lens.sort {
        Sort::Size => "by size",
        Sort::Name => "by name",
    };
    let filter = app.lens.filter.describe();
    let mut t = format!(
        " #{}/{} {mode} · {sort}",
        app.lens.layer + 1,
        app.layer_count()
    );
    if !filter.is_empty() {
        t.push_str(&format!(" · {}", clean(&filter)));
    }
    t.push(' ');
    t
}

fn details(frame: &mut Frame, app: &App, area: Rect) {
    let text = match app.focus {
        Focus::Layers => super::details::layer_details(app),
        Focus::Right => super::details::right_details(app),
    };
    frame.render_widget(Paragraph::new(fit(&text, area.width as usize)), area);
}

fn footer(frame: &mut Frame, app: &App, area: Rect, paint: Paint) {
    let w = area.width as usize;
    if let Some(s) = &app.status {
        let line = Line::styled(
            fit(&clean(s), w),
            paint.fg(Color::Yellow).add_modifier(Modifier::BOLD),
        );
        frame.render_widget(Paragraph::new(line), area);
        return;
    }
    let mut spans = Vec::new();
    let mut used = 0;
    for (key, what) in FOOTER {
        let len = key.chars().count() + what.len() + 2;
        if used + len > w {
            break;
        }
        spans.push(Span::styled(*key, paint.bold()));
        spans.push(Span::raw(format!(" {what} ")));
        used += len;
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// A box of `w` x `h` in the middle of `area`.
fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn popup(frame: &mut Frame, app: &App, p: &Popup, area: Rect, paint: Paint) {
    match p {
        Popup::Help(offset) => {
            let key_w = KEYS
                .iter()
                .map(|(k, _)| k.chars().count())
                .max()
                .unwrap_or(0);
            let box_ = centered(area, 78, KEYS.len() as u16 + 2);
            let inner_w = box_.width.saturating_sub(2) as usize;
            let lines: Vec<Line> = if inner_w >= key_w + 30 {
                KEYS.iter()
                    .map(|(k, what)| {
                        Line::from(vec![
                            Span::styled(format!("{k:<key_w$}  "), paint.bold()),
                            Span::raw(fit(what, inner_w - key_w - 2)),
                        ])
                    })
                    .collect()
            } else {
                // Narrow: each key on its line, what it does below it.
                KEYS.iter()
                    .flat_map(|(k, what)| {
                        [
                            Line::styled(fit(k, inner_w), paint.bold()),
                            Line::raw(format!("  {what}")),
                        ]
                    })
                    .collect()
            };
            frame.render_widget(Clear, box_);
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: false })
                    .scroll((*offset, 0))
                    .block(
                        Block::bordered()
                            .title(" keys · ↑↓ scroll · any other key closes ")
                            .border_style(paint.border(true)),
                    ),
                box_,
            );
        }
        Popup::Command => {
            let l = app.lens.layer;
            let by = app.facts.layers[l]
                .created_by
                .as_deref()
                .unwrap_or("(no history for this layer)");
            let w = area.width.saturating_sub(4).max(20);
            // Wrapped, the command needs about this many lines.
            let lines = clean(by).width() / (w.saturating_sub(2).max(1) as usize) + 1;
            let h = (lines as u16 + 2).clamp(3, area.height.saturating_sub(2).max(3));
            let box_ = centered(area, w, h);
            frame.render_widget(Clear, box_);
            frame.render_widget(
                Paragraph::new(clean(by)).wrap(Wrap { trim: false }).block(
                    Block::bordered()
                        .title(format!(" #{} created_by (any key closes) ", l + 1))
                        .border_style(paint.border(true)),
                ),
                box_,
            );
        }
        Popup::Prompt { ask, text, error } => {
            let box_ = centered(area, area.width.saturating_sub(4).clamp(20, 72), 4);
            let inner_w = box_.width.saturating_sub(2) as usize;
            // The end of what is typed stays in view.
            let shown: String = {
                let chars: Vec<char> = clean(text).chars().collect();
                let keep = inner_w.saturating_sub(2);
                let mut start = chars.len();
                let mut used = 0;
                while start > 0 && used + chars[start - 1].width().unwrap_or(0) <= keep {
                    start -= 1;
                    used += chars[start].width().unwrap_or(0);
                }
                chars[start..].iter().collect()
            };
            let second = match error {
                Some(e) => Line::styled(fit(&clean(e), inner_w), paint.fg(Color::Red)),
                None => Line::raw(fit("Enter: apply · Esc: cancel · Ctrl-U: clear", inner_w)),
            };
            let title = match ask {
                Ask::Search => " search ",
                Ask::Filter => " filter by path ",
                Ask::MinSize => " minimum size ",
                Ask::Export => " write the selection ",
            };
            frame.render_widget(Clear, box_);
            frame.render_widget(
                Paragraph::new(vec![Line::raw(format!("{shown}▏")), second]).block(
                    Block::bordered()
                        .title(title)
                        .title_bottom(fit(ask.title(), inner_w))
                        .border_style(paint.border(true)),
                ),
                box_,
            );
        }
    }
}

/// The screen drawn at `w` x `h` (tests, benches): each row's text, trailing
/// spaces trimmed, and the buffer (for its styles).
pub fn render(app: &App, w: u16, h: u16) -> (String, ratatui::buffer::Buffer) {
    let backend = ratatui::backend::TestBackend::new(w, h);
    let mut terminal = ratatui::Terminal::new(backend).expect("a test terminal");
    terminal.draw(|f| draw(f, app)).expect("drawing in memory");
    let buffer = terminal.backend().buffer().clone();
    let mut text = String::new();
    for y in 0..h {
        let mut line = String::new();
        for x in 0..w {
            line.push_str(buffer[(x, y)].symbol());
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    (text, buffer)
}
