//! Sorted runs of file claims `(path, list)`: a bounded buffer in memory,
//! sorted in index path order and spilled, front-coded, to an anonymous
//! temporary file when full; the runs merge back into one stream in path
//! order, which the measuring pass walks beside the merged filesystem.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};

use crate::layer::index::path_order;

/// Bytes of claims held in memory before a run is spilled.
const RUN_BYTES: usize = 8 << 20;
/// Bytes of an item besides its path.
const ITEM_BYTES: usize = std::mem::size_of::<Item>();

#[derive(Clone, Copy)]
struct Item {
    start: u32,
    len: u32,
    list: u32,
}

pub(super) struct Runs {
    arena: Vec<u8>,
    items: Vec<Item>,
    spilled: Vec<File>,
    limit: usize,
}

impl Default for Runs {
    fn default() -> Self {
        Runs::with_limit(RUN_BYTES)
    }
}

impl Runs {
    pub(super) fn with_limit(limit: usize) -> Runs {
        Runs {
            arena: Vec::new(),
            items: Vec::new(),
            spilled: Vec::new(),
            limit,
        }
    }

    /// Runs written to disk so far.
    pub(super) fn spilled(&self) -> usize {
        self.spilled.len()
    }

    /// Adds a claim; `path` is at most a few KiB (the caller caps it). A
    /// claim equal to the one before it is kept once.
    pub(super) fn push(&mut self, path: &[u8], list: u32) -> io::Result<()> {
        if let Some(last) = self.items.last() {
            if last.list == list && self.path(last) == path {
                return Ok(());
            }
        }
        self.items.push(Item {
            start: self.arena.len() as u32,
            len: path.len() as u32,
            list,
        });
        self.arena.extend_from_slice(path);
        if self.arena.len() + self.items.len() * ITEM_BYTES >= self.limit {
            self.spill()?;
        }
        Ok(())
    }

    fn path(&self, item: &Item) -> &[u8] {
        &self.arena[item.start as usize..(item.start + item.len) as usize]
    }

    /// The run in order, each claim once.
    fn sort(&mut self) {
        let arena = &self.arena;
        let path = |i: &Item| &arena[i.start as usize..(i.start + i.len) as usize];
        self.items
            .sort_unstable_by(|a, b| claim_order(path(a), path(b)).then(a.list.cmp(&b.list)));
        self.items
            .dedup_by(|a, b| a.list == b.list && path(a) == path(b));
    }

    fn spill(&mut self) -> io::Result<()> {
        self.sort();
        let file = tempfile::tempfile()?;
        let mut w = BufWriter::with_capacity(64 * 1024, file.try_clone()?);
        let mut prev: &[u8] = &[];
        for item in &self.items {
            let path = &self.arena[item.start as usize..(item.start + item.len) as usize];
            let shared = prev.iter().zip(path).take_while(|(a, b)| a == b).count();
            varint(&mut w, shared as u64)?;
            varint(&mut w, (path.len() - shared) as u64)?;
            w.write_all(&path[shared..])?;
            varint(&mut w, u64::from(item.list))?;
            prev = path;
        }
        w.flush()?;
        self.spilled.push(file);
        // The buffers keep their capacity (under the run limit) for the next run.
        self.arena.clear();
        self.items.clear();
        Ok(())
    }

    /// Every claim, merged in path order (claims of one path by list).
    pub(super) fn finish(mut self) -> io::Result<Merged> {
        let mut sources = Vec::new();
        if self.spilled.is_empty() {
            self.sort();
            sources.push(Source::Memory {
                arena: self.arena,
                items: self.items.into_iter(),
            });
        } else {
            if !self.items.is_empty() {
                self.spill()?;
            }
            for mut file in self.spilled {
                io::Seek::rewind(&mut file)?;
                sources.push(Source::File(BufReader::with_capacity(64 * 1024, file)));
            }
        }
        let mut merged = Merged {
            sources,
            heap: BinaryHeap::new(),
        };
        for i in 0..merged.sources.len() {
            let mut head = Head {
                path: Vec::new(),
                list: 0,
                source: i,
            };
            if merged.sources[i].next(&mut head)? {
                merged.heap.push(head);
            }
        }
        Ok(merged)
    }
}

enum Source {
    Memory {
        arena: Vec<u8>,
        items: std::vec::IntoIter<Item>,
    },
    File(BufReader<File>),
}

impl Source {
    /// Reads the next claim into `head` (its path buffer reused); false at the end.
    fn next(&mut self, head: &mut Head) -> io::Result<bool> {
        match self {
            Source::Memory { arena, items } => {
                let Some(item) = items.next() else {
                    return Ok(false);
                };
                head.path.clear();
                head.path.extend_from_slice(
                    &arena[item.start as usize..(item.start + item.len) as usize],
                );
                head.list = item.list;
                Ok(true)
            }
            Source::File(r) => {
                if r.fill_buf()?.is_empty() {
                    return Ok(false);
                }
                let shared = read_varint(r)? as usize;
                let suffix = read_varint(r)? as usize;
                if shared > head.path.len() || suffix > u32::MAX as usize {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "damaged claim run",
                    ));
                }
                head.path.truncate(shared);
                let at = head.path.len();
                head.path.resize(at + suffix, 0);
                r.read_exact(&mut head.path[at..])?;
                head.list = u32::try_from(read_varint(r)?)
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "damaged claim run"))?;
                Ok(true)
            }
        }
    }
}

