//! rpm: the databases are captured, but strata cannot read them yet; each
//! surviving one is a warning naming it (its files count as no package's).

use super::{DbFile, Found, Reader};

const DATABASES: [&str; 3] = [
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
];

#[derive(Default)]
pub struct Rpm;

impl Reader for Rpm {
    fn wants(&self, path: &str) -> bool {
        DATABASES.contains(&path)
    }

    fn read(&mut self, file: DbFile<'_>, warn: &mut dyn FnMut(String)) {
        warn(format!(
            "/{}: an rpm database, which strata cannot read yet; its packages are not listed",
            file.path
        ));
    }

    fn finish(self: Box<Self>, _warn: &mut dyn FnMut(String)) -> Vec<Found> {
        Vec::new()
    }
}
