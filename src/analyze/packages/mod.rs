//! Package inventory: one reader per ecosystem behind `Reader`, each fed the
//! files its catalog (`layer::capture`) declares that survive in an image's
//! merged filesystem; then each package's installed bytes, measured by walking
//! the merged filesystem beside the packages' file claims, both in path order.
//! Memory holds the package records and a bounded run of claims (the rest on
//! disk, see `kept`), never a map of the image or of every file list.

mod apk;
pub mod deps;
mod dpkg;
mod gem;
mod inventory;
mod kept;
mod measure;
mod npm;
mod purl;
mod python;
mod rpm;
mod runs;
mod text;

use serde::Serialize;

use crate::layer::capture::Catalog;
pub use inventory::{inventory, prepare, Measuring, Plan, Prepared};
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
    /// What it needs and provides, as its database says.
    pub deps: deps::Deps,
}

impl Found {
    /// A package of no file (tests of what reads the records).
    #[cfg(test)]
    pub(crate) fn sample(ecosystem: Ecosystem, name: &str, deps: deps::Deps) -> Found {
        Found {
            ecosystem,
            name: name.into(),
            version: "1".into(),
            arch: None,
            upstream: None,
            owns: Owns::Nothing,
            declared: None,
            layer: None,
            db_layer: 0,
            deps,
        }
    }

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
            + self.deps.cost()
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
    /// What each package needs of the others (by index in `packages`).
    pub graph: deps::Graph,
    /// Per package: never removed with tools (dpkg Essential or required).
    pub pinned: Vec<bool>,
}

#[cfg(test)]
mod tests;
