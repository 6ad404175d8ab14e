//! Unit tests of the readers and the measuring passes, on in-memory layers.

use super::inventory::inventory_with;
use super::*;
use crate::analyze::overlay::Overlay;
use crate::layer::index::{entry_order, PackageDb};
use crate::layer::{Entry, EntryKind};

fn file(path: &str, size: u64) -> Entry {
    Entry::sample(path, EntryKind::File, size)
}

fn whiteout(path: &str) -> Entry {
    Entry {
        kind: EntryKind::Whiteout,
        ..file(path, 0)
    }
}

fn db(path: &str, content: &str) -> PackageDb {
    PackageDb {
        path: path.into(),
        content: content.as_bytes().to_vec(),
        size: content.len() as u64,
        skipped: false,
    }
}

/// Layers as (entries, captured databases); database files get entries too.
fn run(layers: Vec<(Vec<Entry>, Vec<PackageDb>)>) -> (Inventory, Vec<String>) {
    run_with(Kept::default(), layers)
}

fn run_with(kept: Kept, layers: Vec<(Vec<Entry>, Vec<PackageDb>)>) -> (Inventory, Vec<String>) {
    let entries: Vec<Vec<Entry>> = layers
        .iter()
        .map(|(e, dbs)| {
            let mut all = e.clone();
            all.extend(dbs.iter().map(|d| file(&d.path, d.size)));
            all.sort_by(entry_order);
            all
        })
        .collect();
    let mut warnings = Vec::new();
    let inv = inventory_with(
        kept,
        || {
            Ok(entries
                .iter()
                .map(|l| l.clone().into_iter().map(Ok))
                .collect())
        },
        |i| Ok(layers[i].1.clone()),
        &mut |w| warnings.push(w),
    )
    .unwrap();
    (inv, warnings)
}

fn find<'a>(inv: &'a Inventory, name: &str) -> &'a Package {
    inv.packages.iter().find(|p| p.name == name).unwrap()
}

#[test]
fn dpkg_lists_own_files_and_a_later_whiteout_removes_a_database() {
    let status = "Package: bash\nStatus: install ok installed\nVersion: 5.2-1\nArchitecture: amd64\nInstalled-Size: 10\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n\nPackage: tiny\nStatus: install ok installed\nVersion: 1:2.0-3\nInstalled-Size: 4\n";
    let (inv, warnings) = run(vec![(
        vec![file("bin/bash", 1000), file("etc/other", 7)],
        vec![
            db("var/lib/dpkg/status", status),
            db("var/lib/dpkg/info/bash:amd64.list", "/.\n/bin\n/bin/bash\n"),
        ],
    )]);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(inv.packages.len(), 2);
    let bash = find(&inv, "bash");
    assert_eq!(
        (bash.bytes, bash.files, bash.bytes_source),
        (1000, 1, BytesSource::Files)
    );
    let tiny = find(&inv, "tiny");
    assert_eq!((tiny.bytes, tiny.version.as_str()), (4096, "1:2.0-3"));
    assert_eq!(tiny.bytes_source, BytesSource::Declared);
    assert_eq!(inv.unowned.bytes, 7 + status.len() as u64 + 18);

    let (inv, _) = run(vec![
        (vec![], vec![db("var/lib/dpkg/status", status)]),
        (vec![whiteout("var/lib/dpkg")], vec![]),
    ]);
    assert!(inv.packages.is_empty());
}

#[test]
fn malformed_databases_warn_with_their_name_and_the_rest_is_read() {
    let (inv, warnings) = run(vec![(
        vec![file("srv/site-packages/ok/a.py", 5)],
        vec![
            db(
                "var/lib/dpkg/status",
                "Package: a\nVersion: 1\n\nPackage: b\nVers",
            ),
            db(
                "srv/site-packages/ok-1.dist-info/METADATA",
                "Name: ok\nVersion: 1\n",
            ),
            db(
                "srv/site-packages/ok-1.dist-info/RECORD",
                "ok/a.py,,5\n\"bad\nx,y\n../../../../etc,,1\n",
            ),
            db("app/node_modules/x/package.json", "{\"name\": "),
        ],
    )]);
    assert_eq!(warnings.len(), 3, "{warnings:?}");
    assert!(warnings
        .iter()
        .any(|w| w.starts_with("/var/lib/dpkg/status: 2 malformed")));
    assert!(warnings
        .iter()
        .any(|w| w.starts_with("/srv/site-packages/ok-1.dist-info/RECORD: 3 malformed")));
    assert!(warnings
        .iter()
        .any(|w| w.starts_with("/app/node_modules/x/package.json: not a valid")));
    assert_eq!(find(&inv, "ok").bytes, 5);
    assert!(inv.packages.iter().any(|p| p.name == "a"));
}

