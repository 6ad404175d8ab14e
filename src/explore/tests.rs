//! Listings and the lazy tree on images held in memory (real overlays over
//! sorted entries): sums, statuses, caps, pins, filters, and the tree's
//! opening, relisting, revealing and trimming.

use super::classify::{Mode, Status};
use super::filter::{Filter, Pattern, Sort};
use super::listing::{name_key, DirKey, DirReq, Lens, Listing};
use super::pass::list;
use super::source::{Nodes, TreeSource};
use super::tree::{Line, Tree, OPEN_CAP, PAGE};
use crate::analyze::overlay::of_entries;
use crate::layer::index::{is_below, path_order};
use crate::layer::{Entry, EntryKind};
use EntryKind::{Dir, File, Symlink, Whiteout};

/// An image held in memory: each layer's entries.
pub struct Mem(pub Vec<Vec<Entry>>);

impl TreeSource for Mem {
    fn subtree(&self, dir: &[u8]) -> anyhow::Result<Nodes<'_>> {
        let all = of_entries(self.0.clone())?;
        if dir.is_empty() {
            return Ok(Box::new(all));
        }
        let (from, dir) = (dir.to_vec(), dir.to_vec());
        Ok(Box::new(
            all.skip_while(move |n| {
                n.as_ref()
                    .is_ok_and(|n| path_order(&n.path, &from) == std::cmp::Ordering::Less)
            })
            .take_while(move |n| {
                n.as_ref()
                    .map_or(true, |n| n.path == dir || is_below(&n.path, &dir))
            }),
        ))
    }
}

#[test]
fn a_subtree_in_memory_is_its_directory_and_what_is_below_it() {
    let layer: Vec<Entry> = ["a", "a/b", "a/b/c", "a-b", "ab", "a.b/x", "b"]
        .iter()
        .map(|p| e(p, Dir, 0))
        .collect();
    let paths: Vec<String> = Mem(vec![layer])
        .subtree(b"a")
        .unwrap()
        .map(|n| String::from_utf8(n.unwrap().path).unwrap())
        .collect();
    assert_eq!(paths, ["a", "a/b", "a/b/c"]);
}

pub fn e(path: &str, kind: EntryKind, size: u64) -> Entry {
    let mut e = Entry::sample(path, kind, size);
    if kind == Symlink {
        e.link = Some(b"target".to_vec());
    }
    e
}

fn key(path: &str) -> DirKey {
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| name_key(s.as_bytes()))
        .collect()
}

fn req(path: &str, limit: usize) -> DirReq {
    DirReq {
        key: key(path),
        limit,
        pins: Vec::new(),
        prefetch: false,
    }
}

fn lens(layer: usize, mode: Mode) -> Lens {
    Lens {
        layer,
        mode,
        sort: Sort::Size,
        filter: Filter::default(),
    }
}

fn listing(src: &Mem, lens: &Lens, reqs: Vec<DirReq>) -> Vec<Listing> {
    let base = super::listing::real_prefix(&reqs[0].key);
    let nodes = src
        .subtree(if reqs.len() == 1 { &base } else { b"" })
        .unwrap();
    list(nodes, lens, reqs, &mut |_| {}, &|| false)
        .unwrap()
        .unwrap()
}

/// name, status letter, bytes, wasted
fn rows(l: &Listing) -> Vec<(String, char, u64, u64)> {
    l.rows
        .iter()
        .map(|r| {
            (
                r.display_name(),
                r.status().letter(),
                r.bytes(),
                r.sums.wasted,
            )
        })
        .collect()
}

/// Three layers: a base, one that adds and changes, one that deletes.
pub fn three() -> Mem {
    Mem(vec![
        vec![
            e("usr", Dir, 0),
            e("usr/bin", Dir, 0),
            e("usr/bin/a", File, 10),
            e("usr/lib", Dir, 0),
            e("usr/lib/x", File, 100),
            e("etc", Dir, 0),
            e("etc/conf", File, 5),
        ],
        vec![
            e("usr/lib/y", File, 50),
            e("etc/conf", File, 7),
            e("etc/link", Symlink, 0),
        ],
        vec![e("usr/bin", Whiteout, 0)],
    ])
}

#[test]
fn a_directory_sums_its_subtree_as_seen_from_the_layer() {
    let src = three();
    let l = listing(&src, &lens(1, Mode::UpTo), vec![req("", 10)]);
    assert_eq!(
        rows(&l[0]),
        [("usr".into(), 'M', 160, 10), ("etc".into(), 'M', 7, 0)]
    );
    let usr = &l[0].rows[0];
    assert_eq!((usr.sums.files, usr.sums.layers), (3, Some((0, 1))));
    assert_eq!(l[0].sums.size, 167);
    let base = listing(&src, &lens(0, Mode::UpTo), vec![req("", 10)]);
    assert_eq!(
        rows(&base[0]),
        [("usr".into(), 'A', 110, 10), ("etc".into(), 'A', 5, 5)]
    );
}

