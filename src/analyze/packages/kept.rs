//! What the inventory keeps after parsing, under budgets that count it as
//! kept (a 4-byte line joined to a 4 KB directory costs 4 KB): the file
//! claims of every package's list, streamed into sorted runs on disk, and the
//! package records the readers hold. A list past its budget is dropped whole,
//! so a package is measured from all its files or shows its fallback, never
//! from part of them.

use std::collections::HashMap;
use std::io;

use super::runs::{Merged, Runs};
use crate::layer::capture::Budget;

/// Bytes of file claims (their paths, as kept, plus `CLAIM_COST` each) one
/// inventory keeps per budget. A full Fedora install needs ~46 MB of its rpm
/// budget, a large Debian one ~10 MB.
pub const CLAIM_BUDGET: u64 = 128 << 20;
/// What one claim (and one list) costs besides its path.
pub const CLAIM_COST: u64 = 16;
/// A claimed path longer than this is no file any layer holds: skipped.
pub const MAX_CLAIM_PATH: usize = 64 << 10;
/// Bytes of package records the readers keep (each record's struct and
/// strings): some 150,000 packages of ordinary names.
pub const RECORD_BUDGET: u64 = 32 << 20;
/// Top-level symlinks followed (merged /usr), and the bytes of their targets.
const MAX_LINKS: usize = 1024;
const LINK_BYTES: usize = 1 << 20;
/// Python metadata a system package's list names, and their bytes.
const MAX_MARKERS: usize = 65_536;
const MARKER_BYTES: usize = 8 << 20;

/// A package's file list: its claims carry its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListId(pub(super) u32);

#[derive(Clone, Copy)]
struct List {
    budget: Budget,
    complete: bool,
}

/// What was kept, for warnings and for tests that count it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KeptStats {
    /// Claims handed to the runs (before the runs drop duplicates).
    pub claims: u64,
    /// Cost charged to each budget.
    pub claim_bytes: [u64; 3],
    /// Lists dropped whole, per budget.
    pub dropped_lists: [u64; 3],
    pub record_bytes: u64,
    pub dropped_records: u64,
    pub spilled_runs: usize,
}

pub struct Kept {
    /// Claim bytes per budget, and record bytes (`CLAIM_BUDGET`, `RECORD_BUDGET`).
    claim_budget: u64,
    record_budget: u64,
    runs: Runs,
    links: HashMap<Vec<u8>, Vec<u8>>,
    link_bytes: usize,
    /// A Python dist's metadata directory (or single-file egg-info) -> the
    /// system package list naming its metadata: who installed the dist.
    markers: HashMap<Vec<u8>, ListId>,
    marker_bytes: usize,
    /// Lists whose claims are kept (None: every list's).
    wanted: Option<Vec<bool>>,
    lists: Vec<List>,
    stats: KeptStats,
    error: Option<io::Error>,
    buf: Vec<u8>,
}

impl Default for Kept {
    fn default() -> Self {
        Kept::with_budgets(CLAIM_BUDGET, RECORD_BUDGET)
    }
}

impl Kept {
    /// A ledger with budgets of its own (tests use small ones).
    pub fn with_budgets(claims: u64, records: u64) -> Kept {
        Kept {
            claim_budget: claims,
            record_budget: records,
            runs: Runs::default(),
            links: HashMap::new(),
            link_bytes: 0,
            markers: HashMap::new(),
            marker_bytes: 0,
            wanted: None,
            lists: Vec::new(),
            stats: KeptStats::default(),
            error: None,
            buf: Vec::new(),
        }
    }

    /// A top-level symlink (`bin` -> `usr/bin`) that claimed paths follow;
    /// past the caps, links are not followed.
    pub fn link(&mut self, name: Vec<u8>, target: Vec<u8>) {
        let bytes = name.len() + target.len();
        if self.links.len() < MAX_LINKS && self.link_bytes + bytes <= LINK_BYTES {
            self.link_bytes += bytes;
            self.links.insert(name, target);
        }
    }

    /// `path` with its first component followed when it is a top-level symlink.
    pub fn resolve(&self, path: &[u8]) -> Vec<u8> {
        let cut = path.iter().position(|&b| b == b'/').unwrap_or(path.len());
        match self.links.get(&path[..cut]) {
            Some(target) => [target, &path[cut..]].concat(),
            None => path.to_vec(),
        }
    }

    /// A new, empty file list drawing on `budget`.
    pub fn list(&mut self, budget: Budget) -> ListId {
        let id = ListId(self.lists.len() as u32);
        let complete = charge(&mut self.stats, self.claim_budget, budget, CLAIM_COST);
        self.lists.push(List { budget, complete });
        if !complete {
            self.stats.dropped_lists[budget as usize] += 1;
        }
        id
    }

