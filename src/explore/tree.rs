//! The tree pane's lazy tree: the directories opened so far, each holding
//! the listing a pass made of it, and the lines they show. A directory is
//! listed when it opens; a new look (another layer, mode, sort or filter)
//! lists the open ones again in one pass. Bounded: at most OPEN_CAP open
//! directories and ROWS_BUDGET rows in all (the least recently opened
//! directories off the cursor's way are closed first), MAX_LIMIT rows in
//! one listing; nothing is walked recursively.

use super::listing::{DirKey, DirReq, Listing, More, Name, Own, Row, Sums};

/// Rows a listing keeps when it opens, and more each time more are asked for.
pub const PAGE: usize = 500;
/// Rows one listing may keep.
pub const MAX_LIMIT: usize = 5_000;
/// Directories open at once.
pub const OPEN_CAP: usize = 256;
/// Rows held across the open directories.
pub const ROWS_BUDGET: usize = 20_000;

/// One open directory.
#[derive(Debug)]
pub struct Dir {
    pub key: DirKey,
    pub parent: Option<usize>,
    pub rows: Vec<Row>,
    /// The open directory of each row, if any.
    pub open: Vec<Option<usize>>,
    pub more: More,
    pub own: Option<Own>,
    pub sums: Sums,
    pub limit: usize,
    /// A listing is on its way.
    pub loading: bool,
    /// It has been listed at least once.
    pub listed: bool,
    /// When it was last opened or listed (for closing the oldest first).
    touched: u64,
}

/// One line of the tree pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    Row {
        dir: usize,
        row: usize,
        depth: usize,
    },
    /// "… N more": the rows a listing left out.
    More { dir: usize, depth: usize },
    /// A directory whose listing is on its way.
    Loading { dir: usize, depth: usize },
}

impl Line {
    pub fn dir(&self) -> usize {
        match *self {
            Line::Row { dir, .. } | Line::More { dir, .. } | Line::Loading { dir, .. } => dir,
        }
    }

    pub fn depth(&self) -> usize {
        match *self {
            Line::Row { depth, .. } | Line::More { depth, .. } | Line::Loading { depth, .. } => {
                depth
            }
        }
    }
}

#[derive(Debug)]
pub struct Tree {
    slots: Vec<Option<Dir>>,
    free: Vec<usize>,
    pub lines: Vec<Line>,
    pub cursor: usize,
    /// The first line on screen.
    pub offset: usize,
    clock: u64,
    /// Open every directory below this one as listings arrive (within the caps).
    pub expand_all: Option<DirKey>,
}

impl Default for Tree {
    fn default() -> Tree {
        Tree::new()
    }
}

impl Tree {
    /// A tree whose root is on its way.
    pub fn new() -> Tree {
        let mut t = Tree {
            slots: Vec::new(),
            free: Vec::new(),
            lines: Vec::new(),
            cursor: 0,
            offset: 0,
            clock: 0,
            expand_all: None,
        };
        t.alloc(Vec::new(), None);
        t.flatten();
        t
    }

