//! `strata cache`: what strata keeps in its cache (`du`), making room
//! (`prune`, least recently used first) and where the cache is (`path`) —
//! strata's own entries only, never a file it did not make; and the shared
//! cache behind it: filled for a set of images (`push`), or read into the
//! local one (`pull`).

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::error::Error;
use crate::reference::Reference;
use crate::report::{Column, Doc, Span, Spans, Table, View};
use crate::session::{Outcome, Session};
use crate::spans;
use crate::store::root::Refused;
use crate::store::usage::{self, Entry, Group, Listing};

#[derive(Debug)]
pub enum Action {
    Du,
    Prune {
        older_than: Option<Duration>,
        max_size: Option<u64>,
    },
    Path,
    Push {
        refs: Vec<Reference>,
    },
    Pull {
        refs: Vec<Reference>,
    },
}

#[derive(Debug)]
pub struct Args {
    /// The `--cache-dir` (or its default).
    pub dir: PathBuf,
    pub action: Action,
}

/// Entries and bytes of a part of the cache.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub entries: u64,
    pub bytes: u64,
    /// When a run last used the least recently used entry (Unix seconds).
    pub least_recently_used: Option<u64>,
}

impl Tally {
    fn of<'a>(entries: impl Iterator<Item = &'a Entry>) -> Tally {
        let mut t = Tally::default();
        for e in entries {
            t.entries += 1;
            t.bytes += e.bytes;
            let used = unix(e.used);
            t.least_recently_used = Some(t.least_recently_used.map_or(used, |u| u.min(used)));
        }
        t
    }
}

/// One part of the cache: the layers of one index format, or the configs.
#[derive(Debug, Serialize)]
pub struct Part {
    /// `layers` or `configs`.
    pub kind: &'static str,
    /// The index format (`v5`) of a layers part.
    pub format: Option<String>,
    /// False for an older format's layers (cleared by the next run or a prune).
    pub current: bool,
    #[serde(flatten)]
    pub tally: Tally,
}

#[derive(Debug, Serialize)]
pub struct CacheDu {
    pub path: String,
    /// False when strata has not made its cache there yet.
    pub exists: bool,
    #[serde(flatten)]
    pub total: Tally,
    pub parts: Vec<Part>,
    /// When the report was made (Unix seconds), for the ages a table shows.
    #[serde(skip)]
    pub now: u64,
}

#[derive(Debug, Serialize)]
pub struct CachePrune {
    pub path: String,
    pub removed: Tally,
    pub kept: Tally,
}

#[derive(Debug, Serialize)]
pub struct CachePath {
    pub path: String,
    pub exists: bool,
}

/// `cache push`: what the shared cache had and what this run added.
#[derive(Debug, Serialize)]
pub struct CachePush {
    pub shared_cache: String,
    /// Distinct layers of the images.
    pub layers: usize,
    pub present: usize,
    pub pushed: usize,
    /// Of those pushed, the layers scanned for it (no tier had them).
    pub scanned: usize,
}

/// `cache pull`: where each distinct layer's entry came from.
#[derive(Debug, Serialize)]
pub struct CachePull {
    pub shared_cache: String,
    pub layers: usize,
    /// Already in the local cache.
    pub local: usize,
    /// Read from the shared cache into the local one.
    pub pulled: usize,
    /// In neither: scanned here (and pushed).
    pub scanned: usize,
}

/// `cache push|pull`: the images, the store and its shared tier.
fn shared_run(
    session: &Session,
    refs: &[Reference],
    push: bool,
    out: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let images = session.load(refs)?;
    let store = session.store()?;
    let name = store
        .shared()
        .map(|s| s.location().to_string())
        .unwrap_or_default();
    if push {
        let filled = store.fill_shared(&images, session.progress())?;
        if filled.failed > 0 {
            anyhow::bail!(
                "shared cache {name}: {} of the {} entries it lacked could not be pushed",
                filled.failed,
                filled.layers - filled.present
            );
        }
        session.render(
            out,
            &CachePush {
                shared_cache: name,
                layers: filled.layers,
                present: filled.present,
                pushed: filled.pushed,
                scanned: filled.scanned,
            },
        )?;
    } else {
        let stats = store.warm(&images, session.progress())?;
        session.render(
            out,
            &CachePull {
                shared_cache: name,
                layers: stats.distinct,
                local: stats.cached,
                pulled: stats.shared,
                scanned: stats.scanned,
            },
        )?;
    }
    Ok(Outcome::Ok)
}

