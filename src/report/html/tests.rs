//! The HTML renderer on hand-made documents: inert text, the JSON's numbers,
//! a bounded treemap whose tiles add up, and each chart's SVG as a snapshot.

use super::*;
use crate::report::chart::{Bars, Curve, Layout, TreeRow};
use crate::spans;

fn page(doc: &Doc) -> String {
    let mut out = Vec::new();
    render(&mut out, doc, Style::default(), "test").unwrap();
    String::from_utf8(out).unwrap()
}

/// The SVG of the first chart of `html`.
fn first_svg(html: &str) -> &str {
    let start = html.find("<svg").expect("an svg");
    let end = html[start..].find("</svg>").unwrap() + start + "</svg>".len();
    &html[start..end]
}

const EVIL: &str = "<img src=x onerror=alert(1)>\"'&amp;\u{202e}";

fn tree(rows: &[(usize, Node, u64, Option<usize>)]) -> Tree {
    let mut t = Tree::new(vec![Column::text("PATH"), Column::figure("SIZE")]);
    for (depth, node, bytes, layer) in rows {
        t.push(TreeRow {
            depth: *depth,
            node: node.clone(),
            bytes: *bytes,
            layer: *layer,
            cells: vec![spans![Span::size(*bytes)]],
        });
    }
    t
}

fn du_tree() -> Tree {
    tree(&[
        (0, Node::Entry(Span::path("/")), 9000, Some(1)),
        (1, Node::Entry(Span::Dir("/data".into())), 6000, Some(1)),
        (2, Node::Entry(Span::path("/data/f")), 6000, Some(1)),
        (1, Node::Entry(Span::Dir("/etc".into())), 1500, Some(3)),
        (2, Node::Entry(Span::path("/etc/keep")), 1500, Some(3)),
        (1, Node::Entry(Span::Dir("/swap".into())), 800, Some(2)),
        (1, Node::More { entries: 1 }, 700, None),
    ])
}

/// (bytes, area) of every tile of a treemap.
fn tiles(svg: &str) -> Vec<(u64, f64)> {
    svg.lines()
        .filter(|l| l.contains("class=\"tile "))
        .map(|l| {
            let attr = |name: &str| -> f64 {
                let at = l.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
                l[at..at + l[at..].find('"').unwrap()].parse().unwrap()
            };
            (attr("data-bytes") as u64, attr("width") * attr("height"))
        })
        .collect()
}

#[test]
fn the_page_loads_nothing_and_its_style_is_allowed_by_hash() {
    let out = page(&Doc::new());
    assert!(out.starts_with("<!DOCTYPE html>"));
    let csp = page::csp();
    assert!(out.contains(&format!("content=\"{csp}\"")));
    assert!(csp.starts_with("default-src 'none'; style-src 'sha256-"));
    assert!(!out.contains("<script") && !out.contains("http:") && !out.contains("https:"));
    assert!(out.contains("prefers-color-scheme:dark") && out.contains("@media print"));
}

