//! rpm: `rpmdb.sqlite` (Fedora, RHEL/UBI 9) and the Berkeley DB `Packages`
//! (RHEL/UBI 8, CentOS 7) give header blobs; each header gives a package
//! (name, `[epoch:]version-release`, arch, declared size, source rpm) and its
//! files, handed one at a time to the kept claims.

mod bdb;
mod header;
mod sqlite;

use std::collections::HashSet;

use super::deps::{self, Deps};
use super::{capped, DbFile, Ecosystem, Found, Kept, Owns, Reader};
use crate::layer::capture::{self, Catalog};

/// Headers one database may hold (a full Fedora install has ~3 000).
pub const MAX_HEADERS: usize = 200_000;

const BDB: &str = "var/lib/rpm/Packages";

#[derive(Default)]
pub struct Rpm {
    packages: Vec<Found>,
}

impl Reader for Rpm {
    fn catalog(&self) -> &'static Catalog {
        &capture::RPM
    }

    fn read(&mut self, file: DbFile<'_>, kept: &mut Kept, warn: &mut dyn FnMut(String)) {
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
        let (mut bad, mut first) = (0usize, None);
        for blob in blobs {
            let parsed = header::Header::parse(&blob).and_then(|h| {
                let p = h.package()?;
                if p.name == "gpg-pubkey" || p.name.is_empty() {
                    return Ok(None);
                }
                let list = kept.list(capture::RPM.budget);
                let mut open = true;
                h.each_file(|path| open = open && kept.add(list, path))?;
                Ok(Some((p, list)))
            });
            match parsed {
                Ok(None) => {}
                Ok(Some((p, list))) => {
                    let mut d = Deps {
                        cut: p.deps_cut,
                        ..Deps::default()
                    };
                    for r in &p.requires {
                        deps::rpm_require(r, &mut d);
                    }
                    for name in &p.provides {
                        d.provide(name);
                    }
                    let found = Found {
                        ecosystem: Ecosystem::Rpm,
                        name: capped(&p.name),
                        version: capped(&p.version),
                        arch: p.arch.as_deref().map(capped),
                        upstream: p.source.as_deref().filter(|s| !s.is_empty()).map(capped),
                        // Past the claims budget: the declared size (one warning says so).
                        owns: if kept.complete(list) {
                            Owns::List(list)
                        } else {
                            Owns::Nothing
                        },
                        declared: p.size,
                        layer: None,
                        db_layer: file.layer,
                        deps: d,
                    };
                    if kept.record(found.cost()) {
                        self.packages.push(found);
                    }
                }
                Err(e) => {
                    bad += 1;
                    first.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first {
            warn(format!(
                "/{}: {bad} malformed rpm header(s) skipped (first: {e})",
                file.path
            ));
        }
    }

    /// Packages in two surviving databases (a converted image) count once.
    fn finish(self: Box<Self>, _kept: &Kept, _warn: &mut dyn FnMut(String)) -> Vec<Found> {
        let mut seen = HashSet::new();
        self.packages
            .into_iter()
            .filter(|p| seen.insert((p.name.clone(), p.version.clone(), p.arch.clone())))
            .collect()
    }
}

#[cfg(test)]
mod tests;
