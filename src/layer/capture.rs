//! What the scan keeps of a layer besides its entries: the package databases,
//! declared once here as each ecosystem's globs (as syft's catalogers declare
//! theirs), with the budget each draws on. The walk captures what a catalog
//! matches; the package readers (analyze/packages) name their catalog and are
//! fed exactly the files it matched. The declarations sit on this floor so the
//! data still flows one way: layer/ knows no reader, the readers know this table.

use std::sync::OnceLock;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Which budget a captured file draws on. Each has its own, so Python, npm
/// or gem metadata earlier in the tar can never push the system's own
/// package database over budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Budget {
    /// dpkg, apk and the distribution's `os-release`.
    System = 0,
    /// An rpm database (one file holds every package's header, and a
    /// Berkeley DB `Packages` of a large RHEL 8 image passes 16 MiB).
    Rpm = 1,
    /// Language ecosystems: Python, npm, RubyGems.
    Language = 2,
}

impl Budget {
    pub const ALL: [Budget; 3] = [Budget::System, Budget::Rpm, Budget::Language];
    /// Bytes of one layer's captured files drawing on each budget (the rest: skipped).
    pub const LIMITS: [u64; 3] = [32 << 20, 64 << 20, 48 << 20];

    pub fn limit(self) -> u64 {
        Self::LIMITS[self as usize]
    }

    /// The largest one file may be: every budget but rpm's caps a file at
    /// `FILE_LIMIT` (an rpm database is one file; its budget is its limit).
    pub fn file_limit(self) -> u64 {
        match self {
            Budget::Rpm => self.limit(),
            _ => FILE_LIMIT,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Budget::System => "system",
            Budget::Rpm => "rpm",
            Budget::Language => "language",
        }
    }
}

/// One ecosystem's database files: globs over paths relative to the image
/// root (`*` and `?` stay within one component, `**` spans any number).
#[derive(Debug)]
pub struct Catalog {
    pub name: &'static str,
    pub globs: &'static [&'static str],
    pub budget: Budget,
}

/// dpkg: `status`, distroless `status.d/*` (stanzas and `*.md5sums`), and
/// `info/*.list`, each package's file list.
pub static DPKG: Catalog = Catalog {
    name: "dpkg",
    globs: &[
        "var/lib/dpkg/status",
        "var/lib/dpkg/status.d/?*",
        "var/lib/dpkg/info/?*.list",
    ],
    budget: Budget::System,
};

/// rpm: sqlite (Fedora, RHEL/UBI 9) and Berkeley DB (RHEL/UBI 8, CentOS 7).
pub static RPM: Catalog = Catalog {
    name: "rpm",
    globs: &[
        "var/lib/rpm/rpmdb.sqlite",
        "usr/lib/sysimage/rpm/rpmdb.sqlite",
        "var/lib/rpm/Packages",
    ],
    budget: Budget::Rpm,
};

pub static APK: Catalog = Catalog {
    name: "apk",
    globs: &["lib/apk/db/installed"],
    budget: Budget::System,
};

/// Python metadata wherever it is, as syft finds it: not only in
/// site-packages but vendored (`setuptools/_vendor/*.dist-info`) or on a
/// program's own path; distutils' single-file `NAME-VERSION.egg-info` too
/// (never at the root).
pub static PYTHON: Catalog = Catalog {
    name: "python",
    globs: &[
        "**/?*.dist-info/METADATA",
        "**/?*.dist-info/RECORD",
        "**/?*.egg-info/PKG-INFO",
        "**/?*.egg-info/installed-files.txt",
        "?*/**/?*.egg-info",
    ],
    budget: Budget::Language,
};

/// npm: every `node_modules/NAME/package.json` and `node_modules/@SCOPE/NAME/`,
/// nested ones too (never `.bin` or another dot directory).
pub static NPM: Catalog = Catalog {
    name: "npm",
    globs: &[
        "**/node_modules/[!.]*/package.json",
        "**/node_modules/@*/[!.]*/package.json",
    ],
    budget: Budget::Language,
};

pub static GEM: Catalog = Catalog {
    name: "gem",
    globs: &["**/specifications/?*.gemspec"],
    budget: Budget::Language,
};

/// The distribution (`ID`, `VERSION_ID`): a purl's namespace and `distro`.
pub static OS_RELEASE: Catalog = Catalog {
    name: "os-release",
    globs: &["etc/os-release", "usr/lib/os-release"],
    budget: Budget::System,
};

/// Every catalog, in the order packages claim files (deb, rpm, apk,
/// Python, npm, gems).
pub static CATALOGS: [&Catalog; 7] = [&DPKG, &RPM, &APK, &PYTHON, &NPM, &GEM, &OS_RELEASE];

/// Package database files larger than this are not captured (recorded as
/// skipped); rpm databases excepted (their budget is their limit).
pub const FILE_LIMIT: u64 = 16 << 20;

/// The listing of one layer's package database files, captured or skipped:
/// each costs its path and its record. A layer of millions of empty
/// `*.egg-info` or `package.json` files with 64 KiB names would otherwise
/// hold gigabytes (and a footer nobody can read back). Past it, files are
/// hashed but not listed; the inventory names them as over the budget.
pub const LIST_LIMIT: u64 = 8 << 20;
/// What one listed file costs besides its path.
pub const RECORD_COST: u64 = std::mem::size_of::<super::index::PackageDb>() as u64;

