//! Package identity: the purls of a Debian, an Alpine and a Fedora image built
//! here equal the ones syft writes for the same images (fixtures/purl), and a
//! Python package a deb installed is shown once, under its deb.

use std::path::{Path, PathBuf};

use super::builder::{self, Compress, OciLayout};
use super::packages::APK;
use super::*;

const DEBIAN_STATUS: &str = "\
Package: bash
Status: install ok installed
Installed-Size: 7175
Architecture: amd64
Version: 5.2.15-2+b2

Package: zlib1g
Status: install ok installed
Installed-Size: 3
Architecture: amd64
Multi-Arch: same
Source: zlib
Version: 1:1.2.13.dfsg-1

Package: python3-yaml
Status: install ok installed
Installed-Size: 600
Architecture: amd64
Source: pyyaml (6.0-3)
Version: 6.0-3+b2

Package: libssl3
Status: install ok installed
Installed-Size: 6000
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2
";

const DIST: &str = "usr/lib/python3/dist-packages";
const VENV: &str = "opt/venv/lib/python3.11/site-packages";
const PYYAML_PKG_INFO: &[u8] = b"Metadata-Version: 2.1\nName: PyYAML\nVersion: 6.0\n";

fn debian(dir: &Path) -> PathBuf {
    let mut oci = OciLayout::new(dir);
    let yaml_list = format!(
        "/{DIST}/PyYAML-6.0.egg-info\n/{DIST}/PyYAML-6.0.egg-info/PKG-INFO\n\
         /{DIST}/PyYAML-6.0.egg-info/top_level.txt\n/{DIST}/yaml/__init__.py\n"
    );
    let layer = oci.layer(Compress::Gzip(6), |w| {
        w.file(
            "etc/os-release",
            b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
              VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n",
        );
        w.file("var/lib/dpkg/status", DEBIAN_STATUS.as_bytes())
            .file("var/lib/dpkg/info/bash.list", b"/.\n/bin\n/bin/bash\n")
            .file("var/lib/dpkg/info/python3-yaml.list", yaml_list.as_bytes())
            .file("bin/bash", &builder::noise(1000, 1));
        w.file(&format!("{DIST}/PyYAML-6.0.egg-info/PKG-INFO"), PYYAML_PKG_INFO)
            .file(&format!("{DIST}/PyYAML-6.0.egg-info/top_level.txt"), b"yaml\n")
            .file(&format!("{DIST}/yaml/__init__.py"), &builder::noise(500, 2));
        let te = format!("{VENV}/typing_extensions-4.8.0.dist-info");
        w.file(
            &format!("{te}/METADATA"),
            b"Metadata-Version: 2.1\nName: typing_extensions\nVersion: 4.8.0\n",
        )
        .file(
            &format!("{te}/RECORD"),
            b"typing_extensions.py,,\ntyping_extensions-4.8.0.dist-info/METADATA,,\n",
        )
        .file(
            &format!("{VENV}/typing_extensions.py"),
            &builder::noise(300, 3),
        );
        let zope = format!("{VENV}/zope.interface-6.1.dist-info");
        w.file(
            &format!("{zope}/METADATA"),
            b"Metadata-Version: 2.1\nName: zope.interface\nVersion: 6.1\n",
        )
        .file(
            &format!("{zope}/RECORD"),
            b"zope.interface-6.1.dist-info/METADATA,,\n",
        );
        w.file(
            "app/node_modules/left-pad/package.json",
            br#"{"name": "left-pad", "version": "1.3.0"}"#,
        )
        .file(
            "app/node_modules/@babel/core/package.json",
            br#"{"name": "@babel/core", "version": "7.23.2"}"#,
        );
        w.file(
            "usr/local/bundle/specifications/rake-13.0.6.gemspec",
            b"Gem::Specification.new do |s|\n  s.name = \"rake\".freeze\n  s.version = \"13.0.6\"\nend\n",
        );
    });
    oci.image("img", &[&layer], "linux/amd64");
    oci.finish()
}

/// packages.rs's musl, and a package of another origin.
const LIBCRYPTO: &str = "\
C:Q1cfbVSa5yW0R2ywGR2mJ2n4CuXUB=
P:libcrypto3
V:3.1.4-r1
A:x86_64
S:1000
I:2000
T:crypto
o:openssl
F:lib
R:libcrypto.so.3

