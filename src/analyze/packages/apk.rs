//! apk: `lib/apk/db/installed`, one record per package (`P:` name, `V:`
//! version, `A:` arch, `I:` installed size, `o:` origin, `F:` directory,
//! `R:` file in it); each file goes to the kept claims as it is read.

use super::deps::{self, Deps};
use super::{capped, DbFile, Ecosystem, Found, Kept, ListId, Owns, Reader};
use crate::layer::capture::{self, Catalog};

#[derive(Default)]
pub struct Apk {
    packages: Vec<Found>,
}

#[derive(Default)]
struct Record {
    name: Option<String>,
    version: Option<String>,
    arch: Option<String>,
    origin: Option<String>,
    size: Option<u64>,
    dir: String,
    files: Option<ListId>,
    deps: Deps,
    any: bool,
}

impl Reader for Apk {
    fn catalog(&self) -> &'static Catalog {
        &capture::APK
    }

    fn read(&mut self, file: DbFile<'_>, kept: &mut Kept, warn: &mut dyn FnMut(String)) {
        let text = String::from_utf8_lossy(file.content);
        let mut bad = 0usize;
        let mut record = Record::default();
        let mut path = Vec::new();
        let done = |r: Record, bad: &mut usize, kept: &mut Kept, out: &mut Vec<Found>| {
            if !r.any {
                return;
            }
            let (Some(name), Some(version)) = (r.name.filter(|n| !n.is_empty()), r.version) else {
                *bad += 1;
                return;
            };
            let found = Found {
                ecosystem: Ecosystem::Apk,
                // syft's `upstream`: the origin, when another package's.
                upstream: r.origin.filter(|o| !o.is_empty() && *o != name),
                name,
                version,
                arch: r.arch,
                owns: match r.files {
                    Some(list) if kept.complete(list) => Owns::List(list),
                    _ => Owns::Nothing,
                },
                declared: r.size,
                layer: None,
                db_layer: file.layer,
                deps: r.deps,
            };
            if kept.record(found.cost()) {
                out.push(found);
            }
        };
        for line in text.lines() {
            if line.is_empty() {
                let r = std::mem::take(&mut record);
                done(r, &mut bad, kept, &mut self.packages);
                continue;
            }
            let Some((key, value)) = line.split_once(':').filter(|(k, _)| k.len() == 1) else {
                bad += 1;
                continue;
            };
            record.any = true;
            match key {
                "P" => record.name = Some(capped(value)),
                "V" => record.version = Some(capped(value)),
                "A" => record.arch = Some(capped(value)),
                "o" => record.origin = Some(capped(value)),
                "I" => record.size = value.parse().ok(),
                "D" => deps::apk_requires(value, &mut record.deps),
                "p" => deps::apk_provides(value, &mut record.deps),
                "F" => {
                    record.dir.clear();
                    record.dir.push_str(value.trim_matches('/'));
                }
                "R" => {
                    let list = *record
                        .files
                        .get_or_insert_with(|| kept.list(capture::APK.budget));
                    // A dropped list spells no more paths.
                    if kept.complete(list) {
                        path.clear();
                        if !record.dir.is_empty() {
                            path.extend_from_slice(record.dir.as_bytes());
                            path.push(b'/');
                        }
                        path.extend_from_slice(value.as_bytes());
                        kept.add(list, &path);
                    }
                }
                _ => {}
            }
        }
        done(record, &mut bad, kept, &mut self.packages);
        if bad > 0 {
            warn(format!(
                "/{}: {bad} malformed line(s) or records skipped (truncated?)",
                file.path
            ));
        }
    }

    fn finish(self: Box<Self>, _kept: &Kept, _warn: &mut dyn FnMut(String)) -> Vec<Found> {
        self.packages
    }
}
