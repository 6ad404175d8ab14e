//! An image's inventory in three steps: a `Plan` (the database files that
//! survive in the merged filesystem, and its top-level links), `prepare`
//! (each reader fed its files: the packages, their file claims and what
//! they need of each other), and `Measuring` (each regular file of the merged
//! filesystem to its owner). `inventory` runs them over two passes of the
//! merged filesystem; advise guesses the plan from the layers' footers and
//! measures in its own pass, checking the guess as it goes.

use std::collections::{BTreeMap, HashMap};
use std::io;

use super::deps::{self, Graph};
use super::kept::{Kept, KeptStats};
use super::measure::{self, Measurer};
use super::{
    join, purl, readers, BytesSource, DbFile, Distro, Ecosystem, Found, Inventory, Owns, Package,
};
use crate::analyze::overlay::{Node, Overlay};
use crate::layer::capture;
use crate::layer::index::{path_order, PackageDb};
use crate::layer::{Entry, EntryKind};

/// Bytes of the surviving database files' paths (plus `SURVIVOR_COST`
/// each) listed for reading, over all layers; past it, files are named as
/// over the capture budget.
const SURVIVORS_LIMIT: usize = 32 << 20;
const SURVIVOR_COST: usize = std::mem::size_of::<(Vec<u8>, u64)>();

/// Bytes of an os-release read (a real one has a few hundred).
const OS_RELEASE_LIMIT: usize = 64 << 10;

/// The database files a container of the image sees, by layer (each
/// layer's listing is capped; all layers' together, here), and the
/// top-level symlinks claimed paths follow (merged /usr: `bin` -> `usr/bin`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    survivors: BTreeMap<usize, Vec<(Vec<u8>, u64)>>,
    links: Vec<(Vec<u8>, Vec<u8>)>,
    listed: usize,
    skipped: Skipped,
}

impl Plan {
    /// No database file to read (nor one over a budget).
    pub fn is_empty(&self) -> bool {
        self.survivors.is_empty() && self.skipped == Skipped::default()
    }

    /// Looks at the next node of the merged filesystem (in index order).
    pub fn add(&mut self, node: &Node) {
        let Some(v) = &node.visible else { return };
        if v.entry.kind == EntryKind::File && capture::classify(&node.path).is_some() {
            self.survivor(&node.path, v.layer, v.entry.size);
        } else if v.entry.kind == EntryKind::Symlink && !node.path.contains(&b'/') {
            self.link(&node.path, v.entry.link.as_deref().unwrap_or_default());
        }
    }

    fn survivor(&mut self, path: &[u8], layer: usize, size: u64) {
        self.listed += path.len() + SURVIVOR_COST;
        if self.listed > SURVIVORS_LIMIT {
            self.skipped.add(&String::from_utf8_lossy(path), size);
            return;
        }
        self.survivors
            .entry(layer)
            .or_default()
            .push((path.to_vec(), size));
    }

    fn link(&mut self, name: &[u8], target: &[u8]) {
        if let Some(target) = join("", &String::from_utf8_lossy(target)) {
            self.links.push((name.to_vec(), target));
        }
    }

    /// The plan a merged filesystem would give if no later layer deleted a
    /// captured database file or a top-level link: from each layer's
    /// footer, bottom first, its captured paths (with sizes) and its
    /// top-level symlinks; a later layer's copy replaces an earlier one.
    pub fn guess<L>(layers: L) -> Plan
    where
        L: IntoIterator<Item = (Vec<(String, u64)>, Vec<(Vec<u8>, Vec<u8>)>)>,
    {
        let mut files: HashMap<Vec<u8>, (usize, u64)> = HashMap::new();
        let mut links: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
        for (layer, (paths, tops)) in layers.into_iter().enumerate() {
            for (path, size) in paths {
                files.insert(path.into_bytes(), (layer, size));
            }
            links.extend(tops);
        }
        let mut files: Vec<_> = files.into_iter().collect();
        files.sort_by(|a, b| path_order(&a.0, &b.0));
        let mut links: Vec<_> = links.into_iter().collect();
        links.sort_by(|a, b| path_order(&a.0, &b.0));
        let mut plan = Plan::default();
        for (path, (layer, size)) in files {
            plan.survivor(&path, layer, size);
        }
        for (name, target) in links {
            plan.link(&name, &target);
        }
        plan
    }
}

/// What the readers made of a plan's files, before the measuring pass.
pub struct Prepared {
    found: Vec<Found>,
    kept: Kept,
    /// Per package: the system package whose list names its metadata.
    dist_owner: Vec<Option<u32>>,
    graph: Graph,
    distro: Option<Distro>,
}

