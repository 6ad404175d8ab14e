//! `strata layers` and `strata audit`: dive's own figures on dive's own image,
//! strata's corrected waste by hand, the same figures whatever the transport.

use super::builder::{self, Compress, OciLayout};
use super::local_sources::skopeo;
use super::*;

fn dive_image() -> String {
    format!("docker-archive:{}", dive("test-docker-image.tar"))
}

#[test]
fn dive_compatible_figures_equal_dives_table_exactly() {
    let r = Run::new();
    let v = r.json(&["layers", &dive_image()]);
    let d = &v["dive"];
    assert_eq!(d["efficiency"].as_f64(), Some(0.9844212134184309));
    assert_eq!(d["wasted_bytes"], 32025);
    assert_eq!(d["user_wasted_percent"].as_f64(), Some(0.4834911001404049));
    assert_eq!(d["size_bytes"], 1220598);
    assert_eq!(d["user_size_bytes"], 66237);
}

#[test]
fn strata_counts_every_copy_but_the_survivor_as_computed_by_hand() {
    let r = Run::new();
    let v = r.json(&["layers", &dive_image()]);
    // By hand, from Dockerfile.test-image: somefile1 is written (layer 4),
    // chmod-copied (5) and deleted with /root/example (10): both copies wasted;
    // somefile2 (6) and somefile3 (7) are deleted; /root/saved.txt (8) is
    // chmod-copied by layer 14, which survives: one copy wasted.
    let w = &v["waste"];
    assert_eq!(w["wasted_bytes"], 12810 + 6405 + 6405 + 6405);
    let top: Vec<(String, u64, Value)> = w["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["path"].as_str().unwrap().to_owned(),
                p["wasted"].as_u64().unwrap(),
                p["survives_in"].clone(),
            )
        })
        .collect();
    assert_eq!(
        top,
        [
            ("/root/example/somefile1.txt".to_owned(), 12810, Value::Null),
            ("/root/example/somefile2.txt".to_owned(), 6405, Value::Null),
            ("/root/example/somefile3.txt".to_owned(), 6405, Value::Null),
            ("/root/saved.txt".to_owned(), 6405, serde_json::json!(14)),
        ]
    );
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(
        layers[9]["deleted"],
        serde_json::json!({"files": 2, "bytes": 12810})
    );
    assert_eq!(
        layers[13]["modified"],
        serde_json::json!({"files": 1, "bytes": 6405})
    );
    assert_eq!(layers[3]["wasted_later"], 6405);
    assert_eq!(v["total"]["merged_files"], 1220598 - 32025);
}

/// The figures that do not depend on how the image is packed.
fn packing_free(v: &Value) -> Value {
    let layers: Vec<Value> = v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            serde_json::json!([
                l["files"],
                l["uncompressed"],
                l["added"],
                l["modified"],
                l["deleted"],
                l["wasted_later"],
                l["created_by"]
            ])
        })
        .collect();
    serde_json::json!({"layers": layers, "dive": v["dive"], "waste": v["waste"], "merged": v["total"]["merged_files"]})
}

#[test]
fn the_same_image_as_docker_archive_oci_archive_and_oci_layout_gives_the_same_figures() {
    let r = Run::new();
    let layout = r.path("layout");
    let archive = r.path("dive.oci.tar");
    skopeo(&dive_image(), &format!("oci:{}:dive", layout.display()));
    skopeo(
        &dive_image(),
        &format!("oci-archive:{}:dive", archive.display()),
    );
    let a = packing_free(&r.json(&["layers", &dive_image()]));
    let b = packing_free(&r.json(&["layers", &format!("{}:dive", oci(&layout))]));
    let c = packing_free(&r.json(&["layers", &format!("oci-archive:{}", archive.display())]));
    assert_eq!(a, b, "oci layout");
    assert_eq!(a, c, "oci-archive");
}

#[test]
fn a_file_written_then_deleted_is_wasted_and_the_deleting_layer_names_it() {
    let r = Run::new();
    let mut oci_layout = OciLayout::new(&r.path("w"));
    let big = builder::noise(10_000_000, 3);
    let one = oci_layout.layer(Compress::Gzip(1), |w| {
        w.dir("data")
            .file("data/model.bin", &big)
            .file("data/keep", b"k");
    });
    let two = oci_layout.layer(Compress::Gzip(1), |w| {
        w.whiteout("data/model.bin");
    });
    oci_layout.image("w", &[&one, &two], "linux/amd64");
    let reference = format!("{}:w", oci(&oci_layout.finish()));
    let v = r.json(&["layers", &reference]);
    assert_eq!(v["waste"]["wasted_bytes"], 10_000_000);
    assert_eq!(v["layers"][0]["wasted_later"], 10_000_000);
    assert_eq!(
        v["layers"][1]["deleted"],
        serde_json::json!({"files": 1, "bytes": 10_000_000})
    );
    let table = String::from_utf8(r.run(&["layers", &reference]).stdout).unwrap();
    assert!(table.contains("wasted 10MB"), "{table}");
    let a = r.json(&["audit", &reference, "--layer", "2"]);
    assert_eq!(
        a["deletes"],
        serde_json::json!([{"path": "/data/model.bin", "kind": "whiteout", "hidden_files": 1, "hidden_bytes": 10_000_000}])
    );
    let a = r.json(&["audit", &reference, "--layer", "1"]);
    assert_eq!(
        a["largest"][0],
        serde_json::json!({"path": "/data/model.bin", "bytes": 10_000_000, "survives": false})
    );
}