/// Every catalog's globs in one set (compiled once), and the catalog of each.
fn globs() -> &'static (GlobSet, Vec<&'static Catalog>) {
    static SET: OnceLock<(GlobSet, Vec<&'static Catalog>)> = OnceLock::new();
    SET.get_or_init(|| {
        let mut set = GlobSetBuilder::new();
        let mut owners = Vec::new();
        for catalog in CATALOGS {
            for glob in catalog.globs {
                let glob = GlobBuilder::new(glob)
                    .literal_separator(true)
                    .backslash_escape(true)
                    .build();
                // The globs are constants: the unit tests compile every one.
                if let Ok(glob) = glob {
                    set.add(glob);
                    owners.push(catalog);
                }
            }
        }
        (set.build().unwrap_or_else(|_| GlobSet::empty()), owners)
    })
}

/// The catalog a path belongs to, if any (the first, in `CATALOGS` order).
/// Called for every regular file of every layer: a miss allocates nothing.
pub fn classify(path: &[u8]) -> Option<&'static Catalog> {
    let (set, owners) = globs();
    let candidate = globset::Candidate::new(path_os(path));
    if !set.is_match_candidate(&candidate) {
        return None;
    }
    let first = set.matches_candidate(&candidate).into_iter().min()?;
    owners.get(first).copied()
}

fn path_os(path: &[u8]) -> &std::ffi::OsStr {
    std::os::unix::ffi::OsStrExt::from_bytes(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(path: &str) -> Option<&'static str> {
        classify(path.as_bytes()).map(|c| c.name)
    }

    #[test]
    fn every_glob_compiles() {
        let count: usize = CATALOGS.iter().map(|c| c.globs.len()).sum();
        assert_eq!(globs().1.len(), count);
        for c in CATALOGS {
            for g in c.globs {
                GlobBuilder::new(g).literal_separator(true).build().unwrap();
            }
        }
    }

    #[test]
    fn package_database_paths_are_classified_by_their_catalog() {
        for (path, catalog) in [
            ("var/lib/dpkg/status", "dpkg"),
            ("var/lib/dpkg/status.d/base", "dpkg"),
            ("var/lib/dpkg/status.d/base.md5sums", "dpkg"),
            ("var/lib/dpkg/info/libc6:amd64.list", "dpkg"),
            ("lib/apk/db/installed", "apk"),
            ("usr/lib/sysimage/rpm/rpmdb.sqlite", "rpm"),
            ("var/lib/rpm/rpmdb.sqlite", "rpm"),
            ("var/lib/rpm/Packages", "rpm"),
            (
                "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
                "python",
            ),
            (
                "opt/venv/lib/python3.12/site-packages/requests-2.31.0.dist-info/RECORD",
                "python",
            ),
            ("usr/lib/python3/dist-packages/foo.egg-info/PKG-INFO", "python"),
            (
                "usr/lib/python3/dist-packages/foo.egg-info/installed-files.txt",
                "python",
            ),
            (
                "usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info",
                "python",
            ),
            // Vendored or on a program's own path: syft lists these too.
            ("srv/six-1.16.0.dist-info/METADATA", "python"),
            ("six-1.16.0.dist-info/METADATA", "python"),
            (
                "opt/venv/lib/python3.12/site-packages/setuptools/_vendor/zipp-3.19.2.dist-info/METADATA",
                "python",
            ),
            (
                "usr/lib/google-cloud-sdk/platform/google_appengine/lib/antlr3/antlr_python_runtime.egg-info/PKG-INFO",
                "python",
            ),
            ("srv/a.egg-info", "python"),
            ("app/node_modules/left-pad/package.json", "npm"),
            ("node_modules/left-pad/package.json", "npm"),
            ("app/node_modules/@babel/core/package.json", "npm"),
            ("app/node_modules/a/node_modules/b/package.json", "npm"),
            ("usr/local/bundle/specifications/rake-13.0.6.gemspec", "gem"),
            ("specifications/rake-13.0.6.gemspec", "gem"),
            ("etc/os-release", "os-release"),
            ("usr/lib/os-release", "os-release"),
        ] {
            assert_eq!(of(path), Some(catalog), "{path}");
        }
    }

    #[test]
    fn look_alikes_are_not_captured() {
        for path in [
            "var/lib/dpkg/status.d/",
            "var/lib/dpkg/status-old",
            "var/lib/dpkg/info/libc6.md5sums",
            "var/lib/dpkg/info/.list",
            "var/lib/dpkg/info/x/y.list",
            "var/lib/dpkg/status.d/a/b",
            "usr/lib/python3/dist-packages/six.dist-info/WHEEL",
            "six-1.16.0.egg-info",
            "srv/.egg-info",
            "srv/.dist-info/METADATA",
            "app/package.json",
            "app/node_modules/a/lib/package.json",
            "app/node_modules/.bin/package.json",
            "app/node_modules/scope/core/package.json",
            "app/node_modules/@scope/.x/package.json",
            "gems/rake/rake.gemspec",
            "usr/local/bundle/specifications/.gemspec",
            "package.json",
            "etc/os-release.d/x",
            "srv/etc/os-release",
            "/var/lib/dpkg/status",
        ] {
            assert_eq!(of(path), None, "{path}");
        }
    }

    #[test]
    fn budgets_cap_a_file_except_an_rpm_database() {
        assert_eq!(DPKG.budget.file_limit(), FILE_LIMIT);
        assert_eq!(PYTHON.budget.file_limit(), FILE_LIMIT);
        assert_eq!(RPM.budget.file_limit(), Budget::Rpm.limit());
        assert!(Budget::ALL.iter().all(|b| b.limit() >= FILE_LIMIT));
    }
}
