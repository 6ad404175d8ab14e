//! The rules advise applies, as data: one table of path rules (what lies
//! below which directories, per kind of finding) and one of dev and test
//! tools per package ecosystem. The README's rules table is this file's
//! table; a gate policy adds its own path rules (`[advise] extra`) and turns
//! kinds off (`[advise] off`).

use super::Kind;
use crate::analyze::packages::Ecosystem;

/// Everything below a directory a glob matches (the rule's roots), or only
/// the files whose name matches `names` there.
#[derive(Debug)]
pub struct PathRule {
    pub kind: Kind,
    /// What the finding is about, shown with it (`go build cache`).
    pub label: &'static str,
    /// Directory globs, relative to the root (`*` within a component, `**`
    /// across any number); the rule takes everything below a match.
    pub roots: &'static [&'static str],
    /// Only files whose base name matches one of these globs (empty: every file).
    pub names: &'static [&'static str],
    /// Files of these base names stay (apt's `lock`).
    pub keep_names: &'static [&'static str],
    /// A root counts only beside a file of this name (`target/` beside `Cargo.toml`).
    pub beside: Option<&'static str>,
    /// A root inside a package manager's tree (`PACKAGE_TREES`) does not count.
    pub outside_trees: bool,
    /// One finding per root (each test folder), not one per rule.
    pub per_root: bool,
}

const fn rule(kind: Kind, label: &'static str, roots: &'static [&'static str]) -> PathRule {
    PathRule {
        kind,
        label,
        roots,
        names: &[],
        keep_names: &[],
        beside: None,
        outside_trees: false,
        per_root: false,
    }
}

use Kind::{BuildCache, BuildOnlyContent, PackageManagerLeftovers, TestFolder};

/// The built-in path rules, first match wins (in this order: a policy's
/// extra rules come before all of them).
pub static PATH_RULES: &[PathRule] = &[
    // What a package manager's clean command removes.
    PathRule {
        keep_names: &["lock"],
        ..rule(
            PackageManagerLeftovers,
            "apt lists and archives",
            &["var/lib/apt/lists", "var/cache/apt"],
        )
    },
    rule(PackageManagerLeftovers, "apk cache", &["var/cache/apk"]),
    rule(
        PackageManagerLeftovers,
        "dnf/yum cache",
        &["var/cache/dnf", "var/cache/yum"],
    ),
    rule(PackageManagerLeftovers, "zypper cache", &["var/cache/zypp"]),
    rule(
        PackageManagerLeftovers,
        "pip cache (wheels and http)",
        &["root/.cache/pip", "home/*/.cache/pip"],
    ),
    rule(
        PackageManagerLeftovers,
        "npm cache",
        &["root/.npm/_cacache", "home/*/.npm/_cacache"],
    ),
    rule(
        PackageManagerLeftovers,
        "yarn cache",
        &[
            "usr/local/share/.cache/yarn",
            "root/.cache/yarn",
            "home/*/.cache/yarn",
        ],
    ),
    rule(
        PackageManagerLeftovers,
        "gem cache",
        &["root/.gem/specs", "usr/local/bundle/cache"],
    ),
    // Language build caches and artefacts.
    rule(
        BuildCache,
        "go build cache",
        &[
            "root/.cache/go-build",
            "home/*/.cache/go-build",
            "**/.cache/go-build",
        ],
    ),
    rule(BuildCache, "go module cache", &["**/pkg/mod/cache"]),
    rule(BuildCache, "cargo registry", &["**/.cargo/registry"]),
    rule(BuildCache, "cargo git checkouts", &["**/.cargo/git"]),
    PathRule {
        beside: Some("Cargo.toml"),
        ..rule(BuildCache, "cargo target directory", &["**/target"])
    },
    rule(BuildCache, "maven repository", &["**/.m2/repository"]),
    rule(BuildCache, "gradle caches", &["**/.gradle/caches"]),
    rule(BuildCache, "ccache", &["**/.ccache", "**/.cache/ccache"]),
    rule(
        BuildCache,
        "node_modules/.cache",
        &["**/node_modules/.cache"],
    ),
    rule(BuildCache, "yarn berry cache", &["**/.yarn/cache"]),
    rule(
        BuildCache,
        "pnpm store",
        &["**/.pnpm-store", "**/.local/share/pnpm/store"],
    ),
    PathRule {
        names: &["*.gem"],
        ..rule(BuildCache, "bundler package cache", &["**/vendor/cache"])
    },
    rule(
        BuildCache,
        "composer cache",
        &["**/.composer/cache", "**/.cache/composer"],
    ),
    // The application's own tests (not those of installed packages).
    PathRule {
        outside_trees: true,
        per_root: true,
        ..rule(
            TestFolder,
            "test folder",
            &["**/spec", "**/test", "**/tests", "**/__tests__"],
        )
    },
    // What a running program does not read.
    rule(
        BuildOnlyContent,
        "headers",
        &["usr/include", "usr/local/include"],
    ),
    rule(
        BuildOnlyContent,
        "docs",
        &["usr/share/doc", "usr/local/share/doc"],
    ),
    rule(
        BuildOnlyContent,
        "man and info pages",
        &["usr/share/man", "usr/local/share/man", "usr/share/info"],
    ),
    rule(
        BuildOnlyContent,
        "translations (but English)",
        &["usr/share/locale/{[!e]*,e[!n]*,en?*}"],
    ),
    rule(BuildOnlyContent, "git history", &["**/.git"]),
    PathRule {
        names: &["*.a"],
        ..rule(BuildOnlyContent, "static libraries", &["**/lib*"])
    },
    rule(
        BuildOnlyContent,
        "tests of installed packages",
        &[
            "**/site-packages/**/tests",
            "**/dist-packages/**/tests",
            "**/node_modules/**/test",
            "**/node_modules/**/__tests__",
        ],
    ),
];

/// Package managers' trees (and the system's own directories): test folders
/// inside them are installed packages' tests, not the application's.
pub static PACKAGE_TREES: &[&str] = &[
    "**/node_modules",
    "**/site-packages",
    "**/dist-packages",
    "**/lib/python*",
    "**/gems",
    "**/vendor",
    "**/.cargo",
    "**/pkg/mod",
    "**/go/src",
    "**/.m2",
    "**/.gradle",
    "**/.git",
    "usr/lib",
    "usr/lib32",
    "usr/lib64",
    "usr/libexec",
    "usr/share",
    "usr/include",
    "usr/local/lib",
    "usr/local/share",
    "lib",
    "lib32",
    "lib64",
    "opt/conda",
    "usr/src/linux*",
    "etc",
    "var/lib",
    "proc",
    "sys",
];

/// Dev and test tools of one ecosystem: package name globs.
#[derive(Debug)]
pub struct ToolRule {
    pub ecosystem: Ecosystem,
    pub names: &'static [&'static str],
}

