//! The index builder: takes entries in tar order and writes them in index
//! order, keeping only a bounded run in memory — full runs are sorted and
//! spilled to temporary files, then merged. A path written more than once in
//! one layer keeps its last version (what extraction leaves).

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::format::{Footer, IndexWriter};
use super::read::IndexReader;
use super::{entry_order, Entry};

/// Estimated bytes of entries held before a run is spilled.
const RUN_BUDGET: usize = 12 << 20;
/// Spilled runs merged at once. A layer of more runs (millions of long
/// names) merges them in groups first, so a scan never holds more open files.
const FAN_IN: usize = 64;

pub struct IndexBuilder {
    dir: PathBuf,
    run: Vec<Entry>,
    run_bytes: usize,
    spilled: Vec<NamedTempFile>,
    budget: usize,
    fan_in: usize,
}

/// What the sorted entries add up to.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sorted {
    pub entries: u64,
    pub files: u64,
}

impl IndexBuilder {
    /// Spilled runs go to temporary files in `dir`.
    pub fn new(dir: &Path) -> IndexBuilder {
        IndexBuilder {
            dir: dir.to_owned(),
            run: Vec::new(),
            run_bytes: 0,
            spilled: Vec::new(),
            budget: RUN_BUDGET,
            fan_in: FAN_IN,
        }
    }

    #[cfg(test)]
    fn with_budget(mut self, budget: usize, fan_in: usize) -> Self {
        assert!(fan_in >= 2, "a group of one run never shrinks the runs");
        self.budget = budget;
        self.fan_in = fan_in;
        self
    }

    pub fn push(&mut self, e: Entry) -> io::Result<()> {
        self.run_bytes +=
            std::mem::size_of::<Entry>() + e.path.len() + e.link.as_ref().map_or(0, Vec::len) + 32;
        self.run.push(e);
        if self.run_bytes >= self.budget {
            self.spill()?;
        }
        Ok(())
    }

    /// The run in index order, each (path, marker) once: the last pushed wins.
    fn sorted_run(&mut self) -> Vec<Entry> {
        let mut run = std::mem::take(&mut self.run);
        self.run_bytes = 0;
        run.sort_by(entry_order); // stable: equal keys stay in push order
        let mut out: Vec<Entry> = Vec::with_capacity(run.len());
        for e in run {
            match out.last_mut() {
                Some(last) if entry_order(last, &e) == Ordering::Equal => *last = e,
                _ => out.push(e),
            }
        }
        out
    }

    fn spill(&mut self) -> io::Result<()> {
        let run = self.sorted_run();
        let tmp = NamedTempFile::with_prefix_in(".run-", &self.dir)?;
        let mut w = IndexWriter::new(BufWriter::new(tmp.reopen()?), 1)?;
        for e in &run {
            w.push(e)?;
        }
        w.finish(&Footer::default())?;
        self.spilled.push(tmp);
        Ok(())
    }

    /// Writes every entry, in order, to `out`; the caller adds the footer.
    pub fn finish<W: Write>(mut self, out: &mut IndexWriter<W>) -> io::Result<Sorted> {
        let mut sorted = Sorted::default();
        let mut emit = |e: &Entry| -> io::Result<()> {
            sorted.entries += 1;
            sorted.files += e.file_bytes();
            out.push(e)
        };
        if self.spilled.is_empty() {
            for e in self.sorted_run() {
                emit(&e)?;
            }
            return Ok(sorted);
        }
        if !self.run.is_empty() {
            self.spill()?;
        }
        // Groups of runs, in order, become one run each until at most
        // fan_in are left (each open run holds a file and its buffers): a
        // merged group keeps its place (order is age), so the latest version
        // still wins.
        let mut runs = std::mem::take(&mut self.spilled);
        while runs.len() > self.fan_in {
            let mut next = Vec::with_capacity(runs.len().div_ceil(self.fan_in));
            let mut left = runs.into_iter().peekable();
            while left.peek().is_some() {
                let group: Vec<NamedTempFile> = left.by_ref().take(self.fan_in).collect();
                if group.len() == 1 {
                    next.extend(group);
                    continue;
                }
                let tmp = NamedTempFile::with_prefix_in(".run-", &self.dir)?;
                let mut w = IndexWriter::new(BufWriter::new(tmp.reopen()?), 1)?;
                merge(&group, |e| w.push(e))?;
                w.finish(&Footer::default())?;
                next.push(tmp);
            }
            runs = next;
        }
        merge(&runs, emit)?;
        Ok(sorted)
    }
}

