//! Path rules compiled, and matched as the merged filesystem streams by in
//! path order: a rule's directory globs are tested once per directory (when
//! the walk enters it, on a stack of open directories), never once per
//! file; a file then takes the first rule active above it. A policy's file
//! globs (`**/*.zip`) are tested per file, behind a prefilter on each
//! glob's literal ends.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use globset::{Candidate, Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};

use super::rules::{PathRule, PACKAGE_TREES, PATH_RULES};
use super::Kind;
use crate::analyze::stack::PathStack;
use crate::layer::capture::Need;

/// Extra rules a policy may add, and the globs one may hold.
pub const MAX_EXTRA_RULES: usize = 64;
pub const MAX_EXTRA_GLOBS: usize = 256;

/// A rule a policy adds (`[advise] extra`): a kind (built-in, or a name of
/// its own), and path globs; a glob ending in `/**` takes everything below
/// the directories the rest matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraRule {
    pub kind: Kind,
    /// Its own kind's name (`archives`), or None for a built-in kind.
    pub name: Option<String>,
    pub paths: Vec<String>,
}

/// One rule as matched: a built-in's fields, or a policy's.
#[derive(Debug)]
pub struct Compiled {
    pub kind: Kind,
    pub label: String,
    names: Option<GlobSet>,
    keep_names: &'static [&'static str],
    beside: Option<usize>,
    outside_trees: bool,
    pub per_root: bool,
}

/// Every path rule, compiled once per run.
#[derive(Debug)]
pub struct PathRules {
    pub rules: Vec<Compiled>,
    roots: GlobSet,
    /// Root glob -> its rule.
    root_rule: Vec<u16>,
    trees: GlobSet,
    /// A policy's file globs, their text and their rule.
    files: GlobSet,
    file_globs: Vec<String>,
    file_rule: Vec<u16>,
    /// Base names a rule wants beside its root (`Cargo.toml`).
    besides: Vec<&'static str>,
}

fn glob(text: &str) -> Result<Glob, globset::Error> {
    GlobBuilder::new(text)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
}

impl PathRules {
    /// The built-in rules after `extra` (a policy's), without the kinds in `off`.
    pub fn new(extra: &[ExtraRule], off: &[Kind]) -> Result<PathRules, globset::Error> {
        let mut rules = Vec::new();
        let (mut roots, mut root_rule) = (GlobSetBuilder::new(), Vec::new());
        let (mut files, mut file_globs, mut file_rule) =
            (GlobSetBuilder::new(), Vec::new(), Vec::new());
        let mut besides: Vec<&'static str> = Vec::new();
        for e in extra.iter().take(MAX_EXTRA_RULES) {
            if off.contains(&e.kind) {
                continue;
            }
            let id = rules.len() as u16;
            for text in e.paths.iter().take(MAX_EXTRA_GLOBS) {
                let text = text.trim_start_matches('/');
                match text.strip_suffix("/**") {
                    Some(root) if !root.is_empty() => {
                        roots.add(glob(root)?);
                        root_rule.push(id);
                    }
                    _ => {
                        files.add(glob(text)?);
                        file_globs.push(text.to_owned());
                        file_rule.push(id);
                    }
                }
            }
            rules.push(Compiled {
                kind: e.kind,
                label: e.name.clone().unwrap_or_else(|| "policy rule".to_owned()),
                names: None,
                keep_names: &[],
                beside: None,
                outside_trees: false,
                per_root: false,
            });
        }
        for r in PATH_RULES.iter().filter(|r| !off.contains(&r.kind)) {
            let id = rules.len() as u16;
            for root in r.roots {
                roots.add(glob(root)?);
                root_rule.push(id);
            }
            rules.push(compile(r, &mut besides)?);
        }
        let mut trees = GlobSetBuilder::new();
        for t in PACKAGE_TREES {
            trees.add(glob(t)?);
        }
        Ok(PathRules {
            rules,
            roots: roots.build()?,
            root_rule,
            trees: trees.build()?,
            files: files.build()?,
            file_globs,
            file_rule,
            besides,
        })
    }
}