/// Packages that test, debug, lint or build, by ecosystem. A finding frees
/// the tool and every package only it (transitively) needs.
pub static DEV_TOOLS: &[ToolRule] = &[
    ToolRule {
        ecosystem: Ecosystem::Deb,
        names: &[
            "*-dev",
            "build-essential",
            "gcc",
            "gcc-[0-9]*",
            "g++",
            "g++-[0-9]*",
            "clang",
            "clang-[0-9]*",
            "make",
            "cmake",
            "autoconf",
            "automake",
            "libtool",
            "pkg-config",
            "pkgconf",
            "bison",
            "flex",
            "dpkg-dev",
            "gdb",
            "strace",
            "ltrace",
            "valgrind",
            "python3-pytest",
            "python3-pytest-*",
            "ipython3",
            "python3-ipython",
            "python3-mypy",
            "python3-coverage",
            "black",
            "flake8",
            "pylint",
        ],
    },
    ToolRule {
        ecosystem: Ecosystem::Apk,
        names: &[
            "*-dev",
            "build-base",
            "gcc",
            "g++",
            "clang",
            "clang[0-9]*",
            "make",
            "cmake",
            "autoconf",
            "automake",
            "libtool",
            "pkgconf",
            "bison",
            "flex",
            "gdb",
            "strace",
            "valgrind",
            "py3-pytest",
            "py3-pytest-*",
        ],
    },
    ToolRule {
        ecosystem: Ecosystem::Rpm,
        names: &[
            "*-devel",
            "gcc",
            "gcc-c++",
            "clang",
            "make",
            "cmake",
            "autoconf",
            "automake",
            "libtool",
            "pkgconf*",
            "bison",
            "flex",
            "rpm-build",
            "gdb",
            "strace",
            "ltrace",
            "valgrind",
            "python3-pytest",
        ],
    },
    ToolRule {
        ecosystem: Ecosystem::Python,
        names: &[
            "pytest",
            "pytest-*",
            "ipython",
            "ipdb",
            "mypy",
            "black",
            "ruff",
            "coverage",
            "flake8",
            "pylint",
            "isort",
            "tox",
            "nox",
            "pre-commit",
        ],
    },
    ToolRule {
        ecosystem: Ecosystem::Npm,
        names: &[
            "jest",
            "mocha",
            "karma",
            "nyc",
            "eslint",
            "eslint-*",
            "@typescript-eslint/*",
            "prettier",
            "typescript",
            "ts-node",
            "nodemon",
            "webpack",
            "webpack-cli",
            "vite",
            "rollup",
            "@babel/core",
            "@babel/cli",
        ],
    },
    ToolRule {
        ecosystem: Ecosystem::Gem,
        names: &[
            "rspec",
            "rspec-*",
            "rubocop",
            "rubocop-*",
            "pry",
            "pry-*",
            "byebug",
            "simplecov",
            "capybara",
        ],
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use globset::GlobBuilder;

    #[test]
    fn every_glob_of_the_tables_compiles() {
        let compile = |g: &str| {
            GlobBuilder::new(g)
                .literal_separator(true)
                .build()
                .unwrap_or_else(|e| panic!("{g}: {e}"))
        };
        for r in PATH_RULES {
            r.roots.iter().chain(r.names).for_each(|g| {
                compile(g);
            });
        }
        PACKAGE_TREES.iter().for_each(|g| {
            compile(g);
        });
        for t in DEV_TOOLS {
            t.names.iter().for_each(|g| {
                compile(g);
            });
        }
    }

    #[test]
    fn each_rule_is_labelled_once() {
        let mut labels: Vec<&str> = PATH_RULES.iter().map(|r| r.label).collect();
        labels.sort();
        let n = labels.len();
        labels.dedup();
        assert_eq!(labels.len(), n);
    }
}