#[test]
fn nested_node_modules_belong_to_the_deepest_package_and_gems_to_their_dir() {
    let (inv, _) = run(vec![(
        vec![
            file("app/node_modules/a/index.js", 100),
            file("app/node_modules/a/node_modules/b/index.js", 30),
            file("usr/lib/ruby/gems/3.1.0/gems/rake-13.0.6/lib/rake.rb", 70),
        ],
        vec![
            db("app/node_modules/a/package.json", r#"{"name":"a","version":"1.0.0"}"#),
            db("app/node_modules/a/node_modules/b/package.json", r#"{"name":"b","version":"2.0.0"}"#),
            db(
                "usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec",
                "Gem::Specification.new do |s|\n  s.name = \"rake\".freeze\n  s.version = \"13.0.6\"\nend\n",
            ),
        ],
    )]);
    let a = find(&inv, "a");
    assert_eq!((a.bytes, a.files), (100 + 30, 2));
    assert_eq!((find(&inv, "b").bytes, find(&inv, "b").files), (30 + 30, 2));
    assert_eq!(find(&inv, "rake").bytes, 70);
}

#[test]
fn apk_records_and_the_latest_layer_of_their_files() {
    let installed = "C:Q1=\nP:musl\nV:1.2.4-r2\nA:x86_64\nI:600\nF:lib\nR:ld-musl.so.1\n\nP:busybox\nV:1.36.1-r5\nI:900\nF:bin\nR:busybox\n";
    let (inv, _) = run(vec![
        (
            vec![file("lib/ld-musl.so.1", 600)],
            vec![db("lib/apk/db/installed", installed)],
        ),
        (vec![file("bin/busybox", 800)], vec![]),
    ]);
    let musl = find(&inv, "musl");
    assert_eq!(
        (musl.bytes, musl.layer, musl.arch.as_deref()),
        (600, 0, Some("x86_64"))
    );
    assert_eq!(
        (find(&inv, "busybox").bytes, find(&inv, "busybox").layer),
        (800, 1)
    );
}

#[test]
fn paths_join_and_never_leave_the_root() {
    assert_eq!(join("a/b", "../c").unwrap(), b"a/c");
    assert_eq!(join("a/b", "/etc/x").unwrap(), b"etc/x");
    assert_eq!(join("a", "../../x"), None);
}

fn symlink(path: &str, target: &str) -> Entry {
    Entry {
        kind: EntryKind::Symlink,
        link: Some(target.as_bytes().to_vec()),
        ..file(path, 0)
    }
}

#[test]
fn merged_usr_and_distroless_status_d_are_followed() {
    let (inv, warnings) = run(vec![(
        vec![
            symlink("bin", "usr/bin"),
            symlink("lib", "/usr/lib"),
            file("usr/bin/bash", 1000),
            file("usr/lib/libz.so", 90),
        ],
        vec![
            db(
                "var/lib/dpkg/status.d/zlib",
                "Package: zlib\nVersion: 1\nArchitecture: amd64\n",
            ),
            db("var/lib/dpkg/status.d/zlib.md5sums", "abc  lib/libz.so\n"),
            db(
                "var/lib/dpkg/status",
                "Package: bash\nStatus: install ok installed\nVersion: 5\n",
            ),
            db("var/lib/dpkg/info/bash.list", "/bin\n/bin/bash\n"),
        ],
    )]);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(find(&inv, "bash").bytes, 1000);
    assert_eq!(find(&inv, "zlib").bytes, 90);
}

#[test]
fn a_database_over_budget_and_a_corrupt_rpm_database_are_warnings_naming_them() {
    let mut big = db("var/lib/dpkg/status", "");
    (big.size, big.skipped) = (20 << 20, true);
    let (inv, warnings) = run(vec![(
        vec![],
        vec![
            big,
            db("usr/lib/sysimage/rpm/rpmdb.sqlite", "SQLite format 3"),
        ],
    )]);
    assert!(inv.packages.is_empty());
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].starts_with("/usr/lib/sysimage/rpm/rpmdb.sqlite: not an rpm database ("),
        "{warnings:?}"
    );
    assert_eq!(
        warnings[1],
        "/var/lib/dpkg/status (20971520 bytes): over the capture budget; \
         their packages are not listed"
    );
}

