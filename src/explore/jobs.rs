//! The work the panes ask for and its answers: a pass over the merged
//! filesystem (the layer figures and first listings, more listings, a
//! search) or the package changes of one layer. `update` asks with a `Job`
//! and gets a `Done` back; whoever runs them (`Runner`) decides where: on
//! worker threads in the terminal, in line in tests.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::filter::Pattern;
use super::listing::{real_prefix, DirReq, Lens, Listing};
use super::pass::list;
use super::source::TreeSource;
use crate::analyze::layers::{Changes, ChangesBuilder};
use crate::analyze::package_diff::{diff_packages, PackageDiff};
use crate::analyze::path::NAME_CAP;
use crate::image::Image;
use crate::layer::index::{path_order, rfind_slash};
use crate::store::Indexes;

/// Wasted paths the wasted view lists, biggest first.
pub const WASTED_TOP: usize = 1000;

#[derive(Debug, Clone)]
pub enum Job {
    /// The layer figures and the first listings, in one pass.
    Start { lens: Lens, dirs: Vec<DirReq> },
    /// Listings of the directories asked for, seen through `lens`.
    List {
        epoch: u64,
        lens: Lens,
        dirs: Vec<DirReq>,
    },
    /// The next path (or the previous one) after `from`, in path order,
    /// shown through `lens` whose name (or, for a glob with `/`, whose path) matches.
    Search {
        epoch: u64,
        lens: Lens,
        query: Pattern,
        from: Vec<u8>,
        backward: bool,
    },
    /// What layer `layer` (0-based) does to the image's packages.
    Packages { layer: usize },
    /// Writes `path` (a file's bytes, a directory as a tar) to the new file
    /// `to`: as the layers up to `layer` merge it, or as that layer alone
    /// holds it (`own`).
    Export {
        path: Vec<u8>,
        layer: usize,
        own: bool,
        to: std::path::PathBuf,
    },
}

#[derive(Debug)]
pub enum Done {
    Started(Result<(Box<Changes>, Vec<Listing>), String>),
    Listed {
        epoch: u64,
        result: Result<Vec<Listing>, String>,
    },
    /// A path found, or None: no path matches.
    Found {
        epoch: u64,
        result: Result<Option<Vec<u8>>, String>,
    },
    Packages {
        layer: usize,
        result: Result<PackageDiff, String>,
        warnings: Vec<String>,
    },
    /// What an export wrote, or why it did not.
    Exported(Result<String, String>),
    /// A job that stopped unexpectedly (a bug): what is waiting stops waiting.
    Failed(String),
}

/// What a job reads.
pub struct Context<'a> {
    pub source: &'a dyn TreeSource,
    pub indexes: &'a Indexes<'a>,
    pub image: &'a Image,
    /// Each layer's file bytes (its summary's `files`).
    pub layer_files: Vec<u64>,
    /// The newest epoch asked for: a pass of an older one stops.
    pub epoch: &'a AtomicU64,
    /// The explorer is quitting: every pass stops.
    pub quit: &'a AtomicBool,
}

/// Entries of a layer index until the explorer quits (then an error ends
/// whatever reads them: a package inventory has no other way to stop).
struct Stoppable<'a, I> {
    inner: I,
    quit: &'a AtomicBool,
}

impl<I: Iterator<Item = io::Result<crate::layer::Entry>>> Iterator for Stoppable<'_, I> {
    type Item = io::Result<crate::layer::Entry>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.quit.load(Ordering::Relaxed) {
            return Some(Err(io::Error::new(io::ErrorKind::Interrupted, "stopped")));
        }
        self.inner.next()
    }
}

impl<'a> Context<'a> {
    pub fn new(
        source: &'a dyn TreeSource,
        indexes: &'a Indexes<'a>,
        image: &'a Image,
        flags: &'a super::terminal::Flags,
    ) -> Context<'a> {
        // A foreign layer not at hand has no summary: no files.
        let summaries = indexes.summaries();
        Context {
            source,
            indexes,
            image,
            layer_files: image
                .layers
                .iter()
                .map(|l| summaries.get(&l.digest).map_or(0, |s| s.files))
                .collect(),
            epoch: &flags.epoch,
            quit: &flags.quit,
        }
    }
}

/// One line for the status bar: the error and its causes.
fn message(e: anyhow::Error) -> String {
    format!("{e:#}")
}

