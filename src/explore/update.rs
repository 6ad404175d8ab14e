//! How the explorer answers: a key, the mouse, a resize or a job's answer
//! changes the model and may ask for jobs; nothing here draws or reads.

use ratatui::crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};

use super::classify::{Mode, Status};
use super::filter::Sort;
use super::jobs::{Done, Job};
use super::layout::areas;
use super::state::{App, Ask, Focus, Pane, Popup};
use super::tree::Line;

/// What the explorer reacts to.
#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Done(Done),
    /// What reading the layers' indexes is doing (a scan's progress).
    Loading(String),
    /// The layers' indexes are read (the runner then starts the first pass).
    Indexed,
}

impl App {
    /// Takes in one message; returns the jobs it asks for.
    pub fn update(&mut self, msg: Msg) -> Vec<Job> {
        match msg {
            Msg::Key(k) if k.kind != KeyEventKind::Release => self.key(k),
            Msg::Key(_) => Vec::new(),
            Msg::Mouse(m) => self.mouse(m),
            Msg::Resize(w, h) => {
                self.size = (w, h);
                self.follow();
                Vec::new()
            }
            Msg::Done(d) => self.done(d),
            Msg::Loading(what) => {
                if self.loading.is_some() {
                    self.loading = Some(what);
                }
                Vec::new()
            }
            Msg::Indexed => Vec::new(),
        }
    }

    pub(super) fn areas(&self) -> super::layout::Areas {
        areas(
            Rect::new(0, 0, self.size.0, self.size.1),
            self.layer_count(),
        )
    }

    /// Keeps each cursor on screen.
    pub(super) fn follow(&mut self) {
        let a = self.areas();
        let rows = a.right_rows();
        let mut s = super::state::Scroll {
            cursor: self.tree.cursor,
            offset: self.tree.offset,
        };
        s.follow(rows);
        self.tree.offset = s.offset;
        self.wasted.follow(rows.saturating_sub(1));
        self.packages.scroll.follow(rows.saturating_sub(1));
        let layer_rows = a.layer_rows().max(1);
        if self.lens.layer < self.layers_offset {
            self.layers_offset = self.lens.layer;
        } else if self.lens.layer >= self.layers_offset + layer_rows {
            self.layers_offset = self.lens.layer + 1 - layer_rows;
        }
    }

