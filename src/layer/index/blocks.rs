//! The block directory of an index file: where each block starts, the
//! ordinal of its first entry and a key (the shortest prefix of its first
//! path that sorts after the last path of the block before), so a reader
//! can jump to a path without decoding the blocks before it. It is input
//! (a cached file): read back bounded and checked in full, and a bad one is
//! a corrupt index (a miss).

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

use serde::{Deserialize, Serialize};

use super::format::{corrupt, FOOTER_LIMIT, MAGIC};
use super::{common_prefix, path_order};

/// Keys longer than this are left out of the directory (a jump then starts
/// at an earlier block, which is slower, never wrong).
pub(super) const KEY_LIMIT: usize = 1024;
/// The directory's bytes, decoded: past this, later blocks get no mark.
pub(super) const DIR_LIMIT: usize = 4 << 20;
/// A mark's bytes beyond its key, at most (two varints and a length).
const MARK_OVERHEAD: usize = 24;
/// The file's last bytes: footer length, directory length, magic.
pub(super) const TAIL: u64 = 24;
/// Where the first block starts (after magic and version).
pub(super) const FIRST_BLOCK: u64 = 12;

/// One block the directory names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// Where its header starts in the file.
    pub offset: u64,
    /// The ordinal of its first entry in the index.
    pub first: u64,
    /// A prefix of its first entry's path; every path before the block
    /// sorts at or before it.
    #[serde(with = "serde_bytes")]
    pub key: Vec<u8>,
}

/// The directory: the marks in file order and where the entries end (the
/// end marker's offset).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Blocks {
    pub end: u64,
    pub marks: Vec<Mark>,
    #[serde(skip)]
    bytes: usize,
}

impl Blocks {
    /// Notes a block the writer starts at `offset` with entry `first`, whose
    /// first path is `path`, after a block whose last path was `before`.
    pub(super) fn note(&mut self, offset: u64, first: u64, before: &[u8], path: &[u8]) {
        let key_len = if first == 0 {
            0
        } else {
            (common_prefix(before, path) + 1).min(path.len())
        };
        let cost = key_len + MARK_OVERHEAD;
        if key_len > KEY_LIMIT || self.bytes + cost > DIR_LIMIT {
            return;
        }
        self.bytes += cost;
        self.marks.push(Mark {
            offset,
            first,
            key: path[..key_len].to_vec(),
        });
    }

    /// The last mark whose key sorts before `path`: the block where entries
    /// at or after `path` may begin (the first block when none does).
    pub fn find(&self, path: &[u8]) -> &Mark {
        let after = self
            .marks
            .partition_point(|m| path_order(&m.key, path) == std::cmp::Ordering::Less);
        &self.marks[after.saturating_sub(1)]
    }

    /// Reads and checks the directory of the index `file`.
    pub(super) fn read(file: &File) -> io::Result<Blocks> {
        let tail = Tail::read(file)?;
        let mut packed = vec![0u8; tail.dir_len as usize];
        file.read_exact_at(&mut packed, tail.dir_at())?;
        let mut bytes = Vec::new();
        zstd::stream::read::Decoder::new(&packed[..])?
            .take(DIR_LIMIT as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| corrupt("block directory does not decompress"))?;
        if bytes.len() > DIR_LIMIT {
            return Err(corrupt("block directory length"));
        }
        let blocks: Blocks =
            postcard::from_bytes(&bytes).map_err(|_| corrupt("block directory"))?;
        blocks.check(tail.end())?;
        Ok(blocks)
    }

    /// Every mark in bounds and in order: the first block first, offsets and
    /// ordinals rising, keys short and in path order, all before `end`.
    fn check(&self, end: u64) -> io::Result<()> {
        let bad = || corrupt("block directory");
        if self.end != end {
            return Err(bad());
        }
        match self.marks.first() {
            Some(m) if m.offset == FIRST_BLOCK && m.first == 0 && m.key.is_empty() => {}
            _ => return Err(bad()),
        }
        if self
            .marks
            .iter()
            .any(|m| m.key.len() > KEY_LIMIT || m.offset >= end)
        {
            return Err(bad());
        }
        let ordered = self.marks.windows(2).all(|w| {
            w[0].offset < w[1].offset
                && w[0].first < w[1].first
                && path_order(&w[0].key, &w[1].key) != std::cmp::Ordering::Greater
        });
        if !ordered {
            return Err(bad());
        }
        Ok(())
    }

    /// Written after the footer: zstd(postcard(self)).
    pub(super) fn encode(&self) -> io::Result<Vec<u8>> {
        let raw = postcard::to_stdvec(self).map_err(io::Error::other)?;
        zstd::bulk::compress(&raw, 3)
    }
}

/// The file's tail: where the footer and the directory are.
pub(super) struct Tail {
    len: u64,
    pub(super) footer_len: u64,
    dir_len: u64,
}