";

fn alpine(dir: &Path) -> PathBuf {
    let mut oci = OciLayout::new(dir);
    let layer = oci.layer(Compress::Gzip(6), |w| {
        w.file(
            "etc/os-release",
            b"NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME=\"Alpine Linux v3.18\"\n",
        )
        .file("lib/apk/db/installed", format!("{APK}{LIBCRYPTO}").as_bytes())
        .file("lib/ld-musl-x86_64.so.1", &builder::noise(400, 4));
    });
    oci.image("img", &[&layer], "linux/amd64");
    oci.finish()
}

fn fedora(dir: &Path) -> PathBuf {
    let mut oci = OciLayout::new(dir);
    let layer = oci.layer(Compress::Gzip(6), |w| {
        w.file(
            "usr/lib/os-release",
            b"NAME=\"Fedora Linux\"\nVERSION=\"39 (Container Image)\"\nID=fedora\nVERSION_ID=39\n",
        )
        .symlink("etc/os-release", "../usr/lib/os-release")
        .file(
            "usr/lib/sysimage/rpm/rpmdb.sqlite",
            include_bytes!("../../fixtures/rpm/rpmdb.sqlite"),
        )
        .file("usr/bin/hello", &builder::noise(300, 5));
    });
    oci.image("img", &[&layer], "linux/amd64");
    oci.finish()
}

/// The three images, by name. `STRATA_PURL_IMAGES=DIR` writes them there
/// (to run syft on them: fixtures/purl/README.md).
pub fn images(r: &Run) -> Vec<(&'static str, PathBuf)> {
    let root = std::env::var_os("STRATA_PURL_IMAGES").map_or_else(|| r.path("purl"), PathBuf::from);
    [
        ("debian", debian as fn(&Path) -> PathBuf),
        ("alpine", alpine),
        ("fedora", fedora),
    ]
    .into_iter()
    .map(|(name, build)| (name, build(&root.join(name))))
    .collect()
}

fn purls_of(v: &Value) -> Vec<String> {
    let mut purls: Vec<String> = v["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["purl"].as_str().unwrap().to_owned())
        .collect();
    purls.sort();
    purls
}

#[test]
fn purls_equal_syft_s_for_the_same_debian_alpine_and_fedora_images() {
    let expected: Value =
        serde_json::from_str(include_str!("../../fixtures/purl/expected.json")).unwrap();
    let r = Run::new();
    for (name, layout) in images(&r) {
        let v = r.json(&["packages", &format!("{}:img", oci(&layout))]);
        let want: Vec<String> = expected["images"][name]
            .as_array()
            .unwrap_or_else(|| panic!("no {name} in the fixture"))
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        assert_eq!(purls_of(&v), want, "{name}");
    }
}

/// Issue 19.13: python3-yaml's PyYAML showed as a second row of 0 B.
#[test]
fn a_python_package_a_deb_installed_is_shown_once_under_it_and_linked_in_json() {
    let r = Run::new();
    let layout = debian(&r.path("debian"));
    let reference = format!("{}:img", oci(&layout));
    let v = r.json(&["packages", &reference]);
    let find = |name: &str| {
        v["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
            .clone()
    };
    let (deb, yaml) = (find("python3-yaml"), find("PyYAML"));
    assert_eq!(yaml["owned_by"], deb["purl"]);
    assert_eq!(
        (yaml["bytes"].as_u64(), yaml["files"].as_u64()),
        (Some(0), Some(0))
    );
    let deb_bytes = 500 + PYYAML_PKG_INFO.len() as u64 + 5;
    assert_eq!(deb["bytes"].as_u64(), Some(deb_bytes));
    assert!(deb.get("owned_by").is_none());
    assert!(find("typing_extensions").get("owned_by").is_none());
    for format in ["table", "markdown"] {
        let out = r.run(&["packages", &reference, "--format", format]);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("python3-yaml"), "{text}");
        assert!(!text.contains("PyYAML"), "{format}: {text}");
        assert!(text.contains("typing_extensions"), "{text}");
        assert!(
            text.contains("1 language package(s) installed by a system package"),
            "{text}"
        );
    }
    // Without its deb listed, the Python package is a row of its own.
    let out = r.run(&["packages", &reference, "--ecosystem", "python"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("PyYAML"));
}
