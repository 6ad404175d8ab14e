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

/// Every catalog's globs in one set (compiled once), the catalog of each,
/// and what a path needs for each to match it.
struct Globs {
    set: GlobSet,
    owners: Vec<&'static Catalog>,
    needs: Vec<Need<'static>>,
}

fn globs() -> &'static Globs {
    static SET: OnceLock<Globs> = OnceLock::new();
    SET.get_or_init(|| {
        let mut set = GlobSetBuilder::new();
        let mut owners = Vec::new();
        let mut needs = Vec::new();
        for catalog in CATALOGS {
            for text in catalog.globs {
                let glob = GlobBuilder::new(text)
                    .literal_separator(true)
                    .backslash_escape(true)
                    .build();
                // The globs are constants: the unit tests compile every one.
                if let Ok(glob) = glob {
                    set.add(glob);
                    owners.push(catalog);
                    needs.push(Need::of(text));
                }
            }
        }
        Globs {
            set: set.build().unwrap_or_else(|_| GlobSet::empty()),
            owners,
            needs,
        }
    })
}

/// What a path must have for one glob to match it, read off the glob's
/// text: `*`, `?` and `**` never match a `/` (literal separators), so the
/// glob's last component, if it holds none, is the path's base name; if it
/// is `?*` or `*` and a literal, the base name ends with that literal.
/// A necessary test, never a sufficient one: the glob set decides. (advise
/// prefilters a policy's file globs the same way.)
#[derive(Debug, PartialEq, Eq)]
pub enum Need<'a> {
    /// The base name is exactly this.
    Name(&'a [u8]),
    /// The path ends with this.
    Suffix(&'a [u8]),
    /// The path starts with this (the glob's text up to its first wildcard).
    Prefix(&'a [u8]),
}

impl<'a> Need<'a> {
    pub fn of(glob: &'a str) -> Need<'a> {
        let wild = |c: char| matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\');
        let last = glob.rsplit('/').next().unwrap_or(glob);
        if !last.contains(wild) {
            return Need::Name(last.as_bytes());
        }
        let rest = last
            .strip_prefix("?*")
            .or_else(|| last.strip_prefix('*'))
            .filter(|rest| !rest.is_empty() && !rest.contains(wild));
        match rest {
            Some(suffix) => Need::Suffix(suffix.as_bytes()),
            None => Need::Prefix(&glob.as_bytes()[..glob.find(wild).unwrap_or(glob.len())]),
        }
    }

    /// Compares only the ends of `path` (a name may be 64 KiB long).
    pub fn met_by(&self, path: &[u8]) -> bool {
        match self {
            Need::Name(name) => {
                path.ends_with(name)
                    && (path.len() == name.len() || path[path.len() - name.len() - 1] == b'/')
            }
            Need::Suffix(suffix) => path.ends_with(suffix),
            Need::Prefix(prefix) => path.starts_with(prefix),
        }
    }
}

/// The catalog a path belongs to, if any (the first, in `CATALOGS` order).
/// Called for every regular file of every layer: a miss allocates nothing,
/// and a path no glob can match (by its ends) never reaches the glob set.
pub fn classify(path: &[u8]) -> Option<&'static Catalog> {
    let Globs { set, owners, needs } = globs();
    if !needs.iter().any(|n| n.met_by(path)) {
        return None;
    }
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

    /// Package database paths and their catalogs.
    const CAPTURED: &[(&str, &str)] = &[
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
    ];

    /// Paths like them that no catalog holds.
    const LOOK_ALIKES: &[&str] = &[
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
    ];

    fn of(path: &str) -> Option<&'static str> {
        classify(path.as_bytes()).map(|c| c.name)
    }

    #[test]
    fn every_glob_compiles() {
        let count: usize = CATALOGS.iter().map(|c| c.globs.len()).sum();
        assert_eq!(globs().owners.len(), count);
        for c in CATALOGS {
            for g in c.globs {
                GlobBuilder::new(g).literal_separator(true).build().unwrap();
            }
        }
    }

    #[test]
    fn package_database_paths_are_classified_by_their_catalog() {
        for &(path, catalog) in CAPTURED {
            assert_eq!(of(path), Some(catalog), "{path}");
        }
    }

    #[test]
    fn look_alikes_are_not_captured() {
        for &path in LOOK_ALIKES {
            assert_eq!(of(path), None, "{path}");
        }
    }

    /// The glob set alone, without the prefilter.
    fn by_set(path: &[u8]) -> Option<&'static str> {
        let Globs { set, owners, .. } = globs();
        let first = set.matches(path_os(path)).into_iter().min()?;
        Some(owners[first].name)
    }

    #[test]
    fn each_glob_needs_a_name_a_suffix_or_a_prefix_of_its_own() {
        let needs: Vec<(&str, Need<'static>)> = CATALOGS
            .iter()
            .flat_map(|c| c.globs.iter().map(|g| (*g, Need::of(g))))
            .collect();
        use Need::*;
        let expected: [(&str, Need<'static>); 20] = [
            ("var/lib/dpkg/status", Name(b"status")),
            (
                "var/lib/dpkg/status.d/?*",
                Prefix(b"var/lib/dpkg/status.d/"),
            ),
            ("var/lib/dpkg/info/?*.list", Suffix(b".list")),
            ("var/lib/rpm/rpmdb.sqlite", Name(b"rpmdb.sqlite")),
            ("usr/lib/sysimage/rpm/rpmdb.sqlite", Name(b"rpmdb.sqlite")),
            ("var/lib/rpm/Packages", Name(b"Packages")),
            ("lib/apk/db/installed", Name(b"installed")),
            ("**/?*.dist-info/METADATA", Name(b"METADATA")),
            ("**/?*.dist-info/RECORD", Name(b"RECORD")),
            ("**/?*.egg-info/PKG-INFO", Name(b"PKG-INFO")),
            (
                "**/?*.egg-info/installed-files.txt",
                Name(b"installed-files.txt"),
            ),
            ("?*/**/?*.egg-info", Suffix(b".egg-info")),
            ("**/node_modules/[!.]*/package.json", Name(b"package.json")),
            (
                "**/node_modules/@*/[!.]*/package.json",
                Name(b"package.json"),
            ),
            ("**/specifications/?*.gemspec", Suffix(b".gemspec")),
            ("etc/os-release", Name(b"os-release")),
            ("usr/lib/os-release", Name(b"os-release")),
            // Forms no catalog uses today, read conservatively.
            ("a/*", Prefix(b"a/")),
            ("a/x*y", Prefix(b"a/x")),
            ("**/[ab].txt", Prefix(b"")),
        ];
        let (ours, forms) = expected.split_at(needs.len());
        assert_eq!(needs, ours, "a glob was added or changed: check its need");
        for (glob, need) in forms {
            assert_eq!(Need::of(glob), *need, "{glob}");
        }
    }

    /// The prefilter only skips paths the glob set would not match: every
    /// path of the tests above, and each cut, extended and moved, is
    /// classified as the glob set alone classifies it.
    #[test]
    fn the_prefilter_keeps_every_classification_of_the_glob_set() {
        let mut paths: Vec<Vec<u8>> = CAPTURED
            .iter()
            .map(|(p, _)| *p)
            .chain(LOOK_ALIKES.iter().copied())
            .map(|p| p.as_bytes().to_vec())
            .collect();
        // The globs' own text, wildcards filled in several ways.
        for c in CATALOGS {
            for g in c.globs {
                for fill in ["", "a", ".", "a/b", "@s", "x.list"] {
                    let p = g
                        .replace("**", fill)
                        .replace("[!.]", "q")
                        .replace(['*', '?'], fill);
                    paths.push(p.into_bytes());
                }
            }
        }
        let mut all = Vec::new();
        for p in &paths {
            all.push(p.clone());
            for n in 1..p.len().min(12) {
                all.push(p[n..].to_vec());
                all.push(p[..p.len() - n].to_vec());
            }
            for more in [&b"x"[..], b"/", b".bak", b"/x", b"\xff"] {
                all.push([p.as_slice(), more].concat());
                all.push([more, p.as_slice()].concat());
            }
        }
        let mut kept = 0;
        for p in &all {
            let ours = classify(p).map(|c| c.name);
            assert_eq!(ours, by_set(p), "{}", String::from_utf8_lossy(p));
            kept += usize::from(ours.is_some());
        }
        assert!(
            all.len() > 2000 && kept > 200,
            "{} paths, {kept} kept",
            all.len()
        );
    }

    /// A long name the hostile bench writes 100,000 of: no glob can match
    /// its ends, so the glob set never reads its 60 kB.
    #[test]
    fn a_long_name_no_glob_can_end_with_is_refused_by_its_ends() {
        let name = [&b"d/"[..], &vec![b'n'; 60_000], b"00000001"].concat();
        assert!(!globs().needs.iter().any(|n| n.met_by(&name)));
        assert!(classify(&name).is_none());
        let db = [&b"d/"[..], &vec![b'n'; 60_000], b".egg-info"].concat();
        assert_eq!(classify(&db).map(|c| c.name), Some("python"));
    }

    #[test]
    fn budgets_cap_a_file_except_an_rpm_database() {
        assert_eq!(DPKG.budget.file_limit(), FILE_LIMIT);
        assert_eq!(PYTHON.budget.file_limit(), FILE_LIMIT);
        assert_eq!(RPM.budget.file_limit(), Budget::Rpm.limit());
        assert!(Budget::ALL.iter().all(|b| b.limit() >= FILE_LIMIT));
    }
}