fn out(args: &[&str]) -> String {
    let r = Run::new();
    let o = r.run(args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout)
        .unwrap()
        .replace(env!("CARGO_MANIFEST_DIR"), "[ROOT]")
}

#[test]
fn layers_table_snapshot() {
    insta::assert_snapshot!(out(&["layers", &dive_image()]));
}

#[test]
fn layers_markdown_snapshot() {
    insta::assert_snapshot!(out(&["layers", "--format", "markdown", &dive_image()]));
}

#[test]
fn layers_json_snapshot() {
    insta::assert_snapshot!(out(&["layers", "--format", "json", &dive_image()]));
}

#[test]
fn audit_snapshots() {
    insta::assert_snapshot!(
        "audit_table",
        out(&["audit", &dive_image(), "--layer", "8"])
    );
    insta::assert_snapshot!(
        "audit_markdown",
        out(&[
            "audit",
            "--format",
            "markdown",
            &dive_image(),
            "--layer",
            "10"
        ])
    );
    insta::assert_snapshot!(
        "audit_json",
        out(&[
            "audit",
            "--format",
            "json",
            &dive_image(),
            "--layer",
            "14",
            "--depth",
            "1"
        ])
    );
}

#[test]
fn audit_names_the_packages_a_layer_installs() {
    let r = Run::new();
    let (_, dev) = super::diff::prod_dev(&r.path("pd"));
    let a = r.json(&["audit", &dev, "--layer", "3"]);
    let names: Vec<(&str, &str, &str)> = a["packages"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["ecosystem"].as_str().unwrap(),
                c["name"].as_str().unwrap(),
                c["change"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [("python", "pytest", "added"), ("deb", "gdb", "added")]
    );
    let base = r.json(&["audit", &dev, "--layer", "1"]);
    assert_eq!(base["packages"]["changes"][0]["name"], "bash");
}

/// The JSON list `key` of a report.
fn list<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key].as_array().unwrap()
}

/// A layer of 400 files with 60 kB names, and one of 20,000 files: audit's
/// lists keep their top 10, the roll-up its top 10 per directory with the
/// rest counted, every path cut at the display cap.
#[test]
fn audit_of_layers_of_many_or_long_named_files_keeps_its_top_and_counts_the_rest() {
    let r = Run::new();
    let long = builder::one_layer_image(&r.path("long"), "long", Compress::None, |w| {
        builder::long_names(w, 400, 60_000)
    });
    let flat = builder::one_layer_image(&r.path("flat"), "flat", Compress::None, |w| {
        builder::flat_files(w, 20_000)
    });
    for (reference, files) in [(&long, 400u64), (&flat, 20_000)] {
        let v = r.json_within(64 << 10, &["audit", reference, "--layer", "1"]);
        assert_eq!(list(&v, "largest").len(), 10);
        for f in list(&v, "largest") {
            assert!(f["path"].as_str().unwrap().len() < 300);
        }
        let d = &v["rollup"]["children"][0];
        assert_eq!(
            (d["path"].as_str(), d["files"].as_u64()),
            (Some("/d"), Some(files))
        );
        assert_eq!(d["children"].as_array().unwrap().len(), 10);
        assert_eq!(d["more"]["entries"], files - 10);
        let v = r.json(&["layers", reference]);
        assert_eq!(v["layers"][0]["added"]["files"], files);
    }
}

/// 4,000 directories each in the one before (a 8 KB path at the bottom):
/// layers, du and footprint give their figures; nothing grows with the depth.
#[test]
fn layers_du_and_footprint_of_4_000_nested_directories() {
    let r = Run::new();
    let reference = builder::one_layer_image(&r.path("nested"), "nested", Compress::None, |w| {
        builder::nested_dirs(w, 4_000, Some(b"bottom"))
    });
    let v = r.json(&["layers", &reference]);
    assert_eq!(v["layers"][0]["added"]["files"], 1);
    assert_eq!(v["total"]["merged_files"], 6);
    assert_eq!(v["dive"]["efficiency"], 1.0);
    let v = r.json(&["du", &reference]);
    assert_eq!(v["tree"]["bytes"], 6);
    assert_eq!(v["tree"]["children"][0]["children"][0]["path"], "/d/d");
    let v = r.json(&["footprint", &reference]);
    assert_eq!(v["images"][0]["total"]["files"], 6);
}

/// Issue 19.5: `--top N` limits the packages too (the rest counted).
#[test]
fn audit_top_limits_the_packages_like_every_other_section() {
    let r = Run::new();
    let layout = super::dev_images::deb(&r.path("deb"));
    let reference = format!("{}:deb", oci(&layout));
    let all = r.json(&["audit", &reference, "--layer", "2"]);
    assert_eq!(all["packages"]["changes"].as_array().unwrap().len(), 3);
    let a = r.json(&["audit", &reference, "--layer", "2", "--top", "1"]);
    let changes = a["packages"]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["name"], "gdb", "the biggest");
    assert_eq!(a["packages"]["changes_more"], 2);
    assert_eq!(
        a["packages"]["delta"], all["packages"]["delta"],
        "totals cover all"
    );
    let text = String::from_utf8(
        r.run(&["audit", &reference, "--layer", "2", "--top", "1"])
            .stdout,
    )
    .unwrap();
    assert!(text.contains("… 2 more"), "{text}");
    assert!(!text.contains("libexclusive1"), "{text}");
}