    /// Adds `path` (relative to the root, no leading `/`) to `list`. False
    /// when the list is dropped (its budget spent): the caller stops.
    pub fn add(&mut self, list: ListId, path: &[u8]) -> bool {
        let Some(&List { budget, complete }) = self.lists.get(list.0 as usize) else {
            return false;
        };
        if !complete || self.error.is_some() {
            return false;
        }
        if path.is_empty() || path.len() > MAX_CLAIM_PATH {
            return true;
        }
        let cut = path.iter().position(|&b| b == b'/').unwrap_or(path.len());
        let target = self.links.get(&path[..cut]);
        let len = target.map_or(path.len(), |t| t.len() + path.len() - cut);
        if !charge(
            &mut self.stats,
            self.claim_budget,
            budget,
            len as u64 + CLAIM_COST,
        ) {
            self.lists[list.0 as usize].complete = false;
            self.stats.dropped_lists[budget as usize] += 1;
            return false;
        }
        self.stats.claims += 1;
        let kept: &[u8] = match target {
            Some(t) => {
                self.buf.clear();
                self.buf.extend_from_slice(t);
                self.buf.extend_from_slice(&path[cut..]);
                &self.buf
            }
            None => path,
        };
        if budget != Budget::Language {
            if let Some(dir) = python_dist(kept) {
                if self.markers.len() < MAX_MARKERS && self.marker_bytes + dir.len() <= MARKER_BYTES
                {
                    self.marker_bytes += dir.len();
                    self.markers.entry(dir.to_vec()).or_insert(list);
                }
            }
        }
        let wanted = self
            .wanted
            .as_ref()
            .is_none_or(|w| w.get(list.0 as usize).copied().unwrap_or(false));
        if wanted {
            if let Err(e) = self.runs.push(kept, list.0) {
                self.error = Some(e);
                return false;
            }
        }
        true
    }

    /// Keeps the claims of the lists `wanted` marks (by list id) and no
    /// other's: budgets, completeness and markers are as for every list, so a
    /// second read of the same files gives the same lists, with only these
    /// measured (advise measures the packages it would remove, and reads
    /// once with none to find them).
    pub fn wanting(mut self, wanted: Vec<bool>) -> Kept {
        self.wanted = Some(wanted);
        self
    }

    /// The system package list that names the metadata of the Python dist
    /// at `dir` (its `*.dist-info` / `*.egg-info` directory, or a single-file
    /// egg-info).
    pub fn dist_owner(&self, dir: &[u8]) -> Option<ListId> {
        self.markers.get(dir).copied()
    }

    /// Whether every path of `list` was kept.
    pub fn complete(&self, list: ListId) -> bool {
        self.error.is_none() && self.lists.get(list.0 as usize).is_some_and(|l| l.complete)
    }

    /// Charges a package record of `bytes` (its struct and strings); false
    /// when the record budget is spent: the caller drops the record.
    pub fn record(&mut self, bytes: usize) -> bool {
        let bytes = bytes as u64;
        if self.stats.record_bytes + bytes > self.record_budget {
            self.stats.dropped_records += 1;
            return false;
        }
        self.stats.record_bytes += bytes;
        true
    }

    pub fn stats(&self) -> KeptStats {
        KeptStats {
            spilled_runs: self.runs.spilled(),
            ..self.stats
        }
    }

    /// One warning per budget a list or a record was dropped from.
    pub fn warn(&self, warn: &mut dyn FnMut(String)) {
        for budget in Budget::ALL {
            let n = self.stats.dropped_lists[budget as usize];
            if n > 0 {
                warn(format!(
                    "{n} package file list(s) past the {} budget of {} MiB of paths: \
                     their packages show their declared size or their metadata directory",
                    budget.name(),
                    self.claim_budget >> 20
                ));
            }
        }
        if self.stats.dropped_records > 0 {
            warn(format!(
                "{} package record(s) past the budget of {} MiB were not kept: \
                 those packages are not listed or not measured",
                self.stats.dropped_records,
                self.record_budget >> 20
            ));
        }
    }

    /// The paths of each list, in path order (for tests).
    #[cfg(test)]
    pub(super) fn lists(self) -> std::collections::HashMap<ListId, Vec<String>> {
        let mut lists: HashMap<ListId, Vec<String>> = HashMap::new();
        for (path, list) in self.finish().unwrap().drain() {
            lists
                .entry(ListId(list))
                .or_default()
                .push(String::from_utf8_lossy(&path).into_owned());
        }
        lists
    }

    /// The claims in path order.
    pub(super) fn finish(self) -> io::Result<Merged> {
        if let Some(e) = self.error {
            return Err(e);
        }
        self.runs.finish()
    }
}

