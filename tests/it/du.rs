//! `strata du`: the merged filesystem rolled up by directory, checked by hand
//! on an image with every overlay edge, and identical across transports.

use super::builder::{self, Compress, OciLayout};
use super::registry_server::Registry;
use super::*;

/// Three layers with a whiteout, an opaque directory, a file replaced by a
/// directory, an overwrite and a hard link. What survives, by hand:
/// etc/keep 1500 (#3), opq/new 700 (#2), swap/inner 800 (#2), data/f 6000
/// (#1), data/link (a hard link: no bytes of its own) = 9000 bytes in 4 files.
fn edge_image(dir: &std::path::Path) -> std::path::PathBuf {
    let mut oci = OciLayout::new(dir);
    let one = oci.layer(Compress::Gzip(6), |w| {
        w.dir("etc").file("etc/keep", &builder::noise(1000, 1));
        w.dir("gone")
            .file("gone/a", &builder::noise(2000, 2))
            .file("gone/b", &builder::noise(3000, 3));
        w.dir("opq").file("opq/old", &builder::noise(4000, 4));
        w.file("swap", &builder::noise(5000, 5));
        w.dir("data")
            .file("data/f", &builder::noise(6000, 6))
            .hardlink("data/link", "data/f");
    });
    let two = oci.layer(Compress::Gzip(6), |w| {
        w.whiteout("gone");
        w.dir("opq")
            .opaque("opq")
            .file("opq/new", &builder::noise(700, 7));
        w.dir("swap").file("swap/inner", &builder::noise(800, 8));
    });
    let three = oci.layer(Compress::None, |w| {
        w.dir("etc").file("etc/keep", &builder::noise(1500, 9));
    });
    oci.image("edge", &[&one, &two, &three], "linux/amd64");
    oci.finish()
}

fn child<'a>(node: &'a Value, path: &str) -> &'a Value {
    node["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["path"] == path)
        .unwrap_or_else(|| panic!("no {path} in {node}"))
}

#[test]
fn du_rolls_up_the_merged_filesystem_as_computed_by_hand() {
    let r = Run::new();
    let layout = edge_image(&r.path("edge"));
    let v = r.json(&["du", &format!("{}:edge", oci(&layout)), "--depth", "1"]);
    let tree = &v["tree"];
    assert_eq!(
        (tree["bytes"].as_u64(), tree["files"].as_u64()),
        (Some(9000), Some(4))
    );
    let order: Vec<&str> = tree["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["/data", "/etc", "/swap", "/opq"],
        "biggest first; /gone is deleted"
    );
    for (path, bytes, files, layer) in [
        ("/data", 6000, 1, 1),
        ("/etc", 1500, 1, 3),
        ("/swap", 800, 1, 2),
        ("/opq", 700, 1, 2),
    ] {
        let c = child(tree, path);
        assert_eq!(c["bytes"], bytes, "{path}");
        assert_eq!(c["files"], files, "{path}");
        assert_eq!(
            c["by_layer"],
            serde_json::json!([{"layer": layer, "bytes": bytes}]),
            "{path}"
        );
        assert_eq!(
            c["kind"], "dir",
            "{path}: a file replaced by a directory is a directory"
        );
    }
    // Where the root's bytes come from: layer 1 6000, layer 2 1500, layer 3 1500.
    assert_eq!(
        tree["by_layer"],
        serde_json::json!([{"layer": 1, "bytes": 6000}, {"layer": 2, "bytes": 1500}, {"layer": 3, "bytes": 1500}])
    );
}