#[test]
fn the_changes_mode_shows_only_what_the_layer_writes_or_removes() {
    let src = three();
    let l = listing(
        &src,
        &lens(1, Mode::Changes),
        vec![req("", 10), req("usr", 10)],
    );
    assert_eq!(
        rows(&l[0]),
        [("usr".into(), 'M', 50, 0), ("etc".into(), 'M', 7, 0)]
    );
    assert_eq!(rows(&l[1]), [("lib".into(), 'M', 50, 0)]);
    let gone = listing(&src, &lens(2, Mode::Changes), vec![req("usr", 10)]);
    assert_eq!(rows(&gone[0]), [("bin".into(), 'D', 10, 0)]);
    let etc = listing(&src, &lens(1, Mode::UpTo), vec![req("etc", 10)]);
    let link = etc[0].rows.iter().find(|r| &*r.name == b"link").unwrap();
    let own = link.own.as_ref().unwrap();
    assert_eq!(
        (own.link.as_deref(), own.status),
        (Some("target"), Status::Added)
    );
}

#[test]
fn a_listing_keeps_the_biggest_its_pins_and_counts_the_rest() {
    let files: Vec<Entry> = (1..=10)
        .map(|i| e(&format!("d/f{i:02}"), File, i))
        .collect();
    let src = Mem(vec![files]);
    let mut r = req("d", 3);
    r.pins = vec![name_key(b"f01")];
    let l = listing(&src, &lens(0, Mode::UpTo), vec![r]);
    let names: Vec<String> = l[0].rows.iter().map(|r| r.display_name()).collect();
    assert_eq!(names, ["f10", "f09", "f08", "f01"]);
    assert_eq!(
        (l[0].more.rows, l[0].more.bytes),
        (6, 2 + 3 + 4 + 5 + 6 + 7)
    );
    let mut by_name = lens(0, Mode::UpTo);
    by_name.sort = Sort::Name;
    let l = listing(&src, &by_name, vec![req("d", 3)]);
    let names: Vec<String> = l[0].rows.iter().map(|r| r.display_name()).collect();
    assert_eq!(names, ["f01", "f02", "f03"]);
    assert_eq!(l[0].more.rows, 7);
}

#[test]
fn filters_keep_what_matches_and_size_directories_by_it() {
    let src = three();
    let mut l = lens(1, Mode::UpTo);
    l.filter.pattern = Some(Pattern::parse("*/x").unwrap());
    let got = listing(&src, &l, vec![req("", 10)]);
    assert_eq!(rows(&got[0]), [("usr".into(), ' ', 100, 0)]);
    let mut l = lens(1, Mode::UpTo);
    l.filter.min_size = 8;
    assert_eq!(rows(&listing(&src, &l, vec![req("", 10)])[0]).len(), 1);
    let mut l = lens(1, Mode::UpTo);
    l.filter.wasted_only = true;
    let got = listing(&src, &l, vec![req("", 10), req("usr", 10)]);
    assert_eq!(rows(&got[1]), [("bin".into(), ' ', 10, 10)]);
    let mut l = lens(1, Mode::UpTo);
    l.filter.toggle_status(Status::Unchanged);
    let got = listing(&src, &l, vec![req("usr", 10)]);
    assert_eq!(rows(&got[0]), [("lib".into(), 'M', 50, 0)]);
}

#[test]
fn names_past_the_cap_are_cut_and_still_open() {
    let long = "n".repeat(5000);
    let src = Mem(vec![vec![
        e(&format!("d/{long}/inner"), File, 3),
        e(&format!("d/{long}x/inner"), File, 4),
    ]]);
    let l = listing(&src, &lens(0, Mode::UpTo), vec![req("d", 10)]);
    assert_eq!(l[0].rows.len(), 2);
    assert!(l[0].rows.iter().all(|r| r.cut && r.name.len() < 300));
    let mut k = key("d");
    k.push(l[0].rows[0].name.clone());
    let inner = listing(
        &src,
        &lens(0, Mode::UpTo),
        vec![DirReq {
            key: k,
            limit: 10,
            pins: vec![],
            prefetch: false,
        }],
    );
    assert_eq!(inner[0].rows.len(), 1);
    assert_eq!(inner[0].rows[0].bytes(), 4);
}

