//! The right pane's lists besides the tree: the paths stored more than
//! once (those the selected layer holds marked), and the packages the
//! selected layer installs, removes and upgrades, with their bytes.

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::panes::{cells, pane};
use super::state::{App, Focus};
use super::view::{clean, fit, Paint};
use crate::analyze::layers::WastedPath;
use crate::analyze::package_diff::PackageChange;
use crate::units;

pub(super) fn wasted(frame: &mut Frame, app: &App, area: Rect, paint: Paint) {
    let focused = app.focus == Focus::Right;
    let top = app.changes.as_ref().map(|c| &c.waste);
    let title = match top {
        Some(w) => format!(
            " Wasted · {} · {} (• involves #{}) ",
            match w.top.len() {
                n if n >= super::jobs::WASTED_TOP => {
                    format!("the {n} biggest paths stored more than once")
                }
                n => format!("{n} paths stored more than once"),
            },
            units::human(w.wasted_bytes),
            app.lens.layer + 1
        ),
        None => " Wasted · reading… ".to_owned(),
    };
    let inner = pane(frame, area, title, focused, paint);
    let w = inner.width as usize;
    // Copies need room; the path comes first, the details line has them all.
    let (survives, copies) = (w >= 50, w >= 90);
    let mut head = vec![("WASTED".to_owned(), 9, true)];
    if survives {
        head.push(("SURVIVES".to_owned(), 8, false));
    }
    if copies {
        head.push(("COPIES (LAYER: BYTES)".to_owned(), 30, false));
    }
    head.push(("PATH".to_owned(), 0, false));
    let mut lines = vec![Line::styled(cells(&head, w), paint.bold())];
    if let Some(waste) = top {
        if waste.top.is_empty() {
            lines.push(Line::raw(fit("(no path is stored more than once)", w)));
        }
        let rows = inner.height.saturating_sub(1) as usize;
        let s = app.wasted;
        for (i, p) in waste.top.iter().enumerate().skip(s.offset).take(rows) {
            let sel = app.lens.layer + 1;
            let involved = p.copies.iter().any(|(l, _)| *l == sel) || p.survives_in == Some(sel);
            let mark = if involved { "•" } else { " " };
            let mut parts = vec![(format!("{mark}{}", units::human(p.wasted)), 9, true)];
            if survives {
                parts.push((survives_in(p), 8, false));
            }
            if copies {
                parts.push((copies_of(p), 30, false));
            }
            parts.push((clean(&p.path), 0, false));
            let mut style = if involved {
                paint.fg(Color::Magenta)
            } else {
                Style::default()
            };
            if i == s.cursor {
                style = style.patch(paint.cursor(focused));
            }
            lines.push(Line::styled(cells(&parts, w), style));
        }
    }
    frame.render_widget(Paragraph::new(lines), inner);
}

pub(super) fn survives_in(p: &WastedPath) -> String {
    p.survives_in
        .map_or_else(|| "deleted".to_owned(), |l| format!("#{l}"))
}

pub(super) fn copies_of(p: &WastedPath) -> String {
    p.copies
        .iter()
        .map(|(l, b)| format!("#{l}: {}", units::human(*b)))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn packages(frame: &mut Frame, app: &App, area: Rect, paint: Paint) {
    let focused = app.focus == Focus::Right;
    let layer = app.lens.layer + 1;
    let title = match &app.packages.result {
        Some(Ok(d)) => {
            let n = |c: PackageChange| d.changes.iter().filter(|x| x.change == c).count();
            format!(
                " Packages · #{layer}: {} installed, {} removed, {} upgraded ",
                n(PackageChange::Added),
                n(PackageChange::Removed),
                n(PackageChange::VersionChanged)
            )
        }
        Some(Err(_)) => format!(" Packages · #{layer} "),
        None => format!(" Packages · #{layer} · reading… "),
    };
    let inner = pane(frame, area, title, focused, paint);
    let w = inner.width as usize;
    let head = vec![
        ("".to_owned(), 1, false),
        ("TYPE".to_owned(), 6, false),
        ("BYTES".to_owned(), 8, true),
        ("PACKAGE".to_owned(), 0, false),
    ];
    let mut lines = vec![Line::styled(cells(&head, w), paint.bold())];
    match &app.packages.result {
        None => {}
        Some(Err(e)) => lines.push(Line::styled(fit(&clean(e), w), paint.fg(Color::Red))),
        Some(Ok(d)) if d.changes.is_empty() => {
            lines.push(Line::raw(fit("(this layer changes no package)", w)));
        }
        Some(Ok(d)) => {
            let rows = inner.height.saturating_sub(1) as usize;
            let s = app.packages.scroll;
            for (i, c) in d.changes.iter().enumerate().skip(s.offset).take(rows) {
                let (sign, bytes, color, version) = match c.change {
                    PackageChange::Added => (
                        "+",
                        c.target_bytes,
                        Color::Green,
                        c.target_version.clone().unwrap_or_default(),
                    ),
                    PackageChange::Removed => (
                        "-",
                        c.base_bytes,
                        Color::Red,
                        c.base_version.clone().unwrap_or_default(),
                    ),
                    PackageChange::VersionChanged => (
                        "~",
                        c.target_bytes,
                        Color::Yellow,
                        format!(
                            "{} → {}",
                            c.base_version.as_deref().unwrap_or("?"),
                            c.target_version.as_deref().unwrap_or("?")
                        ),
                    ),
                };
                let parts = vec![
                    (sign.to_owned(), 1, false),
                    (c.ecosystem.name().to_owned(), 6, false),
                    (units::human(bytes), 8, true),
                    (clean(&format!("{} {version}", c.name)), 0, false),
                ];
                let mut style = paint.fg(color);
                if i == s.cursor {
                    style = style.patch(paint.cursor(focused));
                }
                lines.push(Line::styled(cells(&parts, w), style));
            }
        }
    }
    if !app.packages.warnings.is_empty() && lines.len() < inner.height as usize {
        let warn = format!(
            "{} warning(s): {}",
            app.packages.warnings.len(),
            app.packages.warnings[0]
        );
        lines.push(Line::styled(fit(&clean(&warn), w), paint.fg(Color::Yellow)));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
