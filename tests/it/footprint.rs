//! Footprint semantics on the builder's family, and one snapshot per format.

use super::builder::{self, Compress};
use super::*;

fn family_json(r: &Run) -> (builder::Family, Value) {
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let v = r.json(&["footprint", &oci(&fam.layout)]);
    (fam, v)
}

fn sizes(v: &Value) -> [u64; 3] {
    ["compressed", "uncompressed", "files"].map(|k| v[k].as_u64().unwrap())
}

#[test]
fn shared_plus_unique_is_each_images_total() {
    let r = Run::new();
    let (_, v) = family_json(&r);
    let images = v["images"].as_array().unwrap();
    assert_eq!(images.len(), 4);
    for image in images {
        let (t, s, u) = (
            sizes(&image["total"]),
            sizes(&image["shared"]),
            sizes(&image["unique"]),
        );
        for k in 0..3 {
            assert_eq!(s[k] + u[k], t[k], "{}", image["name"]);
        }
    }
    // app-dev's only unique layer is the dev layer; worker shares base and worker layer.
    let app = &images[0];
    assert_eq!(
        app["unique"]["compressed"], 0,
        "app's layers all appear in app-dev"
    );
}

#[test]
fn dedup_total_counts_each_distinct_layer_once() {
    let r = Run::new();
    let (_, v) = family_json(&r);
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(
        layers.len(),
        6,
        "base, libs, app, dev, worker, recompressed base"
    );
    let dedup: u64 = layers
        .iter()
        .map(|l| l["compressed"].as_u64().unwrap())
        .sum();
    assert_eq!(v["set"]["dedup_total"]["compressed"], dedup);
    let sum: u64 = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["total"]["compressed"].as_u64().unwrap())
        .sum();
    assert_eq!(v["set"]["sum_total"]["compressed"], sum);
    assert_eq!(v["set"]["saved"]["compressed"], sum - dedup);
    for l in layers {
        let expect_used = l["used_by"].as_u64().unwrap();
        let users = v["images"].as_array().unwrap().len() as u64;
        assert!(expect_used >= 1 && expect_used <= users);
    }
}

#[test]
fn a_recompressed_layer_is_reported_as_same_content() {
    let r = Run::new();
    let (fam, v) = family_json(&r);
    let same = v["same_content"].as_array().unwrap();
    assert_eq!(same.len(), 1);
    assert_eq!(same[0]["diff_id"], fam.base.diff_id.as_str());
    let digests: Vec<&str> = same[0]["digests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(
        digests.contains(&fam.base.digest.as_str())
            && digests.contains(&fam.recompressed.digest.as_str())
    );
    let table = String::from_utf8(r.run(&["footprint", &oci(&fam.layout)]).stdout).unwrap();
    assert!(table.contains("same content: 2 layers"), "{table}");
}

#[test]
fn files_counts_hard_links_once() {
    let r = Run::new();
    let mut oci_layout = builder::OciLayout::new(&r.path("hl"));
    let layer = oci_layout.layer(Compress::None, |w| {
        w.file("a", &[1u8; 5000])
            .hardlink("b", "a")
            .hardlink("c", "a");
    });
    oci_layout.image("hl", &[&layer], "linux/amd64");
    let v = r.json(&["footprint", &oci(&oci_layout.finish())]);
    assert_eq!(v["images"][0]["total"]["files"], 5000);
}

/// Replaces temp paths so snapshots are stable.
fn stable(text: &str, r: &Run) -> String {
    text.replace(&r.path("layout").display().to_string(), "[LAYOUT]")
}

#[test]
fn table_snapshot() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let out = r.run(&["footprint", &oci(&fam.layout)]);
    assert!(out.status.success());
    insta::assert_snapshot!(stable(&String::from_utf8(out.stdout).unwrap(), &r));
}

#[test]
fn table_bytes_snapshot() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let out = r.run(&[
        "footprint",
        "--bytes",
        "--measure",
        "files",
        &oci(&fam.layout),
    ]);
    insta::assert_snapshot!(stable(&String::from_utf8(out.stdout).unwrap(), &r));
}

#[test]
fn markdown_snapshot() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let out = r.run(&["footprint", "--format", "markdown", &oci(&fam.layout)]);
    insta::assert_snapshot!(stable(&String::from_utf8(out.stdout).unwrap(), &r));
}

#[test]
fn json_snapshot() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let out = r.run(&["footprint", "--format", "json", &oci(&fam.layout)]);
    insta::assert_snapshot!(stable(&String::from_utf8(out.stdout).unwrap(), &r));
}

/// fixtures/family is the builder's family, committed for the README demo.
/// Rebuild it with `STRATA_BLESS=1 cargo test --test it fixtures`.
#[test]
fn committed_fixtures_are_what_the_builder_writes() {
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/family");
    if std::env::var_os("STRATA_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(&committed);
        builder::family(&committed, Compress::Gzip(6));
        std::fs::remove_dir_all(committed.join("blobs/tmp")).ok();
    }
    let r = Run::new();
    let fresh = builder::family(&r.path("layout"), Compress::Gzip(6));
    let list = |root: &std::path::Path| -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_owned()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    out.push((
                        p.strip_prefix(root).unwrap().display().to_string(),
                        std::fs::read(&p).unwrap(),
                    ));
                }
            }
        }
        out.sort();
        out
    };
    assert!(
        list(&committed) == list(&fresh.layout),
        "fixtures/family is stale: rebuild with STRATA_BLESS=1"
    );
}

fn fair_shares_add_up(v: &Value) {
    for k in ["compressed", "uncompressed", "files"] {
        let sum: u64 = v["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["fair_share"][k].as_u64().unwrap())
            .sum();
        assert_eq!(sum, v["set"]["dedup_total"][k].as_u64().unwrap(), "{k}");
    }
}

#[test]
fn fair_shares_add_up_to_the_dedup_total_on_the_family() {
    let r = Run::new();
    let (_, v) = family_json(&r);
    fair_shares_add_up(&v);
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/family");
    fair_shares_add_up(&r.json(&["footprint", &format!("oci:{fixtures}")]));
}

#[test]
fn fair_shares_add_up_to_the_dedup_total_on_dives_archives() {
    let r = Run::new();
    let mut args = vec!["footprint".to_owned()];
    for f in [
        "test-docker-image.tar",
        "test-kaniko-image.tar",
        "test-oci-gzip-image.tar",
        "test-oci-uncompressed-image.tar",
        "test-oci-zstd-image.tar",
        "test-oci-estargz-image.tar",
    ] {
        let transport = if f.starts_with("test-oci") {
            "oci-archive"
        } else {
            "docker-archive"
        };
        args.push(format!("{transport}:{}", dive(f)));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let v = r.json(&args);
    fair_shares_add_up(&v);
}