#[test]
fn text_from_inputs_opens_no_tag_attribute_or_entity() {
    let mut doc = Doc::new();
    doc.heading(spans![Span::name(EVIL)]);
    doc.line(spans![Span::path(EVIL), " ", Span::command(EVIL)]);
    doc.note(spans![Span::Dir(EVIL.into())]);
    let mut t = Table::new(vec![Column::text(spans![Span::name(EVIL)])]);
    t.row(vec![spans![Span::name(EVIL)]]);
    doc.table(t);
    let mut b = Bars::new(
        spans![Span::name(EVIL)],
        "IMAGE",
        Layout::Grouped,
        vec![spans![Span::name(EVIL)], spans!["b"]],
    );
    b.row(spans![Span::name(EVIL)], vec![Some(1), Some(2)]);
    doc.bars(b);
    doc.tree(tree(&[
        (0, Node::Entry(Span::path(EVIL)), 5, Some(1)),
        (1, Node::Entry(Span::path(format!("/{EVIL}/x"))), 5, Some(1)),
    ]));
    doc.series(Series {
        title: spans![Span::name(EVIL)],
        axis: "TAG".into(),
        points: vec![spans![Span::name(EVIL)], spans![Span::name("2")]],
        curves: vec![Curve {
            name: spans![Span::name(EVIL)],
            values: vec![Some(3), Some(4)],
        }],
        limit: Some(4),
    });
    let out = page(&doc);
    assert!(!out.contains("<img"), "{out}");
    assert!(!out.contains("onerror=alert(1)>"), "{out}");
    assert!(!out.contains('\u{202e}'), "{out}");
    assert!(out.contains("&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;amp;\\u{202e}"));
    // Every `<` opens one of the renderer's own elements.
    let own = [
        "!DOCTYPE",
        "html",
        "/html",
        "head",
        "/head",
        "meta",
        "title",
        "/title",
        "style",
        "/style",
        "body",
        "/body",
        "main",
        "/main",
        "h1",
        "/h1",
        "h2",
        "/h2",
        "p",
        "/p",
        "div",
        "/div",
        "table",
        "/table",
        "thead",
        "/thead",
        "tbody",
        "/tbody",
        "tr",
        "/tr",
        "th",
        "/th",
        "td",
        "/td",
        "span",
        "/span",
        "data",
        "/data",
        "figure",
        "/figure",
        "figcaption",
        "/figcaption",
        "svg",
        "/svg",
        "rect",
        "/rect",
        "text",
        "/text",
        "line",
        "/line",
        "i",
        "/i",
        "polyline",
        "circle",
        "/circle",
    ];
    for tag in out.split('<').skip(1) {
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '/' || *c == '!')
            .collect();
        assert!(own.contains(&name.as_str()), "<{name} in {out}");
    }
}

#[test]
fn figures_carry_the_jsons_numbers() {
    let mut doc = Doc::new();
    doc.line(spans![
        Span::size(191_040),
        " ",
        Span::Delta(Some(-76_300)),
        " ",
        Span::percent(45.28631),
        " ",
        Span::Count(7),
        " ",
        Span::Bytes(None),
    ]);
    let out = page(&doc);
    for want in [
        "<data value=\"191040\">191kB</data>",
        "<data value=\"-76300\">-76.3kB</data>",
        "<data value=\"45.28631\">45.3%</data>",
        "<data value=\"7\">7</data>",
    ] {
        assert!(out.contains(want), "{want} in {out}");
    }
    assert!(
        out.contains("</data> -</p>"),
        "an unknown figure is a dash: {out}"
    );
    let raw = {
        let mut v = Vec::new();
        render(&mut v, &doc, Style { raw_bytes: true }, "t").unwrap();
        String::from_utf8(v).unwrap()
    };
    assert!(
        raw.contains("<data value=\"191040\">191040</data>"),
        "{raw}"
    );
}

#[test]
fn treemap_tiles_add_up_to_the_total_and_tile_the_map() {
    let out = page(&Doc {
        blocks: vec![Block::Tree(du_tree())],
    });
    let t = tiles(first_svg(&out));
    assert_eq!(t.iter().map(|x| x.0).sum::<u64>(), 9000);
    let area: f64 = t.iter().map(|x| x.1).sum();
    assert!((area - svg::WIDTH * 440.0).abs() < 1.0, "{area}");
    for (bytes, a) in &t {
        let expected = *bytes as f64 / 9000.0 * svg::WIDTH * 440.0;
        assert!((a - expected).abs() < 0.01 * expected + 2.0, "{bytes}: {a}");
    }
    assert!(
        out.contains("<title>/data/f: 6kB, mostly layer #1</title>"),
        "{out}"
    );
    assert!(out.contains("<title>… 1 more: 700B</title>"), "{out}");
}