    fn key(&mut self, k: KeyEvent) -> Vec<Job> {
        if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
            self.quit = true;
            return Vec::new();
        }
        if let Some(popup) = self.popup.take() {
            return self.popup_key(popup, k);
        }
        self.status = None;
        let jobs = match k.code {
            KeyCode::Char('q') => {
                self.quit = true;
                Vec::new()
            }
            KeyCode::Char('?') => {
                self.popup = Some(Popup::Help(0));
                Vec::new()
            }
            KeyCode::Tab | KeyCode::BackTab => {
                self.focus = match self.focus {
                    Focus::Layers => Focus::Right,
                    Focus::Right => Focus::Layers,
                };
                Vec::new()
            }
            KeyCode::Char('[') => self.step_layer(-1),
            KeyCode::Char(']') => self.step_layer(1),
            KeyCode::Char('c') => {
                self.popup = Some(Popup::Command);
                Vec::new()
            }
            KeyCode::Char('m') => {
                self.lens.mode = match self.lens.mode {
                    Mode::UpTo => Mode::Changes,
                    Mode::Changes => Mode::UpTo,
                };
                self.relist()
            }
            KeyCode::Char('s') => {
                self.lens.sort = match self.lens.sort {
                    Sort::Size => Sort::Name,
                    Sort::Name => Sort::Size,
                };
                self.relist()
            }
            KeyCode::Char('f') => self.ask(Ask::Filter),
            KeyCode::Char('>') => self.ask(Ask::MinSize),
            KeyCode::Char('/') => self.ask(Ask::Search),
            KeyCode::Char('n') => self.search_next(false),
            KeyCode::Char('N') => self.search_next(true),
            KeyCode::Char(c @ ('A' | 'M' | 'D' | 'U')) => {
                let s = match c {
                    'A' => Status::Added,
                    'M' => Status::Changed,
                    'D' => Status::Removed,
                    _ => Status::Unchanged,
                };
                self.lens.filter.toggle_status(s);
                self.relist()
            }
            KeyCode::Char('W') => {
                self.lens.filter.wasted_only = !self.lens.filter.wasted_only;
                self.relist()
            }
            KeyCode::Esc if !self.lens.filter.is_empty() => {
                self.lens.filter = Default::default();
                self.relist()
            }
            KeyCode::Esc => {
                self.pane = Pane::Tree;
                Vec::new()
            }
            KeyCode::Char('x') => self.export(),
            KeyCode::Char('w') => self.show(Pane::Wasted),
            KeyCode::Char('p') => self.show(Pane::Packages),
            KeyCode::Char('t') => self.show(Pane::Tree),
            _ => match self.focus {
                Focus::Layers => self.layers_key(k),
                Focus::Right => match self.pane {
                    Pane::Tree => self.tree_key(k),
                    Pane::Wasted => {
                        let len = self.wasted_len();
                        let rows = self.areas().right_rows();
                        list_key(&mut self.wasted, k, len, rows);
                        Vec::new()
                    }
                    Pane::Packages => {
                        let len = self.packages_len();
                        let rows = self.areas().right_rows();
                        list_key(&mut self.packages.scroll, k, len, rows);
                        Vec::new()
                    }
                },
            },
        };
        self.follow();
        jobs
    }

    pub(super) fn wasted_len(&self) -> usize {
        self.changes.as_ref().map_or(0, |c| c.waste.top.len())
    }

    pub(super) fn packages_len(&self) -> usize {
        match &self.packages.result {
            Some(Ok(d)) => d.changes.len(),
            _ => 0,
        }
    }

    pub(super) fn show(&mut self, pane: Pane) -> Vec<Job> {
        self.pane = if self.pane == pane { Pane::Tree } else { pane };
        self.focus = Focus::Right;
        self.packages_job()
    }

    /// The packages of the selected layer, when that view shows and lacks them.
    pub(super) fn packages_job(&mut self) -> Vec<Job> {
        if self.pane != Pane::Packages || self.packages.layer == Some(self.lens.layer) {
            return Vec::new();
        }
        self.packages.layer = Some(self.lens.layer);
        self.packages.result = None;
        self.packages.warnings.clear();
        self.packages.scroll = Default::default();
        vec![Job::Packages {
            layer: self.lens.layer,
        }]
    }

    pub(super) fn step_layer(&mut self, delta: isize) -> Vec<Job> {
        let last = self.layer_count().saturating_sub(1) as isize;
        let to = (self.lens.layer as isize + delta).clamp(0, last.max(0)) as usize;
        self.set_layer(to)
    }

    pub(super) fn set_layer(&mut self, layer: usize) -> Vec<Job> {
        if layer == self.lens.layer {
            return Vec::new();
        }
        self.lens.layer = layer;
        let mut jobs = self.relist();
        jobs.extend(self.packages_job());
        jobs
    }

    /// A new look at the tree: every open directory listed again.
    pub(super) fn relist(&mut self) -> Vec<Job> {
        self.epoch += 1;
        self.searching = false;
        if self.changes.is_none() {
            // The first pass is on its way: its answer asks again (`done`).
            return Vec::new();
        }
        let dirs = self.tree.relist();
        vec![Job::List {
            epoch: self.epoch,
            lens: self.lens.clone(),
            dirs,
        }]
    }

    fn layers_key(&mut self, k: KeyEvent) -> Vec<Job> {
        if k.code == KeyCode::Enter {
            self.popup = Some(Popup::Command);
            return Vec::new();
        }
        match motion(k.code, self.areas().layer_rows()) {
            Some(delta) => self.step_layer(delta),
            None => Vec::new(),
        }
    }

    fn tree_key(&mut self, k: KeyEvent) -> Vec<Job> {
        let cursor = self.tree.cursor;
        if let Some(delta) = motion(k.code, self.areas().right_rows()) {
            self.tree_step(delta);
            return Vec::new();
        }
        match k.code {
            KeyCode::Right | KeyCode::Char('l') => match self.tree.row(cursor) {
                Some((_, _, Some(_))) => {
                    self.tree_step(1);
                    Vec::new()
                }
                _ => self.expand(cursor),
            },
            KeyCode::Left | KeyCode::Char('h') => {
                if !self.tree.collapse(cursor) {
                    self.go_to_parent();
                }
                Vec::new()
            }
            KeyCode::Backspace | KeyCode::Char('u') => {
                self.go_to_parent();
                Vec::new()
            }
            KeyCode::Enter | KeyCode::Char(' ') => {
                if let Some(Line::More { .. }) = self.tree.lines.get(cursor) {
                    let more = self.tree.more(cursor).into_iter().collect();
                    return self.list(more);
                }
                if self.tree.collapse(cursor) {
                    return Vec::new();
                }
                self.expand(cursor)
            }
            KeyCode::Char('*') | KeyCode::Char('e') => {
                let Some(key) = self.tree.key_of(cursor) else {
                    return Vec::new();
                };
                if !self.tree.row(cursor).is_some_and(|(_, r, _)| r.is_dir()) {
                    return Vec::new();
                }
                self.tree.expand_all = Some(key);
                let mut reqs: Vec<_> = self.tree.expand(cursor).into_iter().collect();
                // What is open and listed already grows at once.
                reqs.extend(self.tree.grow());
                self.list(reqs)
            }
            _ => Vec::new(),
        }
    }

    pub(super) fn tree_step(&mut self, delta: isize) {
        let mut s = super::state::Scroll {
            cursor: self.tree.cursor,
            offset: self.tree.offset,
        };
        s.step(delta, self.tree.lines.len());
        self.tree.cursor = s.cursor;
    }

    pub(super) fn go_to_parent(&mut self) {
        if let Some(p) = self.tree.parent_line(self.tree.cursor) {
            self.tree.cursor = p;
        }
    }

    pub(super) fn expand(&mut self, line: usize) -> Vec<Job> {
        let req = self.tree.expand(line);
        self.list(req.into_iter().collect())
    }

    pub(super) fn list(&mut self, dirs: Vec<super::listing::DirReq>) -> Vec<Job> {
        if dirs.is_empty() {
            return Vec::new();
        }
        vec![Job::List {
            epoch: self.epoch,
            lens: self.lens.clone(),
            dirs,
        }]
    }

    fn mouse(&mut self, m: MouseEvent) -> Vec<Job> {
        let a = self.areas();
        let at = Position::new(m.column, m.row);
        let in_layers = a.layers.contains(at);
        let in_right = a.right.contains(at);
        let jobs = match m.kind {
            MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
                let delta: isize = if m.kind == MouseEventKind::ScrollDown {
                    3
                } else {
                    -3
                };
                if in_layers {
                    self.step_layer(delta.signum())
                } else if in_right {
                    match self.pane {
                        Pane::Tree => self.tree_step(delta),
                        Pane::Wasted => {
                            let len = self.wasted_len();
                            self.wasted.step(delta, len);
                        }
                        Pane::Packages => {
                            let len = self.packages_len();
                            self.packages.scroll.step(delta, len);
                        }
                    }
                    Vec::new()
                } else {
                    Vec::new()
                }
            }
            MouseEventKind::Down(_) if in_layers => {
                self.focus = Focus::Layers;
                // Border and header row above the first layer.
                let row = m.row.saturating_sub(a.layers.y + 2) as usize;
                let layer = self.layers_offset + row;
                if m.row >= a.layers.y + 2 && layer < self.layer_count() {
                    self.set_layer(layer)
                } else {
                    Vec::new()
                }
            }
            MouseEventKind::Down(_) if in_right => {
                self.focus = Focus::Right;
                if self.pane == Pane::Tree && m.row > a.right.y {
                    let line = self.tree.offset + (m.row - a.right.y - 1) as usize;
                    if line < self.tree.lines.len() {
                        self.tree.cursor = line;
                    }
                }
                Vec::new()
            }
            _ => Vec::new(),
        };
        self.follow();
        jobs
    }
}

/// How far a motion key moves the cursor of a list shown `rows` lines at
/// a time: a line, a page, to either end; None for another key.
fn motion(code: KeyCode, rows: usize) -> Option<isize> {
    let page = rows.max(2) as isize - 1;
    Some(match code {
        KeyCode::Up | KeyCode::Char('k') => -1,
        KeyCode::Down | KeyCode::Char('j') => 1,
        KeyCode::PageUp => -page,
        KeyCode::PageDown => page,
        KeyCode::Home | KeyCode::Char('g') => isize::MIN / 2,
        KeyCode::End | KeyCode::Char('G') => isize::MAX / 2,
        _ => return None,
    })
}

/// Up, down, page, home and end in a plain list.
fn list_key(s: &mut super::state::Scroll, k: KeyEvent, len: usize, rows: usize) {
    if let Some(delta) = motion(k.code, rows) {
        s.step(delta, len);
    }
}
