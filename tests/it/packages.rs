//! `strata packages`: an image with real metadata of every ecosystem strata
//! reads, its inventory and installed bytes checked by hand, removals in a
//! later layer honoured, and malformed databases warned about, not fatal.

use super::builder::{self, Compress, OciLayout};
use super::*;

const STATUS: &str = "\
Package: bash
Essential: yes
Status: install ok installed
Priority: required
Section: shells
Installed-Size: 7175
Maintainer: Matthias Klose <doko@debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 5.2.15-2+b2
Depends: base-files (>= 2.1.12), debianutils (>= 5.6-0.1)
Description: GNU Bourne Again SHell
 Bash is an sh-compatible command language interpreter.

Package: zlib1g
Status: install ok installed
Priority: optional
Installed-Size: 3
Architecture: amd64
Multi-Arch: same
Source: zlib
Version: 1:1.2.13.dfsg-1
Description: compression library - runtime

Package: oldconf
Status: deinstall ok config-files
Architecture: all
Version: 0.1
";

const BASH_LIST: &str = "/.\n/bin\n/bin/bash\n/usr\n/usr/share\n/usr/share/doc\n/usr/share/doc/bash\n/usr/share/doc/bash/copyright\n";

pub const APK: &str = "\
C:Q1cfbVSa5yW0R2ywGR2mJ2n4CuXUA=
P:musl
V:1.2.4-r2
A:x86_64
S:383152
I:622592
T:the musl c library (libc) implementation
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1Yq8HlYKBXA+pCd0lBpmX6n3IZME=

";

const SIX_METADATA: &str = "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nSummary: Python 2 and 3 compatibility utilities\n\nSix is a Python 2 and 3 compatibility library.\n";
const SIX_RECORD: &str = "six.py,sha256=TOOfQi7nFGfMrIvtdr6wX4wyHH8M7aknmuLfo2cBBrM,500\nsix-1.16.0.dist-info/METADATA,sha256=x,125\nsix-1.16.0.dist-info/RECORD,,\n";
const EGG_PKG_INFO: &str = "Metadata-Version: 1.0\nName: legacy\nVersion: 0.1\n";
const EGG_FILES: &str = "../legacy/__init__.py\nPKG-INFO\ninstalled-files.txt\n";
const LEFT: &str = r#"{"name": "left-pad", "version": "1.3.0", "main": "index.js"}"#;
const DEEP: &str = r#"{"name": "@scope/deep", "version": "2.0.0-beta.1"}"#;
const RAKE: &str = "# -*- encoding: utf-8 -*-\n# stub: rake 13.0.6 ruby lib\n\nGem::Specification.new do |s|\n  s.name = \"rake\".freeze\n  s.version = \"13.0.6\"\n  s.required_rubygems_version = Gem::Requirement.new(\">= 1.3.2\".freeze)\nend\n";

const SITE: &str = "usr/lib/python3/dist-packages";
const VENV: &str = "opt/venv/lib/python3.12/site-packages";
const SPECS: &str = "usr/local/bundle/specifications";

fn len(s: &str) -> u64 {
    s.len() as u64
}

