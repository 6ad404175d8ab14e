//! Python: `*.dist-info/METADATA` + `RECORD` (wheels, pip) and
//! `*.egg-info/PKG-INFO` + `installed-files.txt` (setuptools), wherever they
//! are (site-packages, dist-packages, vendored or on a program's own path);
//! RECORD paths are relative to the directory holding the dist-info.

use std::collections::BTreeMap;

use super::{header, join, split, DbFile, Ecosystem, Found, Owns, Reader};

#[derive(Default)]
struct Dist {
    /// (name, version, layer) from METADATA / PKG-INFO.
    meta: Option<(Option<String>, Option<String>, usize)>,
    files: Option<Vec<Vec<u8>>>,
    layer: usize,
}

#[derive(Default)]
pub struct Python {
    /// By the metadata directory's path.
    dists: BTreeMap<String, Dist>,
}

fn metadata(text: &str) -> (Option<String>, Option<String>) {
    let (mut name, mut version) = (None, None);
    for line in text.lines() {
        if line.trim().is_empty() {
            break; // the description body follows
        }
        if let Some(v) = header(line, "Name") {
            name.get_or_insert_with(|| v.to_owned());
        } else if let Some(v) = header(line, "Version") {
            version.get_or_insert_with(|| v.to_owned());
        }
    }
    (name, version)
}

/// The fields of one CSV line (RECORD quotes paths that hold commas).
fn csv(line: &str) -> Option<Vec<String>> {
    let (mut fields, mut field, mut quoted) = (Vec::new(), String::new(), false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) if field.is_empty() => quoted = true,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    if quoted {
        return None;
    }
    fields.push(field);
    Some(fields)
}

/// `foo_bar-1.2.dist-info` -> ("foo_bar", "1.2"), the fallback name.
fn from_dir(dir: &str) -> (String, String) {
    let base = split(dir).1;
    let stem = base
        .strip_suffix(".dist-info")
        .or_else(|| base.strip_suffix(".egg-info"))
        .unwrap_or(base);
    let mut parts = stem.splitn(3, '-');
    let name = parts.next().unwrap_or_default().to_owned();
    (name, parts.next().unwrap_or_default().to_owned())
}

impl Reader for Python {
    fn wants(&self, path: &str) -> bool {
        let (dir, base) = split(path);
        dir.ends_with(".dist-info") || dir.ends_with(".egg-info") || base.ends_with(".egg-info")
    }

    fn read(&mut self, file: DbFile<'_>, warn: &mut dyn FnMut(String)) {
        let (dir, base) = split(file.path);
        let text = String::from_utf8_lossy(file.content);
        if base.ends_with(".egg-info") {
            // A single-file egg-info: metadata only, and it owns itself.
            let (name, version) = metadata(&text);
            let dist = self.dists.entry(file.path.to_owned()).or_default();
            dist.meta = Some((name, version, file.layer));
            dist.files = Some(vec![file.path.as_bytes().to_vec()]);
            return;
        }
        let dist = self.dists.entry(dir.to_owned()).or_default();
        dist.layer = dist.layer.max(file.layer);
        match base {
            "METADATA" | "PKG-INFO" => {
                let (name, version) = metadata(&text);
                dist.meta = Some((name, version, file.layer));
            }
            "RECORD" => {
                // Paths are relative to the directory holding the dist-info.
                let root = split(dir).0;
                let mut bad = 0usize;
                let mut files = Vec::new();
                for line in text.lines().filter(|l| !l.trim().is_empty()) {
                    let path = csv(line)
                        .filter(|f| {
                            f.len() == 3 && (f[2].is_empty() || f[2].parse::<u64>().is_ok())
                        })
                        .and_then(|f| join(root, &f[0]));
                    match path {
                        Some(p) => files.push(p),
                        None => bad += 1,
                    }
                }
                if bad > 0 {
                    warn(format!("/{}: {bad} malformed line(s) skipped", file.path));
                }
                dist.files = Some(files);
            }
            _ => {
                // installed-files.txt: relative to the egg-info directory.
                let mut bad = 0usize;
                let mut files = Vec::new();
                for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                    match join(dir, line) {
                        Some(p) => files.push(p),
                        None => bad += 1,
                    }
                }
                if bad > 0 {
                    warn(format!("/{}: {bad} malformed line(s) skipped", file.path));
                }
                dist.files = Some(files);
            }
        }
    }

    fn finish(self: Box<Self>, warn: &mut dyn FnMut(String)) -> Vec<Found> {
        self.dists
            .into_iter()
            .map(|(dir, dist)| {
                let Some((name, version, layer)) = dist.meta else {
                    warn(format!(
                        "/{dir}: no METADATA or PKG-INFO; named after its directory"
                    ));
                    let (name, version) = from_dir(&dir);
                    return (dir, name, version, dist.layer, dist.files);
                };
                let (dir_name, dir_version) = from_dir(&dir);
                (
                    dir,
                    name.unwrap_or(dir_name),
                    version.unwrap_or(dir_version),
                    layer,
                    dist.files,
                )
            })
            .map(|(dir, name, version, layer, files)| Found {
                ecosystem: Ecosystem::Python,
                name,
                version,
                arch: None,
                // Without a file list: the metadata directory itself.
                owns: match files {
                    Some(f) => Owns::Files(f),
                    None => Owns::Dir(dir.into_bytes()),
                },
                declared: None,
                layer: Some(layer),
                db_layer: layer,
            })
            .collect()
    }
}
