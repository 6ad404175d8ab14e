//! rpm: `rpmdb.sqlite` (Fedora, RHEL/UBI 9) and the Berkeley DB `Packages`
//! (RHEL/UBI 8, CentOS 7) give header blobs; each header gives a package
//! (name, `[epoch:]version-release`, arch, declared size, its files).

mod bdb;
mod header;
mod sqlite;

use std::collections::HashSet;

use super::{DbFile, Ecosystem, Found, Owns, Reader};

/// Headers one database may hold (a full Fedora install has ~3 000).
pub const MAX_HEADERS: usize = 200_000;
/// File paths kept over all databases (a full Fedora install lists ~400 000);
/// past it, packages fall back to their declared size.
const MAX_FILES: usize = 2_000_000;
/// Bytes of those paths (a full Fedora install needs ~40 MB; a header's
/// shared directories can spell up to 32 MiB a package, cheaply).
const MAX_FILE_BYTES: usize = 256 << 20;

const SQLITE: [&str; 2] = [
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
];
const BDB: &str = "var/lib/rpm/Packages";

#[derive(Default)]
pub struct Rpm {
    packages: Vec<Found>,
    files: usize,
    file_bytes: usize,
}

impl Reader for Rpm {
    fn wants(&self, path: &str) -> bool {
        path == BDB || SQLITE.contains(&path)
    }

    fn read(&mut self, file: DbFile<'_>, warn: &mut dyn FnMut(String)) {
        let blobs = if file.path == BDB {
            bdb::values(file.content).map_err(|e| e.to_string())
        } else {
            sqlite::blobs(file.content).map_err(|e| e.to_string())
        };
        let blobs = match blobs {
            Ok(blobs) => blobs,
            Err(e) => {
                warn(format!(
                    "/{}: not an rpm database ({e}); its packages are not listed",
                    file.path
                ));
                return;
            }
        };
        let (mut bad, mut first, mut dropped) = (0usize, None, 0usize);
        for blob in blobs {
            match header::Header::parse(&blob).and_then(|h| h.package()) {
                Ok(p) if p.name == "gpg-pubkey" => {}
                Ok(mut p) => {
                    self.files += p.files.len();
                    self.file_bytes += p.files.iter().map(Vec::len).sum::<usize>();
                    if self.files > MAX_FILES || self.file_bytes > MAX_FILE_BYTES {
                        dropped += 1;
                        p.files = Vec::new();
                    }
                    self.packages.push(Found {
                        ecosystem: Ecosystem::Rpm,
                        name: p.name,
                        version: p.version,
                        arch: p.arch,
                        owns: Owns::Files(p.files),
                        declared: p.size,
                        layer: None,
                        db_layer: file.layer,
                    })
                }
                Err(e) => {
                    bad += 1;
                    first.get_or_insert(e);
                }
            }
        }
        if dropped > 0 {
            warn(format!(
                "/{}: over {MAX_FILES} files or {MAX_FILE_BYTES} bytes of paths listed; {dropped} package(s) show their declared size",
                file.path
            ));
        }
        if let Some(e) = first {
            warn(format!(
                "/{}: {bad} malformed rpm header(s) skipped (first: {e})",
                file.path
            ));
        }
    }

    /// Packages in two surviving databases (a converted image) count once.
    fn finish(self: Box<Self>, _warn: &mut dyn FnMut(String)) -> Vec<Found> {
        let mut seen = HashSet::new();
        self.packages
            .into_iter()
            .filter(|p| seen.insert((p.name.clone(), p.version.clone(), p.arch.clone())))
            .collect()
    }
}

#[cfg(test)]
mod tests;
