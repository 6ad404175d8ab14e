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

/// The images table's rows as (name, column -> cell), cells split on blanks.
fn image_rows(table: &str) -> Vec<(String, std::collections::HashMap<String, String>)> {
    let mut lines = table
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("IMAGE"));
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    lines
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            let row = header
                .iter()
                .cloned()
                .zip(cells.iter().map(|c| c.to_string()))
                .collect();
            (cells[0].to_owned(), row)
        })
        .collect()
}

/// A Podman service holding images of fixtures/family: (NAME, TAG) loads
/// `oci:fixtures/family:NAME` as TAG. None where podman cannot start.
pub fn podman_with(images: &[(&str, &str)]) -> Option<super::engine::Podman> {
    let podman = super::engine::Podman::start()?;
    let family = std::path::Path::new(super::engine::FAMILY);
    for (name, tag) in images {
        podman.load(family, name, tag);
    }
    Some(podman)
}

/// strata with `podman` as its only engine.
pub fn engine_cmd(r: &Run, podman: &super::engine::Podman) -> assert_cmd::Command {
    let mut c = r.cmd();
    c.env("DOCKER_HOST", podman.host())
        .env_remove("CONTAINER_HOST");
    c
}

/// Runs strata against `podman`, expects success; returns stdout.
pub fn engine_stdout(r: &Run, podman: &super::engine::Podman, args: &[&str]) -> String {
    let out = engine_cmd(r, podman).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Issue 19.3: an engine's layers have no compressed size, and footprint
/// showed SHARED `0B` beside UNIQUE `-`. By default the tables now use
/// uncompressed bytes and say so in one note; `--measure compressed` shows
/// `-` in every compressed-derived column of such an image, never `0B`.
#[test]
fn engine_images_are_measured_uncompressed_by_default_and_the_note_says_why() {
    let Some(podman) = podman_with(&[
        ("app", "localhost/fam/app:1"),
        ("worker", "localhost/fam/worker:1"),
    ]) else {
        return;
    };
    let family = std::path::Path::new(super::engine::FAMILY);
    let r = Run::new();
    let engine = |args: &[&str]| engine_stdout(&r, &podman, args);
    let (app, worker) = (
        "docker-daemon:localhost/fam/app:1",
        "docker-daemon:localhost/fam/worker:1",
    );
    let layout_app = format!("oci:{}:app", family.display());
    for refs in [vec![app, worker], vec![layout_app.as_str(), worker]] {
        let mut args = vec!["footprint", "--bytes"];
        args.extend(&refs);
        let table = engine(&args);
        let notes: Vec<&str> = table
            .lines()
            .filter(|l| l.starts_with("no compressed size for"))
            .collect();
        assert_eq!(
            notes,
            [format!(
                "no compressed size for {} (an engine keeps its layers uncompressed): the tables show uncompressed bytes (--measure picks another)",
                if refs[0] == app { format!("{app}, {worker}") } else { worker.to_owned() }
            )],
            "{table}"
        );
        assert!(
            table.contains("SHARED/UNIQUE/FAIR in uncompressed bytes"),
            "{table}"
        );
        let json: Value = {
            let mut args = args.clone();
            args.push("--format=json");
            serde_json::from_str(&engine(&args)).unwrap()
        };
        assert_eq!(json["measure"], "uncompressed");
        for ((name, row), image) in image_rows(&table)
            .iter()
            .zip(json["images"].as_array().unwrap())
        {
            assert_eq!(name, image["name"].as_str().unwrap());
            for (column, key) in [
                ("SHARED", "shared"),
                ("UNIQUE", "unique"),
                ("FAIR", "fair_share"),
            ] {
                assert_eq!(
                    row[column],
                    image[key]["uncompressed"].as_u64().unwrap().to_string(),
                    "{name} {column}: {table}"
                );
            }
        }
    }
    // Asked for compressed: every compressed-derived cell of an engine image is `-`.
    let table = engine(&["footprint", "--measure", "compressed", app, worker]);
    for (name, row) in image_rows(&table) {
        for column in ["COMPRESSED", "SHARED", "UNIQUE", "FAIR"] {
            assert_eq!(row[column], "-", "{name} {column}: {table}");
        }
    }
    assert!(
        table.contains(&format!(
            "no compressed size for {app}, {worker} (an engine keeps its layers uncompressed): compressed figures show `-`"
        )),
        "{table}"
    );
}
