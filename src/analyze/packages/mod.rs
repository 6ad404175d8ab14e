//! Package inventory: one reader per ecosystem behind `Reader`, fed the
//! package database files that survive in an image's merged filesystem, then
//! each package's installed bytes measured from the files it owns there.
//! Memory holds the packages' file lists, never a map of the whole image.

mod apk;
mod dpkg;
mod gem;
mod npm;
mod python;
mod rpm;

use std::collections::{BTreeMap, HashMap};
use std::io;

use serde::Serialize;

use super::overlay::Overlay;
use crate::layer::index::{is_package_db, PackageDb};
use crate::layer::{Entry, EntryKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    Deb,
    Rpm,
    Apk,
    Python,
    Npm,
    Gem,
}

impl Ecosystem {
    pub const ALL: [Ecosystem; 6] = [
        Ecosystem::Deb,
        Ecosystem::Rpm,
        Ecosystem::Apk,
        Ecosystem::Python,
        Ecosystem::Npm,
        Ecosystem::Gem,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Ecosystem::Deb => "deb",
            Ecosystem::Rpm => "rpm",
            Ecosystem::Apk => "apk",
            Ecosystem::Python => "python",
            Ecosystem::Npm => "npm",
            Ecosystem::Gem => "gem",
        }
    }
}

/// One surviving database file, as a reader gets it.
pub struct DbFile<'a> {
    /// Relative to the image root, no leading `/`.
    pub path: &'a str,
    /// 0-based layer that wrote the surviving version.
    pub layer: usize,
    pub content: &'a [u8],
}

/// What a package owns in the merged filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owns {
    /// Exact paths (relative, no leading `/`); directories among them add nothing.
    Files(Vec<Vec<u8>>),
    /// Everything below a directory, except what a deeper owner claims.
    Dir(Vec<u8>),
}

/// A package as its database describes it.
#[derive(Debug, Clone)]
pub struct Found {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    pub arch: Option<String>,
    pub owns: Owns,
    /// The size the database declares (a fallback when no owned file is found).
    pub declared: Option<u64>,
    /// Layer of the package's own metadata file; None for a shared database
    /// (the layer is then the latest of its files).
    pub layer: Option<usize>,
    /// Layer of the database it was read from (the last fallback).
    pub db_layer: usize,
}

/// One ecosystem's reader.
pub trait Reader {
    /// Does this database path belong to this reader?
    fn wants(&self, path: &str) -> bool;
    /// Takes one surviving database file; problems go to `warn`, naming the file.
    fn read(&mut self, file: DbFile<'_>, warn: &mut dyn FnMut(String));
    /// The packages of every file read.
    fn finish(self: Box<Self>, warn: &mut dyn FnMut(String)) -> Vec<Found>;
}

fn readers() -> Vec<Box<dyn Reader>> {
    vec![
        Box::<dpkg::Dpkg>::default(),
        Box::<rpm::Rpm>::default(),
        Box::<apk::Apk>::default(),
        Box::<python::Python>::default(),
        Box::<npm::Npm>::default(),
        Box::<gem::Gem>::default(),
    ]
}

/// Where a package's bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BytesSource {
    /// The files it owns in the merged filesystem.
    Files,
    /// The database's declared size: no owned file was found.
    Declared,
}

/// A package and its installed bytes.
#[derive(Debug, Clone, Serialize)]
pub struct Package {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    pub arch: Option<String>,
    pub bytes: u64,
    pub bytes_source: BytesSource,
    pub files: u64,
    /// 0-based layer that introduced (or last changed) it.
    #[serde(skip)]
    pub layer: usize,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub bytes: u64,
    pub files: u64,
}

impl Tally {
    fn add(&mut self, bytes: u64) {
        self.bytes += bytes;
        self.files += 1;
    }
}

#[derive(Debug)]
pub struct Inventory {
    pub packages: Vec<Package>,
    /// Regular files of the merged filesystem no package owns.
    pub unowned: Tally,
    /// Every regular file of the merged filesystem.
    pub total: Tally,
}

