//! What the shared tier has to say at the end of a run, each thing once and
//! in one line each: damaged entries, a cache that could not be read, pushes
//! that failed or did not finish in time.

use std::sync::Mutex;

use crate::image::Digest;
use crate::source::registry::artifact::Failed;

#[derive(Default)]
struct Said {
    damaged: Vec<String>,
    unread: Option<String>,
    /// Pushes that failed, and the first reason.
    unpushed: (usize, Option<String>),
    late: usize,
}

pub struct Notes {
    /// The cache as the user named it.
    name: String,
    said: Mutex<Said>,
}

impl Notes {
    pub fn new(name: String) -> Notes {
        Notes {
            name,
            said: Mutex::new(Said::default()),
        }
    }

    fn with(&self, f: impl FnOnce(&mut Said)) {
        if let Ok(mut s) = self.said.lock() {
            f(&mut s);
        }
    }

    /// An entry that could not be used: a miss, rescanned and replaced.
    pub fn damaged(&self, digest: &Digest, why: &str) {
        let entry = format!("layer {} ({why})", digest.short());
        self.with(|s| {
            if !s.damaged.contains(&entry) {
                s.damaged.push(entry);
            }
        });
    }

    /// The cache could not be asked for an entry.
    pub fn unread(&self, f: &Failed) {
        self.with(|s| {
            s.unread.get_or_insert_with(|| f.reason.clone());
        });
    }

    pub fn unpushed(&self, f: &Failed) {
        self.with(|s| {
            s.unpushed.0 += 1;
            s.unpushed.1.get_or_insert_with(|| f.reason.clone());
        });
    }

    /// `n` pushes had not finished when the run stopped waiting.
    pub fn late(&self, n: usize) {
        self.with(|s| s.late = n);
    }

    pub fn lines(&self) -> Vec<String> {
        let Ok(s) = self.said.lock() else {
            return Vec::new();
        };
        let name = &self.name;
        let mut lines = Vec::new();
        if let Some(why) = &s.unread {
            lines.push(format!(
                "shared cache {name}: could not be read ({why}); its layers were scanned here"
            ));
        }
        if !s.damaged.is_empty() {
            let shown: Vec<&str> = s.damaged.iter().take(3).map(String::as_str).collect();
            let more = match s.damaged.len() {
                n if n > 3 => format!(" and {} more", n - 3),
                _ => String::new(),
            };
            let (count, verb) = match s.damaged.len() {
                1 => ("an entry".to_owned(), "was"),
                n => (format!("{n} entries"), "were"),
            };
            lines.push(format!(
                "shared cache {name}: {count} {verb} refused, rescanned and pushed again: {}{more}",
                shown.join(", ")
            ));
        }
        if let (n @ 1.., Some(why)) = &s.unpushed {
            let count = match n {
                1 => "an entry".to_owned(),
                n => format!("{n} entries"),
            };
            lines.push(format!(
                "shared cache {name}: {count} could not be pushed ({why}); the figures are unaffected"
            ));
        }
        if s.late > 0 {
            let count = match s.late {
                1 => "an entry was".to_owned(),
                n => format!("{n} entries were"),
            };
            lines.push(format!(
                "shared cache {name}: {count} still being pushed after --timeout; left for a later run"
            ));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::registry::artifact::Problem;

    #[test]
    fn each_kind_of_trouble_is_one_line_however_often_it_happened() {
        let n = Notes::new("docker://h/r".into());
        assert!(n.lines().is_empty());
        let d = |c: &str| Digest::parse(&format!("sha256:{}", c.repeat(64)), "t").unwrap();
        for c in ["a", "b", "c", "d", "a"] {
            n.damaged(&d(c), "wrong MAC");
        }
        let refused = Failed::new(Problem::Refused, "access denied");
        n.unpushed(&refused);
        n.unpushed(&Failed::new(Problem::Other, "HTTP 500"));
        n.unread(&Failed::new(Problem::Unreachable, "cannot connect"));
        n.unread(&Failed::new(Problem::Other, "later"));
        n.late(2);
        let lines = n.lines();
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert!(lines[0].contains("could not be read (cannot connect)"));
        assert!(lines[1].starts_with("shared cache docker://h/r: 4 entries were refused"));
        assert!(lines[1].ends_with("and 1 more"), "{}", lines[1]);
        assert!(lines[2].contains("2 entries could not be pushed (access denied)"));
        assert!(lines[3].contains("2 entries were still being pushed"));
    }
}