#[test]
fn a_surviving_database_past_the_listing_budget_is_named_as_over_the_budget() {
    // The walk hashed it but listed no record for it (its layer's listing
    // budget was spent): never silently dropped.
    let (inv, warnings) = run(vec![(
        vec![file("srv/x-1.0.egg-info", 40)],
        vec![db("srv/y-2.0.egg-info", "Name: y\nVersion: 2.0\n")],
    )]);
    assert_eq!(inv.packages.len(), 1);
    assert_eq!(find(&inv, "y").version, "2.0");
    assert_eq!(
        warnings,
        ["/srv/x-1.0.egg-info (40 bytes): over the capture budget; \
          their packages are not listed"]
    );
}

#[test]
fn a_single_file_egg_info_owns_itself() {
    let meta = "Metadata-Version: 1.1\nName: python-apt\nVersion: 2.6.0\n";
    let (inv, _) = run(vec![(
        vec![],
        vec![db(
            "usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info",
            meta,
        )],
    )]);
    let p = find(&inv, "python-apt");
    assert_eq!(
        (p.version.as_str(), p.bytes, p.files),
        ("2.6.0", meta.len() as u64, 1)
    );
}

/// syft lists them (packages bench): setuptools' vendored wheels and an
/// egg-info on a program's own path, outside any site-packages.
#[test]
fn python_metadata_outside_site_packages_is_listed() {
    let vendor = "opt/venv/lib/python3.11/site-packages/setuptools/_vendor";
    let antlr = "usr/lib/google-cloud-sdk/platform/google_appengine/lib/antlr3";
    let (inv, warnings) = run(vec![(
        vec![file(&format!("{vendor}/zipp/__init__.py"), 300)],
        vec![
            db(
                &format!("{vendor}/zipp-3.19.2.dist-info/METADATA"),
                "Metadata-Version: 2.1\nName: zipp\nVersion: 3.19.2\n",
            ),
            db(
                &format!("{vendor}/zipp-3.19.2.dist-info/RECORD"),
                "zipp/__init__.py,sha256=x,300\n",
            ),
            db(
                &format!("{antlr}/antlr_python_runtime.egg-info/PKG-INFO"),
                "Metadata-Version: 1.0\nName: antlr-python-runtime\nVersion: 3.1.1\n",
            ),
        ],
    )]);
    assert!(warnings.is_empty(), "{warnings:?}");
    let zipp = find(&inv, "zipp");
    assert_eq!((zipp.version.as_str(), zipp.bytes), ("3.19.2", 300));
    assert_eq!(find(&inv, "antlr-python-runtime").version, "3.1.1");
}