fn compile(
    r: &'static PathRule,
    besides: &mut Vec<&'static str>,
) -> Result<Compiled, globset::Error> {
    let names = if r.names.is_empty() {
        None
    } else {
        let mut set = GlobSetBuilder::new();
        for n in r.names {
            set.add(glob(n)?);
        }
        Some(set.build()?)
    };
    let beside = r
        .beside
        .map(|b| match besides.iter().position(|x| *x == b) {
            Some(i) => i,
            None => {
                besides.push(b);
                besides.len() - 1
            }
        });
    Ok(Compiled {
        kind: r.kind,
        label: r.label.to_owned(),
        names,
        keep_names: r.keep_names,
        beside,
        outside_trees: r.outside_trees,
        per_root: r.per_root,
    })
}

/// An open directory: the rules active below it (the outermost root of
/// each, by where its path ends), whether it is inside a package
/// manager's tree, and which wanted names sit in it.
#[derive(Debug, Default, Clone)]
struct Frame {
    active: Vec<(u16, u32)>,
    tree: bool,
    seen: u64,
}

/// What a file matched: its rule, and the root directory of a per-root rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub rule: usize,
    /// Bytes of the path that are the rule's root (a per-root rule's subject).
    pub root_len: usize,
}

/// The rules as one walk meets them.
pub struct Matcher<'r> {
    rules: &'r PathRules,
    needs: Vec<Need<'r>>,
    stack: PathStack<Frame>,
    found: Vec<usize>,
}

