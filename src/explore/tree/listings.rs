//! How the tree takes in listings: a pass's answer fills the directories
//! it lists (open children kept open where they still are), what was
//! listed ahead of need waits aside until its directory opens, a new look
//! lists every open directory again, a search hit opens its way; the caps
//! are kept by closing the least recently opened directories first.

use super::{Line, Tree, MAX_LIMIT, OPEN_CAP, PAGE, ROWS_BUDGET};
use crate::explore::listing::{DirReq, Listing, Name};

/// Rows listed ahead of need kept aside, at most.
const CACHE_ROWS: usize = ROWS_BUDGET / 2;

impl Tree {
    /// Asks for more rows of the directory a "more" line belongs to.
    pub fn more(&mut self, line: usize) -> Option<DirReq> {
        let Some(Line::More { dir, .. }) = self.lines.get(line).copied() else {
            return None;
        };
        let d = self.dir_mut(dir);
        if d.limit >= MAX_LIMIT {
            return None;
        }
        d.limit = (d.limit + PAGE).min(MAX_LIMIT);
        d.loading = true;
        Some(self.request(dir, None))
    }

    /// The request that lists `slot` again, keeping its open children (and `pin`).
    fn request(&self, slot: usize, pin: Option<&Name>) -> DirReq {
        let d = self.dir(slot);
        let mut pins: Vec<Name> = d
            .open
            .iter()
            .zip(&d.rows)
            .filter(|(o, _)| o.is_some())
            .map(|(_, r)| r.name.clone())
            .collect();
        pins.extend(pin.cloned());
        DirReq {
            key: d.key.clone(),
            limit: d.limit,
            pins,
            prefetch: true,
        }
    }

    /// Every open directory again (a new look), keeping the cursor's row in
    /// its listing; they show what they had until the new listings come.
    pub fn relist(&mut self) -> Vec<DirReq> {
        self.cache.clear();
        let cursor = self.key_of(self.cursor);
        let slots: Vec<usize> = self.open_dirs().map(|(i, _)| i).collect();
        slots
            .into_iter()
            .map(|i| {
                self.dir_mut(i).loading = true;
                let pin = cursor
                    .as_ref()
                    .filter(|c| {
                        c.len() == self.dir(i).key.len() + 1 && c.starts_with(&self.dir(i).key)
                    })
                    .and_then(|c| c.last());
                self.request(i, pin)
            })
            .collect()
    }

    /// The directories to list so `key` (a row) shows: those on its way
    /// that are not open, each pinning the next name. Opens them now.
    pub fn reveal(&mut self, key: &[Name]) -> Vec<DirReq> {
        let mut reqs = Vec::new();
        for depth in 0..key.len() {
            let dir_key = &key[..depth];
            if let Some(slot) = self.slot_of(dir_key) {
                if !self.dir(slot).rows.iter().any(|r| r.name == key[depth]) {
                    self.dir_mut(slot).loading = true;
                    reqs.push(self.request(slot, Some(&key[depth])));
                }
                continue;
            }
            reqs.push(DirReq {
                key: dir_key.to_vec(),
                limit: PAGE,
                pins: vec![key[depth].clone()],
                prefetch: false,
            });
        }
        reqs
    }

    /// Takes in listings (a pass's answer): each replaces its directory's
    /// rows (children still open stay open when they are still there), or
    /// opens a directory whose parent shows it. Returns requests for
    /// `expand_all`, if any.
    pub fn apply(&mut self, mut listings: Vec<Listing>) -> Vec<DirReq> {
        let cursor = self.key_of(self.cursor);
        listings.sort_by_key(|l| l.key.len());
        let mut fresh = Vec::new();
        for l in listings {
            let waiting = self.slot_of(&l.key).filter(|&s| self.dir(s).loading);
            if l.prefetched && waiting.is_none() {
                self.keep_aside(l);
                continue;
            }
            let slot = match self.slot_of(&l.key) {
                Some(s) => s,
                None => {
                    let Some((parent_key, name)) = l.key.split_last().map(|(n, p)| (p, n)) else {
                        continue;
                    };
                    let Some(parent) = self.slot_of(parent_key) else {
                        continue;
                    };
                    let Some(row) = self.dir(parent).rows.iter().position(|r| r.name == *name)
                    else {
                        continue;
                    };
                    let slot = self.alloc(l.key.clone(), Some(parent));
                    self.dir_mut(parent).open[row] = Some(slot);
                    slot
                }
            };
            self.fill(slot, l);
            fresh.push(slot);
        }
        self.flatten();
        if let Some(c) = cursor {
            self.select(&c);
        }
        let more = self.grow_all(&fresh);
        self.trim();
        more
    }

