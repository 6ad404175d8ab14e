//! The rpm reader on the committed fixtures: the same three packages from
//! the sqlite and the Berkeley DB databases; damaged ones are one warning.

use std::collections::HashMap;

use super::*;
use crate::analyze::packages::ListId;

const SQLITE_DB: &[u8] = include_bytes!("../../../../fixtures/rpm/rpmdb.sqlite");
const BDB_LE: &[u8] = include_bytes!("../../../../fixtures/rpm/Packages");
const BDB_BE: &[u8] = include_bytes!("../../../../fixtures/rpm/Packages.be");

/// The packages of one database, their files by list, and the warnings.
type Read = (Vec<Found>, HashMap<ListId, Vec<String>>, Vec<String>);

fn read(path: &str, content: &[u8]) -> Read {
    read_into(Kept::default(), path, content)
}

fn read_into(mut kept: Kept, path: &str, content: &[u8]) -> Read {
    let mut rpm = Box::<Rpm>::default();
    assert_eq!(
        capture::classify(path.as_bytes()).map(|c| c.name),
        Some("rpm")
    );
    let mut warnings = Vec::new();
    rpm.read(
        DbFile {
            path,
            layer: 2,
            content,
        },
        &mut kept,
        &mut |w| warnings.push(w),
    );
    let mut found = rpm.finish(&kept, &mut |w| warnings.push(w));
    kept.warn(&mut |w| warnings.push(w));
    found.sort_by(|a, b| a.name.cmp(&b.name));
    (found, kept.lists(), warnings)
}

/// (name, version, arch, declared size, files) of one package.
type Row = (String, String, String, u64, Vec<String>);

fn row(name: &str, version: &str, arch: &str, size: u64, files: &[&str]) -> Row {
    let files = files.iter().map(|f| f.to_string()).collect();
    (name.into(), version.into(), arch.into(), size, files)
}

fn expected() -> Vec<Row> {
    vec![
        row(
            "hello",
            "1.0-1",
            "x86_64",
            340,
            &["usr/bin/hello", "usr/share/doc/hello/README"],
        ),
        row(
            "libdemo",
            "0.5-1",
            "x86_64",
            5000,
            &["usr/lib64/libdemo.so.0"],
        ),
        row(
            "tzdata-lite",
            "2:2024a-3",
            "noarch",
            370,
            &["usr/share/zoneinfo/Europe/Paris", "usr/share/zoneinfo/UTC"],
        ),
    ]
}

fn rows(found: &[Found], lists: &HashMap<ListId, Vec<String>>) -> Vec<Row> {
    found
        .iter()
        .map(|f| {
            assert_eq!(
                (f.ecosystem, f.layer, f.db_layer),
                (Ecosystem::Rpm, None, 2)
            );
            let Owns::List(list) = &f.owns else {
                panic!("{:?}", f.owns)
            };
            let files: Vec<&str> = lists
                .get(list)
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            let arch = f.arch.as_deref().unwrap_or("-");
            row(&f.name, &f.version, arch, f.declared.unwrap_or(0), &files)
        })
        .collect()
}

#[test]
fn sqlite_and_both_berkeley_db_fixtures_list_the_same_three_packages() {
    for (path, content) in [
        ("var/lib/rpm/rpmdb.sqlite", SQLITE_DB),
        ("usr/lib/sysimage/rpm/rpmdb.sqlite", SQLITE_DB),
        ("var/lib/rpm/Packages", BDB_LE),
        ("var/lib/rpm/Packages", BDB_BE),
    ] {
        let (found, lists, warnings) = read(path, content);
        assert!(warnings.is_empty(), "{path}: {warnings:?}");
        assert_eq!(rows(&found, &lists), expected(), "{path}");
        let upstream: Vec<Option<&str>> = found.iter().map(|f| f.upstream.as_deref()).collect();
        assert_eq!(
            upstream,
            [
                Some("hello-1.0-1.src.rpm"),
                Some("libdemo-0.5-1.src.rpm"),
                Some("tzdata-lite-2024a-3.src.rpm")
            ]
        );
    }
}

#[test]
fn a_database_of_the_other_format_or_garbage_is_one_warning_naming_the_file() {
    for (path, content) in [
        ("var/lib/rpm/rpmdb.sqlite", BDB_LE),
        ("var/lib/rpm/Packages", SQLITE_DB),
        ("var/lib/rpm/rpmdb.sqlite", &b"SQLite format 3\0"[..]),
        ("var/lib/rpm/Packages", &BDB_LE[..5000]),
    ] {
        let (found, _, warnings) = read(path, content);
        assert!(found.is_empty());
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with(&format!("/{path}: not an rpm database (")),
            "{warnings:?}"
        );
    }
}

#[test]
fn a_damaged_header_is_skipped_with_a_warning_and_the_others_are_listed() {
    // Make the first index entry of every header claim u32::MAX entries:
    // find the blobs in the file by their content and break one.
    let blobs = sqlite::blobs(SQLITE_DB).unwrap();
    let mut db = BDB_LE.to_vec();
    let needle = &blobs[1][..64];
    let at = db.windows(64).position(|w| w == needle).unwrap();
    db[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    let (found, _, warnings) = read("var/lib/rpm/Packages", &db);
    assert_eq!(found.len(), 2);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("1 malformed rpm header(s) skipped"),
        "{warnings:?}"
    );
}

