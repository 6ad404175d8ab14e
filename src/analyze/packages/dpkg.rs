//! dpkg: `var/lib/dpkg/status` (and distroless `status.d/*`) for names,
//! versions and declared sizes; `info/*.list` (distroless:
//! `status.d/*.md5sums`) for the files each package owns, each path handed
//! to the kept claims as it is read.

use std::collections::HashMap;

use super::deps::{self, Deps};
use super::{capped, split, DbFile, Ecosystem, Found, Kept, ListId, Owns, Reader};
use crate::layer::capture::{self, Catalog};

const STATUS: &str = "var/lib/dpkg/status";
const STATUS_D: &str = "var/lib/dpkg/status.d/";

#[derive(Default)]
pub struct Dpkg {
    packages: Vec<Found>,
    /// `name` or `name:arch` -> (its file list, layer of the list).
    lists: HashMap<String, (ListId, usize)>,
}

/// The fields of one stanza a package record keeps (the first of each).
#[derive(Default)]
struct Stanza<'a> {
    package: Option<&'a str>,
    version: Option<&'a str>,
    arch: Option<&'a str>,
    status: Option<&'a str>,
    size: Option<&'a str>,
    source: Option<&'a str>,
    /// `Depends`, `Pre-Depends` and `Recommends` (apt keeps what a kept
    /// package recommends), then `Provides`.
    relations: [Option<&'a str>; 3],
    provides: Option<&'a str>,
    essential: Option<&'a str>,
    priority: Option<&'a str>,
    any: bool,
}

impl Stanza<'_> {
    /// Its dependency fields.
    fn deps(&self) -> Deps {
        let mut d = Deps::default();
        for value in self.relations.iter().flatten() {
            deps::deb_requires(value, &mut d);
        }
        if let Some(p) = self.provides {
            deps::deb_provides(p, &mut d);
        }
        d.pinned = self.essential == Some("yes") || self.priority == Some("required");
        d
    }
}

/// Streams the stanzas of a deb822 file to `each` (continuation lines
/// dropped); returns how many lines were not fields. Nothing is held but
/// the stanza being read.
fn each_stanza<'a>(text: &'a str, mut each: impl FnMut(&Stanza<'a>)) -> usize {
    let (mut bad, mut current) = (0, Stanza::default());
    for line in text.lines() {
        if line.trim().is_empty() {
            if current.any {
                each(&current);
            }
            current = Stanza::default();
        } else if line.starts_with([' ', '\t']) {
            if !current.any {
                bad += 1;
            }
        } else if let Some((key, value)) = line.split_once(':') {
            current.any = true;
            let value = value.trim();
            let slot = match key {
                "Package" => &mut current.package,
                "Version" => &mut current.version,
                "Architecture" => &mut current.arch,
                "Status" => &mut current.status,
                "Installed-Size" => &mut current.size,
                "Source" => &mut current.source,
                "Depends" => &mut current.relations[0],
                "Pre-Depends" => &mut current.relations[1],
                "Recommends" => &mut current.relations[2],
                "Provides" => &mut current.provides,
                "Essential" => &mut current.essential,
                "Priority" => &mut current.priority,
                _ => continue,
            };
            slot.get_or_insert(value);
        } else {
            bad += 1;
        }
    }
    if current.any {
        each(&current);
    }
    bad
}

/// `Source: pyyaml (6.0-3)` as syft's `upstream` writes it: `pyyaml@6.0-3`.
fn upstream(source: &str) -> String {
    match source.split_once(" (") {
        Some((name, rest)) => format!("{}@{}", name.trim(), rest.trim_end_matches(')').trim()),
        None => source.to_owned(),
    }
}

