use std::fs::File;
use std::path::Path;

use super::*;
use crate::layer::index::{entry_order, Footer, IndexWriter};
use crate::layer::EntryKind::{self, Dir, File as F, OpaqueDir, Whiteout};

fn e(path: &str, kind: EntryKind, size: u64) -> Entry {
    Entry::sample(path, kind, size)
}

fn write(path: &Path, mut entries: Vec<Entry>) {
    entries.sort_by(entry_order);
    let mut w = IndexWriter::new(File::create(path).unwrap(), 3).unwrap();
    for e in &entries {
        w.push(e).unwrap();
    }
    w.finish(&Footer::default()).unwrap();
}

/// Three layers, each of many blocks: a base of 60 directories of 1,500
/// files (and a nested one), a layer that deletes `d010`, makes `d020`
/// opaque, replaces `d030` by a file and rewrites some of `d040`, and a
/// top layer that adds to `d010` and `d020` again.
fn layers(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut base = vec![e("", Dir, 0)];
    for d in 0..60 {
        base.push(e(&format!("d{d:03}"), Dir, 0));
        base.push(e(&format!("d{d:03}/sub"), Dir, 0));
        base.push(e(&format!("d{d:03}/sub/deep"), F, 3));
        for f in 0..1500 {
            base.push(e(&format!("d{d:03}/f{f:04}"), F, f));
        }
    }
    let mut middle = vec![
        e("d010", Whiteout, 0),
        e("d020", Dir, 0),
        e("d020", OpaqueDir, 0),
        e("d020/new", F, 9),
        e("d030", F, 30),
    ];
    for f in (0..1500).step_by(7) {
        middle.push(e(&format!("d040/f{f:04}"), F, 100_000 + f));
    }
    middle.push(e("d040/sub", Whiteout, 0));
    let top = vec![
        e("d010", Dir, 0),
        e("d010/back", F, 1),
        e("d020/f0001", F, 2),
        e("d030", Dir, 0),
        e("d030/again", F, 4),
    ];
    [base, middle, top]
        .into_iter()
        .enumerate()
        .map(|(i, entries)| {
            let path = dir.join(format!("{i}.idx"));
            write(&path, entries);
            path
        })
        .collect()
}

fn open(paths: &[std::path::PathBuf]) -> Vec<IndexReader> {
    paths
        .iter()
        .map(|p| IndexReader::open(p).unwrap())
        .collect()
}

/// The nodes of a walk of everything, cut to `dir` and `scope`.
fn cut(all: &[Node], dir: &[u8], scope: Scope) -> Vec<Node> {
    all.iter()
        .filter(|n| match scope {
            Scope::Node => n.path == dir,
            Scope::Children => {
                n.path == dir
                    || (is_below(&n.path, dir)
                        && find_slash(&n.path[if dir.is_empty() { 0 } else { dir.len() + 1 }..])
                            .is_none())
            }
            Scope::All => n.path == dir || is_below(&n.path, dir),
        })
        .cloned()
        .collect()
}

#[test]
fn a_subtree_read_by_seeking_equals_the_same_subtree_of_a_full_walk_and_reads_only_its_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = layers(tmp.path());
    let mut full = Overlay::new(open(&paths)).unwrap();
    let all: Vec<Node> = full.by_ref().map(Result::unwrap).collect();
    let total: u64 = full.layers().iter().map(IndexReader::blocks_read).sum();
    assert!(total > 30, "{total} blocks in all");
    let dirs = [
        "d010", "d020", "d030", "d040", "d040/sub", "d050", "d050/sub", "", "nothing",
    ];
    for dir in dirs {
        for scope in [Scope::Node, Scope::Children, Scope::All] {
            let d = dir.as_bytes();
            let mut sub = Overlay::subtree(open(&paths), d, scope).unwrap();
            let got: Vec<Node> = sub.by_ref().map(Result::unwrap).collect();
            let want = cut(&all, d, scope);
            assert!(
                got == want,
                "{dir:?} {scope:?}: {} nodes, not {}",
                got.len(),
                want.len()
            );
            let read: u64 = sub.layers().map(IndexReader::blocks_read).sum();
            // A block or two per layer for the ancestors, one or two for
            // the directory (its 1,500 files span up to two blocks); the
            // root's children are everywhere.
            let most = match (dir, scope) {
                ("", Scope::Children | Scope::All) => total,
                _ => 8,
            };
            assert!(read <= most, "{dir:?} {scope:?}: {read} of {total} blocks");
        }
    }
    // What the markers above decide, from the subtree alone.
    let visible = |dir: &str| -> Vec<String> {
        Overlay::subtree(open(&paths), dir.as_bytes(), Scope::Children)
            .unwrap()
            .map(Result::unwrap)
            .filter_map(|n| {
                n.visible
                    .map(|_| String::from_utf8_lossy(&n.path).into_owned())
            })
            .collect()
    };
    assert_eq!(visible("d010"), ["d010", "d010/back"]);
    assert_eq!(visible("d020"), ["d020", "d020/f0001", "d020/new"]);
    assert_eq!(visible("d030"), ["d030", "d030/again"]);
    assert_eq!(visible("d040").len(), 1 + 1500, "sub is deleted");
    assert!(visible("d010/sub").is_empty());
}
