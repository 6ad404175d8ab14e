//! The tree pane's lazy tree: the directories opened so far, each holding
//! the listing a pass made of it, and the lines they show. A directory is
//! listed when it opens; a new look (another layer, mode, sort or filter)
//! lists the open ones again in one pass. Bounded: at most OPEN_CAP open
//! directories and ROWS_BUDGET rows in all (the least recently opened
//! directories off the cursor's way are closed first), MAX_LIMIT rows in
//! one listing; nothing is walked recursively.

mod listings;

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
    /// Listings made ahead of need for this look, oldest first.
    cache: Vec<Listing>,
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
            cache: Vec::new(),
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

    /// Opens the directory on `line`; the listing to ask for, if it needs
    /// one (not when it was listed ahead of need).
    pub fn expand(&mut self, line: usize) -> Option<DirReq> {
        let (dir, row) = match self.lines.get(line)? {
            Line::Row { dir, row, .. } => (*dir, *row),
            _ => return None,
        };
        let req = self.open_row(dir, row, true);
        self.flatten();
        req
    }

    /// Opens row `row` of `dir`: from the listings made ahead of need, or
    /// with the request that lists it.
    fn open_row(&mut self, dir: usize, row: usize, prefetch: bool) -> Option<DirReq> {
        let d = self.dir(dir);
        if !d.rows[row].is_dir() || d.open[row].is_some() {
            return None;
        }
        let mut key = d.key.clone();
        key.push(d.rows[row].name.clone());
        let slot = self.alloc(key.clone(), Some(dir));
        self.dir_mut(dir).open[row] = Some(slot);
        if let Some(i) = self.cache.iter().position(|l| l.key == key) {
            let l = self.cache.remove(i);
            self.fill(slot, l);
            return None;
        }
        Some(DirReq {
            key,
            limit: PAGE,
            pins: Vec::new(),
            prefetch,
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
}
