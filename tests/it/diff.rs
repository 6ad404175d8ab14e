//! `strata diff`: layers and files of a prod/dev pair, exactly; whiteouts and
//! opaque directories as removals; recompression and transports as no change.

use super::builder::{self, Compress, OciLayout};
use super::*;

const FAMILY: &str = concat!("oci:", env!("CARGO_MANIFEST_DIR"), "/fixtures/family");

fn fam(name: &str) -> String {
    format!("{FAMILY}:{name}")
}

const STATUS_PROD: &str =
    "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n\n";
const STATUS_DEV: &str = "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2.15-2+b2\n\nPackage: gdb\nStatus: install ok installed\nArchitecture: amd64\nVersion: 13.1-3\n\n";
pub const PYTEST_METADATA: &str = "Metadata-Version: 2.1\nName: pytest\nVersion: 8.0.0\n";
pub const PYTEST_RECORD: &str = "pytest/__init__.py,sha256=x,7000\npytest/main.py,sha256=y,5000\npytest-8.0.0.dist-info/METADATA,sha256=z,53\npytest-8.0.0.dist-info/RECORD,,\n";
const SITE: &str = "usr/lib/python3/dist-packages";

/// prod = base (bash, by dpkg) + app; dev = prod + a layer installing pytest
/// (pip, with dist-info) and gdb (dpkg), and a bigger config.
pub fn prod_dev(dir: &std::path::Path) -> (String, String) {
    let mut oci = OciLayout::new(dir);
    let base = oci.layer(Compress::Gzip(6), |w| {
        w.dir("etc").file("etc/os-release", b"ID=test\n");
        w.dir("bin").file("bin/bash", &builder::noise(1200, 9));
        w.dir("var/lib/dpkg/info")
            .file("var/lib/dpkg/status", STATUS_PROD.as_bytes())
            .file("var/lib/dpkg/info/bash.list", b"/.\n/bin\n/bin/bash\n");
    });
    let app = oci.layer(Compress::Gzip(6), |w| {
        w.dir("app")
            .file("app/main.py", &builder::noise(3000, 1))
            .file("app/conf", b"a=1\n");
    });
    let dev = oci.layer(Compress::Gzip(6), |w| {
        w.dir("usr/lib/python3/dist-packages/pytest")
            .file(
                "usr/lib/python3/dist-packages/pytest/__init__.py",
                &builder::noise(7000, 2),
            )
            .file(
                "usr/lib/python3/dist-packages/pytest/main.py",
                &builder::noise(5000, 3),
            )
            .file("app/conf", b"a=1\ndebug=1\n");
        w.dir(&format!("{SITE}/pytest-8.0.0.dist-info"))
            .file(
                &format!("{SITE}/pytest-8.0.0.dist-info/METADATA"),
                PYTEST_METADATA.as_bytes(),
            )
            .file(
                &format!("{SITE}/pytest-8.0.0.dist-info/RECORD"),
                PYTEST_RECORD.as_bytes(),
            );
        w.dir("usr/bin")
            .file("usr/bin/gdb", &builder::noise(4000, 4));
        w.dir("var/lib/dpkg/info")
            .file("var/lib/dpkg/status", STATUS_DEV.as_bytes())
            .file(
                "var/lib/dpkg/info/gdb.list",
                b"/.\n/usr\n/usr/bin\n/usr/bin/gdb\n",
            );
    });
    oci.image("prod", &[&base, &app], "linux/amd64");
    oci.image("dev", &[&base, &app, &dev], "linux/amd64");
    let layout = oci.finish();
    (
        format!("{}:prod", oci_ref(&layout)),
        format!("{}:dev", oci_ref(&layout)),
    )
}

fn oci_ref(p: &std::path::Path) -> String {
    oci(p)
}

#[test]
fn a_dev_image_adds_its_layer_and_files_exactly() {
    let r = Run::new();
    let (prod, dev) = prod_dev(&r.path("pd"));
    let v = r.json(&["diff", &prod, &dev]);
    assert_eq!(
        (v["added_layers"].as_u64(), v["shared_layers"].as_u64()),
        (Some(1), Some(2))
    );
    let meta = (PYTEST_METADATA.len() + PYTEST_RECORD.len()) as u64;
    let status = (STATUS_DEV.len() + 30) as u64; // the new status and gdb.list (30 bytes)
    assert_eq!(v["adds"]["files"], 7000 + 5000 + 12 + 4000 + meta + status);
    let statuses: Vec<&str> = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["shared", "shared", "only_in_target"]);
    let f = &v["files"];
    assert_eq!(
        f["added"],
        serde_json::json!({"files": 6, "bytes": 12000 + 4000 + meta + 30})
    );
    assert_eq!(f["changed"]["files"], 2, "app/conf and the dpkg status");
    assert_eq!(f["removed"]["files"], 0);
    // Packages, by name, version and installed bytes.
    let p = &v["packages"];
    let changes: Vec<(&str, &str, &str, u64)> = p["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["ecosystem"].as_str().unwrap(),
                c["name"].as_str().unwrap(),
                c["target_version"].as_str().unwrap(),
                c["target_bytes"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("python", "pytest", "8.0.0", 12000 + meta),
            ("deb", "gdb", "13.1-3", 4000)
        ]
    );
    assert_eq!(p["changes"][0]["change"], "added");
    // What no package explains: app/conf's 8 more bytes and the dpkg database.
    assert_eq!(
        p["unexplained"],
        f["delta"].as_i64().unwrap() - (12000 + meta + 4000) as i64
    );
    let dir = f["dirs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == "/usr/lib")
        .unwrap();
    assert_eq!(dir["delta"], 12000 + meta, "pytest and its dist-info");
    assert_eq!(
        f["top"][0]["path"],
        "/usr/lib/python3/dist-packages/pytest/__init__.py"
    );
    assert_eq!(f["top"][0]["layer"], 3);
    let conf = f["top"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == "/app/conf")
        .unwrap();
    assert_eq!(conf["what"], serde_json::json!(["content", "size"]));
    // The reverse diff reports them removed.
    let back = r.json(&["diff", &dev, &prod]);
    assert_eq!(
        back["files"]["removed"],
        serde_json::json!({"files": 6, "bytes": 12000 + 4000 + meta + 30})
    );
    let removed: Vec<(&str, &str)> = back["packages"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["change"].as_str().unwrap()))
        .collect();
    assert_eq!(removed, [("pytest", "removed"), ("gdb", "removed")]);
    assert_eq!(back["added_layers"], 0);
    assert_eq!(back["layers"][2]["status"], "only_in_base");
}

