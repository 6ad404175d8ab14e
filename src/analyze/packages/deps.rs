//! What packages need of each other, read from their databases' own
//! dependency fields (dpkg `Depends`/`Pre-Depends`/`Recommends` and
//! `Provides`, apk `D:`/`p:`, rpm REQUIRENAME/PROVIDENAME, Python
//! `Requires-Dist`, npm `dependencies`, gem runtime dependencies) and
//! resolved to the packages an image holds: a graph with one edge per
//! (package, package it needs). Names are never guessed: a requirement no
//! installed package satisfies is no edge. Every list is capped as it is
//! read; the graph is built iteratively and its edges are capped.

use std::borrow::Cow;
use std::collections::HashMap;

use super::{Ecosystem, Found};

/// Requirements kept per package (the rest: `cut`).
pub const MAX_REQUIRES: usize = 1024;
/// Alternatives kept per requirement (`a | b | c`).
pub const MAX_ALTERNATIVES: usize = 16;
/// Names one package provides (an rpm provides its sonames; a few hundred at most).
pub const MAX_PROVIDES: usize = 4096;
/// A longer dependency name is no package's: dropped (and the record is `cut`).
pub const MAX_NAME: usize = 256;
/// Edges of one image's graph; past it the graph is incomplete.
pub const MAX_EDGES: usize = 8 << 20;
/// Directories climbed to resolve one npm requirement.
const MAX_CLIMB: usize = 128;

/// A package's dependency fields, as its database states them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deps {
    /// Each requirement: the names that satisfy it (alternatives).
    pub requires: Vec<Vec<String>>,
    /// Names it provides besides its own (virtual packages, sonames).
    pub provides: Vec<String>,
    /// Never removed with the tools: dpkg's `Essential: yes` or `Priority: required`.
    pub pinned: bool,
    /// Where the package's metadata sits (a Python dist-info directory, an
    /// npm package directory, a gem's specifications directory): resolution
    /// looks beside it first.
    pub home: Option<String>,
    /// A requirement, alternative or provided name was dropped over a cap.
    pub cut: bool,
}

impl Deps {
    /// Bytes these fields keep.
    pub fn cost(&self) -> usize {
        let strings = |v: &Vec<String>| {
            v.iter().map(|s| s.len()).sum::<usize>() + v.len() * std::mem::size_of::<String>()
        };
        self.requires
            .iter()
            .map(|alts| strings(alts) + std::mem::size_of::<Vec<String>>())
            .sum::<usize>()
            + strings(&self.provides)
            + self.home.as_ref().map_or(0, String::len)
    }

    /// Adds a requirement of these alternatives (empty names dropped).
    pub fn require<'a>(&mut self, alternatives: impl IntoIterator<Item = &'a str>) {
        if self.requires.len() >= MAX_REQUIRES {
            self.cut = true;
            return;
        }
        let mut alts = Vec::new();
        for name in alternatives {
            if name.is_empty() {
                continue;
            }
            if name.len() > MAX_NAME || alts.len() >= MAX_ALTERNATIVES {
                self.cut = true;
                continue;
            }
            alts.push(name.to_owned());
        }
        if !alts.is_empty() {
            self.requires.push(alts);
        }
    }

    pub fn provide(&mut self, name: &str) {
        if name.is_empty() {
            return;
        }
        if name.len() > MAX_NAME || self.provides.len() >= MAX_PROVIDES {
            self.cut = true;
            return;
        }
        self.provides.push(name.to_owned());
    }
}

/// The package name of one dpkg relation (`libc6:amd64 (>= 2.36) [amd64] <!nocheck>`).
fn deb_name(relation: &str) -> &str {
    let relation = relation.trim();
    let end = relation
        .find(|c: char| c.is_whitespace() || matches!(c, '(' | '[' | '<'))
        .unwrap_or(relation.len());
    let name = &relation[..end];
    // `python3:any`, `libc6:amd64`: the architecture qualifier is no name.
    name.split(':').next().unwrap_or(name)
}

/// A dpkg relationship field (`Depends`, `Pre-Depends`, `Recommends`):
/// comma-separated requirements, each `|`-separated alternatives.
pub fn deb_requires(value: &str, deps: &mut Deps) {
    for clause in value.split(',') {
        deps.require(clause.split('|').map(deb_name));
    }
}

