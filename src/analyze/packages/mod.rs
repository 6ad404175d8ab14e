//! Package inventory: one reader per ecosystem behind `Reader`, each fed the
//! files its catalog (`layer::capture`) declares that survive in an image's
//! merged filesystem; then each package's installed bytes, measured by walking
//! the merged filesystem beside the packages' file claims, both in path order.
//! Memory holds the package records and a bounded run of claims (the rest on
//! disk, see `kept`), never a map of the image or of every file list.

mod apk;
mod dpkg;
mod gem;
mod kept;
mod measure;
mod npm;
mod purl;
mod python;
mod rpm;
mod runs;
mod text;

use std::collections::{BTreeMap, HashMap};
use std::io;

use serde::Serialize;

use super::overlay::Overlay;
use crate::layer::capture::{self, Catalog};
use crate::layer::index::PackageDb;
use crate::layer::{Entry, EntryKind};
pub use kept::{Kept, KeptStats, ListId};
pub use purl::Distro;
pub use text::{capped, TEXT_CAP};
pub(crate) use text::{header, join, join_into, split};

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

    /// Installed by a language's own tool (pip, npm, gem), not the system's.
    pub fn is_language(self) -> bool {
        matches!(self, Ecosystem::Python | Ecosystem::Npm | Ecosystem::Gem)
    }

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
    /// No file (a database entry without a file list).
    Nothing,
    /// The paths of a file list, kept as claims (directories among them add nothing).
    List(ListId),
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
    /// The source package it was built from (a purl's `upstream`).
    pub upstream: Option<String>,
    pub owns: Owns,
    /// The size the database declares (a fallback when no owned file is found).
    pub declared: Option<u64>,
    /// Layer of the package's own metadata file; None for a shared database
    /// (the layer is then the latest of its files).
    pub layer: Option<usize>,
    /// Layer of the database it was read from (the last fallback).
    pub db_layer: usize,
}

impl Found {
    /// Bytes this record keeps (its struct and its strings).
    pub fn cost(&self) -> usize {
        let dir = match &self.owns {
            Owns::Dir(d) => d.len(),
            _ => 0,
        };
        std::mem::size_of::<Found>()
            + self.name.len()
            + self.version.len()
            + self.arch.as_ref().map_or(0, String::len)
            + self.upstream.as_ref().map_or(0, String::len)
            + dir
    }
}