    fn alloc(&mut self, key: DirKey, parent: Option<usize>) -> usize {
        self.clock += 1;
        let dir = Dir {
            key,
            parent,
            rows: Vec::new(),
            open: Vec::new(),
            more: More::default(),
            own: None,
            sums: Sums::default(),
            limit: PAGE,
            loading: true,
            listed: false,
            touched: self.clock,
        };
        match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(dir);
                i
            }
            None => {
                self.slots.push(Some(dir));
                self.slots.len() - 1
            }
        }
    }

    pub fn dir(&self, i: usize) -> &Dir {
        self.slots[i]
            .as_ref()
            .expect("a line names an open directory")
    }

    fn dir_mut(&mut self, i: usize) -> &mut Dir {
        self.slots[i]
            .as_mut()
            .expect("a line names an open directory")
    }

    pub fn root(&self) -> &Dir {
        self.dir(0)
    }

    fn open_dirs(&self) -> impl Iterator<Item = (usize, &Dir)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, d)| d.as_ref().map(|d| (i, d)))
    }

    pub fn open_count(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    pub fn rows_held(&self) -> usize {
        self.open_dirs().map(|(_, d)| d.rows.len()).sum()
    }

    pub fn loading(&self) -> bool {
        self.open_dirs().any(|(_, d)| d.loading)
    }

    /// Closes a directory and every one open below it.
    fn close(&mut self, slot: usize) {
        let mut stack = vec![slot];
        while let Some(i) = stack.pop() {
            if let Some(d) = self.slots[i].take() {
                stack.extend(d.open.iter().flatten());
                self.free.push(i);
            }
        }
    }

    /// Rebuilds the lines from the open directories, depth first, without recursion.
    pub fn flatten(&mut self) {
        self.lines.clear();
        let mut stack: Vec<(usize, usize, usize)> = vec![(0, 0, 0)];
        while let Some((dir, next, depth)) = stack.pop() {
            let Some(d) = self.slots[dir].as_ref() else {
                continue;
            };
            if d.loading && !d.listed {
                self.lines.push(Line::Loading { dir, depth });
                continue;
            }
            if next == d.rows.len() {
                if d.more.rows > 0 {
                    self.lines.push(Line::More { dir, depth });
                }
                continue;
            }
            let child = d.open[next];
            self.lines.push(Line::Row {
                dir,
                row: next,
                depth,
            });
            stack.push((dir, next + 1, depth));
            if let Some(child) = child {
                stack.push((child, 0, depth + 1));
            }
        }
        self.cursor = self.cursor.min(self.lines.len().saturating_sub(1));
    }

    /// The row a line shows.
    pub fn row(&self, line: usize) -> Option<(&Dir, &Row, Option<usize>)> {
        match self.lines.get(line)? {
            Line::Row { dir, row, .. } => {
                let d = self.dir(*dir);
                Some((d, &d.rows[*row], d.open[*row]))
            }
            _ => None,
        }
    }

    /// The names from the root to the row of `line`.
    pub fn key_of(&self, line: usize) -> Option<DirKey> {
        let (d, r, _) = self.row(line)?;
        let mut key = d.key.clone();
        key.push(r.name.clone());
        Some(key)
    }

    /// The line showing the row at `key`, or the nearest open ancestor's.
    pub fn line_of(&self, key: &[Name]) -> Option<usize> {
        let mut best = None;
        for (i, l) in self.lines.iter().enumerate() {
            if let Line::Row { dir, row, .. } = *l {
                let d = self.dir(dir);
                let n = d.key.len();
                if n < key.len() && d.key[..] == key[..n] && d.rows[row].name == key[n] {
                    if n + 1 == key.len() {
                        return Some(i);
                    }
                    best = Some(i);
                }
            }
        }
        best
    }

    /// Puts the cursor on `key` (or its nearest shown ancestor).
    pub fn select(&mut self, key: &[Name]) {
        if let Some(i) = self.line_of(key) {
            self.cursor = i;
        }
    }

    fn slot_of(&self, key: &[Name]) -> Option<usize> {
        self.open_dirs().find(|(_, d)| d.key == key).map(|(i, _)| i)
    }

    /// Opens the directory on `line`; the listing to ask for, if it needs one.
    pub fn expand(&mut self, line: usize) -> Option<DirReq> {
        let (dir, row) = match self.lines.get(line)? {
            Line::Row { dir, row, .. } => (*dir, *row),
            _ => return None,
        };
        let d = self.dir(dir);
        if !d.rows[row].is_dir() || d.open[row].is_some() {
            return None;
        }
        let mut key = d.key.clone();
        key.push(d.rows[row].name.clone());
        let slot = self.alloc(key.clone(), Some(dir));
        self.dir_mut(dir).open[row] = Some(slot);
        self.flatten();
        Some(DirReq {
            key,
            limit: PAGE,
            pins: Vec::new(),
        })
    }

    /// Closes the directory on `line`; false when it was not open.
    pub fn collapse(&mut self, line: usize) -> bool {
        let Some(Line::Row { dir, row, .. }) = self.lines.get(line).copied() else {
            return false;
        };
        let Some(child) = self.dir(dir).open[row] else {
            return false;
        };
        self.close(child);
        self.dir_mut(dir).open[row] = None;
        self.flatten();
        true
    }

    /// The line of the directory holding `line`'s row.
    pub fn parent_line(&self, line: usize) -> Option<usize> {
        let l = self.lines.get(line)?;
        let depth = l.depth();
        if depth == 0 {
            return None;
        }
        (0..line).rev().find(|&i| self.lines[i].depth() < depth)
    }

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
        }
    }

    /// Every open directory again (a new look), keeping the cursor's row in
    /// its listing; they show what they had until the new listings come.
    pub fn relist(&mut self) -> Vec<DirReq> {
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

    fn fill(&mut self, slot: usize, l: Listing) {
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

    /// For `expand_all`: opens the directories the fresh listings show below it.
    fn grow_all(&mut self, fresh: &[usize]) -> Vec<DirReq> {
        let Some(top) = self.expand_all.clone() else {
            return Vec::new();
        };
        let mut reqs = Vec::new();
        for &slot in fresh {
            if self.slots[slot].is_none() || !self.dir(slot).key.starts_with(&top) {
                continue;
            }
            for row in 0..self.dir(slot).rows.len() {
                let full = self.open_count() + reqs.len() >= OPEN_CAP
                    || self.rows_held() + (reqs.len() + 1) * PAGE / 4 > ROWS_BUDGET;
                if full {
                    self.expand_all = None;
                    break;
                }
                let d = self.dir(slot);
                if !d.rows[row].is_dir() || d.open[row].is_some() {
                    continue;
                }
                let mut key = d.key.clone();
                key.push(d.rows[row].name.clone());
                let child = self.alloc(key.clone(), Some(slot));
                self.dir_mut(slot).open[row] = Some(child);
                reqs.push(DirReq {
                    key,
                    limit: PAGE,
                    pins: Vec::new(),
                });
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