impl Tail {
    pub(super) fn read(file: &File) -> io::Result<Tail> {
        let len = file.metadata()?.len();
        // Header, end marker and tail at least.
        if len < FIRST_BLOCK + 12 + TAIL {
            return Err(corrupt("truncated"));
        }
        let mut tail = [0u8; TAIL as usize];
        file.read_exact_at(&mut tail, len - TAIL)?;
        if &tail[16..] != MAGIC {
            return Err(corrupt("no footer (an interrupted write?)"));
        }
        let word = |i: usize| u64::from_le_bytes(tail[i..i + 8].try_into().unwrap_or_default());
        let (footer_len, dir_len) = (word(0), word(8));
        // The directory compresses to no more than its limit and a frame.
        if footer_len > FOOTER_LIMIT || dir_len > DIR_LIMIT as u64 + 4096 {
            return Err(corrupt("footer length"));
        }
        if FIRST_BLOCK + 12 + footer_len + dir_len + TAIL > len {
            return Err(corrupt("footer length"));
        }
        Ok(Tail {
            len,
            footer_len,
            dir_len,
        })
    }

    pub(super) fn footer_at(&self) -> u64 {
        self.dir_at() - self.footer_len
    }

    fn dir_at(&self) -> u64 {
        self.len - TAIL - self.dir_len
    }

    /// The end marker's offset.
    fn end(&self) -> u64 {
        self.footer_at() - 12
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_shortest_prefix_that_orders_after_the_block_before() {
        let mut b = Blocks::default();
        b.note(12, 0, b"", b"a/b");
        b.note(100, 10, b"p/x", b"p/y");
        b.note(200, 20, b"usr/lib", b"usr/lib/z");
        b.note(300, 30, b"usr/lib/z", b"usr/lib/z");
        let keys: Vec<&[u8]> = b.marks.iter().map(|m| &m.key[..]).collect();
        assert_eq!(keys, [&b""[..], b"p/y", b"usr/lib/", b"usr/lib/z"]);
        b.end = 400;
        b.check(400).unwrap();
        assert_eq!(
            b.find(b"usr/lib/z").offset,
            200,
            "an equal key: the block before"
        );
        assert_eq!(b.find(b"usr/lib/za").offset, 300);
        assert_eq!(b.find(b"p/y").offset, 12);
        assert_eq!(b.find(b"").offset, 12);
        b.check(401).unwrap_err();
        b.marks.swap(1, 2);
        b.check(400).unwrap_err();
    }

    #[test]
    fn a_key_past_its_limit_gets_no_mark_and_the_directory_stays_bounded() {
        let mut b = Blocks::default();
        let long = vec![b'x'; KEY_LIMIT + 10];
        b.note(12, 0, b"", &long);
        b.note(99, 5, &long[..KEY_LIMIT + 5], &long);
        assert_eq!(b.marks.len(), 1);
        let path = vec![b'y'; KEY_LIMIT];
        for i in 1..100_000u64 {
            b.note(12 + i * 10, i, &path[..KEY_LIMIT - 1], &path);
        }
        assert!(b.bytes <= DIR_LIMIT);
        assert!(b.marks.len() < 5_000);
    }

    use super::super::format::{Footer, IndexWriter};
    use super::super::read::IndexReader;
    use super::super::{Entry, EntryKind};
    use std::path::Path;

    /// Directories d000..d059, each with 1,500 files (and a whiteout and an
    /// opaque marker now and then): many blocks.
    fn entries() -> Vec<Entry> {
        let mut out = Vec::new();
        for d in 0..60 {
            out.push(Entry::sample(&format!("d{d:03}"), EntryKind::Dir, 0));
            for f in 0..1500 {
                let path = format!("d{d:03}/f{f:04}");
                if f % 97 == 0 {
                    out.push(Entry::sample(&path, EntryKind::Whiteout, 0));
                }
                out.push(Entry::sample(&path, EntryKind::File, f));
            }
        }
        out.sort_by(super::super::entry_order);
        out
    }

    fn write(path: &Path, entries: &[Entry]) {
        let mut w = IndexWriter::new(File::create(path).unwrap(), 3).unwrap();
        for e in entries {
            w.push(e).unwrap();
        }
        w.finish(&Footer::default()).unwrap();
    }

    #[test]
    fn a_seek_yields_what_a_full_read_yields_from_that_path_on_reading_only_its_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.idx");
        let all = entries();
        write(&path, &all);
        let mut full = IndexReader::open(&path).unwrap();
        assert_eq!(full.by_ref().count(), all.len());
        let total = full.blocks_read();
        assert!(total > 20, "{total} blocks");
        for target in [
            "d017/f0097",
            "d017",
            "d059/f1499",
            "d059/zz",
            "",
            "d017/f0097x",
        ] {
            let t = target.as_bytes();
            let want: Vec<&Entry> = all
                .iter()
                .filter(|e| path_order(&e.path, t) != std::cmp::Ordering::Less)
                .take(50)
                .collect();
            let skipped = all.len()
                - all
                    .iter()
                    .filter(|e| path_order(&e.path, t).is_ge())
                    .count();
            for detached in [false, true] {
                let mut r = match detached {
                    false => IndexReader::open(&path).unwrap(),
                    true => IndexReader::open_detached(&path).unwrap(),
                };
                r.seek(t).unwrap();
                assert_eq!(r.ordinal(), skipped as u64, "{target}");
                let got: Vec<Entry> = r.by_ref().take(50).map(Result::unwrap).collect();
                assert_eq!(got.iter().collect::<Vec<_>>(), want, "{target}");
                assert!(r.blocks_read() <= 3, "{target}: {} blocks", r.blocks_read());
            }
        }
        // Back and forth in one reader: the block held is decoded again
        // from memory, never read twice in a row.
        let mut r = IndexReader::open(&path).unwrap();
        for target in [
            "d020/f0100",
            "d020/f0010",
            "d020/f0200",
            "d005",
            "d020/f0150",
        ] {
            r.seek(target.as_bytes()).unwrap();
            let e = r.next().unwrap().unwrap();
            let want = all
                .iter()
                .find(|e| path_order(&e.path, target.as_bytes()).is_ge());
            assert_eq!(Some(&e), want, "{target}");
        }
        assert!(r.blocks_read() <= 8, "{}", r.blocks_read());
    }