/// A source's current claim; the heap puts the smallest path first.
struct Head {
    path: Vec<u8>,
    list: u32,
    source: usize,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        claim_order(&other.path, &self.path)
            .then(other.list.cmp(&self.list))
            .then(other.source.cmp(&self.source))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

/// The claims of every run, in path order.
pub(super) struct Merged {
    sources: Vec<Source>,
    heap: BinaryHeap<Head>,
}

impl Merged {
    /// The lists claiming `path` (into `out`, cleared first), passing every
    /// claim before it. Successive calls must ask for ascending paths.
    pub(super) fn claims_of(&mut self, path: &[u8], out: &mut Vec<u32>) -> io::Result<()> {
        out.clear();
        while let Some(top) = self.heap.peek() {
            match claim_order(&top.path, path) {
                Ordering::Greater => break,
                order => {
                    if order == Ordering::Equal {
                        out.push(top.list);
                    }
                    let Some(mut head) = self.heap.pop() else {
                        break;
                    };
                    if self.sources[head.source].next(&mut head)? {
                        self.heap.push(head);
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
impl Merged {
    /// Every claim left, in order.
    pub(super) fn drain(mut self) -> Vec<(Vec<u8>, u32)> {
        let mut all = Vec::new();
        while let Some(mut head) = self.heap.pop() {
            all.push((head.path.clone(), head.list));
            if self.sources[head.source].next(&mut head).unwrap() {
                self.heap.push(head);
            }
        }
        all
    }
}

/// `path_order` (`/` below every other byte), comparing 16 bytes at a time
/// up to the first difference: claims share long prefixes.
fn claim_order(a: &[u8], b: &[u8]) -> Ordering {
    let n = a.len().min(b.len());
    let skip = a[..n]
        .chunks_exact(16)
        .zip(b[..n].chunks_exact(16))
        .take_while(|(x, y)| x == y)
        .count()
        * 16;
    path_order(&a[skip..], &b[skip..])
}

fn varint<W: Write>(w: &mut W, mut n: u64) -> io::Result<()> {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            return w.write_all(&[byte]);
        }
        w.write_all(&[byte | 0x80])?;
    }
}

fn read_varint<R: Read>(r: &mut R) -> io::Result<u64> {
    let mut n = 0u64;
    for shift in (0..64).step_by(7) {
        let mut byte = [0u8];
        r.read_exact(&mut byte)?;
        n |= u64::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            return Ok(n);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        "damaged claim run",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(runs: Runs, paths: &[&str]) -> Vec<(String, Vec<u32>)> {
        let mut merged = runs.finish().unwrap();
        let mut out = Vec::new();
        paths
            .iter()
            .map(|p| {
                merged.claims_of(p.as_bytes(), &mut out).unwrap();
                (p.to_string(), out.clone())
            })
            .collect()
    }

    #[test]
    fn spilled_and_in_memory_runs_merge_alike_in_path_order() {
        let claims: Vec<(String, u32)> = (0..5000u32)
            .rev()
            .map(|i| (format!("usr/d{}/f{i}", i % 7), i % 3))
            .chain([
                ("usr/d1/f1".to_owned(), 9),
                ("usr/d1/f1".to_owned(), 9),
                ("usr/d1".to_owned(), 4),
                ("usr/d1.x".to_owned(), 5),
            ])
            .collect();
        let mut asked: Vec<String> = claims.iter().map(|(p, _)| p.clone()).collect();
        asked.push("usr/missing".into());
        asked.sort_by(|a, b| path_order(a.as_bytes(), b.as_bytes()));
        asked.dedup();
        let (mut memory, mut small) = (Runs::default(), Runs::with_limit(4096));
        for (p, l) in &claims {
            memory.push(p.as_bytes(), *l).unwrap();
            small.push(p.as_bytes(), *l).unwrap();
        }
        assert_eq!(memory.spilled(), 0);
        assert!(small.spilled() > 10, "{}", small.spilled());
        let asked: Vec<&str> = asked.iter().map(String::as_str).collect();
        let (a, b) = (all(memory, &asked), all(small, &asked));
        assert_eq!(a, b);
        let of = |p: &str| a.iter().find(|(x, _)| x == p).unwrap().1.clone();
        assert_eq!(of("usr/d1/f1"), [1, 9], "a duplicate claim counts once");
        assert_eq!(of("usr/d1"), [4]);
        assert_eq!(of("usr/missing"), Vec::<u32>::new());
    }

    #[test]
    fn claim_order_is_path_order() {
        let long = "d".repeat(40);
        let paths: Vec<String> = ["", "a", "a/b", "a.b", "a-b", "b"]
            .iter()
            .flat_map(|p| [p.to_string(), format!("{long}/{p}"), format!("{long}{p}")])
            .collect();
        for a in &paths {
            for b in &paths {
                let (a, b) = (a.as_bytes(), b.as_bytes());
                assert_eq!(claim_order(a, b), path_order(a, b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn paths_asked_for_skip_the_claims_before_them() {
        let mut runs = Runs::with_limit(64);
        for p in ["a", "b", "c", "d"] {
            runs.push(p.as_bytes(), 1).unwrap();
        }
        assert_eq!(
            all(runs, &["c", "d"]),
            [("c".into(), vec![1]), ("d".into(), vec![1])]
        );
    }
}