#[test]
fn du_of_one_layer_a_subtree_and_a_missing_path() {
    let r = Run::new();
    let layout = edge_image(&r.path("edge"));
    let reference = format!("{}:edge", oci(&layout));
    let v = r.json(&["du", &reference, "--layer", "2"]);
    assert_eq!(v["layer"]["layer"], 2);
    assert_eq!(
        v["tree"]["bytes"], 1500,
        "opq/new + swap/inner; whiteouts add nothing"
    );
    let digest = v["layers"][0]["digest"].as_str().unwrap().to_owned();
    let v = r.json(&["du", &reference, "--layer", &digest[..20]]);
    assert_eq!(
        v["tree"]["bytes"],
        12_000 + 4000 + 5000,
        "layer 1 alone, hard link once"
    );
    let v = r.json(&["du", &reference, "/data"]);
    assert_eq!(v["tree"]["path"], "/data");
    assert_eq!(child(&v["tree"], "/data/link")["bytes"], 0);
    let line = r.fails(&["du", &reference, "/gone"]);
    assert!(line.contains("no /gone in the image"), "{line}");
    let line = r.fails(&["du", &reference, "--layer", "9"]);
    assert!(line.contains("has no layer 9; it has 3"), "{line}");
    let family = concat!("oci:", env!("CARGO_MANIFEST_DIR"), "/fixtures/family");
    let line = r.fails(&["du", family]);
    assert!(
        line.contains("takes one image; this reference names 4"),
        "{line}"
    );
}

/// Everything but the first line (the image name differs per transport).
fn body(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().skip(1).collect::<Vec<_>>().join("\n")
}