/// dpkg `Provides: mail-transport-agent, libfoo-abi-1 (= 1.2)`.
pub fn deb_provides(value: &str, deps: &mut Deps) {
    for clause in value.split(',') {
        deps.provide(deb_name(clause));
    }
}

/// An apk dependency or provided name without its version constraint
/// (`so:libc.musl-x86_64.so.1`, `python3>=3.11`, `cmd:sh=1.36`); None for
/// a conflict (`!name`).
fn apk_name(token: &str) -> Option<&str> {
    if token.starts_with('!') {
        return None;
    }
    let end = token.find(['=', '<', '>', '~']).unwrap_or(token.len());
    Some(&token[..end])
}

/// apk `D:` (space-separated).
pub fn apk_requires(value: &str, deps: &mut Deps) {
    for token in value.split_whitespace() {
        if let Some(name) = apk_name(token) {
            deps.require([name]);
        }
    }
}

/// apk `p:` (space-separated).
pub fn apk_provides(value: &str, deps: &mut Deps) {
    for token in value.split_whitespace() {
        if let Some(name) = apk_name(token) {
            deps.provide(name);
        }
    }
}

/// One rpm REQUIRENAME: rpm's own features (`rpmlib(…)`), configuration
/// (`config(…)`) and file requirements (`/bin/sh`, which rpm satisfies
/// from file lists, not provides) are no package name.
pub fn rpm_require(name: &str, deps: &mut Deps) {
    if name.starts_with("rpmlib(") || name.starts_with("config(") || name.starts_with('/') {
        return;
    }
    deps.require([name]);
}

/// Python `Requires-Dist: name[extra] (>=1) ; marker`: the name, PEP 503
/// normalised; None when the requirement holds only with an extra (an
/// optional feature pip installs only when asked).
pub fn python_requirement(value: &str) -> Option<String> {
    let (spec, marker) = value.split_once(';').unwrap_or((value, ""));
    if marker.contains("extra") {
        return None;
    }
    let spec = spec.trim();
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    let name = pep503(&spec[..end]);
    (!name.is_empty()).then_some(name)
}

/// PEP 503: lower case, runs of `-`, `_` and `.` as one `-`.
pub fn pep503(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// A gemspec line declaring a runtime dependency
/// (`s.add_runtime_dependency(%q<rack>.freeze, [">= 0"])`, `s.add_dependency "rack"`);
/// development dependencies are not installed with the gem.
pub fn gem_requirement(line: &str) -> Option<&str> {
    let line = line.trim();
    let rest = line
        .split_once(".add_runtime_dependency")
        .or_else(|| line.split_once(".add_dependency"))?
        .1;
    let rest = rest.trim_start_matches(['(', ' ']);
    let name = if let Some(q) = rest.strip_prefix("%q<") {
        &q[..q.find('>')?]
    } else {
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let body = &rest[1..];
        &body[..body.find(quote)?]
    };
    (!name.is_empty()).then_some(name)
}

/// An image's dependency graph: for each package (by inventory index) the
/// packages it needs, in compressed rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    offsets: Vec<u32>,
    edges: Vec<u32>,
    /// Every requirement read was kept and resolved (no cap reached).
    pub complete: bool,
}

impl Graph {
    /// The packages package `i` needs.
    pub fn needs(&self, i: usize) -> &[u32] {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.edges[a as usize..b as usize],
            _ => &[],
        }
    }

    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn edges(&self) -> usize {
        self.edges.len()
    }
}

/// The key a name is looked up by: Python's PEP 503 form, others as spelt.
fn lookup_key(ecosystem: Ecosystem, name: &str) -> Cow<'_, str> {
    if ecosystem == Ecosystem::Python {
        Cow::Owned(pep503(name))
    } else {
        Cow::Borrowed(name)
    }
}

