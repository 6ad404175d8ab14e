//! apk: `lib/apk/db/installed`, one record per package (`P:` name, `V:`
//! version, `A:` arch, `I:` installed size, `F:` directory, `R:` file in it).

use super::{DbFile, Ecosystem, Found, Owns, Reader};

const INSTALLED: &str = "lib/apk/db/installed";

#[derive(Default)]
pub struct Apk {
    packages: Vec<Found>,
}

#[derive(Default)]
struct Record {
    name: Option<String>,
    version: Option<String>,
    arch: Option<String>,
    size: Option<u64>,
    dir: String,
    files: Vec<Vec<u8>>,
    any: bool,
}

impl Reader for Apk {
    fn wants(&self, path: &str) -> bool {
        path == INSTALLED
    }

    fn read(&mut self, file: DbFile<'_>, warn: &mut dyn FnMut(String)) {
        let text = String::from_utf8_lossy(file.content);
        let mut bad = 0usize;
        let mut record = Record::default();
        let done = |r: Record, bad: &mut usize, out: &mut Vec<Found>| {
            if !r.any {
                return;
            }
            let (Some(name), Some(version)) = (r.name, r.version) else {
                *bad += 1;
                return;
            };
            out.push(Found {
                ecosystem: Ecosystem::Apk,
                name,
                version,
                arch: r.arch,
                owns: Owns::Files(r.files),
                declared: r.size,
                layer: None,
                db_layer: file.layer,
            });
        };
        for line in text.lines() {
            if line.is_empty() {
                done(std::mem::take(&mut record), &mut bad, &mut self.packages);
                continue;
            }
            let Some((key, value)) = line.split_once(':').filter(|(k, _)| k.len() == 1) else {
                bad += 1;
                continue;
            };
            record.any = true;
            match key {
                "P" => record.name = Some(value.to_owned()),
                "V" => record.version = Some(value.to_owned()),
                "A" => record.arch = Some(value.to_owned()),
                "I" => record.size = value.parse().ok(),
                "F" => record.dir = value.trim_matches('/').to_owned(),
                "R" if !record.dir.is_empty() => record
                    .files
                    .push(format!("{}/{value}", record.dir).into_bytes()),
                "R" => record.files.push(value.as_bytes().to_vec()),
                _ => {}
            }
        }
        done(record, &mut bad, &mut self.packages);
        if bad > 0 {
            warn(format!(
                "/{}: {bad} malformed line(s) or records skipped (truncated?)",
                file.path
            ));
        }
    }

    fn finish(self: Box<Self>, _warn: &mut dyn FnMut(String)) -> Vec<Found> {
        self.packages
    }
}