#[test]
fn a_huge_tree_draws_a_bounded_map_that_still_adds_up() {
    let mut rows = vec![(0, Node::Entry(Span::path("/")), 0, None)];
    let mut total = 0;
    for d in 0..400u64 {
        let dir_bytes: u64 = (0..250).map(|f| 1 + (d * 250 + f) % 97).sum();
        total += dir_bytes;
        rows.push((
            1,
            Node::Entry(Span::Dir(format!("/d{d}"))),
            dir_bytes,
            Some(1 + d as usize % 12),
        ));
        for f in 0..250u64 {
            let b = 1 + (d * 250 + f) % 97;
            rows.push((
                2,
                Node::Entry(Span::path(format!("/d{d}/f{f}"))),
                b,
                Some(1),
            ));
        }
    }
    rows[0].2 = total;
    let out = page(&Doc {
        blocks: vec![Block::Picture(Chart::Tree(tree(&rows)))],
    });
    let t = tiles(first_svg(&out));
    assert!(t.len() <= treemap::MAX_TILES, "{} tiles", t.len());
    assert_eq!(t.iter().map(|x| x.0).sum::<u64>(), total);
    assert!(out.len() < 600_000, "{} bytes", out.len());
    assert!(!out.contains("<table"), "a picture alone: {out:.300}");
}

#[test]
fn stacked_bars_svg() {
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
    let out = page(&Doc {
        blocks: vec![Block::Bars(b)],
    });
    insta::assert_snapshot!(first_svg(&out));
}

#[test]
fn grouped_bars_svg() {
    let mut b = Bars::new(
        spans!["Total per image, compressed bytes"],
        "IMAGE",
        Layout::Grouped,
        vec![spans![Span::name("fat")], spans![Span::name("lean")]],
    );
    b.row(spans![Span::name("nova")], vec![Some(92_600), Some(16_400)]);
    b.row(spans![Span::name("glance")], vec![Some(80_000), None]);
    let out = page(&Doc {
        blocks: vec![Block::Bars(b)],
    });
    insta::assert_snapshot!(first_svg(&out));
}

#[test]
fn treemap_svg() {
    let out = page(&Doc {
        blocks: vec![Block::Tree(du_tree())],
    });
    insta::assert_snapshot!(first_svg(&out));
}

#[test]
fn series_svg() {
    let s = Series {
        title: spans!["Size over tags"],
        axis: "TAG".into(),
        points: vec![
            spans![Span::name("1.0")],
            spans![Span::name("1.1")],
            spans![Span::name("2.0")],
        ],
        curves: vec![
            Curve {
                name: "compressed".into(),
                values: vec![Some(20_000_000), Some(8_000_000), Some(9_800_000)],
            },
            Curve {
                name: "files".into(),
                values: vec![Some(30_000_000), None, Some(31_000_000)],
            },
        ],
        limit: Some(25_000_000),
    };
    let out = page(&Doc {
        blocks: vec![Block::Series(s)],
    });
    insta::assert_snapshot!(first_svg(&out));
    assert!(out.contains("<td class=\"r\"><data value=\"9800000\">9.8MB</data></td>"));
}

#[test]
fn a_listing_of_a_huge_tree_leaves_its_deepest_rows_out_and_says_so() {
    let mut rows = vec![(0, Node::Entry(Span::path("/")), 0, None)];
    for d in 0..100u64 {
        rows.push((1, Node::Entry(Span::Dir(format!("/d{d}"))), 100, Some(1)));
        for f in 0..100u64 {
            rows.push((
                2,
                Node::Entry(Span::path(format!("/d{d}/f{f}"))),
                1,
                Some(1),
            ));
        }
    }
    rows[0].2 = 10_000;
    let out = page(&Doc {
        blocks: vec![Block::Tree(tree(&rows))],
    });
    assert!(out.contains("/d99/"), "every directory is listed");
    assert!(!out.contains("/d0/f0<"), "files are left out");
    assert!(out.contains("<data value=\"10000\">10000</data> deeper rows are left out"));
    assert!(out.len() < 2_000_000, "{} bytes", out.len());
}
