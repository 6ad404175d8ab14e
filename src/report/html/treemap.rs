//! A size tree as a squarified treemap in SVG: each node's children (and
//! "N more" for the rest of them) tile its rectangle by their bytes; each
//! tile is coloured by the layer most of its bytes come from, labelled when
//! big enough, and names its path and size on hover. Tiles are placed level
//! by level from the root, at most MAX_TILES of them: past that a directory
//! is one tile, so the page stays small whatever the tree. Iterative.

use std::collections::VecDeque;
use std::fmt::Write as _;

use super::svg::{self, bytes, n, WIDTH};
use super::{html, Style};
use crate::cut::{self, Measure};
use crate::escape::escape;
use crate::report::chart::{Node, Tree};
use crate::report::figure::dir;
use crate::report::span::Span;
use crate::report::squarify::{layout, Rect};

/// The most tiles a treemap draws.
pub const MAX_TILES: usize = 2_000;
/// The height of the map (its width is every chart's).
const HEIGHT: f64 = 440.0;
/// Layer colours in the style sheet (`l0`…`l9`).
const LAYER_COLOURS: usize = 10;

/// A drawn rectangle: a row's (or its own bytes beside its children's).
struct Tile {
    row: usize,
    rect: Rect,
    /// The bytes a directory holds itself, beside its listed children.
    own: Option<u64>,
}

/// Each row's children, by position: the rows one level deeper until the
/// next row at its level. Rows at depth 0 (usually one) are the roots.
fn children(t: &Tree) -> (Vec<usize>, Vec<Vec<usize>>) {
    let mut kids = vec![Vec::new(); t.rows.len()];
    let mut roots = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    for (i, r) in t.rows.iter().enumerate() {
        open.truncate(r.depth);
        match open.last() {
            Some(&p) if r.depth > 0 => kids[p].push(i),
            _ => roots.push(i),
        }
        open.push(i);
    }
    (roots, kids)
}

fn layer_class(layer: Option<usize>) -> String {
    match layer {
        Some(l) if l > 0 => format!("l{}", (l - 1) % LAYER_COLOURS),
        _ => "lx".to_owned(),
    }
}

/// What a tile says on hover and as its label.
fn names(t: &Tree, tile: &Tile, style: Style) -> (String, String) {
    let r = &t.rows[tile.row];
    let (path, base) = match &r.node {
        Node::Entry(Span::Dir(p)) => {
            let d = dir(p);
            let base = d
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_owned()
                + "/";
            (d, base)
        }
        Node::Entry(Span::Path(p) | Span::Name(p)) => {
            (p.clone(), p.rsplit('/').next().unwrap_or(p).to_owned())
        }
        Node::Entry(other) => {
            let s = super::raw(&other.clone().into(), style);
            (s.clone(), s)
        }
        Node::More { entries } => {
            let text = format!("… {entries} more");
            (text.clone(), text)
        }
    };
    let size = bytes(tile.own.unwrap_or(r.bytes), style);
    let layer = match (tile.own, r.layer) {
        (None, Some(l)) => format!(", mostly layer #{l}"),
        _ => String::new(),
    };
    let what = if tile.own.is_some() {
        format!("{path} (itself)")
    } else {
        path
    };
    (format!("{what}: {size}{layer}"), base)
}

