//! `strata diff`: layers and files of a prod/dev pair, exactly; whiteouts and
//! opaque directories as removals; recompression and transports as no change.

use super::builder::{self, Compress, OciLayout};
use super::*;

const FAMILY: &str = concat!("oci:", env!("CARGO_MANIFEST_DIR"), "/fixtures/family");

fn fam(name: &str) -> String {
    format!("{FAMILY}:{name}")
}

/// prod = base + app; dev = prod + a layer with pytest files and a bigger config.
fn prod_dev(dir: &std::path::Path) -> (String, String) {
    let mut oci = OciLayout::new(dir);
    let base = oci.layer(Compress::Gzip(6), |w| {
        w.dir("etc").file("etc/os-release", b"ID=test\n");
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
    assert_eq!(v["adds"]["files"], 7000 + 5000 + 12);
    let statuses: Vec<&str> = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["shared", "shared", "only_in_target"]);
    let f = &v["files"];
    assert_eq!(f["added"], serde_json::json!({"files": 2, "bytes": 12000}));
    assert_eq!(f["changed"], serde_json::json!({"files": 1, "bytes": 12}));
    assert_eq!(f["removed"]["files"], 0);
    assert_eq!(f["delta"], 12000 + 12 - 4);
    let dir = f["dirs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["path"] == "/usr/lib")
        .unwrap();
    assert_eq!(dir["delta"], 12000);
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
        serde_json::json!({"files": 2, "bytes": 12000})
    );
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