impl<'r> Matcher<'r> {
    pub fn new(rules: &'r PathRules) -> Matcher<'r> {
        let mut stack = PathStack::new();
        stack.open(b"", Frame::default());
        Matcher {
            needs: rules.file_globs.iter().map(|g| Need::of(g)).collect(),
            rules,
            stack,
            found: Vec::new(),
        }
    }

    /// The rule a regular file at `path` falls under; files come in index order.
    pub fn file(&mut self, path: &[u8]) -> Option<Hit> {
        let cut = path.iter().rposition(|&b| b == b'/');
        let (dir, base) = match cut {
            Some(i) => (&path[..i], &path[i + 1..]),
            None => (&path[..0], path),
        };
        self.enter(dir);
        let rules = self.rules;
        if let Some(i) = rules.besides.iter().position(|b| b.as_bytes() == base) {
            if let Some(top) = self.stack.top_mut() {
                top.seen |= 1 << i.min(63);
            }
        }
        if !rules.file_globs.is_empty() && self.needs.iter().any(|n| n.met_by(path)) {
            let candidate = Candidate::new(OsStr::from_bytes(path));
            rules
                .files
                .matches_candidate_into(&candidate, &mut self.found);
            if let Some(&g) = self.found.iter().min() {
                return Some(Hit {
                    rule: rules.file_rule[g] as usize,
                    root_len: 0,
                });
            }
        }
        let top = self.stack.top_mut()?;
        top.active.iter().find_map(|&(r, end)| {
            let rule = &rules.rules[r as usize];
            let named = rule
                .names
                .as_ref()
                .is_none_or(|n| n.is_match(OsStr::from_bytes(base)));
            let kept = rule.keep_names.iter().any(|k| k.as_bytes() == base);
            (named && !kept).then_some(Hit {
                rule: r as usize,
                root_len: end as usize,
            })
        })
    }

    /// Opens the directories down to `dir`, testing each new one once.
    fn enter(&mut self, dir: &[u8]) {
        self.stack.close_to(dir, |_, _, _| {});
        let mut at = self.stack.top_path().len();
        while at < dir.len() {
            let start = if at == 0 { 0 } else { at + 1 };
            let end = dir[start..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(dir.len(), |i| start + i);
            let frame = self.open(&dir[..end]);
            self.stack.open(&dir[..end], frame);
            at = end;
        }
    }

    /// The frame of directory `prefix`, below the top frame.
    fn open(&mut self, prefix: &[u8]) -> Frame {
        let rules = self.rules;
        let parent = self
            .stack
            .top_mut()
            .map(|f| (f.active.clone(), f.tree, f.seen));
        let (mut active, tree, seen) = parent.unwrap_or_default();
        let candidate = Candidate::new(OsStr::from_bytes(prefix));
        let tree = tree || rules.trees.is_match_candidate(&candidate);
        rules
            .roots
            .matches_candidate_into(&candidate, &mut self.found);
        let mut added = false;
        for &g in &self.found {
            let r = rules.root_rule[g];
            if active.iter().any(|&(a, _)| a == r) {
                continue;
            }
            let rule = &rules.rules[r as usize];
            if rule.outside_trees && tree {
                continue;
            }
            if rule.beside.is_some_and(|b| seen & (1 << b.min(63)) == 0) {
                continue;
            }
            active.push((r, prefix.len() as u32));
            added = true;
        }
        if added {
            active.sort_unstable();
        }
        Frame {
            active,
            tree,
            seen: 0,
        }
    }
}

/// A glob on a package's name (`*-dev`).
pub fn name_glob(text: &str) -> Result<GlobMatcher, globset::Error> {
    Ok(glob(text)?.compile_matcher())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(rules: &PathRules, paths: &[&str]) -> Vec<Option<(String, String)>> {
        let mut m = Matcher::new(rules);
        let mut sorted: Vec<&str> = paths.to_vec();
        sorted.sort_by(|a, b| crate::layer::index::path_order(a.as_bytes(), b.as_bytes()));
        assert_eq!(sorted, paths, "the test lists paths in index order");
        paths
            .iter()
            .map(|p| {
                m.file(p.as_bytes()).map(|h| {
                    let rule = &rules.rules[h.rule];
                    (rule.label.clone(), p[..h.root_len].to_owned())
                })
            })
            .collect()
    }

    fn hit(label: &str, root: &str) -> Option<(String, String)> {
        Some((label.to_owned(), root.to_owned()))
    }

    #[test]
    fn caches_tests_and_leftovers_are_found_by_their_directories() {
        let rules = PathRules::new(&[], &[]).unwrap();
        let got = hits(
            &rules,
            &[
                "app/Cargo.toml",
                "app/spec/a_spec.rb",
                "app/spec/fixtures/x.json",
                "app/target/debug/app",
                "home/u/target/x",
                "root/.cache/go-build/00/abc-d",
                "root/.cargo/registry/cache/x.crate",
                "srv/node_modules/jest/test/t.js",
                "srv/node_modules/jest/tests/t.js",
                "usr/lib/python3/test/t.py",
                "usr/lib/x86_64-linux-gnu/libc.a",
                "usr/lib/x86_64-linux-gnu/libc.so.6",
                "usr/share/locale/de/LC_MESSAGES/x.mo",
                "usr/share/locale/en/LC_MESSAGES/x.mo",
                "usr/share/locale/en_GB/LC_MESSAGES/x.mo",
                "var/lib/apt/lists/lock",
                "var/lib/apt/lists/x_InRelease",
            ],
        );
        assert_eq!(
            got,
            [
                None,
                hit("test folder", "app/spec"),
                hit("test folder", "app/spec"),
                hit("cargo target directory", "app/target"),
                None,
                hit("go build cache", "root/.cache/go-build"),
                hit("cargo registry", "root/.cargo/registry"),
                hit("tests of installed packages", "srv/node_modules/jest/test"),
                None,
                None,
                hit("static libraries", "usr/lib"),
                None,
                hit("translations (but English)", "usr/share/locale/de"),
                None,
                hit("translations (but English)", "usr/share/locale/en_GB"),
                None,
                hit("apt lists and archives", "var/lib/apt/lists"),
            ]
        );
    }

    #[test]
    fn a_policy_s_globs_come_first_and_off_kinds_are_gone() {
        let extra = [ExtraRule {
            kind: Kind::Custom,
            name: Some("archives".into()),
            paths: vec!["**/*.zip".into(), "/opt/dump/**".into()],
        }];
        let rules = PathRules::new(&extra, &[Kind::TestFolder]).unwrap();
        let got = hits(
            &rules,
            &["app/spec/x.zip", "app/spec/y.rb", "opt/dump/a/b", "x.zip"],
        );
        assert_eq!(
            got,
            [
                hit("archives", ""),
                None,
                hit("archives", "opt/dump"),
                hit("archives", "")
            ]
        );
    }

    #[test]
    fn a_deep_tree_opens_one_frame_per_level_without_recursion() {
        let rules = PathRules::new(&[], &[]).unwrap();
        let mut m = Matcher::new(&rules);
        let deep: Vec<u8> = "d/".repeat(20_000).into_bytes();
        let path = [&deep[..], b"tests/x"].concat();
        assert!(m.file(&path).is_some());
        assert_eq!(m.stack.len(), 20_002);
    }
}