/// The dist a Python metadata path stands for: `…/x.dist-info/METADATA`,
/// `…/x.egg-info/PKG-INFO` -> the directory; a single-file `…/x.egg-info` itself.
fn python_dist(path: &[u8]) -> Option<&[u8]> {
    if let Some(dir) = path.strip_suffix(b"/METADATA") {
        return dir.ends_with(b".dist-info").then_some(dir);
    }
    if let Some(dir) = path.strip_suffix(b"/PKG-INFO") {
        return dir.ends_with(b".egg-info").then_some(dir);
    }
    path.ends_with(b".egg-info").then_some(path)
}

/// Charges `cost` to `budget`; false (nothing charged) when it would pass `limit`.
fn charge(stats: &mut KeptStats, limit: u64, budget: Budget, cost: u64) -> bool {
    let used = &mut stats.claim_bytes[budget as usize];
    if *used + cost > limit {
        return false;
    }
    *used += cost;
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_past_its_budget_is_dropped_whole_and_others_keep_theirs() {
        let mut kept = Kept::default();
        let system = kept.list(Budget::System);
        assert!(kept.add(system, b"bin/bash"));
        let big = kept.list(Budget::Language);
        let path = vec![b'p'; 4000];
        let mut added = 0u64;
        while kept.add(big, &path) {
            added += 1;
        }
        // The budget counts each path as kept: 4,000 bytes plus its cost.
        assert_eq!(added, (CLAIM_BUDGET - CLAIM_COST) / (4000 + CLAIM_COST));
        assert!(!kept.complete(big));
        assert!(kept.complete(system));
        let other = kept.list(Budget::System);
        assert!(kept.add(other, b"usr/bin/env"));
        assert!(kept.complete(other));
        assert_eq!(kept.stats().dropped_lists, [0, 0, 1]);
        let mut warnings = Vec::new();
        kept.warn(&mut |w| warnings.push(w));
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].starts_with("1 package file list(s) past the language budget"));
    }

    #[test]
    fn claims_follow_top_level_links_and_their_cost_is_the_kept_path() {
        let mut kept = Kept::default();
        kept.link(b"bin".to_vec(), b"usr/bin".to_vec());
        let list = kept.list(Budget::System);
        assert!(kept.add(list, b"bin/bash"));
        assert!(kept.add(list, b"binary/x"));
        assert_eq!(
            kept.stats().claim_bytes[0],
            CLAIM_COST + (12 + CLAIM_COST) + (8 + CLAIM_COST)
        );
        assert!(kept.complete(list));
        let mut merged = kept.finish().unwrap();
        let mut out = Vec::new();
        merged.claims_of(b"bin/bash", &mut out).unwrap();
        assert!(out.is_empty());
        merged.claims_of(b"binary/x", &mut out).unwrap();
        assert_eq!(out, [0]);
        merged.claims_of(b"usr/bin/bash", &mut out).unwrap();
        assert_eq!(out, [0]);
    }

    #[test]
    fn a_system_list_naming_python_metadata_marks_the_dist_it_installed() {
        let mut kept = Kept::default();
        let deb = kept.list(Budget::System);
        let pip = kept.list(Budget::Language);
        assert!(kept.add(
            deb,
            b"usr/lib/python3/dist-packages/six-1.16.dist-info/METADATA"
        ));
        assert!(kept.add(pip, b"srv/site/x-1.dist-info/METADATA"));
        assert_eq!(
            kept.dist_owner(b"usr/lib/python3/dist-packages/six-1.16.dist-info"),
            Some(deb)
        );
        assert_eq!(
            kept.dist_owner(b"srv/site/x-1.dist-info"),
            None,
            "its own RECORD"
        );
    }

    #[test]
    fn wanting_keeps_only_the_chosen_lists_claims_and_every_list_s_markers() {
        let mut kept = Kept::default().wanting(vec![false, true]);
        let deb = kept.list(Budget::System);
        let other = kept.list(Budget::System);
        assert!(kept.add(
            deb,
            b"usr/lib/python3/dist-packages/six-1.16.dist-info/METADATA"
        ));
        assert!(kept.add(deb, b"usr/bin/a"));
        assert!(kept.add(other, b"usr/bin/b"));
        assert!(kept.complete(deb) && kept.complete(other));
        assert_eq!(
            kept.dist_owner(b"usr/lib/python3/dist-packages/six-1.16.dist-info"),
            Some(deb)
        );
        let claims = kept.lists();
        assert_eq!(claims.len(), 1);
        assert_eq!(claims[&other], ["usr/bin/b"]);
    }

    #[test]
    fn records_past_their_budget_are_refused_and_counted() {
        let mut kept = Kept::default();
        assert!(kept.record(RECORD_BUDGET as usize - 10));
        assert!(!kept.record(11));
        assert!(kept.record(10));
        assert_eq!(kept.stats().dropped_records, 1);
    }
}