    type Edit<'a> = Box<dyn Fn(&mut Blocks) + 'a>;

    /// Rewrites the directory of the index at `path`.
    fn replace_directory(path: &Path, edit: impl FnOnce(&mut Blocks)) {
        let bytes = std::fs::read(path).unwrap();
        let file = File::open(path).unwrap();
        let tail = Tail::read(&file).unwrap();
        let mut blocks = Blocks::read(&file).unwrap();
        edit(&mut blocks);
        let packed = blocks.encode().unwrap();
        let mut out = bytes[..tail.dir_at() as usize].to_vec();
        out.extend_from_slice(&packed);
        out.extend_from_slice(&tail.footer_len.to_le_bytes());
        out.extend_from_slice(&(packed.len() as u64).to_le_bytes());
        out.extend_from_slice(MAGIC);
        std::fs::write(path, out).unwrap();
    }

    #[test]
    fn a_bad_block_directory_is_a_corrupt_index_never_wrong_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.idx");
        let all = entries();
        let target = &b"d039/f0001"[..];
        // The mark a seek to `target` uses.
        let used = |b: &Blocks| {
            b.marks
                .partition_point(|m| path_order(&m.key, target).is_lt())
                - 1
        };
        let edits: Vec<Edit> = vec![
            Box::new(|b| {
                let k = used(b);
                b.marks[k].offset += 1;
            }),
            Box::new(|b| {
                let k = used(b);
                b.marks[k].offset = b.marks[k - 1].offset;
            }),
            Box::new(|b| {
                let k = used(b);
                b.marks[k].key = b"d039/f0000".to_vec();
            }),
            Box::new(|b| {
                let k = used(b);
                b.marks.swap(k - 1, k);
            }),
            Box::new(|b| b.marks[0].offset = 0),
            Box::new(|b| b.end += 1),
            Box::new(|b| {
                let k = used(b);
                b.marks[k].key = vec![b'd'; KEY_LIMIT + 1];
            }),
        ];
        for (i, edit) in edits.into_iter().enumerate() {
            write(&path, &all);
            replace_directory(&path, edit);
            let mut r = IndexReader::open(&path).unwrap();
            let found = r
                .seek(target)
                .and_then(|()| r.collect::<io::Result<Vec<_>>>());
            let e = found.map(|v| v.len()).expect_err(&format!("edit {i}"));
            assert!(e.to_string().contains("corrupt index"), "edit {i}: {e}");
        }
        // A directory that leaves blocks out is slower, never wrong.
        write(&path, &all);
        replace_directory(&path, |b| b.marks.truncate(2));
        let mut r = IndexReader::open(&path).unwrap();
        r.seek(target).unwrap();
        let got: Vec<Entry> = r.map(Result::unwrap).collect();
        let want: Vec<Entry> = all
            .into_iter()
            .filter(|e| path_order(&e.path, target).is_ge())
            .collect();
        assert!(got == want);
    }

    #[test]
    fn a_full_check_finds_a_mark_that_only_a_read_of_every_block_can_refute() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.idx");
        let all = entries();
        write(&path, &all);
        assert_eq!(IndexReader::verify(&path), Ok(all.len() as u64));
        let edits: Vec<Edit> = vec![
            Box::new(|b| b.marks[5].first += 1),
            Box::new(|b| {
                let next = b.marks[6].offset;
                b.marks[5].offset = next - 1;
            }),
            Box::new(|b| b.marks[5].key.push(b'~')),
        ];
        for (i, edit) in edits.into_iter().enumerate() {
            write(&path, &all);
            replace_directory(&path, edit);
            assert_eq!(
                IndexReader::verify(&path),
                Err("index block directory"),
                "edit {i}"
            );
        }
        write(&path, &all);
        replace_directory(&path, |b| {
            b.marks.remove(3);
        });
        assert_eq!(
            IndexReader::verify(&path),
            Ok(all.len() as u64),
            "a mark left out"
        );
    }
}