/// The inventory of an image. `open` gives its layers' index entries
/// (bottom first; called twice: once to find surviving databases, once to
/// measure), `dbs` a layer's captured database files.
pub fn inventory<I, O, D>(
    mut open: O,
    mut dbs: D,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<Inventory>
where
    I: Iterator<Item = io::Result<Entry>>,
    O: FnMut() -> anyhow::Result<Vec<I>>,
    D: FnMut(usize) -> anyhow::Result<Vec<PackageDb>>,
{
    let index_err = |e| crate::error::Error::io("layer index", e);
    // Pass 1: the database files a container of the image sees, by layer.
    let mut survivors: BTreeMap<usize, Vec<(Vec<u8>, u64)>> = BTreeMap::new();
    // Top-level symlinks (merged /usr: bin -> usr/bin), so a package's
    // listed /bin/bash is found at usr/bin/bash.
    let mut links: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    for node in Overlay::new(open()?).map_err(index_err)? {
        let node = node.map_err(index_err)?;
        if let Some(v) = node.visible {
            if v.entry.kind == EntryKind::File && is_package_db(&node.path) {
                let size = v.entry.size;
                survivors
                    .entry(v.layer)
                    .or_default()
                    .push((node.path, size));
            } else if v.entry.kind == EntryKind::Symlink && !node.path.contains(&b'/') {
                let target = String::from_utf8_lossy(v.entry.link.as_deref().unwrap_or_default());
                if let Some(target) = join("", &target) {
                    links.insert(node.path, target);
                }
            }
        }
    }
    let mut readers = readers();
    let mut skipped: Vec<(String, u64)> = Vec::new();
    for (layer, paths) in survivors {
        let captured = dbs(layer)?;
        // A path written twice in one layer: the last copy is the one kept.
        // (Listed as the walk names them: a non-UTF-8 path lossily.)
        let by_path: HashMap<&str, &PackageDb> =
            captured.iter().map(|d| (d.path.as_str(), d)).collect();
        for (path, size) in paths {
            let path = String::from_utf8_lossy(&path);
            let Some(&db) = by_path.get(&*path) else {
                // Past the layer's listing budget: hashed, never captured.
                skipped.push((path.into_owned(), size));
                continue;
            };
            let Some(reader) = readers.iter_mut().find(|r| r.wants(&db.path)) else {
                continue;
            };
            if db.skipped {
                skipped.push((db.path.clone(), db.size));
                continue;
            }
            let file = DbFile {
                path: &db.path,
                layer,
                content: &db.content,
            };
            reader.read(file, warn);
        }
    }
    warn_skipped(&skipped, warn);
    let found: Vec<Found> = readers.into_iter().flat_map(|r| r.finish(warn)).collect();
    // Pass 2: every surviving regular file, to its owner.
    let mut files: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut dirs: HashMap<Vec<u8>, u32> = HashMap::new();
    for (i, f) in found.iter().enumerate() {
        match &f.owns {
            Owns::Files(paths) => {
                for p in paths {
                    files.entry(resolve(p, &links)).or_insert(i as u32);
                }
            }
            Owns::Dir(dir) => {
                dirs.entry(resolve(dir, &links)).or_insert(i as u32);
            }
        }
    }
    let mut owned = vec![(Tally::default(), None::<usize>); found.len()];
    let (mut total, mut unowned) = (Tally::default(), Tally::default());
    for node in Overlay::new(open()?).map_err(index_err)? {
        let node = node.map_err(index_err)?;
        let Some(v) = node.visible else { continue };
        if v.entry.kind != EntryKind::File {
            continue;
        }
        total.add(v.entry.size);
        match owner(&node.path, &files, &dirs) {
            Some(i) => {
                let (tally, latest) = &mut owned[i as usize];
                tally.add(v.entry.size);
                *latest = (*latest).max(Some(v.layer));
            }
            None => unowned.add(v.entry.size),
        }
    }
    let packages = found
        .into_iter()
        .zip(owned)
        .map(|(f, (tally, latest))| {
            let declared = tally.files == 0 && f.declared.is_some();
            Package {
                ecosystem: f.ecosystem,
                bytes: if declared {
                    f.declared.unwrap_or_default()
                } else {
                    tally.bytes
                },
                bytes_source: if declared {
                    BytesSource::Declared
                } else {
                    BytesSource::Files
                },
                files: tally.files,
                layer: f.layer.or(latest).unwrap_or(f.db_layer),
                name: f.name,
                version: f.version,
                arch: f.arch,
            }
        })
        .collect();
    Ok(Inventory {
        packages,
        unowned,
        total,
    })
}

/// One warning for the database files over the capture budget, naming a few.
fn warn_skipped(skipped: &[(String, u64)], warn: &mut dyn FnMut(String)) {
    const NAMED: usize = 3;
    if skipped.is_empty() {
        return;
    }
    let named: Vec<String> = skipped
        .iter()
        .take(NAMED)
        .map(|(path, size)| format!("/{path} ({size} bytes)"))
        .collect();
    let more = match skipped.len().saturating_sub(NAMED) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    warn(format!(
        "{}{more}: over the capture budget; their packages are not listed",
        named.join(", ")
    ));
}

/// `path` with its first component followed when it is a top-level symlink.
fn resolve(path: &[u8], links: &HashMap<Vec<u8>, Vec<u8>>) -> Vec<u8> {
    let cut = path.iter().position(|&b| b == b'/').unwrap_or(path.len());
    match links.get(&path[..cut]) {
        Some(target) => [target, &path[cut..]].concat(),
        None => path.to_vec(),
    }
}

/// The package owning `path`: an exact file claim, else the deepest directory claim.
fn owner(path: &[u8], files: &HashMap<Vec<u8>, u32>, dirs: &HashMap<Vec<u8>, u32>) -> Option<u32> {
    if let Some(&i) = files.get(path) {
        return Some(i);
    }
    if dirs.is_empty() {
        return None;
    }
    let mut end = path.len();
    while let Some(cut) = path[..end].iter().rposition(|&b| b == b'/') {
        if let Some(&i) = dirs.get(&path[..cut]) {
            return Some(i);
        }
        end = cut;
    }
    None
}

/// `rel` joined to directory `base` (both relative to the root; `rel` may
/// climb with `..` or be absolute). None when it leaves the root.
pub(crate) fn join(base: &str, rel: &str) -> Option<Vec<u8>> {
    let mut parts: Vec<&str> = if rel.starts_with('/') {
        Vec::new()
    } else {
        base.split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/").into_bytes())
}

/// `(dir, base)` of a relative path.
pub(crate) fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

/// `Key: value` header lines of a deb822 stanza or an RFC 822 head.
pub(crate) fn header<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(key)?.strip_prefix(':')?;
    Some(rest.trim())
}

#[cfg(test)]
mod tests;