/// Places the tiles, level by level: returns them, and the rectangles of
/// the rows split into their children.
fn place(t: &Tree) -> (Vec<Tile>, Vec<Rect>) {
    let (roots, kids) = children(t);
    let mut split = Vec::new();
    let mut tiles = Vec::new();
    let bounds = Rect {
        x: 0.0,
        y: 0.0,
        w: WIDTH,
        h: HEIGHT,
    };
    let mut queue: VecDeque<(Vec<usize>, Option<usize>, Rect)> = VecDeque::new();
    queue.push_back((roots, None, bounds));
    // Tiles placed or waiting: each split adds its children less itself.
    let mut budget = MAX_TILES;
    while let Some((group, parent, rect)) = queue.pop_front() {
        let mut values: Vec<u64> = group.iter().map(|&i| t.rows[i].bytes).collect();
        // A directory's own bytes, beside those of its listed children.
        let own = parent.and_then(|p| {
            let listed: u64 = values.iter().sum();
            t.rows[p].bytes.checked_sub(listed).filter(|&b| b > 0)
        });
        if let Some(b) = own {
            values.push(b);
        }
        let rects = layout(&values, rect);
        for (k, &i) in group.iter().enumerate() {
            let r = rects[k];
            if r.area() <= 0.0 {
                continue;
            }
            let grown = kids[i].len().saturating_sub(1);
            if !kids[i].is_empty() && grown <= budget && r.w >= 4.0 && r.h >= 4.0 {
                budget -= grown;
                split.push(r);
                queue.push_back((kids[i].clone(), Some(i), r));
            } else {
                tiles.push(Tile {
                    row: i,
                    rect: r,
                    own: None,
                });
            }
        }
        if let (Some(b), Some(p)) = (own, parent) {
            tiles.push(Tile {
                row: p,
                rect: rects[group.len()],
                own: Some(b),
            });
        }
    }
    (tiles, split)
}

/// The treemap of `t`, in a figure with its legend.
pub fn draw(out: &mut String, t: &Tree, style: Style) {
    let (tiles, split) = place(t);
    if tiles.is_empty() {
        return;
    }
    let total: u64 = t
        .rows
        .iter()
        .filter(|r| r.depth == 0)
        .map(|r| r.bytes)
        .sum();
    let _ = writeln!(
        out,
        "<figure><figcaption>Treemap: area by bytes (<data value=\"{total}\">{}</data>), colour by layer</figcaption>",
        html(&bytes(total, style))
    );
    // The legend: each layer a tile is coloured by, in layer order.
    let mut layers: Vec<usize> = tiles
        .iter()
        .filter(|x| x.own.is_none())
        .filter_map(|x| t.rows[x.row].layer)
        .collect();
    layers.sort_unstable();
    layers.dedup();
    out.push_str("<div>");
    for l in &layers {
        let _ = write!(
            out,
            "<span class=\"key\"><i class=\"{}\"></i>layer #{l}</span>",
            layer_class(Some(*l))
        );
    }
    out.push_str("<span class=\"key\"><i class=\"lx\"></i>other</span></div>\n");
    svg::open(
        out,
        HEIGHT,
        &format!(" class=\"tm\" data-bytes=\"{total}\""),
    );
    for tile in &tiles {
        let r = &t.rows[tile.row];
        let class = match (&r.node, tile.own) {
            (Node::More { .. }, _) => "more".to_owned(),
            (_, Some(_)) => "lx".to_owned(),
            _ => layer_class(r.layer),
        };
        let (title, base) = names(t, tile, style);
        let b = tile.own.unwrap_or(r.bytes);
        let rect = tile.rect;
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"tile {class}\" data-bytes=\"{b}\"><title>{}</title></rect>",
            n(rect.x),
            n(rect.y),
            n(rect.w),
            n(rect.h),
            html(&title)
        );
        if rect.w >= 44.0 && rect.h >= 15.0 {
            let cols = ((rect.w - 6.0) / 6.5) as usize;
            let name = escape(&base);
            let shown = cut::middle(&name, cols, Measure::Columns);
            let _ = writeln!(
                out,
                "<text x=\"{}\" y=\"{}\" class=\"small\">{}</text>",
                n(rect.x + 3.0),
                n(rect.y + 12.0),
                html(&shown)
            );
            if rect.h >= 28.0 {
                let _ = writeln!(
                    out,
                    "<text x=\"{}\" y=\"{}\" class=\"small\">{}</text>",
                    n(rect.x + 3.0),
                    n(rect.y + 24.0),
                    html(&bytes(b, style))
                );
            }
        }
    }
    // Directories split into their children: an outline each, over them.
    for rect in split {
        let _ = writeln!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"dir\"/>",
            n(rect.x),
            n(rect.y),
            n(rect.w),
            n(rect.h)
        );
    }
    out.push_str("</svg></figure>\n");
}