/// Runs a tree's requests against `src` until none is left.
fn serve(tree: &mut Tree, src: &Mem, lens: &Lens, mut reqs: Vec<DirReq>) {
    while !reqs.is_empty() {
        let l = listing(src, lens, reqs);
        reqs = tree.apply(l);
    }
}

fn shown(tree: &Tree) -> Vec<String> {
    tree.lines
        .iter()
        .map(|l| match *l {
            Line::Row { dir, row, depth } => {
                format!(
                    "{}{}",
                    "  ".repeat(depth),
                    tree.dir(dir).rows[row].display_name()
                )
            }
            Line::More { depth, .. } => format!("{}…", "  ".repeat(depth)),
            Line::Loading { depth, .. } => format!("{}reading", "  ".repeat(depth)),
        })
        .collect()
}

#[test]
fn a_tree_opens_relists_and_keeps_what_is_open_and_the_cursor() {
    let src = three();
    let mut t = Tree::new();
    assert_eq!(shown(&t), ["reading"]);
    let l1 = lens(1, Mode::UpTo);
    serve(&mut t, &src, &l1, vec![req("", PAGE)]);
    assert_eq!(shown(&t), ["usr", "etc"]);
    let r = t.expand(0).unwrap();
    assert_eq!(shown(&t), ["usr", "  reading", "etc"]);
    serve(&mut t, &src, &l1, vec![r]);
    assert_eq!(shown(&t), ["usr", "  lib", "  bin", "etc"]);
    t.cursor = 2;
    let l2 = lens(2, Mode::UpTo);
    let reqs = t.relist();
    serve(&mut t, &src, &l2, reqs);
    // bin is removed in layer 2 but shown (as removed); the cursor stays on it.
    assert_eq!(shown(&t), ["usr", "  lib", "  bin", "etc"]);
    assert_eq!(t.key_of(t.cursor), Some(key("usr/bin")));
    let changes = lens(0, Mode::Changes);
    let reqs = t.relist();
    serve(&mut t, &src, &changes, reqs);
    assert_eq!(shown(&t), ["usr", "  lib", "  bin", "etc"]);
    assert!(t.collapse(0));
    assert_eq!(shown(&t), ["usr", "etc"]);
    assert_eq!(t.parent_line(1), None);
}

#[test]
fn a_search_hit_opens_the_directories_on_its_way() {
    let src = three();
    let mut t = Tree::new();
    let l = lens(1, Mode::UpTo);
    serve(&mut t, &src, &l, vec![req("", PAGE)]);
    let target = key("usr/lib/y");
    let reqs = t.reveal(&target);
    assert_eq!(reqs.len(), 2);
    serve(&mut t, &src, &l, reqs);
    t.select(&target);
    assert_eq!(t.key_of(t.cursor), Some(target));
    assert_eq!(
        shown(&t),
        ["usr", "  lib", "    x", "    y", "  bin", "etc"]
    );
}

#[test]
fn opening_everything_below_stops_at_the_caps_without_recursion() {
    // 300 directories each holding the next: as deep as the caps allow.
    let mut layer = Vec::new();
    let mut p = String::from("d");
    for _ in 0..300 {
        layer.push(e(&p, Dir, 0));
        p.push_str("/d");
    }
    layer.push(e(&format!("{p}/f"), File, 1));
    let src = Mem(vec![layer]);
    let l = lens(0, Mode::UpTo);
    let mut t = Tree::new();
    serve(&mut t, &src, &l, vec![req("", PAGE)]);
    t.expand_all = Some(Vec::new());
    let r = t.expand(0).unwrap();
    serve(&mut t, &src, &l, vec![r]);
    assert!(t.open_count() <= OPEN_CAP + 1, "{}", t.open_count());
    assert!(t.lines.len() >= OPEN_CAP - 1);
    assert!(t.expand_all.is_none());
}

#[test]
fn directories_listed_ahead_of_need_open_without_a_pass() {
    let src = three();
    let mut t = Tree::new();
    let l = lens(1, Mode::UpTo);
    let mut root = req("", PAGE);
    root.prefetch = true;
    serve(&mut t, &src, &l, vec![root]);
    assert_eq!(t.expand(0), None, "usr was listed with the root");
    assert_eq!(shown(&t), ["usr", "  lib", "  bin", "etc"]);
    // A new look forgets them: opening asks again.
    let reqs = t.relist();
    serve(&mut t, &src, &lens(2, Mode::UpTo), reqs);
    assert!(t.collapse(0));
    let l2 = lens(2, Mode::Changes);
    let reqs = t.relist();
    assert!(reqs.iter().all(|r| r.prefetch));
    serve(&mut t, &src, &l2, reqs);
    assert_eq!(t.expand(0), None, "listed ahead again by the relist");
}
