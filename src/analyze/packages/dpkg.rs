//! dpkg: `var/lib/dpkg/status` (and distroless `status.d/*`) for names,
//! versions and declared sizes; `info/*.list` for the files each package owns.

use std::collections::HashMap;

use super::{split, DbFile, Ecosystem, Found, Owns, Reader};

const STATUS: &str = "var/lib/dpkg/status";
const STATUS_D: &str = "var/lib/dpkg/status.d/";
const INFO: &str = "var/lib/dpkg/info/";

#[derive(Default)]
pub struct Dpkg {
    packages: Vec<Found>,
    /// `name` or `name:arch` -> (owned paths, layer of the .list).
    lists: HashMap<String, (Vec<Vec<u8>>, usize)>,
}

/// The stanzas of a deb822 file (fields as `(key, value)`, continuation
/// lines dropped) and how many lines were not fields.
pub(crate) fn stanzas(text: &str) -> (Vec<Vec<(&str, &str)>>, usize) {
    let (mut all, mut bad) = (Vec::new(), 0);
    let mut current = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                all.push(std::mem::take(&mut current));
            }
        } else if line.starts_with([' ', '\t']) {
            if current.is_empty() {
                bad += 1;
            }
        } else if let Some((key, value)) = line.split_once(':') {
            current.push((key, value.trim()));
        } else {
            bad += 1;
        }
    }
    if !current.is_empty() {
        all.push(current);
    }
    (all, bad)
}

impl Dpkg {
    fn read_status(&mut self, file: &DbFile<'_>, per_package: bool, warn: &mut dyn FnMut(String)) {
        let text = String::from_utf8_lossy(file.content);
        let (stanzas, mut bad) = stanzas(&text);
        for stanza in stanzas {
            let field = |k: &str| stanza.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
            // Packages removed but with configuration left are not installed.
            if field("Status").is_some_and(|s| !s.ends_with(" installed")) {
                continue;
            }
            let (Some(name), Some(version)) = (field("Package"), field("Version")) else {
                bad += 1;
                continue;
            };
            self.packages.push(Found {
                ecosystem: Ecosystem::Deb,
                name: name.to_owned(),
                version: version.to_owned(),
                arch: field("Architecture").map(str::to_owned),
                owns: Owns::Files(Vec::new()),
                declared: field("Installed-Size")
                    .and_then(|s| s.parse::<u64>().ok())
                    .map(|kib| kib.saturating_mul(1024)),
                layer: per_package.then_some(file.layer),
                db_layer: file.layer,
            });
        }
        if bad > 0 {
            warn(format!(
                "/{}: {bad} malformed line(s) or entries skipped (truncated?)",
                file.path
            ));
        }
    }
}

impl Reader for Dpkg {
    fn wants(&self, path: &str) -> bool {
        path == STATUS || path.starts_with(STATUS_D) || path.starts_with(INFO)
    }

    fn read(&mut self, file: DbFile<'_>, warn: &mut dyn FnMut(String)) {
        if file.path == STATUS {
            self.read_status(&file, false, warn);
        } else if let Some(stem) = file
            .path
            .strip_prefix(STATUS_D)
            .and_then(|n| n.strip_suffix(".md5sums"))
        {
            // distroless: `MD5  path` lines are the package's file list.
            let text = String::from_utf8_lossy(file.content);
            let paths = text
                .lines()
                .filter_map(|l| l.split_once("  ").map(|(_, p)| p.trim_start_matches('/')))
                .filter(|p| !p.is_empty())
                .map(|p| p.as_bytes().to_vec())
                .collect();
            self.lists.insert(stem.to_owned(), (paths, file.layer));
        } else if file.path.starts_with(STATUS_D) {
            self.read_status(&file, true, warn);
        } else if let Some(stem) = split(file.path).1.strip_suffix(".list") {
            let text = String::from_utf8_lossy(file.content);
            let paths = text
                .lines()
                .map(|l| l.trim_start_matches('/'))
                .filter(|l| !l.is_empty() && *l != ".")
                .map(|l| l.as_bytes().to_vec())
                .collect();
            self.lists.insert(stem.to_owned(), (paths, file.layer));
        }
    }

    fn finish(mut self: Box<Self>, _warn: &mut dyn FnMut(String)) -> Vec<Found> {
        for p in &mut self.packages {
            let qualified = p.arch.as_ref().map(|a| format!("{}:{a}", p.name));
            let list = qualified
                .and_then(|q| self.lists.remove(&q))
                .or_else(|| self.lists.remove(&p.name));
            if let Some((paths, layer)) = list {
                // A file list that owns no regular file (symlinks only) is 0 bytes.
                p.owns = Owns::Files(paths);
                p.layer = Some(layer);
                p.declared = None;
            }
        }
        self.packages
    }
}