    /// Keeps a listing made ahead of need, within CACHE_ROWS rows.
    fn keep_aside(&mut self, l: Listing) {
        self.cache.retain(|c| c.key != l.key);
        self.cache.push(l);
        while self.cache.iter().map(|c| c.rows.len()).sum::<usize>() > CACHE_ROWS {
            self.cache.remove(0);
        }
    }

    pub(super) fn fill(&mut self, slot: usize, l: Listing) {
        self.clock += 1;
        let clock = self.clock;
        let d = self.dir_mut(slot);
        let old: Vec<(Name, usize)> = d
            .rows
            .iter()
            .zip(&d.open)
            .filter_map(|(r, o)| o.map(|o| (r.name.clone(), o)))
            .collect();
        d.open = vec![None; l.rows.len()];
        d.rows = l.rows;
        d.more = l.more;
        d.own = l.own;
        d.sums = l.sums;
        d.loading = false;
        d.listed = true;
        d.touched = clock;
        let mut gone = Vec::new();
        for (name, child) in old {
            let d = self.dir_mut(slot);
            match d.rows.iter().position(|r| r.name == name && r.is_dir()) {
                Some(i) => d.open[i] = Some(child),
                None => gone.push(child),
            }
        }
        for child in gone {
            self.close(child);
        }
    }

    /// For `expand_all`: opens the directories below it that its open,
    /// listed directories show (the rest follow as their listings come).
    pub fn grow(&mut self) -> Vec<DirReq> {
        let listed: Vec<usize> = self
            .open_dirs()
            .filter(|(_, d)| d.listed && !d.loading)
            .map(|(i, _)| i)
            .collect();
        self.grow_all(&listed)
    }

    /// For `expand_all`: opens the directories the fresh listings show below it.
    fn grow_all(&mut self, fresh: &[usize]) -> Vec<DirReq> {
        let Some(top) = self.expand_all.clone() else {
            return Vec::new();
        };
        let mut reqs = Vec::new();
        // Directories listed ahead of need open at once: their children next.
        let mut work = fresh.to_vec();
        while let Some(slot) = work.pop() {
            if self.slots[slot].is_none() || !self.dir(slot).key.starts_with(&top) {
                continue;
            }
            for row in 0..self.dir(slot).rows.len() {
                let full = self.open_count() >= OPEN_CAP
                    || self.rows_held() + (reqs.len() + 1) * PAGE / 4 > ROWS_BUDGET;
                if full {
                    self.expand_all = None;
                    break;
                }
                match self.open_row(slot, row, false) {
                    Some(req) => reqs.push(req),
                    None => work.extend(self.dir(slot).open[row].filter(|&c| self.dir(c).listed)),
                }
            }
        }
        if reqs.is_empty() {
            self.expand_all = None;
        }
        self.flatten();
        reqs
    }

    /// Closes the least recently opened directories off the cursor's way
    /// while the tree holds more than its caps.
    fn trim(&mut self) {
        loop {
            let over = self.open_count() > OPEN_CAP || self.rows_held() > ROWS_BUDGET;
            if !over {
                return;
            }
            let keep = self.key_of(self.cursor).unwrap_or_default();
            let victim = self
                .open_dirs()
                .filter(|(i, d)| *i != 0 && !keep.starts_with(&d.key) && !d.loading)
                .min_by_key(|(_, d)| d.touched)
                .map(|(i, _)| i);
            let Some(victim) = victim else { return };
            let cursor = self.key_of(self.cursor);
            if let Some(parent) = self.dir(victim).parent {
                if let Some(o) = self
                    .dir_mut(parent)
                    .open
                    .iter_mut()
                    .find(|o| **o == Some(victim))
                {
                    *o = None;
                }
            }
            self.close(victim);
            self.flatten();
            if let Some(c) = cursor {
                self.select(&c);
            }
        }
    }

    /// A listing that could not be made: its directories stop waiting.
    pub fn failed(&mut self) {
        let slots: Vec<usize> = self.open_dirs().map(|(i, _)| i).collect();
        for i in slots {
            let d = self.dir_mut(i);
            d.loading = false;
            d.listed = true;
        }
        self.expand_all = None;
        self.flatten();
    }
}
