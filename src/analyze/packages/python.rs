//! Python: `*.dist-info/METADATA` + `RECORD` (wheels, pip) and
//! `*.egg-info/PKG-INFO` + `installed-files.txt` (setuptools), wherever they
//! are (site-packages, dist-packages, vendored or on a program's own path);
//! RECORD paths are relative to the directory holding the dist-info. Each
//! listed path is joined into one reused buffer and handed to the kept claims.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::deps::{self, Deps};
use super::Reader;
use super::{capped, header, join_into, split, DbFile, Ecosystem, Found, Kept, ListId, Owns};
use crate::layer::capture::{self, Catalog};

#[derive(Default)]
struct Dist {
    /// (name, version, layer) from METADATA / PKG-INFO.
    meta: Option<(Option<String>, Option<String>, usize)>,
    files: Option<ListId>,
    layer: usize,
    deps: Deps,
}

#[derive(Default)]
pub struct Python {
    /// By the metadata directory's path.
    dists: BTreeMap<String, Dist>,
}

/// Name, version and `Requires-Dist` of a METADATA or PKG-INFO head.
fn metadata(text: &str) -> (Option<String>, Option<String>, Deps) {
    let (mut name, mut version, mut deps) = (None, None, Deps::default());
    for line in text.lines() {
        if line.trim().is_empty() {
            break; // the description body follows
        }
        if let Some(v) = header(line, "Name") {
            name.get_or_insert_with(|| capped(v));
        } else if let Some(v) = header(line, "Version") {
            version.get_or_insert_with(|| capped(v));
        } else if let Some(v) = header(line, "Requires-Dist") {
            if let Some(req) = deps::python_requirement(v) {
                deps.require([req.as_str()]);
            }
        }
    }
    (name, version, deps)
}

/// The path of a RECORD line (CSV: `path,hash,size`, the path quoted when
/// it holds a comma); None unless it has three fields and the size is a
/// number or empty. Allocates only for a quoted path.
fn record_path(line: &str) -> Option<Cow<'_, str>> {
    let (path, rest) = if let Some(quoted) = line.strip_prefix('"') {
        let mut path = String::new();
        let mut chars = quoted.char_indices();
        let end = loop {
            match chars.next()? {
                (i, '"') if quoted[i + 1..].starts_with('"') => {
                    path.push('"');
                    chars.next();
                }
                (i, '"') => break i + 1,
                (_, c) => path.push(c),
            }
        };
        (Cow::Owned(path), quoted[end..].strip_prefix(',')?)
    } else {
        let (path, rest) = line.split_once(',')?;
        (Cow::Borrowed(path), rest)
    };
    // The hash (never quoted or holding a comma), then the size.
    let (hash, size) = rest.split_once(',')?;
    let plain = |f: &str| !f.contains(['"', ',']);
    (plain(hash) && plain(size) && (size.is_empty() || size.parse::<u64>().is_ok())).then_some(path)
}

/// `foo_bar-1.2.dist-info` -> ("foo_bar", "1.2"), the fallback name.
fn from_dir(dir: &str) -> (String, String) {
    let base = split(dir).1;
    let stem = base
        .strip_suffix(".dist-info")
        .or_else(|| base.strip_suffix(".egg-info"))
        .unwrap_or(base);
    let mut parts = stem.splitn(3, '-');
    let name = capped(parts.next().unwrap_or_default());
    (name, capped(parts.next().unwrap_or_default()))
}

impl Python {
    /// The dist of a metadata directory, if its record can be kept.
    fn dist(&mut self, dir: &str, kept: &mut Kept) -> Option<&mut Dist> {
        if !self.dists.contains_key(dir)
            && !kept.record(dir.len() + std::mem::size_of::<(String, Dist)>())
        {
            return None;
        }
        Some(self.dists.entry(dir.to_owned()).or_default())
    }
}