/// "before": base (dpkg + apk) and a layer of Python, npm and gems;
/// "after": one more layer that uninstalls six and deletes the apk database.
/// Shipped in fixtures/packages for the README's example.
pub fn image(dir: &std::path::Path) -> std::path::PathBuf {
    let mut oci = OciLayout::new(dir);
    let base = oci.layer(Compress::Gzip(6), |w| {
        w.dir("bin").file("bin/bash", &builder::noise(1200, 1));
        w.dir("usr/share/doc/bash")
            .file("usr/share/doc/bash/copyright", &builder::noise(300, 2));
        w.dir("var/lib/dpkg/info")
            .file("var/lib/dpkg/status", STATUS.as_bytes())
            .file("var/lib/dpkg/info/bash.list", BASH_LIST.as_bytes());
        w.dir("lib")
            .file("lib/ld-musl-x86_64.so.1", &builder::noise(400, 3));
        w.dir("lib/apk/db")
            .file("lib/apk/db/installed", APK.as_bytes());
        w.file("etc/hostname", b"strata\n");
    });
    let apps = oci.layer(Compress::Gzip(6), |w| {
        w.dir(SITE)
            .file(&format!("{SITE}/six.py"), &builder::noise(500, 4));
        w.dir(&format!("{SITE}/six-1.16.0.dist-info"))
            .file(
                &format!("{SITE}/six-1.16.0.dist-info/METADATA"),
                SIX_METADATA.as_bytes(),
            )
            .file(
                &format!("{SITE}/six-1.16.0.dist-info/RECORD"),
                SIX_RECORD.as_bytes(),
            );
        w.dir(&format!("{VENV}/legacy")).file(
            &format!("{VENV}/legacy/__init__.py"),
            &builder::noise(250, 5),
        );
        w.dir(&format!("{VENV}/legacy.egg-info"))
            .file(
                &format!("{VENV}/legacy.egg-info/PKG-INFO"),
                EGG_PKG_INFO.as_bytes(),
            )
            .file(
                &format!("{VENV}/legacy.egg-info/installed-files.txt"),
                EGG_FILES.as_bytes(),
            );
        w.dir("app/node_modules/left-pad")
            .file("app/node_modules/left-pad/package.json", LEFT.as_bytes())
            .file(
                "app/node_modules/left-pad/index.js",
                &builder::noise(800, 6),
            );
        w.dir("app/node_modules/left-pad/node_modules/@scope/deep")
            .file(
                "app/node_modules/left-pad/node_modules/@scope/deep/package.json",
                DEEP.as_bytes(),
            )
            .file(
                "app/node_modules/left-pad/node_modules/@scope/deep/index.js",
                &builder::noise(90, 7),
            );
        w.dir(SPECS)
            .file(&format!("{SPECS}/rake-13.0.6.gemspec"), RAKE.as_bytes());
        w.dir("usr/local/bundle/gems/rake-13.0.6/lib").file(
            "usr/local/bundle/gems/rake-13.0.6/lib/rake.rb",
            &builder::noise(700, 8),
        );
    });
    let removal = oci.layer(Compress::Gzip(6), |w| {
        w.dir(SITE)
            .whiteout(&format!("{SITE}/six.py"))
            .whiteout(&format!("{SITE}/six-1.16.0.dist-info"));
        w.dir("lib/apk").whiteout("lib/apk/db");
    });
    oci.image("before", &[&base, &apps], "linux/amd64");
    oci.image("after", &[&base, &apps, &removal], "linux/amd64");
    oci.finish()
}

fn package<'a>(v: &'a Value, purl: &str) -> &'a Value {
    v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["purl"] == purl)
        .unwrap_or_else(|| panic!("no {purl} in {v}"))
}

fn purls(v: &Value) -> Vec<&str> {
    v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["purl"].as_str().unwrap())
        .collect()
}