/// One ecosystem's reader.
pub trait Reader {
    /// The files it reads, as the scan captures them.
    fn catalog(&self) -> &'static Catalog;
    /// Takes one surviving database file; file lists go to `kept` as they
    /// are read, problems to `warn`, naming the file.
    fn read(&mut self, file: DbFile<'_>, kept: &mut Kept, warn: &mut dyn FnMut(String));
    /// The packages of every file read.
    fn finish(self: Box<Self>, kept: &Kept, warn: &mut dyn FnMut(String)) -> Vec<Found>;
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
    /// Its package URL (purl spec, as syft writes it).
    #[serde(skip)]
    pub purl: String,
    /// A language package whose every file another ecosystem's package owns
    /// (python3-yaml's PyYAML): that package's index in the inventory.
    #[serde(skip)]
    pub owned_by: Option<usize>,
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
    /// The distribution its os-release names.
    pub distro: Option<Distro>,
    /// What the inventory kept while reading (claims, records, runs spilled).
    pub kept: KeptStats,
}

/// Bytes of the surviving database files' paths (plus `SURVIVOR_COST`
/// each) listed for reading, over all layers; past it, files are named as
/// over the capture budget.
const SURVIVORS_LIMIT: usize = 32 << 20;
const SURVIVOR_COST: usize = std::mem::size_of::<(Vec<u8>, u64)>();

/// Bytes of an os-release read (a real one has a few hundred).
const OS_RELEASE_LIMIT: usize = 64 << 10;

/// The inventory of an image. `open` gives its layers' index entries
/// (bottom first; called twice: once to find surviving databases, once to
/// measure), `dbs` a layer's captured database files.
pub fn inventory<I, O, D>(
    open: O,
    dbs: D,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<Inventory>
where
    I: Iterator<Item = io::Result<Entry>>,
    O: FnMut() -> anyhow::Result<Vec<I>>,
    D: FnMut(usize) -> anyhow::Result<Vec<PackageDb>>,
{
    inventory_with(Kept::default(), open, dbs, warn)
}

/// `inventory`, keeping what it reads in `kept` (tests give it small budgets).
fn inventory_with<I, O, D>(
    mut kept: Kept,
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
    // Pass 1: the database files a container of the image sees, by layer
    // (each layer's listing is capped; all layers' together, here).
    let mut survivors: BTreeMap<usize, Vec<(Vec<u8>, u64)>> = BTreeMap::new();
    let (mut listed, mut skipped) = (0usize, Skipped::default());
    for node in Overlay::new(open()?).map_err(index_err)? {
        let node = node.map_err(index_err)?;
        if let Some(v) = node.visible {
            if v.entry.kind == EntryKind::File && capture::classify(&node.path).is_some() {
                let size = v.entry.size;
                listed += node.path.len() + SURVIVOR_COST;
                if listed > SURVIVORS_LIMIT {
                    skipped.add(&String::from_utf8_lossy(&node.path), size);
                    continue;
                }
                survivors
                    .entry(v.layer)
                    .or_default()
                    .push((node.path, size));
            } else if v.entry.kind == EntryKind::Symlink && !node.path.contains(&b'/') {
                // Top-level symlinks (merged /usr: bin -> usr/bin), so a
                // package's listed /bin/bash is found at usr/bin/bash.
                let target = String::from_utf8_lossy(v.entry.link.as_deref().unwrap_or_default());
                if let Some(target) = join("", &target) {
                    kept.link(node.path, target);
                }
            }
        }
    }
    let mut readers = readers();
    let mut os_release: Vec<(String, Vec<u8>)> = Vec::new();
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
                skipped.add(&path, size);
                continue;
            };
            let Some(catalog) = capture::classify(db.path.as_bytes()) else {
                continue;
            };
            if db.skipped {
                skipped.add(&db.path, db.size);
                continue;
            }
            if std::ptr::eq(catalog, &capture::OS_RELEASE) {
                let end = db.content.len().min(OS_RELEASE_LIMIT);
                os_release.push((db.path.clone(), db.content[..end].to_vec()));
                continue;
            }
            let Some(reader) = readers
                .iter_mut()
                .find(|r| std::ptr::eq(r.catalog(), catalog))
            else {
                continue;
            };
            let file = DbFile {
                path: &db.path,
                layer,
                content: &db.content,
            };
            reader.read(file, &mut kept, warn);
        }
    }
    skipped.warn(warn);
    let found: Vec<Found> = readers
        .into_iter()
        .flat_map(|r| r.finish(&kept, warn))
        .collect();
    kept.warn(warn);
    let stats = kept.stats();
    // Each list to its package (the first package of a list claims it);
    // directory claims by their resolved path.
    let mut owners = vec![measure::NO_OWNER; list_count(&found)];
    let mut dirs: HashMap<Vec<u8>, u32> = HashMap::new();
    for (i, f) in found.iter().enumerate() {
        match &f.owns {
            Owns::List(id) if kept.complete(*id) => {
                let slot = &mut owners[id.0 as usize];
                if *slot == measure::NO_OWNER {
                    *slot = i as u32;
                }
            }
            Owns::Dir(dir) => {
                dirs.entry(kept.resolve(dir)).or_insert(i as u32);
            }
            _ => {}
        }
    }
    let claims = kept
        .finish()
        .map_err(|e| crate::error::Error::io("package claims", e))?;
    let nodes = Overlay::new(open()?).map_err(index_err)?;
    let measured = measure::measure(nodes, claims, &owners, &dirs, found.len())
        .map_err(|e| crate::error::Error::io("layer index", e))?;
    let distro = os_release
        .iter()
        .min_by_key(|(path, _)| path != "etc/os-release")
        .and_then(|(_, content)| Distro::parse(content));
    let ecosystems: Vec<Ecosystem> = found.iter().map(|f| f.ecosystem).collect();
    let packages = found
        .into_iter()
        .zip(measured.owned)
        .zip(measured.lost_to)
        .map(|((f, (tally, latest)), lost_to)| {
            let declared = tally.files == 0 && f.declared.is_some();
            // A language package left with no file of its own, because a
            // system package's list holds them: shown under that package.
            let owned_by = lost_to
                .map(|w| w as usize)
                .filter(|&w| !ecosystems[w].is_language())
                .filter(|_| tally.files == 0 && f.ecosystem.is_language());
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
                purl: purl::purl(&f, distro.as_ref()),
                owned_by,
                name: f.name,
                version: f.version,
                arch: f.arch,
            }
        })
        .collect();
    Ok(Inventory {
        packages,
        unowned: measured.unowned,
        total: measured.total,
        distro,
        kept: stats,
    })
}

/// How many list ids the packages name (one past the largest).
fn list_count(found: &[Found]) -> usize {
    found
        .iter()
        .filter_map(|f| match f.owns {
            Owns::List(id) => Some(id.0 as usize + 1),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// The database files over a budget: a few named, the rest counted.
#[derive(Default)]
struct Skipped {
    named: Vec<(String, u64)>,
    more: usize,
}

impl Skipped {
    const NAMED: usize = 3;

    fn add(&mut self, path: &str, size: u64) {
        if self.named.len() < Self::NAMED {
            self.named.push((path.to_owned(), size));
        } else {
            self.more += 1;
        }
    }

    /// One warning, naming a few.
    fn warn(&self, warn: &mut dyn FnMut(String)) {
        if self.named.is_empty() {
            return;
        }
        let named: Vec<String> = self
            .named
            .iter()
            .map(|(path, size)| format!("/{path} ({size} bytes)"))
            .collect();
        let more = match self.more {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        warn(format!(
            "{}{more}: over the capture budget; their packages are not listed",
            named.join(", ")
        ));
    }
}

#[cfg(test)]
mod tests;