#[test]
fn a_whiteout_and_an_opaque_directory_in_the_target_are_removals() {
    let r = Run::new();
    // app-dev whites out app/config.yaml and makes usr/lib opaque (hiding libbig.so).
    let v = r.json(&["diff", &fam("app"), &fam("app-dev"), "--only", "files"]);
    let removed: Vec<(&str, u64)> = v["files"]["top"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"] == "removed")
        .map(|c| {
            (
                c["path"].as_str().unwrap(),
                c["base_bytes"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        removed.contains(&("/app/config.yaml", 11)),
        "whiteout: {removed:?}"
    );
    assert!(
        removed.contains(&("/usr/lib/libbig.so", 120_000)),
        "opaque: {removed:?}"
    );
    assert!(v["layers"].is_null(), "--only files");
}

#[test]
fn a_recompressed_image_and_another_transport_diff_as_no_change() {
    let r = Run::new();
    let v = r.json(&["diff", &fam("worker"), &fam("rebuilt")]);
    assert_eq!(v["differs"], false);
    assert_eq!(v["files"]["changed"]["files"], 0);
    assert_eq!(v["layers"][0]["status"], "same_content");
    assert_eq!(
        v["packages"]["changes"],
        serde_json::json!([]),
        "no package changed"
    );
    let out = r.run(&["diff", "--exit-code", &fam("worker"), &fam("rebuilt")]);
    assert_eq!(out.status.code(), Some(0));
    let out = r.run(&["diff", "--exit-code", &fam("app"), &fam("app-dev")]);
    assert_eq!(out.status.code(), Some(1), "differs: exit 1");
    // The same image through another transport.
    let fam_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/family");
    builder::docker_archive(&fam_dir, &["app"], &r.path("app.tar"));
    let v = r.json(&[
        "diff",
        &fam("app"),
        &format!("docker-archive:{}", r.path("app.tar").display()),
    ]);
    assert_eq!(v["differs"], false);
    assert_eq!(v["shared_layers"], 3);
}

fn out(args: &[&str]) -> String {
    let r = Run::new();
    let o = r
        .cmd()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn diff_snapshots() {
    let (a, b) = ("oci:fixtures/family:app", "oci:fixtures/family:app-dev");
    insta::assert_snapshot!("diff_table", out(&["diff", a, b]));
    insta::assert_snapshot!(
        "diff_markdown",
        out(&["diff", "--format", "markdown", a, b])
    );
    insta::assert_snapshot!("diff_json", out(&["diff", "--format", "json", a, b]));
}

/// Two deep trees: a file 32,000 levels down against 4,000 nested
/// directories holding another. The file delta is exact; the directory
/// roll-up lists what it reads.
#[test]
fn diff_of_two_deep_trees_is_exact_and_bounded() {
    let r = Run::new();
    let deep = builder::one_layer_image(&r.path("deep"), "deep", Compress::None, |w| {
        builder::deep_file(w, 32_000, b"deep")
    });
    let nested = builder::one_layer_image(&r.path("nested"), "nested", Compress::None, |w| {
        builder::nested_dirs(w, 4_000, Some(b"bottom"))
    });
    let v = r.json_within(64 << 10, &["diff", &deep, &nested, "--only", "files"]);
    let f = &v["files"];
    assert_eq!(f["added"], serde_json::json!({"files": 1, "bytes": 6}));
    assert_eq!(f["removed"], serde_json::json!({"files": 1, "bytes": 4}));
    let dirs: Vec<(&str, i64)> = f["dirs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["path"].as_str().unwrap(), d["delta"].as_i64().unwrap()))
        .collect();
    assert_eq!(dirs, [("/", 2), ("/d", 2), ("/d/d", 2)]);
}

/// 2,000 added files in 2,000 directories: the 10 directories that
/// changed most are listed, the others counted.
#[test]
fn diff_lists_the_directories_that_changed_most_and_counts_the_others() {
    let r = Run::new();
    let base = builder::one_layer_image(&r.path("base"), "base", Compress::None, |w| {
        w.file("keep", b"k");
    });
    let target = builder::one_layer_image(&r.path("target"), "target", Compress::None, |w| {
        for i in 0..2_000 {
            w.file(&format!("d{i:04}/f"), &vec![b'x'; i + 1]);
        }
    });
    let v = r.json(&["diff", &base, &target, "--only", "files", "--depth", "1"]);
    let f = &v["files"];
    assert_eq!(f["added"]["files"], 2_000);
    let dirs = f["dirs"].as_array().unwrap();
    assert_eq!(dirs.len(), 10);
    assert_eq!(dirs[0]["path"], "/");
    assert_eq!(dirs[1]["path"], "/d1999");
    assert_eq!(f["dirs_more"], 2_001 - 10);
}