/// Merges sorted runs (oldest first) into `emit`, each (path, marker) once:
/// the latest run's version wins.
fn merge(runs: &[NamedTempFile], mut emit: impl FnMut(&Entry) -> io::Result<()>) -> io::Result<()> {
    let mut runs: Vec<IndexReader> = runs
        .iter()
        .map(|t| IndexReader::open(t.path()))
        .collect::<io::Result<_>>()?;
    // A heap of the runs' heads: long paths (a deep tree's reach 64 KiB)
    // make each comparison costly, so a merge of many runs compares
    // log(runs) times per entry, not runs times.
    let mut heads = BinaryHeap::with_capacity(runs.len());
    for (run, r) in runs.iter_mut().enumerate() {
        if let Some(entry) = r.next().transpose()? {
            heads.push(Head { entry, run });
        }
    }
    while let Some(Head { entry: winner, run }) = heads.pop() {
        if let Some(entry) = runs[run].next().transpose()? {
            heads.push(Head { entry, run });
        }
        // Other runs' versions of the same path are older: drop them.
        while heads
            .peek()
            .is_some_and(|h| entry_order(&h.entry, &winner) == Ordering::Equal)
        {
            if let Some(Head { run, .. }) = heads.pop() {
                if let Some(entry) = runs[run].next().transpose()? {
                    heads.push(Head { entry, run });
                }
            }
        }
        emit(&winner)?;
    }
    Ok(())
}

/// A run's next entry, ordered for the merge: the smallest entry first and,
/// of equal entries, the latest run's (it was pushed last, so it wins).
struct Head {
    entry: Entry,
    run: usize,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap pops the greatest.
        entry_order(&other.entry, &self.entry).then(self.run.cmp(&other.run))
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

#[cfg(test)]
mod tests {
    use super::super::EntryKind;
    use super::*;

    fn e(path: &str, kind: EntryKind, size: u64) -> Entry {
        Entry::sample(path, kind, size)
    }

    fn build(entries: Vec<Entry>, budget: usize, fan_in: usize) -> (Vec<Entry>, Sorted, usize) {
        let dir = tempfile::tempdir().unwrap();
        let mut b = IndexBuilder::new(dir.path()).with_budget(budget, fan_in);
        for x in entries {
            b.push(x).unwrap();
        }
        let spilled = b.spilled.len();
        let path = dir.path().join("out");
        let mut w = IndexWriter::new(std::fs::File::create(&path).unwrap(), 3).unwrap();
        let sorted = b.finish(&mut w).unwrap();
        w.finish(&Footer::default()).unwrap();
        let out = IndexReader::open(&path)
            .unwrap()
            .collect::<io::Result<Vec<_>>>()
            .unwrap();
        (out, sorted, spilled)
    }

    #[test]
    fn spilled_and_in_memory_builds_agree_and_the_last_version_wins() {
        let mut input = Vec::new();
        for i in (0..3000).rev() {
            input.push(e(&format!("d{}/f{i}", i % 7), EntryKind::File, i));
        }
        input.push(e("d3/f3", EntryKind::File, 999_999)); // written again later
        input.push(e("d3", EntryKind::Whiteout, 0)); // a marker is not the dir
        input.push(e("d3", EntryKind::Dir, 0));
        let (memory, s1, n1) = build(input.clone(), usize::MAX, FAN_IN);
        let (spilled, s2, n2) = build(input.clone(), 4_000, FAN_IN);
        assert_eq!(n1, 0);
        assert!(
            n2 > FAN_IN,
            "the small budget spills runs, merged in passes"
        );
        assert_eq!(memory, spilled);
        assert_eq!(s1, s2);
        // Past the fan-in, runs are merged in groups first: the same output.
        let (grouped, s3, n3) = build(input, 20_000, 2);
        assert!(n3 > 4, "more runs than two passes of two");
        assert_eq!(grouped, memory);
        assert_eq!(s3, s1);
        assert_eq!(s1.entries, 3002);
        let f3 = memory.iter().find(|x| x.path == b"d3/f3").unwrap();
        assert_eq!(f3.size, 999_999);
        let sum: u64 = (0..3000u64).filter(|&i| i != 3).sum::<u64>() + 999_999;
        assert_eq!(s1.files, sum);
        assert!(memory
            .windows(2)
            .all(|w| entry_order(&w[0], &w[1]) == Ordering::Less));
        let d3: Vec<EntryKind> = memory
            .iter()
            .filter(|x| x.path == b"d3")
            .map(|x| x.kind)
            .collect();
        assert_eq!(d3, [EntryKind::Whiteout, EntryKind::Dir]);
    }
}