/// Issue 18.2: a RECORD of 4 M lines `a,,` under a 4,000-byte directory
/// once joined every line to the root (16 GB). Each path is now charged as
/// kept: the list is dropped at its budget, whatever the input holds.
#[test]
fn a_record_of_millions_of_lines_under_a_long_directory_keeps_its_budget_not_its_input() {
    let root = format!("srv/{}", "d".repeat(4000));
    let dist = format!("{root}/x-1.0.dist-info");
    let record = "a,,\n".repeat(4_000_000);
    let meta = "Name: x\nVersion: 1.0\n";
    let (inv, warnings) = run(vec![(
        vec![file(&format!("{root}/a"), 10)],
        vec![
            db(&format!("{dist}/METADATA"), meta),
            db(&format!("{dist}/RECORD"), &record),
        ],
    )]);
    let kept = inv.kept;
    let per_claim = root.len() as u64 + 2 + kept::CLAIM_COST;
    assert!(kept.claims <= kept::CLAIM_BUDGET / per_claim, "{kept:?}");
    assert!(kept.claim_bytes[2] <= kept::CLAIM_BUDGET, "{kept:?}");
    assert_eq!(kept.dropped_lists, [0, 0, 1]);
    // Its list dropped whole: the package owns its metadata directory.
    let x = find(&inv, "x");
    assert_eq!((x.bytes, x.files), ((meta.len() + record.len()) as u64, 2));
    assert_eq!(inv.unowned.bytes, 10);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("past the language budget"),
        "{warnings:?}"
    );
}

/// Issue 18.2: 12 layers of dpkg lists of 2-byte lines made each line a
/// Vec (7.4 GB at 8 layers). Claims are counted as kept, so a small budget
/// holds them all: past it, lists are dropped and packages show their
/// declared size.
#[test]
fn dpkg_lists_of_two_byte_lines_over_many_layers_are_kept_within_their_budget() {
    let budget = 1 << 20;
    let mut status = String::new();
    let mut layers = Vec::new();
    for layer in 0..12 {
        status.push_str(&format!(
            "Package: p{layer}\nVersion: 1\nInstalled-Size: {}\n\n",
            layer + 1
        ));
        let lines: String = (0..200_000)
            .map(|i| format!("{}\n", (b'a' + (i % 26) as u8) as char))
            .collect();
        layers.push((
            vec![],
            vec![db(&format!("var/lib/dpkg/info/p{layer}.list"), &lines)],
        ));
    }
    layers.push((vec![file("a", 7)], vec![db("var/lib/dpkg/status", &status)]));
    let kept = Kept::with_budgets(budget, kept::RECORD_BUDGET);
    let (inv, warnings) = run_with(kept, layers);
    let kept = inv.kept;
    assert!(kept.claims <= budget / (1 + kept::CLAIM_COST), "{kept:?}");
    assert!(kept.claim_bytes[0] <= budget);
    assert_eq!(kept.dropped_lists[0], 12, "{kept:?}");
    assert_eq!(inv.packages.len(), 12);
    for (i, p) in inv.packages.iter().enumerate() {
        assert_eq!(
            (p.bytes, p.bytes_source),
            ((i as u64 + 1) * 1024, BytesSource::Declared)
        );
    }
    assert_eq!(inv.unowned.bytes, 7 + status.len() as u64 + 12 * 400_000);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
}

/// Issue 18.7: a 15 MB package name took 30 s to print.
#[test]
fn a_15_mb_package_name_is_kept_as_4_kib_and_a_marker_and_its_figures_are_unchanged() {
    let name = "n".repeat(15_000_000);
    let status = format!("Package: {name}\nVersion: 1\nInstalled-Size: 2\n");
    let (inv, _) = run(vec![(vec![], vec![db("var/lib/dpkg/status", &status)])]);
    let p = &inv.packages[0];
    assert!(p.name.len() < TEXT_CAP + 64, "{}", p.name.len());
    assert!(p.name.starts_with(&name[..TEXT_CAP]));
    assert!(
        p.name.contains("…[15000000 bytes, xxh3 "),
        "{}",
        &p.name[TEXT_CAP..]
    );
    assert_eq!((p.bytes, p.version.as_str()), (2048, "1"));
    assert_eq!(capped("short"), "short");
    // Two cut names that share their first 4 KiB still differ.
    assert_ne!(capped(&format!("{name}a")), capped(&format!("{name}b")));
}