impl Dpkg {
    fn read_status(
        &mut self,
        file: &DbFile<'_>,
        per_package: bool,
        kept: &mut Kept,
        warn: &mut dyn FnMut(String),
    ) {
        let text = String::from_utf8_lossy(file.content);
        let mut missing = 0;
        let packages = &mut self.packages;
        let bad = each_stanza(&text, |s| {
            // Packages removed but with configuration left are not installed.
            if s.status.is_some_and(|s| !s.ends_with(" installed")) {
                return;
            }
            let (Some(name), Some(version)) = (s.package.filter(|n| !n.is_empty()), s.version)
            else {
                missing += 1;
                return;
            };
            let found = Found {
                ecosystem: Ecosystem::Deb,
                name: capped(name),
                version: capped(version),
                arch: s.arch.map(capped),
                upstream: s
                    .source
                    .filter(|s| !s.is_empty())
                    .map(|s| capped(&upstream(s))),
                owns: Owns::Nothing,
                declared: s
                    .size
                    .and_then(|s| s.parse::<u64>().ok())
                    .map(|kib| kib.saturating_mul(1024)),
                layer: per_package.then_some(file.layer),
                db_layer: file.layer,
                deps: s.deps(),
            };
            if kept.record(found.cost()) {
                packages.push(found);
            }
        });
        if bad + missing > 0 {
            warn(format!(
                "/{}: {} malformed line(s) or entries skipped (truncated?)",
                file.path,
                bad + missing
            ));
        }
    }

    /// A package's file list: each path of `paths` to the kept claims.
    fn read_list<'a>(
        &mut self,
        stem: &str,
        file: &DbFile<'_>,
        paths: impl Iterator<Item = &'a str>,
        kept: &mut Kept,
    ) {
        if !kept.record(stem.len() + std::mem::size_of::<(String, ListId, usize)>()) {
            return;
        }
        let list = kept.list(capture::DPKG.budget);
        for path in paths.filter(|p| !p.is_empty() && *p != ".") {
            if !kept.add(list, path.as_bytes()) {
                break;
            }
        }
        self.lists.insert(stem.to_owned(), (list, file.layer));
    }
}

impl Reader for Dpkg {
    fn catalog(&self) -> &'static Catalog {
        &capture::DPKG
    }

    fn read(&mut self, file: DbFile<'_>, kept: &mut Kept, warn: &mut dyn FnMut(String)) {
        if file.path == STATUS {
            self.read_status(&file, false, kept, warn);
        } else if let Some(stem) = file
            .path
            .strip_prefix(STATUS_D)
            .and_then(|n| n.strip_suffix(".md5sums"))
        {
            // distroless: `MD5  path` lines are the package's file list.
            let text = String::from_utf8_lossy(file.content);
            let paths = text
                .lines()
                .filter_map(|l| l.split_once("  ").map(|(_, p)| p.trim_start_matches('/')));
            self.read_list(stem, &file, paths, kept);
        } else if file.path.starts_with(STATUS_D) {
            self.read_status(&file, true, kept, warn);
        } else if let Some(stem) = split(file.path).1.strip_suffix(".list") {
            let text = String::from_utf8_lossy(file.content);
            let paths = text.lines().map(|l| l.trim_start_matches('/'));
            self.read_list(stem, &file, paths, kept);
        }
    }

    fn finish(mut self: Box<Self>, kept: &Kept, _warn: &mut dyn FnMut(String)) -> Vec<Found> {
        for p in &mut self.packages {
            let qualified = p.arch.as_ref().map(|a| format!("{}:{a}", p.name));
            let list = qualified
                .and_then(|q| self.lists.remove(&q))
                .or_else(|| self.lists.remove(&p.name));
            if let Some((list, layer)) = list.filter(|(l, _)| kept.complete(*l)) {
                // A file list that owns no regular file (symlinks only) is 0 bytes.
                p.owns = Owns::List(list);
                p.layer = Some(layer);
                p.declared = None;
            }
        }
        self.packages
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanzas_stream_with_the_first_of_each_field_and_count_stray_lines() {
        let text = "Package: a\nVersion: 1\nVersion: 2\nSource: src (1.0)\n\n continued\nnot a field\n\nPackage: b\n";
        let mut seen = Vec::new();
        let bad = each_stanza(text, |s| {
            seen.push((s.package, s.version, s.source.map(upstream)));
        });
        assert_eq!(bad, 2);
        assert_eq!(
            seen,
            [
                (Some("a"), Some("1"), Some("src@1.0".to_owned())),
                (Some("b"), None, None)
            ]
        );
    }
}
