//! Bars and series as SVG: stacked or grouped bars scaled to the longest,
//! a marked figure as a line across its bar; a series as a line per curve
//! over its points, with a limit drawn across. Every shape carries its figure
//! (`data-bytes`) and says it on hover (`<title>`); colours are classes the
//! page's style sheet sets for light, dark and print.

use std::fmt::Write as _;

use super::{plain, Style};
use crate::cut::{self, Measure};
use crate::report::chart::{Bars, Layout, Series};
use crate::report::figure::figure;
use crate::report::span::{Span, Spans};

/// The width of every chart (the view box: it scales to the page).
pub const WIDTH: f64 = 760.0;
/// Label column, bar area start.
const LABEL: f64 = 230.0;
/// Room for the figure after the longest bar.
const VALUE: f64 = 80.0;
/// Series kept apart by colour: the style sheet has this many.
pub const SERIES: usize = 4;

/// A coordinate, short: two decimals at most.
pub fn n(x: f64) -> String {
    let t = format!("{x:.2}");
    let t = t.trim_end_matches('0').trim_end_matches('.');
    if t == "-0" {
        "0".to_owned()
    } else {
        t.to_owned()
    }
}

/// Opens an SVG as wide as every chart and `height` high, with `more`
/// attributes.
pub fn open(out: &mut String, height: f64, more: &str) {
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {}\" width=\"{w}\" role=\"img\"{more}>",
        n(height),
        w = n(WIDTH)
    );
}

/// Bytes as the page shows them.
pub fn bytes(b: u64, style: Style) -> String {
    figure(&Span::size(b), style).unwrap_or_default()
}

/// A label cut to `cols` columns, and the whole of it (for hover), both
/// escaped: a command is cut at its end (its start says what it is), any
/// other text in the middle (two distinct names never look alike).
pub fn label(spans: &Spans, style: Style, cols: usize) -> (String, String) {
    let whole = super::raw(spans, style);
    let shown = crate::escape::escape(&whole);
    let cut = if spans.0.iter().any(|s| matches!(s, Span::Command(_))) {
        cut::end(&shown, cols, Measure::Columns)
    } else {
        cut::middle(&shown, cols, Measure::Columns)
    };
    (crate::escape::html(&cut), crate::escape::html(&whole))
}

/// The legend of a chart, in HTML: a swatch per series (stacked bars, or
/// grouped ones of more than one series), and the mark's.
fn legend(out: &mut String, names: &[(String, String)]) {
    if names.is_empty() {
        return;
    }
    out.push_str("<div>");
    for (class, name) in names {
        let _ = write!(
            out,
            "<span class=\"key\"><i class=\"{class}\"></i>{name}</span>"
        );
    }
    out.push_str("</div>\n");
}

pub fn bars(out: &mut String, b: &Bars, style: Style) {
    let stacked = b.layout == Layout::Stacked;
    let max = crate::report::bars::longest(b);
    let room = WIDTH - LABEL - VALUE;
    let scale = |v: u64| {
        if max == 0 {
            0.0
        } else {
            v as f64 / max as f64 * room
        }
    };
    let per_series = if stacked { 1 } else { b.series.len().max(1) };
    let (bar_h, gap) = (14.0, 8.0);
    let row_h = per_series as f64 * (bar_h + 2.0) + gap;
    let height = (b.rows.len() as f64 * row_h + gap).max(row_h);
    let _ = writeln!(
        out,
        "<figure><figcaption>{}</figcaption>",
        super::text(&b.title, style)
    );
    let mut keys: Vec<(String, String)> = Vec::new();
    if stacked || b.series.len() > 1 {
        keys.extend(
            b.series
                .iter()
                .enumerate()
                .map(|(i, s)| (format!("s{}", i % SERIES), super::text(s, style))),
        );
    }
    if let Some(m) = &b.mark {
        keys.push(("mark-key".to_owned(), super::text(m, style)));
    }
    legend(out, &keys);
    open(out, height, "");
    for (r, row) in b.rows.iter().enumerate() {
        let top = gap / 2.0 + r as f64 * row_h;
        let (shown, whole) = label(&row.label, style, 30);
        let mid = top + (per_series as f64 * (bar_h + 2.0)) / 2.0 + 4.0;
        let _ = writeln!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\"><title>{whole}</title>{shown}</text>",
            n(LABEL - 8.0),
            n(mid)
        );
        let mut x = LABEL;
        for (i, v) in row.values.iter().enumerate() {
            let Some(v) = *v else { continue };
            let series = b.series.get(i).map(|s| plain(s, style)).unwrap_or_default();
            let (bx, by) = if stacked {
                (x, top)
            } else {
                (LABEL, top + i as f64 * (bar_h + 2.0))
            };
            let w = if stacked {
                // Each segment ends where the running total does.
                let before: u64 = row.values[..i].iter().flatten().sum();
                scale(before + v) - scale(before)
            } else {
                scale(v)
            };
            let _ = writeln!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"s{}\" data-bytes=\"{v}\"><title>{whole} — {series}: {}</title></rect>",
                n(bx),
                n(by),
                n(w),
                n(bar_h),
                i % SERIES,
                bytes(v, style)
            );
            if stacked {
                x += w;
            } else {
                let _ = writeln!(
                    out,
                    "<text x=\"{}\" y=\"{}\" class=\"small\">{}</text>",
                    n(LABEL + w + 4.0),
                    n(by + bar_h - 3.0),
                    bytes(v, style)
                );
            }
        }
        if stacked && row.values.iter().any(Option::is_some) {
            let total: u64 = row.values.iter().flatten().sum();
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" class=\"small\">{}</text>",
                n(x + 4.0),
                n(top + bar_h - 3.0),
                bytes(total, style)
            );
        }
        if let (Some(m), Some(name)) = (row.mark, &b.mark) {
            let mx = LABEL + scale(m);
            let _ = writeln!(
                out,
                "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" class=\"mark\" data-bytes=\"{m}\"><title>{whole} — {}: {}</title></line>",
                n(top - 2.0),
                n(top + bar_h + 2.0),
                plain(name, style),
                bytes(m, style),
                x = n(mx)
            );
        }
    }
    out.push_str("</svg></figure>\n");
}