#[test]
fn du_is_identical_across_oci_archives_and_the_registry() {
    let r = Run::new();
    let layout = edge_image(&r.path("edge"));
    builder::oci_archive(&layout, &r.path("edge.oci.tar"));
    builder::docker_archive(&layout, &["edge"], &r.path("edge.docker.tar"));
    let reg = Registry::start(false);
    reg.push(&layout, "edge", "edge/img:1", false);
    let refs = [
        format!("{}:edge", oci(&layout)),
        format!("oci-archive:{}:edge", r.path("edge.oci.tar").display()),
        format!(
            "docker-archive:{}:edge:latest",
            r.path("edge.docker.tar").display()
        ),
        format!("docker://{}/edge/img:1", reg.host),
    ];
    for args in [
        &["--depth", "3"][..],
        &["--format", "json"],
        &["--layer", "2"],
    ] {
        let outputs: Vec<String> = refs
            .iter()
            .map(|reference| {
                let out = r
                    .cmd()
                    .arg("du")
                    .arg(reference)
                    .args(args)
                    .arg("--no-cache")
                    .output()
                    .unwrap();
                let text = body(&out);
                // JSON: drop the image name line.
                text.lines()
                    .filter(|l| !l.trim_start().starts_with("\"image\""))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect();
        for (reference, o) in refs.iter().zip(&outputs).skip(1) {
            assert_eq!(&outputs[0], o, "{reference} {args:?}");
        }
    }
}

fn fixture_du(args: &[&str]) -> String {
    let r = Run::new();
    let out = r
        .cmd()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("du")
        .arg("oci:fixtures/family:app-dev")
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
fn du_table_snapshot() {
    insta::assert_snapshot!(fixture_du(&[]));
}

#[test]
fn du_markdown_snapshot() {
    insta::assert_snapshot!(fixture_du(&["--format", "markdown", "--depth", "1"]));
}

#[test]
fn du_json_snapshot() {
    insta::assert_snapshot!(fixture_du(&["--format", "json", "--depth", "1", "--bytes"]));
}

/// Every file under `dir` whose name ends with `suffix`.
pub fn files_ending(dir: &std::path::Path, suffix: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn a_warm_footprint_reads_summaries_only_and_du_rescans_a_missing_index() {
    let r = Run::new();
    let layout = edge_image(&r.path("edge"));
    let reference = format!("{}:edge", oci(&layout));
    let cold = r.json(&["footprint", &reference]);
    let indexes = files_ending(&r.cache(), ".idx");
    assert_eq!(indexes.len(), 3, "one index per layer in the cache");
    for p in &indexes {
        std::fs::remove_file(p).unwrap();
    }
    assert_eq!(
        r.json(&["footprint", &reference]),
        cold,
        "summaries alone answer"
    );
    let v = r.json(&["du", &reference]);
    assert_eq!(v["tree"]["bytes"], 9000);
    assert_eq!(
        files_ending(&r.cache(), ".idx").len(),
        3,
        "du scanned again"
    );
    // A summary edited on disk is not trusted: the layer is scanned again,
    // and the run says so once.
    for p in files_ending(&r.cache(), ".sum") {
        let mut bytes = std::fs::read(&p).unwrap();
        bytes[2] ^= 0x55;
        std::fs::write(&p, bytes).unwrap();
    }
    let out = r.run(&["footprint", &reference, "--format", "json"]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, cold);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("3 damaged entries"), "{stderr}");
}

/// The children of a JSON tree node.
fn children(node: &Value) -> &Vec<Value> {
    node["children"].as_array().unwrap()
}

/// 400 files with 60,000-byte names (24 MB of names): du lists the 20
/// biggest with their names cut at the display cap, and the rest exactly.
#[test]
fn du_of_files_with_60_kb_names_lists_the_top_cut_and_counts_the_rest_exactly() {
    let r = Run::new();
    let reference = builder::one_layer_image(&r.path("long"), "long", Compress::None, |w| {
        builder::long_names(w, 400, 60_000)
    });
    let v = r.json_within(64 << 10, &["du", &reference]);
    let d = child(&v["tree"], "/d");
    assert_eq!(
        (d["bytes"].as_u64(), d["files"].as_u64()),
        (Some(400), Some(400))
    );
    assert_eq!(children(d).len(), 20);
    assert_eq!(
        d["more"],
        serde_json::json!({"entries": 380, "bytes": 380, "files": 380})
    );
    let mut paths: Vec<&str> = children(d)
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect();
    for p in &paths {
        assert!(
            p.len() < 300 && p.starts_with("/d/nnn") && p.contains(" bytes #"),
            "{p}"
        );
    }
    paths.dedup();
    assert_eq!(paths.len(), 20, "cut names stay distinct");
}

/// 20,000 one-byte files in one directory: the top 20 listed, the rest summed.
#[test]
fn du_of_a_directory_of_20_000_files_lists_20_and_sums_the_rest() {
    let r = Run::new();
    let reference = builder::one_layer_image(&r.path("flat"), "flat", Compress::None, |w| {
        builder::flat_files(w, 20_000)
    });
    for args in [&["du", &reference][..], &["du", &reference, "--layer", "1"]] {
        let v = r.json(args);
        let d = child(&v["tree"], "/d");
        assert_eq!(children(d).len(), 20, "{args:?}");
        assert_eq!(d["more"]["entries"], 19_980);
        assert_eq!(d["more"]["bytes"], 19_980);
        assert_eq!(v["tree"]["bytes"], 20_000);
    }
    let text = String::from_utf8(r.run(&["du", &reference]).stdout).unwrap();
    assert!(text.contains("… 19980 more"), "{text}");
    assert!(text.lines().count() < 40, "{text}");
}

/// One file 32,000 components deep (a 64 KB path): `du --depth 8000` lists
/// the deepest level a person reads (32), the file's bytes counted at each.
#[test]
fn du_of_a_file_32_000_levels_deep_lists_32_levels_without_overflowing() {
    let r = Run::new();
    let reference = builder::one_layer_image(&r.path("deep"), "deep", Compress::None, |w| {
        builder::deep_file(w, 32_000, b"deep")
    });
    let v = r.json(&["du", &reference, "--depth", "8000"]);
    assert_eq!(v["depth"], 32, "the depth is capped");
    let mut node = &v["tree"];
    let mut levels = 0;
    while let Some(c) = children(node).first() {
        assert_eq!(c["bytes"], 4);
        assert!(c["path"].as_str().unwrap().len() <= 4096);
        node = c;
        levels += 1;
    }
    assert_eq!(levels, 32);
    let text = r.run(&["du", &reference, "--depth", "8000"]);
    assert!(text.status.success());
    assert!(text.stdout.len() < 64 << 10, "{}", text.stdout.len());
}