/// Runs one job to its answer; None when it was overtaken by a newer epoch.
pub fn run(job: Job, cx: &Context) -> Option<Done> {
    match job {
        Job::Start { lens, dirs } => {
            let mut changes = ChangesBuilder::new(cx.layer_files.clone(), WASTED_TOP);
            let result = cx.source.subtree(b"").map_err(message).and_then(|nodes| {
                let quit = || cx.quit.load(Ordering::Relaxed);
                list(nodes, &lens, dirs, &mut |n| changes.add(n), &quit)
                    .map_err(|e| message(crate::analyze::merged::index_error(e).into()))
            });
            Some(Done::Started(result.map(|l| {
                (Box::new(changes.finish()), l.unwrap_or_default())
            })))
        }
        Job::List { epoch, lens, dirs } => {
            let stale = || cx.epoch.load(Ordering::Relaxed) > epoch;
            if stale() {
                return None;
            }
            let base = common_dir(&dirs);
            let result = cx.source.subtree(&base).map_err(message).and_then(|nodes| {
                list(nodes, &lens, dirs, &mut |_| {}, &stale)
                    .map_err(|e| message(crate::analyze::merged::index_error(e).into()))
            });
            match result {
                Ok(None) => None,
                Ok(Some(l)) => Some(Done::Listed {
                    epoch,
                    result: Ok(l),
                }),
                Err(e) => Some(Done::Listed {
                    epoch,
                    result: Err(e),
                }),
            }
        }
        Job::Search {
            epoch,
            lens,
            query,
            from,
            backward,
        } => {
            let stale = || cx.epoch.load(Ordering::Relaxed) > epoch;
            let result = search(cx, &lens, &query, &from, backward, &stale);
            match result {
                Ok(None) => None,
                Ok(Some(found)) => Some(Done::Found {
                    epoch,
                    result: Ok(found),
                }),
                Err(e) => Some(Done::Found {
                    epoch,
                    result: Err(e),
                }),
            }
        }
        Job::Export {
            path,
            layer,
            own,
            to,
        } => Some(Done::Exported(
            export(cx, &path, layer, own, &to).map_err(message),
        )),
        Job::Packages { layer } => {
            let mut warnings = Vec::new();
            let result = packages(cx, layer, &mut warnings).map_err(message);
            Some(Done::Packages {
                layer,
                result,
                warnings,
            })
        }
    }
}

/// The deepest real directory holding every directory asked for.
fn common_dir(dirs: &[DirReq]) -> Vec<u8> {
    let mut base: Option<Vec<u8>> = None;
    for d in dirs {
        let p = real_prefix(&d.key);
        base = Some(match base {
            None => p,
            Some(b) => {
                let mut cut = crate::layer::index::common_prefix(&b, &p);
                // Back to a whole name on both sides.
                let whole = |s: &[u8], i: usize| i == s.len() || s[i] == b'/';
                while cut > 0 && !(whole(&b, cut) && whole(&p, cut)) {
                    cut -= 1;
                }
                b[..cut].to_vec()
            }
        });
    }
    base.unwrap_or_default()
}

/// Whether a search hits `path`: a name for a substring or a glob without
/// `/`, the whole path for a glob with one.
fn hits(query: &Pattern, path: &[u8]) -> bool {
    let whole = matches!(query, Pattern::Glob { text, .. } if text.contains('/'));
    if whole {
        return query.matches(path);
    }
    let name = rfind_slash(path).map_or(path, |i| &path[i + 1..]);
    query.matches(&name[..name.len().min(NAME_CAP * 16)])
}

fn search(
    cx: &Context,
    lens: &Lens,
    query: &Pattern,
    from: &[u8],
    backward: bool,
    stale: &dyn Fn() -> bool,
) -> Result<Option<Option<Vec<u8>>>, String> {
    let nodes = cx.source.subtree(b"").map_err(message)?;
    // Forward: the first hit after `from`, else the first of all (wrapped).
    // Backward: the last hit before `from`, else the last of all.
    let (mut first, mut before, mut last) = (None, None, None);
    let mut count = 0u32;
    for node in nodes {
        let node = node.map_err(|e| message(crate::analyze::merged::index_error(e).into()))?;
        count += 1;
        if count.is_multiple_of(4096) && stale() {
            return Ok(None);
        }
        if node.path.is_empty() || !hits(query, &node.path) {
            continue;
        }
        let shown = super::classify::seen(&node, lens.layer)
            .is_some_and(|s| s.shown_in(lens.mode) && lens.filter.accepts(&node.path, &s));
        if !shown {
            continue;
        }
        let order = path_order(&node.path, from);
        if !backward && order == std::cmp::Ordering::Greater {
            return Ok(Some(Some(node.path)));
        }
        if backward && order == std::cmp::Ordering::Less {
            before = Some(node.path.clone());
        }
        if first.is_none() {
            first = Some(node.path.clone());
        }
        last = Some(node.path);
    }
    Ok(Some(if backward { before.or(last) } else { first }))
}

