//! The index builder: takes entries in tar order and writes them in index
//! order, keeping only a bounded run in memory — full runs are sorted and
//! spilled to temporary files, then merged. A path written more than once in
//! one layer keeps its last version (what extraction leaves).

use std::cmp::Ordering;
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
        // Groups of runs, in order, become one run each until few are left:
        // a merged group keeps its place, so the latest version still wins.
        while self.spilled.len() > self.fan_in {
            let mut runs = std::mem::take(&mut self.spilled).into_iter();
            loop {
                let group: Vec<NamedTempFile> = runs.by_ref().take(self.fan_in).collect();
                if group.is_empty() {
                    break;
                }
                let tmp = NamedTempFile::with_prefix_in(".run-", &self.dir)?;
                let mut w = IndexWriter::new(BufWriter::new(tmp.reopen()?), 1)?;
                merge(&group, |e| w.push(e))?;
                w.finish(&Footer::default())?;
                self.spilled.push(tmp);
            }
        }
        merge(&self.spilled, emit)?;
        Ok(sorted)
    }
}

/// Merges sorted runs into `emit`, each (path, marker) once: a later run's
/// version wins.
fn merge(runs: &[NamedTempFile], mut emit: impl FnMut(&Entry) -> io::Result<()>) -> io::Result<()> {
    let mut runs: Vec<IndexReader> = runs
        .iter()
        .map(|t| IndexReader::open(t.path()))
        .collect::<io::Result<_>>()?;
    let mut heads: Vec<Option<Entry>> = runs
        .iter_mut()
        .map(|r| r.next().transpose())
        .collect::<io::Result<_>>()?;
    // Few runs: a linear pick of the smallest head is as fast as a heap.
    while let Some(b) = smallest(&heads) {
        let Some(winner) = heads[b].take() else { break };
        // Other runs' versions of the same path are older: drop them.
        for (i, head) in heads.iter_mut().enumerate() {
            if head
                .as_ref()
                .is_some_and(|e| entry_order(e, &winner) == Ordering::Equal)
            {
                *head = runs[i].next().transpose()?;
            }
        }
        heads[b] = runs[b].next().transpose()?;
        emit(&winner)?;
    }
    Ok(())
}

/// The run whose head comes first; of equal heads, the latest run (it was
/// pushed last, so it wins).
fn smallest(heads: &[Option<Entry>]) -> Option<usize> {
    let mut best: Option<(usize, &Entry)> = None;
    for (i, head) in heads.iter().enumerate() {
        let Some(e) = head else { continue };
        match best {
            Some((_, b)) if entry_order(e, b) == Ordering::Greater => {}
            _ => best = Some((i, e)),
        }
    }
    best.map(|(i, _)| i)
}

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
        let (spilled, s2, n2) = build(input.clone(), 20_000, FAN_IN);
        assert_eq!(n1, 0);
        assert!(n2 > 3, "the small budget spills runs");
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