#[test]
fn every_ecosystem_is_inventoried_with_bytes_computed_by_hand() {
    let r = Run::new();
    let layout = image(&r.path("img"));
    let v = r.json(&[
        "packages",
        &format!("{}:before", oci(&layout)),
        "--sort",
        "name",
    ]);
    assert_eq!(
        purls(&v),
        [
            "pkg:deb/bash@5.2.15-2%2Bb2?arch=amd64",
            "pkg:deb/zlib1g@1:1.2.13.dfsg-1?arch=amd64&upstream=zlib",
            "pkg:apk/musl@1.2.4-r2?arch=x86_64",
            "pkg:pypi/legacy@0.1",
            "pkg:pypi/six@1.16.0",
            "pkg:npm/%40scope/deep@2.0.0-beta.1",
            "pkg:npm/left-pad@1.3.0",
            "pkg:gem/rake@13.0.6",
        ]
    );
    let check = |purl: &str, bytes: u64, files: u64, layer: u64, source: &str| {
        let p = package(&v, purl);
        assert_eq!(
            (
                p["bytes"].as_u64(),
                p["files"].as_u64(),
                p["layer"].as_u64()
            ),
            (Some(bytes), Some(files), Some(layer)),
            "{purl}"
        );
        assert_eq!(p["bytes_source"], source, "{purl}");
    };
    check(
        "pkg:deb/bash@5.2.15-2%2Bb2?arch=amd64",
        1200 + 300,
        2,
        1,
        "files",
    );
    // No .list: the declared Installed-Size (KiB), labelled as such.
    check(
        "pkg:deb/zlib1g@1:1.2.13.dfsg-1?arch=amd64&upstream=zlib",
        3 * 1024,
        0,
        1,
        "declared",
    );
    check("pkg:apk/musl@1.2.4-r2?arch=x86_64", 400, 1, 1, "files");
    let six = 500 + len(SIX_METADATA) + len(SIX_RECORD);
    check("pkg:pypi/six@1.16.0", six, 3, 2, "files");
    let legacy = 250 + len(EGG_PKG_INFO) + len(EGG_FILES);
    check("pkg:pypi/legacy@0.1", legacy, 3, 2, "files");
    check("pkg:npm/left-pad@1.3.0", 800 + len(LEFT), 2, 2, "files");
    check(
        "pkg:npm/%40scope/deep@2.0.0-beta.1",
        90 + len(DEEP),
        2,
        2,
        "files",
    );
    check("pkg:gem/rake@13.0.6", 700, 1, 2, "files");
    let bash = package(&v, "pkg:deb/bash@5.2.15-2%2Bb2?arch=amd64");
    assert_eq!(
        (bash["name"].as_str(), bash["arch"].as_str()),
        (Some("bash"), Some("amd64"))
    );
    assert_eq!(bash["ecosystem"], "deb");
    // Unowned: the databases themselves, /etc/hostname and the gemspec.
    let unowned = len(STATUS) + len(BASH_LIST) + len(APK) + 7 + len(RAKE);
    assert_eq!(v["unowned"]["bytes"].as_u64(), Some(unowned));
    assert_eq!(v["unowned"]["files"].as_u64(), Some(5));
    let owned = 1500 + 400 + six + legacy + 800 + len(LEFT) + 90 + len(DEEP) + 700;
    assert_eq!(v["total"]["bytes"].as_u64(), Some(owned + unowned));
    let ecosystems: u64 = v["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(
        ecosystems + unowned,
        owned + unowned,
        "declared sizes stay out of the totals"
    );
    let python = v["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["ecosystem"] == "python")
        .unwrap();
    assert_eq!(
        (python["packages"].as_u64(), python["bytes"].as_u64()),
        (Some(2), Some(six + legacy))
    );
}

#[test]
fn a_later_layer_that_uninstalls_a_package_or_deletes_a_database_is_honoured() {
    let r = Run::new();
    let layout = image(&r.path("img"));
    let v = r.json(&[
        "packages",
        &format!("{}:after", oci(&layout)),
        "--sort",
        "name",
    ]);
    let listed = purls(&v);
    assert!(!listed.contains(&"pkg:pypi/six@1.16.0"), "{listed:?}");
    assert!(
        !listed.contains(&"pkg:apk/musl@1.2.4-r2?arch=x86_64"),
        "{listed:?}"
    );
    assert_eq!(listed.len(), 6, "{listed:?}");
    // musl's file survives its database: now no package's.
    let unowned = len(STATUS) + len(BASH_LIST) + 400 + 7 + len(RAKE);
    assert_eq!(v["unowned"]["bytes"].as_u64(), Some(unowned));
}

#[test]
fn ecosystem_filter_and_sort_by_bytes() {
    let r = Run::new();
    let layout = image(&r.path("img"));
    let v = r.json(&[
        "packages",
        &format!("{}:before", oci(&layout)),
        "--ecosystem",
        "npm,deb",
    ]);
    assert_eq!(
        purls(&v),
        [
            "pkg:deb/zlib1g@1:1.2.13.dfsg-1?arch=amd64&upstream=zlib",
            "pkg:deb/bash@5.2.15-2%2Bb2?arch=amd64",
            "pkg:npm/left-pad@1.3.0",
            "pkg:npm/%40scope/deep@2.0.0-beta.1",
        ]
    );
    assert_eq!(v["totals"].as_array().unwrap().len(), 2);
}

const RPMDB_SQLITE: &[u8] = include_bytes!("../../fixtures/rpm/rpmdb.sqlite");
const RPMDB_BDB: &[u8] = include_bytes!("../../fixtures/rpm/Packages");

/// The fixture rpm database at `db` (see fixtures/rpm/README.md) with
/// hello's two files, one of tzdata-lite's two and none of libdemo's;
/// "-gone" images add a layer deleting the database.
fn rpm_image(dir: &std::path::Path) -> std::path::PathBuf {
    let mut oci = OciLayout::new(dir);
    let files = |w: &mut builder::LayerWriter| {
        w.dir("usr/bin")
            .file_mode("usr/bin/hello", &builder::noise(300, 11), 0o755);
        w.dir("usr/share/doc/hello")
            .file("usr/share/doc/hello/README", &builder::noise(40, 12));
        w.dir("usr/share/zoneinfo")
            .file("usr/share/zoneinfo/UTC", &builder::noise(120, 13));
        w.dir("usr/lib64/demo");
        w.dir("etc").file("etc/os-release", b"ID=fedora\n");
    };
    let sqlite = oci.layer(Compress::Gzip(6), |w| {
        files(w);
        w.dir("usr/lib/sysimage/rpm")
            .file("usr/lib/sysimage/rpm/rpmdb.sqlite", RPMDB_SQLITE);
    });
    let bdb = oci.layer(Compress::Gzip(6), |w| {
        files(w);
        w.dir("var/lib/rpm").file("var/lib/rpm/Packages", RPMDB_BDB);
    });
    let gone = oci.layer(Compress::Gzip(6), |w| {
        w.dir("usr/lib/sysimage/rpm")
            .whiteout("usr/lib/sysimage/rpm/rpmdb.sqlite");
        w.dir("var/lib/rpm").whiteout("var/lib/rpm/Packages");
    });
    oci.image("sqlite", &[&sqlite], "linux/amd64");
    oci.image("bdb", &[&bdb], "linux/amd64");
    oci.image("sqlite-gone", &[&sqlite, &gone], "linux/amd64");
    oci.image("bdb-gone", &[&bdb, &gone], "linux/amd64");
    oci.finish()
}

#[test]
fn rpm_sqlite_and_berkeley_db_databases_list_packages_with_bytes_from_their_files() {
    let r = Run::new();
    let layout = rpm_image(&r.path("img"));
    for (name, db) in [
        ("sqlite", RPMDB_SQLITE.len() as u64),
        ("bdb", RPMDB_BDB.len() as u64),
    ] {
        let v = r.json(&[
            "packages",
            &format!("{}:{name}", oci(&layout)),
            "--sort",
            "name",
        ]);
        assert_eq!(
            purls(&v),
            [
                "pkg:rpm/fedora/hello@1.0-1?arch=x86_64&distro=fedora&upstream=hello-1.0-1.src.rpm",
                "pkg:rpm/fedora/libdemo@0.5-1?arch=x86_64&distro=fedora&upstream=libdemo-0.5-1.src.rpm",
                "pkg:rpm/fedora/tzdata-lite@2024a-3?arch=noarch&distro=fedora&epoch=2&upstream=tzdata-lite-2024a-3.src.rpm"
            ],
            "{name}"
        );
        let check = |purl: &str, bytes: u64, files: u64, arch: &str, source: &str| {
            let p = package(&v, purl);
            assert_eq!(
                (
                    p["bytes"].as_u64(),
                    p["files"].as_u64(),
                    p["arch"].as_str(),
                    p["layer"].as_u64()
                ),
                (Some(bytes), Some(files), Some(arch), Some(1)),
                "{name}: {purl}"
            );
            assert_eq!(p["bytes_source"], source, "{name}: {purl}");
            assert_eq!(p["ecosystem"], "rpm");
        };
        check(
            "pkg:rpm/fedora/hello@1.0-1?arch=x86_64&distro=fedora&upstream=hello-1.0-1.src.rpm",
            300 + 40,
            2,
            "x86_64",
            "files",
        );
        // None of its files is in the image: SIZE, labelled as declared.
        check(
            "pkg:rpm/fedora/libdemo@0.5-1?arch=x86_64&distro=fedora&upstream=libdemo-0.5-1.src.rpm",
            5000,
            0,
            "x86_64",
            "declared",
        );
        // Europe/Paris is missing: only UTC counts.
        check("pkg:rpm/fedora/tzdata-lite@2024a-3?arch=noarch&distro=fedora&epoch=2&upstream=tzdata-lite-2024a-3.src.rpm", 120, 1, "noarch", "files");
        // Unowned: the database and /etc/os-release.
        let unowned = db + 10;
        assert_eq!(v["unowned"]["bytes"].as_u64(), Some(unowned), "{name}");
        assert_eq!(v["total"]["bytes"].as_u64(), Some(unowned + 460), "{name}");

        let v = r.json(&[
            "packages",
            &format!("{}:{name}-gone", oci(&layout)),
            "--sort",
            "name",
        ]);
        assert!(purls(&v).is_empty(), "{name}-gone: {v}");
        assert_eq!(
            v["unowned"]["bytes"].as_u64(),
            Some(460 + 10),
            "{name}-gone"
        );
    }
}

#[test]
fn malformed_and_unreadable_databases_are_warnings_naming_the_file_and_the_rest_prints() {
    let r = Run::new();
    let mut oci_layout = OciLayout::new(&r.path("bad"));
    let layer = oci_layout.layer(Compress::Gzip(6), |w| {
        w.dir("var/lib/dpkg").file(
            "var/lib/dpkg/status",
            &STATUS.as_bytes()[..STATUS.find("Source:").unwrap() - 3],
        );
        w.dir(&format!("{SITE}/six-1.16.0.dist-info"))
            .file(
                &format!("{SITE}/six-1.16.0.dist-info/METADATA"),
                SIX_METADATA.as_bytes(),
            )
            .file(
                &format!("{SITE}/six-1.16.0.dist-info/RECORD"),
                b"six.py,sha256=x,500\n\"unterminated,\nno-fields\nsix.py,x,notanumber\n",
            );
        w.dir("app/node_modules/broken").file(
            "app/node_modules/broken/package.json",
            b"{\"name\": \"broken\",",
        );
        w.dir("var/lib/rpm")
            .file("var/lib/rpm/rpmdb.sqlite", b"SQLite format 3\0")
            .file("var/lib/rpm/Packages", &RPMDB_BDB[..RPMDB_BDB.len() / 2]);
        w.dir("app/node_modules/fine").file(
            "app/node_modules/fine/package.json",
            br#"{"name":"fine","version":"1.0.0"}"#,
        );
    });
    oci_layout.image("bad", &[&layer], "linux/amd64");
    let layout = oci_layout.finish();
    let out = r.run(&[
        "packages",
        &format!("{}:bad", oci(&layout)),
        "--format=json",
        "--sort",
        "name",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for file in [
        "/var/lib/dpkg/status",
        &format!("/{SITE}/six-1.16.0.dist-info/RECORD"),
        "/app/node_modules/broken/package.json",
        "/var/lib/rpm/rpmdb.sqlite",
        "/var/lib/rpm/Packages",
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with("strata: warning: ") && l.contains(file)),
            "no warning naming {file}: {stderr}"
        );
    }
    for db in ["/var/lib/rpm/rpmdb.sqlite", "/var/lib/rpm/Packages"] {
        let line = format!("strata: warning: {db}: not an rpm database (");
        assert!(
            stderr.lines().any(|l| l.starts_with(&line)),
            "{line}: {stderr}"
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        purls(&v),
        [
            "pkg:deb/bash@5.2.15-2%2Bb2?arch=amd64",
            "pkg:pypi/six@1.16.0",
            "pkg:npm/fine@1.0.0"
        ]
    );
}

fn snapshot(args: &[&str]) -> String {
    let r = Run::new();
    image(&r.path("img"));
    let out = r
        .cmd()
        .current_dir(r.tmp.path())
        .args(["packages", "oci:img:after"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn packages_table_snapshot() {
    insta::assert_snapshot!(snapshot(&[]));
}

#[test]
fn packages_markdown_snapshot() {
    insta::assert_snapshot!(snapshot(&["--format", "markdown"]));
}

#[test]
fn packages_json_snapshot() {
    insta::assert_snapshot!(snapshot(&["--format", "json"]));
}

/// Issue 19.14: the top-level help named every package ecosystem but rpm.
#[test]
fn top_level_help_lists_rpm_among_the_package_ecosystems() {
    let out = Run::new().run(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("packages "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("(deb, rpm, apk, Python, npm, gems)"),
        "{line}"
    );
}