/// Hands each path of `lines` (joined to `base`) to a new list; returns
/// it and how many lines were malformed.
fn list<'a>(
    kept: &mut Kept,
    lines: impl Iterator<Item = Option<Cow<'a, str>>>,
    base: &str,
) -> (ListId, usize) {
    let list = kept.list(capture::PYTHON.budget);
    let (mut bad, mut path) = (0usize, Vec::new());
    for rel in lines {
        match rel {
            Some(rel) if join_into(&mut path, base, &rel) => {
                if !kept.add(list, &path) {
                    break;
                }
            }
            _ => bad += 1,
        }
    }
    (list, bad)
}

impl Reader for Python {
    fn catalog(&self) -> &'static Catalog {
        &capture::PYTHON
    }

    fn read(&mut self, file: DbFile<'_>, kept: &mut Kept, warn: &mut dyn FnMut(String)) {
        let (dir, base) = split(file.path);
        let text = String::from_utf8_lossy(file.content);
        if base.ends_with(".egg-info") {
            // A single-file egg-info: metadata only, and it owns itself.
            let (name, version, deps) = metadata(&text);
            let list = kept.list(capture::PYTHON.budget);
            kept.add(list, file.path.as_bytes());
            let Some(dist) = self.dist(file.path, kept) else {
                return;
            };
            dist.meta = Some((name, version, file.layer));
            dist.files = Some(list);
            dist.deps = deps;
            return;
        }
        let Some(dist) = self.dist(dir, kept) else {
            return;
        };
        dist.layer = dist.layer.max(file.layer);
        let (list, bad) = match base {
            "METADATA" | "PKG-INFO" => {
                let (name, version, deps) = metadata(&text);
                dist.meta = Some((name, version, file.layer));
                dist.deps = deps;
                return;
            }
            // Paths are relative to the directory holding the dist-info.
            "RECORD" => list(
                kept,
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(record_path),
                split(dir).0,
            ),
            // installed-files.txt: relative to the egg-info directory.
            _ => list(
                kept,
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| Some(Cow::Borrowed(l))),
                dir,
            ),
        };
        if let Some(dist) = self.dists.get_mut(dir) {
            dist.files = Some(list);
        }
        if bad > 0 {
            warn(format!("/{}: {bad} malformed line(s) skipped", file.path));
        }
    }

    fn finish(self: Box<Self>, kept: &Kept, warn: &mut dyn FnMut(String)) -> Vec<Found> {
        self.dists
            .into_iter()
            .map(|(dir, dist)| {
                let (dir_name, dir_version) = from_dir(&dir);
                let deps = Deps {
                    home: Some(dir.clone()),
                    ..dist.deps
                };
                let (name, version, layer) = match dist.meta {
                    Some((name, version, layer)) => (
                        name.filter(|n| !n.is_empty()).unwrap_or(dir_name),
                        version.unwrap_or(dir_version),
                        layer,
                    ),
                    None => {
                        warn(format!(
                            "/{dir}: no METADATA or PKG-INFO; named after its directory"
                        ));
                        (dir_name, dir_version, dist.layer)
                    }
                };
                Found {
                    ecosystem: Ecosystem::Python,
                    name,
                    version,
                    arch: None,
                    upstream: None,
                    // Without a (complete) file list: the metadata directory itself.
                    owns: match dist.files {
                        Some(list) if kept.complete(list) => Owns::List(list),
                        _ => Owns::Dir(dir.into_bytes()),
                    },
                    declared: None,
                    layer: Some(layer),
                    db_layer: layer,
                    deps,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lines_give_their_path_or_none() {
        let path = |l| record_path(l).map(Cow::into_owned);
        assert_eq!(path("six.py,sha256=x,500").as_deref(), Some("six.py"));
        assert_eq!(path("a/RECORD,,").as_deref(), Some("a/RECORD"));
        assert_eq!(path("\"a,b.py\",sha256=x,1").as_deref(), Some("a,b.py"));
        assert_eq!(path("\"a\"\"q.py\",,").as_deref(), Some("a\"q.py"));
        for bad in [
            "\"unterminated,",
            "no-fields",
            "six.py,x,notanumber",
            "x,y",
            "a,b,c,d",
        ] {
            assert_eq!(path(bad), None, "{bad}");
        }
    }
}