/// Reads the files of `plan`; `dbs` gives a layer's captured database files.
pub fn prepare<D, C>(
    plan: Plan,
    mut kept: Kept,
    mut dbs: D,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<Prepared>
where
    D: FnMut(usize) -> anyhow::Result<C>,
    C: std::ops::Deref<Target = [PackageDb]>,
{
    let Plan {
        survivors,
        links,
        mut skipped,
        ..
    } = plan;
    for (name, target) in links {
        kept.link(name, target);
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
    // A Python dist whose metadata a system package lists was installed by
    // that package (python3-yaml's PyYAML): it needs its installer.
    let owners = list_owners(&found, &kept);
    let dist_owner: Vec<Option<u32>> = found
        .iter()
        .map(|f| {
            let home = f
                .deps
                .home
                .as_ref()
                .filter(|_| f.ecosystem == Ecosystem::Python)?;
            let list = kept.dist_owner(home.as_bytes())?;
            let owner = *owners.get(list.0 as usize)?;
            (owner != measure::NO_OWNER && !found[owner as usize].ecosystem.is_language())
                .then_some(owner)
        })
        .collect();
    let graph = deps::resolve(&found, &dist_owner);
    let distro = os_release
        .iter()
        .min_by_key(|(path, _)| path != "etc/os-release")
        .and_then(|(_, content)| Distro::parse(content));
    Ok(Prepared {
        found,
        kept,
        dist_owner,
        graph,
        distro,
    })
}

/// Each list to its package (the first package of a list claims it).
fn list_owners(found: &[Found], kept: &Kept) -> Vec<u32> {
    let mut owners = vec![measure::NO_OWNER; list_count(found)];
    for (i, f) in found.iter().enumerate() {
        if let Owns::List(id) = &f.owns {
            if kept.complete(*id) {
                let slot = &mut owners[id.0 as usize];
                if *slot == measure::NO_OWNER {
                    *slot = i as u32;
                }
            }
        }
    }
    owners
}

impl Prepared {
    /// The packages as their databases describe them (indexes as in the inventory).
    pub fn found(&self) -> &[Found] {
        &self.found
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Per package: the system package that installed it (a Python dist a deb lists).
    pub fn dist_owner(&self) -> &[Option<u32>] {
        &self.dist_owner
    }

    /// Per list id: whether a package `chosen` marks owns it (what
    /// `Kept::wanting` takes to measure those packages alone).
    pub fn lists_of(&self, chosen: impl Fn(usize) -> bool) -> Vec<bool> {
        let mut wanted = vec![false; list_count(&self.found)];
        for (i, f) in self.found.iter().enumerate() {
            if let Owns::List(id) = f.owns {
                if chosen(i) {
                    wanted[id.0 as usize] = true;
                }
            }
        }
        wanted
    }

    /// Ready for the measuring pass.
    pub fn measuring(self) -> anyhow::Result<Measuring> {
        let owners = list_owners(&self.found, &self.kept);
        let mut dirs: HashMap<Vec<u8>, u32> = HashMap::new();
        for (i, f) in self.found.iter().enumerate() {
            if let Owns::Dir(dir) = &f.owns {
                dirs.entry(self.kept.resolve(dir)).or_insert(i as u32);
            }
        }
        let stats = self.kept.stats();
        let claims = self
            .kept
            .finish()
            .map_err(|e| crate::error::Error::io("package claims", e))?;
        let measurer = Measurer::new(claims, owners, dirs, self.found.len());
        Ok(Measuring {
            measurer,
            found: self.found,
            graph: self.graph,
            distro: self.distro,
            stats,
        })
    }
}

/// The measuring pass under way.
pub struct Measuring {
    measurer: Measurer,
    found: Vec<Found>,
    graph: Graph,
    distro: Option<Distro>,
    stats: KeptStats,
}

impl Measuring {
    /// Measures the next node of the merged filesystem (index order);
    /// returns the package that owns its regular file, if any.
    pub fn add(&mut self, node: &Node) -> io::Result<Option<u32>> {
        self.measurer.add(node)
    }

    pub fn finish(self) -> Inventory {
        let measured = self.measurer.finish();
        let distro = self.distro;
        let found = self.found;
        let ecosystems: Vec<Ecosystem> = found.iter().map(|f| f.ecosystem).collect();
        let pinned: Vec<bool> = found.iter().map(|f| f.deps.pinned).collect();
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
        Inventory {
            packages,
            unowned: measured.unowned,
            total: measured.total,
            distro,
            kept: self.stats,
            graph: self.graph,
            pinned,
        }
    }
}

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
pub(super) fn inventory_with<I, O, D>(
    kept: Kept,
    mut open: O,
    dbs: D,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<Inventory>
where
    I: Iterator<Item = io::Result<Entry>>,
    O: FnMut() -> anyhow::Result<Vec<I>>,
    D: FnMut(usize) -> anyhow::Result<Vec<PackageDb>>,
{
    let index_err = |e| crate::error::Error::io("layer index", e);
    let mut plan = Plan::default();
    for node in Overlay::new(open()?).map_err(index_err)? {
        plan.add(&node.map_err(index_err)?);
    }
    let mut measuring = prepare(plan, kept, dbs, warn)?.measuring()?;
    for node in Overlay::new(open()?).map_err(index_err)? {
        measuring
            .add(&node.map_err(index_err)?)
            .map_err(index_err)?;
    }
    Ok(measuring.finish())
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
#[derive(Debug, Default, Clone, PartialEq, Eq)]
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