/// Issue 19.13: python3-yaml's PyYAML egg-info is in the deb's list, so the
/// Python package owns nothing: it is linked to the deb, not a 0 B twin.
#[test]
fn a_python_package_whose_files_a_deb_owns_is_owned_by_that_deb() {
    const PKG_INFO: &str = "Name: PyYAML\nVersion: 6.0\n";
    let site = "usr/lib/python3/dist-packages";
    let status = "Package: python3-yaml\nVersion: 6.0-3\nArchitecture: amd64\n\n\
                  Package: python3-six\nVersion: 1.16.0-4\n";
    let list = format!(
        "/{site}/PyYAML-6.0.egg-info\n/{site}/PyYAML-6.0.egg-info/PKG-INFO\n/{site}/yaml/__init__.py\n"
    );
    let (inv, warnings) = run(vec![(
        vec![
            file(&format!("{site}/yaml/__init__.py"), 500),
            file(&format!("{site}/six.py"), 300),
        ],
        vec![
            db("var/lib/dpkg/status", status),
            db("var/lib/dpkg/info/python3-yaml.list", &list),
            db(&format!("{site}/PyYAML-6.0.egg-info/PKG-INFO"), PKG_INFO),
            db(
                &format!("{site}/six-1.16.0.dist-info/METADATA"),
                "Name: six\nVersion: 1.16.0\n",
            ),
            db(&format!("{site}/six-1.16.0.dist-info/RECORD"), "six.py,,\n"),
        ],
    )]);
    assert!(warnings.is_empty(), "{warnings:?}");
    let deb = inv.packages.iter().position(|p| p.name == "python3-yaml");
    let yaml = find(&inv, "PyYAML");
    assert_eq!((yaml.files, yaml.owned_by), (0, deb));
    assert_eq!(
        find(&inv, "python3-yaml").bytes,
        500 + PKG_INFO.len() as u64
    );
    // Its own files: no owner, whatever its name says.
    assert_eq!(find(&inv, "six").owned_by, None);
    assert_eq!(find(&inv, "python3-six").owned_by, None);
    assert_eq!(yaml.purl, "pkg:pypi/pyyaml@6.0");
}

/// The plan a pass observes, for `layers` as `run` takes them.
fn observed(layers: &[(Vec<Entry>, Vec<PackageDb>)]) -> Plan {
    let entries: Vec<Vec<Entry>> = layers
        .iter()
        .map(|(e, dbs)| {
            let mut all = e.clone();
            all.extend(dbs.iter().map(|d| file(&d.path, d.size)));
            all.sort_by(entry_order);
            all
        })
        .collect();
    let mut plan = Plan::default();
    let lanes = entries.into_iter().map(|l| l.into_iter().map(Ok)).collect();
    for node in Overlay::new(lanes).unwrap() {
        plan.add(&node.unwrap());
    }
    plan
}

/// The plan guessed from the layers' captured files (and top-level links).
fn guessed(layers: &[(Vec<Entry>, Vec<PackageDb>)]) -> Plan {
    Plan::guess(layers.iter().map(|(entries, dbs)| {
        let paths = dbs.iter().map(|d| (d.path.clone(), d.size)).collect();
        let links = entries
            .iter()
            .filter(|e| e.kind == EntryKind::Symlink && !e.path.contains(&b'/'))
            .map(|e| (e.path.clone(), e.link.clone().unwrap_or_default()))
            .collect();
        (paths, links)
    }))
}

#[test]
fn the_plan_guessed_from_footers_is_the_observed_one_unless_a_later_layer_deletes_a_database() {
    let status = "Package: a\nStatus: install ok installed\nVersion: 1\n";
    let link = Entry {
        kind: EntryKind::Symlink,
        link: Some(b"usr/bin".to_vec()),
        ..file("bin", 0)
    };
    let mut layers = vec![
        (vec![link], vec![db("var/lib/dpkg/status", status)]),
        (
            vec![file("app/x", 3)],
            vec![
                db("var/lib/dpkg/status", status),
                db("var/lib/dpkg/info/a.list", "/app/x\n"),
            ],
        ),
    ];
    assert_eq!(guessed(&layers), observed(&layers));
    assert!(!guessed(&layers).is_empty());
    layers.push((vec![whiteout("var/lib/dpkg/info")], vec![]));
    assert_ne!(guessed(&layers), observed(&layers), "the list is gone");
    layers.pop();
    layers.push((vec![whiteout("bin")], vec![]));
    assert_ne!(guessed(&layers), observed(&layers), "the link is gone");
}