#[test]
fn the_gpg_pubkey_pseudo_package_and_a_second_database_s_copies_are_dropped() {
    let mut rpm = Box::<Rpm>::default();
    let mut warnings = Vec::new();
    let mut kept = Kept::default();
    for path in ["var/lib/rpm/Packages", "usr/lib/sysimage/rpm/rpmdb.sqlite"] {
        let content = if path.ends_with("Packages") {
            BDB_LE
        } else {
            SQLITE_DB
        };
        rpm.read(
            DbFile {
                path,
                layer: 0,
                content,
            },
            &mut kept,
            &mut |w| warnings.push(w),
        );
    }
    assert_eq!(rpm.finish(&kept, &mut |w| warnings.push(w)).len(), 3);
    assert!(warnings.is_empty());
}

#[test]
fn any_single_corrupted_byte_of_a_database_gives_packages_or_warnings_never_a_panic() {
    for at in (0..BDB_LE.len()).step_by(5) {
        let mut bad = BDB_LE.to_vec();
        bad[at] ^= 0xff;
        let _ = read("var/lib/rpm/Packages", &bad);
    }
}

#[test]
fn past_the_claims_budget_packages_show_their_declared_size_and_one_warning_says_so() {
    // Another database's lists spent the rpm budget first.
    let mut kept = Kept::default();
    let list = kept.list(capture::RPM.budget);
    while kept.add(list, &[b'x'; 60_000]) {}
    let list = kept.list(capture::RPM.budget);
    while kept.add(list, b"x") {}
    let (found, _, warnings) = read_into(kept, "var/lib/rpm/rpmdb.sqlite", SQLITE_DB);
    assert_eq!(found.len(), 3);
    assert!(found
        .iter()
        .all(|f| f.owns == Owns::Nothing && f.declared.is_some()));
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(" package file list(s) past the rpm budget"),
        "{warnings:?}"
    );
}

/// A xorshift64 generator: the same mutations on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `base` with a few random byte flips, a truncation, a splice of another
/// region over itself, or a 32-bit field set to an extreme value.
fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut v = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len());
        match rng.below(5) {
            0 if !v.is_empty() => v[at] ^= 1 << rng.below(8),
            1 if !v.is_empty() => v[at] = rng.next() as u8,
            2 => v.truncate(at),
            3 => {
                let (from, len) = (rng.below(v.len()), 1 + rng.below(64));
                let chunk: Vec<u8> = v.iter().skip(from).take(len).copied().collect();
                let end = (at + chunk.len()).min(v.len());
                v[at..end].copy_from_slice(&chunk[..end - at]);
            }
            _ if at + 4 <= v.len() => {
                let x = [0, 1, u32::MAX, 0x7fff_ffff, 0x8000_0000, rng.next() as u32];
                v[at..at + 4].copy_from_slice(&x[rng.below(x.len())].to_be_bytes());
            }
            _ => {}
        }
    }
    v
}

#[test]
fn thousands_of_random_mutations_give_packages_or_warnings_never_a_panic() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for (path, content, rounds) in [
        ("var/lib/rpm/Packages", BDB_LE, 6000),
        ("var/lib/rpm/Packages", BDB_BE, 6000),
        ("var/lib/rpm/rpmdb.sqlite", SQLITE_DB, 1500),
    ] {
        for _ in 0..rounds {
            let _ = read(path, &mutate(&mut rng, content));
        }
    }
    for blob in sqlite::blobs(SQLITE_DB).unwrap() {
        for _ in 0..5000 {
            let bad = mutate(&mut rng, &blob);
            let _ = header::Header::parse(&bad).and_then(|h| {
                h.package()?;
                h.each_file(|_| {})
            });
        }
    }
}

/// Real databases (go-rpmdb's test data): go-rpmdb's own expected figures.
mod real {
    use super::*;

    const RHEL8_BDB: &[u8] = include_bytes!("../../../../fixtures/rpm/go-rpmdb/libuuid-Packages");
    const MARINER_SQLITE: &[u8] =
        include_bytes!("../../../../fixtures/rpm/go-rpmdb/cbl-mariner-2.0-rpmdb.sqlite");

    fn check(read: &Read, name: &str, version: &str, size: u64, regular: &[&str]) {
        let (found, lists, _) = read;
        let found = found.iter().find(|f| f.name == name).expect(name);
        assert_eq!(found.version, version);
        assert_eq!(found.arch.as_deref(), Some("x86_64"));
        assert_eq!(found.declared, Some(size));
        let Owns::List(list) = &found.owns else {
            panic!("rpm packages own files")
        };
        let owned = &lists[list];
        for f in regular {
            assert!(owned.iter().any(|o| o == f), "{f} not in {owned:?}");
        }
    }

    #[test]
    fn a_rhel_8_berkeley_db_reads_as_go_rpmdb_reads_it() {
        let read = read("var/lib/rpm/Packages", RHEL8_BDB);
        assert!(read.2.is_empty(), "{:?}", read.2);
        let names: Vec<&str> = read.0.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["libuuid"]);
        check(
            &read,
            "libuuid",
            "2.32.1-42.el8_8",
            35104,
            &[
                "usr/lib64/libuuid.so.1.3.0",
                "usr/share/licenses/libuuid/COPYING",
                "usr/share/licenses/libuuid/COPYING.BSD-3",
            ],
        );
    }

    #[test]
    fn a_cbl_mariner_sqlite_database_reads_as_go_rpmdb_reads_it() {
        let read = read("var/lib/rpm/rpmdb.sqlite", MARINER_SQLITE);
        assert!(read.2.is_empty(), "{:?}", read.2);
        assert_eq!(read.0.len(), 129);
        check(
            &read,
            "curl",
            "7.76.0-6.cm2",
            326023,
            &[
                "usr/bin/curl",
                "usr/bin/curl-config",
                "usr/share/licenses/curl/COPYING",
                "usr/share/man/man1/curl-config.1.gz",
                "usr/share/man/man1/curl.1.gz",
            ],
        );
    }
}
