//! What the explorer does with a job's answer: the first pass's figures
//! and listings, more listings (an older look's are dropped), a search hit
//! (its way opened), a layer's packages, an export's outcome.

use super::filter::Pattern;
use super::jobs::{Done, Job};
use super::listing::{name_key, Name};
use super::state::App;

impl App {
    pub(super) fn done(&mut self, d: Done) -> Vec<Job> {
        let jobs = match d {
            Done::Started(Ok((changes, listings))) => {
                self.changes = Some(changes);
                if self.epoch != self.started_at {
                    // The look changed while the first pass ran.
                    return self.relist();
                }
                let more = self.tree.apply(listings);
                self.list(more)
            }
            Done::Started(Err(e)) => {
                self.status = Some(e);
                self.tree.failed();
                Vec::new()
            }
            Done::Listed { epoch, .. } if epoch != self.epoch => Vec::new(),
            Done::Listed {
                result: Ok(listings),
                ..
            } => {
                let more = self.tree.apply(listings);
                if let Some(key) = self.reveal.take() {
                    self.tree.select(&key);
                    if self.tree.key_of(self.tree.cursor).as_ref() != Some(&key)
                        && self.tree.loading()
                    {
                        self.reveal = Some(key);
                    }
                }
                self.list(more)
            }
            Done::Listed { result: Err(e), .. } => {
                self.status = Some(e);
                self.tree.failed();
                Vec::new()
            }
            Done::Found { epoch, .. } if epoch != self.epoch => Vec::new(),
            Done::Found { result, .. } => {
                self.searching = false;
                match result {
                    Ok(Some(path)) => self.found(&path),
                    Ok(None) => {
                        let q = self.search.as_ref().map(Pattern::text).unwrap_or_default();
                        self.status = Some(format!("no match for {q}"));
                        Vec::new()
                    }
                    Err(e) => {
                        self.status = Some(e);
                        Vec::new()
                    }
                }
            }
            Done::Exported(result) => {
                self.status = Some(result.unwrap_or_else(|e| format!("not written: {e}")));
                Vec::new()
            }
            Done::Failed(e) => {
                self.status = Some(e);
                self.searching = false;
                self.tree.failed();
                Vec::new()
            }
            Done::Packages {
                layer,
                result,
                warnings,
            } => {
                if self.packages.layer == Some(layer) {
                    self.packages.result = Some(result);
                    self.packages.warnings = warnings;
                }
                Vec::new()
            }
        };
        self.follow();
        jobs
    }

    /// Shows a path a search found: its directories opened, the cursor on it.
    pub(super) fn found(&mut self, path: &[u8]) -> Vec<Job> {
        let key: Vec<Name> = path.split(|&b| b == b'/').map(name_key).collect();
        let reqs = self.tree.reveal(&key);
        if reqs.is_empty() {
            self.tree.select(&key);
            return Vec::new();
        }
        self.reveal = Some(key);
        self.list(reqs)
    }
}
