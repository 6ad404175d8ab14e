//! The prompts and what their answers do: a path filter, a minimum size, a
//! search (and n/N), where to write the selection (`x`); each answer is
//! checked before it is applied, and asked again with the reason if not.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::classify::Mode;
use super::filter::Pattern;
use super::jobs::Job;
use super::state::{App, Ask, Focus, Pane, Popup};

impl App {
    pub(super) fn ask(&mut self, ask: Ask) -> Vec<Job> {
        let text = match ask {
            Ask::Filter => self.lens.filter.pattern.as_ref().map(Pattern::text),
            Ask::MinSize => (self.lens.filter.min_size > 0)
                .then(|| crate::units::human(self.lens.filter.min_size)),
            // A new search starts empty (n and N repeat the last one).
            Ask::Search => None,
            Ask::Export => self.export_name(),
        };
        self.popup = Some(Popup::Prompt {
            ask,
            text: text.unwrap_or_default(),
            error: None,
        });
        Vec::new()
    }

    pub(super) fn popup_key(&mut self, popup: Popup, k: KeyEvent) -> Vec<Job> {
        if let Popup::Help(offset) = popup {
            // Arrows scroll the keys; any other key closes them.
            let to = match k.code {
                KeyCode::Up | KeyCode::Char('k') => offset.saturating_sub(1),
                KeyCode::Down | KeyCode::Char('j') => offset.saturating_add(1),
                KeyCode::PageUp => offset.saturating_sub(10),
                KeyCode::PageDown => offset.saturating_add(10),
                _ => return Vec::new(),
            };
            let most = (super::keys::KEYS.len() * 2) as u16;
            self.popup = Some(Popup::Help(to.min(most)));
            return Vec::new();
        }
        let Popup::Prompt {
            ask,
            mut text,
            error,
        } = popup
        else {
            // The full command closes on any key.
            return Vec::new();
        };
        match k.code {
            KeyCode::Esc => Vec::new(),
            KeyCode::Enter => self.answer(ask, text),
            KeyCode::Char('u') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                self.popup = Some(Popup::Prompt {
                    ask,
                    text: String::new(),
                    error: None,
                });
                Vec::new()
            }
            KeyCode::Backspace => {
                text.pop();
                self.popup = Some(Popup::Prompt {
                    ask,
                    text,
                    error: None,
                });
                Vec::new()
            }
            KeyCode::Char(c) if !c.is_control() => {
                if text.len() < 1024 {
                    text.push(c);
                }
                self.popup = Some(Popup::Prompt {
                    ask,
                    text,
                    error: None,
                });
                Vec::new()
            }
            _ => {
                self.popup = Some(Popup::Prompt { ask, text, error });
                Vec::new()
            }
        }
    }

    /// A prompt's answer: applied, or the prompt again with why not.
    pub(super) fn answer(&mut self, ask: Ask, text: String) -> Vec<Job> {
        let empty = text.trim().is_empty();
        let refused = |app: &mut App, text: String, why: String| {
            app.popup = Some(Popup::Prompt {
                ask,
                text,
                error: Some(why),
            });
            Vec::new()
        };
        match ask {
            Ask::Filter if empty => {
                self.lens.filter.pattern = None;
                self.relist()
            }
            Ask::Filter => match Pattern::parse(&text) {
                Ok(p) => {
                    self.lens.filter.pattern = Some(p);
                    self.relist()
                }
                Err(why) => refused(self, text, why),
            },
            Ask::MinSize if empty => {
                self.lens.filter.min_size = 0;
                self.relist()
            }
            Ask::MinSize => match crate::units::parse_size(&text) {
                Some(n) => {
                    self.lens.filter.min_size = n;
                    self.relist()
                }
                None => refused(self, text, "not a size".into()),
            },
            Ask::Search if empty => {
                self.search = None;
                Vec::new()
            }
            Ask::Search => match Pattern::parse(&text) {
                Ok(p) => {
                    self.search = Some(p);
                    self.pane = Pane::Tree;
                    self.focus = Focus::Right;
                    self.search_next(false)
                }
                Err(why) => refused(self, text, why),
            },
            Ask::Export if empty => Vec::new(),
            Ask::Export => {
                let to = std::path::PathBuf::from(text.trim());
                if to.symlink_metadata().is_ok() {
                    return refused(self, text, "exists: strata writes only a new file".into());
                }
                let Some(path) = self.selected_path() else {
                    return Vec::new();
                };
                self.status = Some(format!("writing {}…", to.display()));
                vec![Job::Export {
                    path,
                    layer: self.lens.layer,
                    own: self.lens.mode == Mode::Changes,
                    to,
                }]
            }
        }
    }

    /// The selected row's path (relative to the root), when it can be named
    /// (a name cut for being longer than any filesystem allows cannot).
    pub(super) fn selected_path(&self) -> Option<Vec<u8>> {
        let (d, r, _) = self.tree.row(self.tree.cursor)?;
        if r.cut
            || d.key
                .iter()
                .any(|n| n.len() > crate::analyze::path::NAME_CAP)
        {
            return None;
        }
        let mut path = d.key.join(&b'/');
        if !path.is_empty() {
            path.push(b'/');
        }
        path.extend_from_slice(&r.name);
        Some(path)
    }

    /// The export prompt's first answer: the selection's name (a directory's with `.tar`).
    pub(super) fn export_name(&self) -> Option<String> {
        let (_, r, _) = self.tree.row(self.tree.cursor)?;
        let name = String::from_utf8_lossy(&r.name).replace(|c: char| c.is_control(), "_");
        Some(if r.is_dir() {
            format!("{name}.tar")
        } else {
            name
        })
    }

    /// `x`: asks where to write the selection.
    pub(super) fn export(&mut self) -> Vec<Job> {
        if self.pane != Pane::Tree || self.selected_path().is_none() {
            self.status = Some("x writes the selected row of the tree (not a cut name)".into());
            return Vec::new();
        }
        self.ask(Ask::Export)
    }

    pub(super) fn search_next(&mut self, backward: bool) -> Vec<Job> {
        let Some(query) = self.search.clone() else {
            self.status = Some("no search yet: / to search".into());
            return Vec::new();
        };
        let from = self
            .tree
            .key_of(self.tree.cursor)
            .map(|k| k.join(&b'/'))
            .unwrap_or_default();
        self.searching = true;
        vec![Job::Search {
            epoch: self.epoch,
            lens: self.lens.clone(),
            query,
            from,
            backward,
        }]
    }
}