/// The directory holding `path` (`a/b/c` -> `a/b`).
fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// Resolves every package's requirements to the packages of `found`;
/// `owner[i]`: the system package whose file list holds package i's
/// metadata (a Python dist a deb installed), which i then needs too.
pub fn resolve(found: &[Found], owner: &[Option<u32>]) -> Graph {
    let mut by_name: HashMap<(Ecosystem, Cow<'_, str>), Vec<u32>> = HashMap::new();
    let mut npm_dirs: HashMap<&str, u32> = HashMap::new();
    for (i, f) in found.iter().enumerate() {
        let i = i as u32;
        by_name
            .entry((f.ecosystem, lookup_key(f.ecosystem, &f.name)))
            .or_default()
            .push(i);
        for p in &f.deps.provides {
            by_name
                .entry((f.ecosystem, lookup_key(f.ecosystem, p)))
                .or_default()
                .push(i);
        }
        if f.ecosystem == Ecosystem::Npm {
            if let Some(home) = &f.deps.home {
                npm_dirs.entry(home.as_str()).or_insert(i);
            }
        }
    }
    let mut graph = Graph {
        offsets: Vec::with_capacity(found.len() + 1),
        edges: Vec::new(),
        complete: true,
    };
    graph.offsets.push(0);
    let mut path = String::new();
    let mut row: Vec<u32> = Vec::new();
    for (i, f) in found.iter().enumerate() {
        row.clear();
        graph.complete &= !f.deps.cut;
        if let Some(o) = owner.get(i).copied().flatten() {
            row.push(o);
        }
        for alternatives in &f.deps.requires {
            for name in alternatives {
                if f.ecosystem == Ecosystem::Npm {
                    if let Some(j) = npm_resolve(f, name, &npm_dirs, &mut path) {
                        row.push(j);
                    }
                    continue;
                }
                let Some(all) = by_name.get(&(f.ecosystem, lookup_key(f.ecosystem, name))) else {
                    continue;
                };
                // Python and gems: the copy beside the package when there is one.
                let home = f.deps.home.as_deref().map(parent);
                let near: Vec<u32> = match home {
                    Some(home) if matches!(f.ecosystem, Ecosystem::Python | Ecosystem::Gem) => all
                        .iter()
                        .copied()
                        .filter(|&j| {
                            found[j as usize].deps.home.as_deref().map(parent) == Some(home)
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                row.extend(if near.is_empty() { all } else { &near });
            }
        }
        row.sort_unstable();
        row.dedup();
        row.retain(|&j| j as usize != i);
        if graph.edges.len() + row.len() > MAX_EDGES {
            graph.complete = false;
        } else {
            graph.edges.extend_from_slice(&row);
        }
        graph.offsets.push(graph.edges.len() as u32);
    }
    graph
}

/// Node's resolution of `require(name)` from the package in `f.deps.home`:
/// `home/node_modules/name`, then each `node_modules` above it.
fn npm_resolve(f: &Found, name: &str, dirs: &HashMap<&str, u32>, path: &mut String) -> Option<u32> {
    let mut base = f.deps.home.as_deref()?;
    for _ in 0..MAX_CLIMB {
        if !base.ends_with("/node_modules") && base != "node_modules" {
            path.clear();
            if !base.is_empty() {
                path.push_str(base);
                path.push('/');
            }
            path.push_str("node_modules/");
            path.push_str(name);
            if let Some(&j) = dirs.get(path.as_str()) {
                return Some(j);
            }
        }
        if base.is_empty() {
            return None;
        }
        base = parent(base);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(ecosystem: Ecosystem, name: &str, deps: Deps) -> Found {
        Found::sample(ecosystem, name, deps)
    }

    fn deb(name: &str, depends: &str, provides: &str) -> Found {
        let mut d = Deps::default();
        deb_requires(depends, &mut d);
        deb_provides(provides, &mut d);
        pkg(Ecosystem::Deb, name, d)
    }

    #[test]
    fn dpkg_relations_keep_names_and_alternatives_without_versions_or_qualifiers() {
        let mut d = Deps::default();
        deb_requires(
            "libc6 (>= 2.36), python3:any, mail-transport-agent | exim4 [amd64], gcc-12 <!nocheck>",
            &mut d,
        );
        assert_eq!(
            d.requires,
            [
                vec!["libc6"],
                vec!["python3"],
                vec!["mail-transport-agent", "exim4"],
                vec!["gcc-12"]
            ]
        );
        deb_provides("c-compiler, libfoo-abi-1 (= 1.2)", &mut d);
        assert_eq!(d.provides, ["c-compiler", "libfoo-abi-1"]);
    }

    #[test]
    fn apk_rpm_python_and_gem_fields_give_names() {
        let mut d = Deps::default();
        apk_requires(
            "so:libc.musl-x86_64.so.1 python3>=3.11 !conflict cmd:sh=1",
            &mut d,
        );
        assert_eq!(
            d.requires,
            [
                vec!["so:libc.musl-x86_64.so.1"],
                vec!["python3"],
                vec!["cmd:sh"]
            ]
        );
        let mut r = Deps::default();
        for n in [
            "rpmlib(CompressedFileNames)",
            "/bin/sh",
            "libc.so.6()(64bit)",
            "bash",
        ] {
            rpm_require(n, &mut r);
        }
        assert_eq!(r.requires, [vec!["libc.so.6()(64bit)"], vec!["bash"]]);
        assert_eq!(
            python_requirement("Typing_Extensions (>=4) ; python_version < \"3.11\""),
            Some("typing-extensions".into())
        );
        assert_eq!(python_requirement("pytest-cov ; extra == 'test'"), None);
        assert_eq!(python_requirement("iniconfig"), Some("iniconfig".into()));
        assert_eq!(
            gem_requirement("  s.add_runtime_dependency(%q<rack>.freeze, [\">= 0\"])"),
            Some("rack")
        );
        assert_eq!(
            gem_requirement("s.add_dependency \"json\", \"~> 2\""),
            Some("json")
        );
        assert_eq!(
            gem_requirement("s.add_development_dependency(%q<rspec>)"),
            None
        );
    }

    #[test]
    fn caps_cut_long_names_and_long_lists() {
        let mut d = Deps::default();
        d.require([&*"n".repeat(MAX_NAME + 1)]);
        assert!(d.requires.is_empty() && d.cut);
        let mut d = Deps::default();
        for _ in 0..MAX_REQUIRES + 5 {
            d.require(["a"]);
        }
        assert_eq!(d.requires.len(), MAX_REQUIRES);
        assert!(d.cut);
    }

    #[test]
    fn requirements_resolve_to_names_and_provides_and_cycles_are_fine() {
        let found = vec![
            deb("gcc", "cpp, libc6-dev | libc-dev", ""),
            deb("cpp", "gcc", ""),
            deb("libc6-dev", "libc6", "libc-dev"),
            deb("libc6", "", ""),
            deb("other", "missing", ""),
        ];
        let g = resolve(&found, &[None; 5]);
        assert!(g.complete);
        assert_eq!(g.needs(0), [1, 2]);
        assert_eq!(g.needs(1), [0]);
        assert_eq!(g.needs(2), [3]);
        assert!(g.needs(4).is_empty());
        assert_eq!(g.edges(), 4);
    }

    #[test]
    fn npm_resolves_as_node_does_and_python_prefers_its_own_site() {
        let at = |ecosystem: Ecosystem, dir: &str, name: &str, needs: &[&str]| {
            let mut d = Deps {
                home: Some(dir.into()),
                ..Deps::default()
            };
            for n in needs {
                d.require([*n]);
            }
            pkg(ecosystem, name, d)
        };
        let npm = |dir: &str, name: &str, needs: &[&str]| at(Ecosystem::Npm, dir, name, needs);
        let py = |dir: &str, name: &str, needs: &[&str]| at(Ecosystem::Python, dir, name, needs);
        let found = vec![
            npm("app/node_modules/jest", "jest", &["a", "b"]),
            npm("app/node_modules/jest/node_modules/a", "a", &["b"]),
            npm("app/node_modules/a", "a", &[]),
            npm("app/node_modules/b", "b", &[]),
            py("venv/site/pytest-8.dist-info", "pytest", &["Pluggy"]),
            py("venv/site/pluggy-1.dist-info", "pluggy", &[]),
            py(
                "usr/lib/python3/dist-packages/pluggy-1.dist-info",
                "pluggy",
                &[],
            ),
        ];
        let g = resolve(&found, &[None, None, None, None, None, None, Some(3)]);
        assert_eq!(g.needs(0), [1, 3], "its own nested a, the hoisted b");
        assert_eq!(g.needs(1), [3]);
        assert_eq!(g.needs(4), [5], "the pluggy beside it");
        assert_eq!(g.needs(6), [3], "its owner");
    }
}