/// Writes `path` to the new file `to` (never over an existing one; removed
/// again when the export fails half way, so no partial output is left).
fn export(
    cx: &Context,
    path: &[u8],
    layer: usize,
    own: bool,
    to: &std::path::Path,
) -> anyhow::Result<String> {
    use std::io::Write;
    let mut upto = cx.image.clone();
    let picked = if own {
        Some(layer)
    } else {
        upto.layers.truncate(layer + 1);
        None
    };
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(|e| anyhow::anyhow!("{}: {e}", to.display()))?;
    let mut out = io::BufWriter::new(file);
    let written =
        crate::extract::extract_from(cx.indexes, &upto, path, picked, &mut out).and_then(|w| {
            out.flush()?;
            Ok(w)
        });
    match written {
        Ok(crate::extract::Extracted::File(n)) => Ok(format!(
            "wrote {}: {}",
            to.display(),
            crate::units::human(n)
        )),
        Ok(crate::extract::Extracted::Tree(n)) => Ok(format!(
            "wrote {}: a tar of {}",
            to.display(),
            crate::units::count(n, "entry", "entries")
        )),
        Err(e) => {
            drop(out);
            let _ = std::fs::remove_file(to);
            Err(e)
        }
    }
}

/// Package changes layer `layer` makes: the inventory of the layers up to
/// it against the one of the layers below it.
fn packages(cx: &Context, layer: usize, warnings: &mut Vec<String>) -> anyhow::Result<PackageDiff> {
    let upto = |n: usize| {
        let mut image = cx.image.clone();
        image.layers.truncate(n);
        image
    };
    let mut warn = |w: String| {
        if !warnings.contains(&w) {
            warnings.push(w);
        }
    };
    let inventory = |image: &Image, warn: &mut dyn FnMut(String)| {
        let open = || -> anyhow::Result<Vec<_>> {
            Ok(cx
                .indexes
                .open_layers(image)?
                .into_iter()
                .map(|inner| Stoppable {
                    inner,
                    quit: cx.quit,
                })
                .collect())
        };
        // A foreign layer not at hand has no index, so no databases.
        let dbs = |i: usize| -> anyhow::Result<_> {
            let layer = &image.layers[i];
            Ok(match layer.unread() {
                true => Vec::new(),
                false => cx.indexes.footer(&layer.digest)?.package_dbs,
            })
        };
        crate::analyze::packages::inventory(open, dbs, warn)
    };
    let now = inventory(&upto(layer + 1), &mut warn)?;
    let before = if layer == 0 {
        Vec::new()
    } else {
        inventory(&upto(layer), &mut warn)?.packages
    };
    Ok(diff_packages(&before, &now.packages, 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::listing::name_key;

    fn req(path: &str) -> DirReq {
        DirReq {
            key: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| name_key(s.as_bytes()))
                .collect(),
            limit: 10,
            pins: vec![],
            prefetch: false,
        }
    }

    #[test]
    fn the_pass_for_several_directories_reads_the_one_holding_them_all() {
        assert_eq!(common_dir(&[req("usr/lib"), req("usr/libexec")]), b"usr");
        assert_eq!(common_dir(&[req("usr/lib/x"), req("usr/lib")]), b"usr/lib");
        assert_eq!(common_dir(&[req("a"), req("b")]), b"");
        assert_eq!(common_dir(&[req("")]), b"");
    }

    #[test]
    fn a_search_hits_names_unless_a_glob_names_a_path() {
        let q = Pattern::parse("lib").unwrap();
        assert!(hits(&q, b"usr/lib") && !hits(&q, b"usr/lib/x"));
        let g = Pattern::parse("usr/*/x").unwrap();
        assert!(hits(&g, b"usr/lib/x"));
        let n = Pattern::parse("*.so").unwrap();
        assert!(hits(&n, b"a/b.so") && !hits(&n, b"a.so/b"));
    }
}
