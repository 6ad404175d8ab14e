//! What strata keeps in its cache, for `strata cache du` and `prune`: its
//! own entries only — files by the names it gives, in the directories it
//! marked — each with its bytes and its time of last use. Pruning removes
//! the least recently used first and never a file strata did not make.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::local::{is_hex, is_layer_entry, version_name, ALGORITHMS};
use super::root::{self, Refused, Root};

/// Which part of the cache an entry is in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// Layer indexes and summaries of one index format (`v5`).
    Layers(String),
    /// Image configs.
    Configs,
}

impl Group {
    pub fn name(&self) -> String {
        match self {
            Group::Layers(v) => format!("layers {v}"),
            Group::Configs => "configs".to_owned(),
        }
    }

    /// Is this the index format strata reads now (or the configs)?
    pub fn current(&self) -> bool {
        match self {
            Group::Layers(v) => *v == version_name(),
            Group::Configs => true,
        }
    }
}

/// One entry: a layer (its index and summary) or a config.
#[derive(Debug, Clone)]
pub struct Entry {
    pub group: Group,
    /// Its files, the summary first (removed first: a summary never names
    /// an index that is gone).
    pub files: Vec<PathBuf>,
    pub bytes: u64,
    /// When a run last used it (the summary's or config's modification time).
    pub used: SystemTime,
}

/// strata's entries in the cache of a `--cache-dir`.
#[derive(Debug)]
pub struct Listing {
    /// The directory strata uses for it (`dir`, or `dir/strata`).
    pub root: PathBuf,
    /// False when strata has not made it yet.
    pub exists: bool,
    pub entries: Vec<Entry>,
}

/// Lists strata's entries for `dir`, changing nothing.
pub fn list(dir: &Path) -> Result<Listing, Refused> {
    let root = match root::resolve(dir)? {
        Root::Ours(root) => root,
        Root::Unmade(root) => {
            return Ok(Listing {
                root,
                exists: false,
                entries: Vec::new(),
            })
        }
    };
    let mut entries = Vec::new();
    let layers = root.join("layers");
    let mut versions: Vec<String> = Vec::new();
    if root::is_real_dir(&layers) {
        for v in fs::read_dir(&layers).into_iter().flatten().flatten() {
            let name = v.file_name().to_string_lossy().into_owned();
            if name.starts_with('v') && root::is_real_dir(&v.path()) && root::is_marked(&v.path()) {
                versions.push(name);
            }
        }
    }
    versions.sort();
    for v in versions {
        for alg in ALGORITHMS {
            let dir = layers.join(&v).join(alg);
            let mut by_hex: BTreeMap<String, Entry> = BTreeMap::new();
            for (name, path, meta) in own_files(&dir, |n| is_layer_entry(alg, n)) {
                let (hex, ext) = name.rsplit_once('.').unwrap_or_default();
                let e = by_hex.entry(hex.to_owned()).or_insert_with(|| Entry {
                    group: Group::Layers(v.clone()),
                    files: Vec::new(),
                    bytes: 0,
                    used: SystemTime::UNIX_EPOCH,
                });
                e.bytes += meta.len();
                let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                if ext == "sum" {
                    e.files.insert(0, path);
                    e.used = modified;
                } else {
                    e.files.push(path);
                    if e.files.len() == 1 {
                        e.used = modified;
                    }
                }
            }
            entries.extend(by_hex.into_values());
        }
    }
    for alg in ALGORITHMS {
        let dir = root.join("configs").join(alg);
        for (_, path, meta) in own_files(&dir, |n| is_hex(alg, n)) {
            entries.push(Entry {
                group: Group::Configs,
                bytes: meta.len(),
                used: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                files: vec![path],
            });
        }
    }
    Ok(Listing {
        root,
        exists: true,
        entries,
    })
}

/// The regular files of a real directory `dir` whose names `own` accepts.
fn own_files(dir: &Path, own: impl Fn(&str) -> bool) -> Vec<(String, PathBuf, fs::Metadata)> {
    if !root::is_real_dir(dir) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !own(&name) {
            continue;
        }
        if let Some(meta) = root::regular_file(&e.path()) {
            out.push((name, e.path(), meta));
        }
    }
    out
}

/// Which entries a prune removes (indexes into `entries`): with neither
/// limit, all; else those unused for longer than `older_than`, then the
/// least recently used until the rest fit in `max_size` bytes.
pub fn select(
    entries: &[Entry],
    older_than: Option<Duration>,
    max_size: Option<u64>,
    now: SystemTime,
) -> Vec<usize> {
    if older_than.is_none() && max_size.is_none() {
        return (0..entries.len()).collect();
    }
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&i| (entries[i].used, entries[i].files.first().cloned()));
    let mut kept: u64 = entries.iter().map(|e| e.bytes).sum();
    let mut chosen = Vec::new();
    for i in order {
        let e = &entries[i];
        let old = older_than
            .is_some_and(|age| now.duration_since(e.used).is_ok_and(|unused| unused > age));
        let over = max_size.is_some_and(|max| kept > max);
        if old || over {
            kept -= e.bytes;
            chosen.push(i);
        }
    }
    chosen
}

/// Removes the chosen entries, file by file, and what strata left around
/// them (stale temporaries, version directories it emptied). Returns the
/// entries and bytes removed.
pub fn remove(listing: &Listing, chosen: &[usize]) -> (usize, u64) {
    let (mut entries, mut bytes) = (0, 0);
    for &i in chosen {
        let e = &listing.entries[i];
        let mut removed = false;
        for f in &e.files {
            if let Some(meta) = root::regular_file(f) {
                if fs::remove_file(f).is_ok() {
                    bytes += meta.len();
                    removed = true;
                }
            }
        }
        entries += usize::from(removed);
    }
    for alg in ALGORITHMS {
        root::clear_stale(&listing.root.join("configs").join(alg));
        root::clear_stale(&listing.root.join("layers").join(version_name()).join(alg));
    }
    let layers = listing.root.join("layers");
    for v in fs::read_dir(&layers).into_iter().flatten().flatten() {
        let name = v.file_name().to_string_lossy().into_owned();
        if name.starts_with('v') && name != version_name() {
            bytes += root::remove_version(&v.path(), is_layer_entry);
        }
    }
    (entries, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(bytes: u64, days_unused: u64, now: SystemTime) -> Entry {
        Entry {
            group: Group::Configs,
            files: vec![PathBuf::from(format!("/x/{bytes}"))],
            bytes,
            used: now - Duration::from_secs(days_unused * 86_400),
        }
    }

    #[test]
    fn a_prune_takes_the_old_then_the_least_recently_used_until_the_rest_fit() {
        let now = SystemTime::now();
        let entries = vec![
            entry(100, 40, now),
            entry(200, 1, now),
            entry(300, 10, now),
            entry(400, 0, now),
        ];
        let day = Duration::from_secs(86_400);
        assert_eq!(select(&entries, Some(30 * day), None, now), [0]);
        // 1000 bytes, at most 600: the least recently used go first.
        assert_eq!(select(&entries, None, Some(600), now), [0, 2]);
        assert_eq!(select(&entries, Some(30 * day), Some(450), now), [0, 2, 1]);
        assert_eq!(select(&entries, None, Some(0), now).len(), 4);
        assert_eq!(select(&entries, None, None, now).len(), 4, "no limit: all");
        assert!(select(&entries, Some(90 * day), Some(5000), now).is_empty());
    }
}