/// Rounded up to 1, 2 or 5 times a power of ten: the top of an axis.
fn nice(max: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            if let Some(t) = step.checked_mul(m) {
                if t >= max {
                    return t;
                }
            }
        }
        match step.checked_mul(10) {
            Some(s) => step = s,
            None => return max,
        }
    }
}

pub fn series(out: &mut String, s: &Series, style: Style) {
    let (left, right, top, bottom) = (80.0, 24.0, 16.0, 70.0);
    let height = 300.0;
    let (pw, ph) = (WIDTH - left - right, height - top - bottom);
    let known = s
        .curves
        .iter()
        .flat_map(|c| c.values.iter().flatten().copied());
    let max = nice(known.chain(s.limit).max().unwrap_or(0).max(1));
    let count = s.points.len();
    let x = |i: usize| {
        if count <= 1 {
            left + pw / 2.0
        } else {
            left + pw * i as f64 / (count - 1) as f64
        }
    };
    let y = |v: u64| top + ph * (1.0 - v as f64 / max as f64);
    let _ = writeln!(
        out,
        "<figure><figcaption>{}</figcaption>",
        super::text(&s.title, style)
    );
    let mut keys: Vec<(String, String)> = s
        .curves
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("s{}", i % SERIES), super::text(&c.name, style)))
        .collect();
    if s.limit.is_some() {
        keys.push(("limit-key".to_owned(), "limit".to_owned()));
    }
    legend(out, &keys);
    open(out, height, "");
    // The axis: four steps from 0 to the top.
    for k in 0..=4u64 {
        let v = max / 4 * k;
        let _ = writeln!(
            out,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" class=\"axis\"/><text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"small\">{}</text>",
            n(left),
            n(left + pw),
            n(left - 6.0),
            n(y(v) + 3.0),
            bytes(v, style),
            y = n(y(v))
        );
    }
    // Point labels: every one, or every k-th when they would crowd.
    let every = count.div_ceil(24).max(1);
    for (i, p) in s.points.iter().enumerate() {
        if i % every != 0 && i + 1 != count {
            continue;
        }
        let (shown, whole) = label(p, style, 18);
        let _ = writeln!(
            out,
            "<text x=\"{x}\" y=\"{}\" text-anchor=\"end\" class=\"small\" transform=\"rotate(-35 {x} {})\"><title>{whole}</title>{shown}</text>",
            n(top + ph + 14.0),
            n(top + ph + 14.0),
            x = n(x(i))
        );
    }
    if let Some(limit) = s.limit {
        let ly = n(y(limit));
        let _ = writeln!(
            out,
            "<line x1=\"{}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" class=\"limit\" data-bytes=\"{limit}\"><title>limit: {}</title></line><text x=\"{}\" y=\"{}\" text-anchor=\"end\" class=\"small\">limit {}</text>",
            n(left),
            n(left + pw),
            bytes(limit, style),
            n(left + pw),
            n(y(limit) - 4.0),
            bytes(limit, style)
        );
    }
    for (c, curve) in s.curves.iter().enumerate() {
        let class = format!("s{}", c % SERIES);
        let name = plain(&curve.name, style);
        // A line through each run of known points; a gap where one is not known.
        let mut run: Vec<String> = Vec::new();
        let flush = |run: &mut Vec<String>, out: &mut String| {
            if run.len() > 1 {
                let _ = writeln!(
                    out,
                    "<polyline points=\"{}\" class=\"curve {class}\"/>",
                    run.join(" ")
                );
            }
            run.clear();
        };
        for (i, v) in curve.values.iter().enumerate() {
            match v {
                Some(v) => run.push(format!("{},{}", n(x(i)), n(y(*v)))),
                None => flush(&mut run, out),
            }
        }
        flush(&mut run, out);
        for (i, v) in curve.values.iter().enumerate() {
            let Some(v) = v else { continue };
            let point = s.points.get(i).map(|p| plain(p, style)).unwrap_or_default();
            let _ = writeln!(
                out,
                "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" class=\"{class}\" data-bytes=\"{v}\"><title>{point} — {name}: {}</title></circle>",
                n(x(i)),
                n(y(*v)),
                bytes(*v, style)
            );
        }
    }
    out.push_str("</svg></figure>\n");
}