pub fn run(session: &Session, args: &Args, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match &args.action {
        Action::Push { refs } => return shared_run(session, refs, true, out),
        Action::Pull { refs } => return shared_run(session, refs, false, out),
        _ => {}
    }
    let listing = usage::list(&args.dir).map_err(|Refused(why)| Error::BadArgument {
        flag: "--cache-dir",
        reason: why,
    })?;
    let path = listing.root.display().to_string();
    match &args.action {
        Action::Path => session.render(
            out,
            &CachePath {
                path,
                exists: listing.exists,
            },
        )?,
        Action::Du => session.render(out, &du(&listing, SystemTime::now()))?,
        Action::Prune {
            older_than,
            max_size,
        } => {
            let chosen = usage::select(&listing.entries, *older_than, *max_size, SystemTime::now());
            let (removed, bytes) = usage::remove(&listing, &chosen);
            let kept = Tally::of(
                (0..listing.entries.len())
                    .filter(|i| !chosen.contains(i))
                    .map(|i| &listing.entries[i]),
            );
            let mut gone = Tally::of(chosen.iter().map(|&i| &listing.entries[i]));
            gone.entries = removed as u64;
            gone.bytes = bytes;
            session.render(
                out,
                &CachePrune {
                    path,
                    removed: gone,
                    kept,
                },
            )?;
        }
        Action::Push { .. } | Action::Pull { .. } => {}
    }
    Ok(Outcome::Ok)
}

fn du(listing: &Listing, now: SystemTime) -> CacheDu {
    let mut groups: Vec<Group> = listing.entries.iter().map(|e| e.group.clone()).collect();
    groups.sort();
    groups.dedup();
    let parts = groups
        .into_iter()
        .map(|g| Part {
            kind: match g {
                Group::Layers(_) => "layers",
                Group::Configs => "configs",
            },
            current: g.current(),
            tally: Tally::of(listing.entries.iter().filter(|e| e.group == g)),
            format: match g {
                Group::Layers(v) => Some(v),
                Group::Configs => None,
            },
        })
        .collect();
    CacheDu {
        path: listing.root.display().to_string(),
        exists: listing.exists,
        total: Tally::of(listing.entries.iter()),
        parts,
        now: unix(now),
    }
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Seconds from `then` to `now` (0 for a clock set back); None: never.
fn ago(now: u64, then: Option<u64>) -> Span {
    Span::Ago(then.map(|t| now.saturating_sub(t)))
}

fn entries(n: u64) -> Span {
    Span::Counted(n, "entry", "entries")
}

impl View for CacheDu {
    const COMMAND: &'static str = "cache du";

    fn doc(&self) -> Doc {
        let mut doc = Doc::new();
        if !self.exists {
            doc.line(spans![
                "no cache at ",
                Span::Local(self.path.clone()),
                " yet"
            ]);
            return doc;
        }
        doc.line(spans!["strata's cache at ", Span::Local(self.path.clone())])
            .blank();
        let mut table = Table::new(vec![
            Column::text("CONTENT"),
            Column::figure("ENTRIES"),
            Column::figure("SIZE"),
            Column::text("LEAST RECENTLY USED"),
        ]);
        let mut row = |name: Spans, t: &Tally| {
            table.row(vec![
                name,
                spans![Span::Count(t.entries)],
                spans![Span::size(t.bytes)],
                spans![ago(self.now, t.least_recently_used)],
            ])
        };
        for p in &self.parts {
            let mut name = spans![p.kind];
            if let Some(v) = &p.format {
                name.push(" ").push(Span::name(v));
                if !p.current {
                    name.push(" (older format)");
                }
            }
            row(name, &p.tally);
        }
        row(spans!["total"], &self.total);
        doc.table(table);
        doc
    }
}

impl View for CachePrune {
    const COMMAND: &'static str = "cache prune";

    fn doc(&self) -> Doc {
        let mut doc = Doc::new();
        doc.line(spans![
            "removed ",
            entries(self.removed.entries),
            " (",
            Span::size(self.removed.bytes),
            "); kept ",
            entries(self.kept.entries),
            " (",
            Span::size(self.kept.bytes),
            ") in ",
            Span::Local(self.path.clone()),
        ]);
        doc
    }
}

fn layers(n: usize) -> Span {
    Span::Counted(n as u64, "layer", "layers")
}

impl View for CachePush {
    const COMMAND: &'static str = "cache push";

    fn doc(&self) -> Doc {
        let mut doc = Doc::new();
        doc.line(spans![
            layers(self.layers),
            ": ",
            Span::Count(self.present as u64),
            " already there, ",
            Span::Count(self.pushed as u64),
            " pushed (",
            Span::Count(self.scanned as u64),
            " scanned for it) to ",
            Span::Local(self.shared_cache.clone()),
        ]);
        doc
    }
}

impl View for CachePull {
    const COMMAND: &'static str = "cache pull";

    fn doc(&self) -> Doc {
        let mut doc = Doc::new();
        doc.line(spans![
            layers(self.layers),
            ": ",
            Span::Count(self.local as u64),
            " already local, ",
            Span::Count(self.pulled as u64),
            " pulled from ",
            Span::Local(self.shared_cache.clone()),
            ", ",
            Span::Count(self.scanned as u64),
            " scanned here",
        ]);
        doc
    }
}

impl View for CachePath {
    const COMMAND: &'static str = "cache path";

    fn doc(&self) -> Doc {
        let mut doc = Doc::new();
        doc.line(spans![Span::Local(self.path.clone())]);
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_count_from_now_and_a_clock_set_back_is_now() {
        assert_eq!(ago(10_000, Some(10_000 - 120)), Span::Ago(Some(120)));
        assert_eq!(ago(5, Some(10)), Span::Ago(Some(0)));
        assert_eq!(ago(5, None), Span::Ago(None));
    }
}
