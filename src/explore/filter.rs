//! What the tree pane keeps and in which order: a path pattern (a glob, or a
//! substring, case-insensitive unless it has a capital), a minimum size,
//! the statuses shown, only what a later layer wastes; sorted by size or name.

use std::os::unix::ffi::OsStrExt;

use globset::{GlobBuilder, GlobMatcher};

use super::classify::{Seen, Status};

/// The order of a directory's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Biggest first, then by name.
    Size,
    Name,
}

#[derive(Debug, Clone)]
pub enum Pattern {
    /// Bytes to find anywhere in the path; `fold`: compared in ASCII lower case.
    Substring { text: Vec<u8>, fold: bool },
    /// A glob over the whole path (`*` crosses `/`).
    Glob { text: String, glob: GlobMatcher },
}

impl Pattern {
    /// A glob when `text` has `*`, `?` or `[`, else a substring. A leading
    /// `/` is dropped: paths are relative to the image root.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let trimmed = text.trim();
        let rel = trimmed.trim_start_matches('/');
        if rel.is_empty() {
            return Err("an empty pattern".into());
        }
        if rel.contains(['*', '?', '[']) {
            let glob = GlobBuilder::new(rel)
                .literal_separator(false)
                .build()
                .map_err(|e| format!("not a glob: {}", e.kind()))?;
            return Ok(Pattern::Glob {
                text: trimmed.to_owned(),
                glob: glob.compile_matcher(),
            });
        }
        let fold = !rel.chars().any(char::is_uppercase);
        Ok(Pattern::Substring {
            text: rel.as_bytes().to_vec(),
            fold,
        })
    }

    pub fn text(&self) -> String {
        match self {
            Pattern::Substring { text, .. } => String::from_utf8_lossy(text).into_owned(),
            Pattern::Glob { text, .. } => text.clone(),
        }
    }

    pub fn matches(&self, path: &[u8]) -> bool {
        match self {
            Pattern::Glob { glob, .. } => glob.is_match(std::ffi::OsStr::from_bytes(path)),
            Pattern::Substring { text, fold } => {
                if text.len() > path.len() {
                    return false;
                }
                if *fold {
                    path.windows(text.len())
                        .any(|w| w.eq_ignore_ascii_case(text))
                } else {
                    path.windows(text.len()).any(|w| w == text.as_slice())
                }
            }
        }
    }
}

/// Which paths the tree shows.
#[derive(Debug, Clone)]
pub struct Filter {
    pub pattern: Option<Pattern>,
    /// Rows under this many bytes are left out.
    pub min_size: u64,
    /// Statuses shown (bits of `Status::bit`).
    pub statuses: u8,
    /// Only what a later layer overwrites or deletes.
    pub wasted_only: bool,
}

impl Default for Filter {
    fn default() -> Filter {
        Filter {
            pattern: None,
            min_size: 0,
            statuses: Status::ALL.iter().fold(0, |m, s| m | s.bit()),
            wasted_only: false,
        }
    }
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.pattern.is_none()
            && self.min_size == 0
            && self.statuses == Filter::default().statuses
            && !self.wasted_only
    }

    pub fn shows_status(&self, s: Status) -> bool {
        self.statuses & s.bit() != 0
    }

    pub fn toggle_status(&mut self, s: Status) {
        self.statuses ^= s.bit();
    }

    /// Whether a path counts in the tree: its own status, waste and name
    /// (a row's size is checked against `min_size` once it is summed).
    pub fn accepts(&self, path: &[u8], seen: &Seen) -> bool {
        self.shows_status(seen.status)
            && (!self.wasted_only || seen.wasted_by.is_some() && seen.status != Status::Removed)
            && self.pattern.as_ref().is_none_or(|p| p.matches(path))
    }

    /// What the filter is, for the header line; empty when it is off.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = &self.pattern {
            parts.push(format!("path {}", p.text()));
        }
        if self.min_size > 0 {
            parts.push(format!(">= {}", crate::units::human(self.min_size)));
        }
        if self.statuses != Filter::default().statuses {
            let shown: Vec<&str> = Status::ALL
                .iter()
                .filter(|s| self.shows_status(**s))
                .map(|s| s.name())
                .collect();
            parts.push(if shown.is_empty() {
                "no status".to_owned()
            } else {
                shown.join("+")
            });
        }
        if self.wasted_only {
            parts.push("wasted later".into());
        }
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_is_a_glob_with_wildcards_and_a_substring_without() {
        let g = Pattern::parse("/usr/lib/*.so").unwrap();
        assert!(g.matches(b"usr/lib/x/libc.so"));
        assert!(!g.matches(b"usr/lib/libc.so.6"));
        let s = Pattern::parse("lib").unwrap();
        assert!(s.matches(b"usr/LIB/x") && s.matches(b"usr/lib"));
        let capital = Pattern::parse("Lib").unwrap();
        assert!(!capital.matches(b"usr/lib") && capital.matches(b"a/Lib"));
        assert!(Pattern::parse("  ").is_err());
        assert!(Pattern::parse("a[").is_err());
    }
}
