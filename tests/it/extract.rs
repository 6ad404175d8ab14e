//! `strata cat` and `strata export`: bytes taken out of an image equal the
//! bytes its layer tars hold, a merged export reads back as the same tree,
//! links are followed within bounds, and a terminal never gets a tar or
//! binary bytes unasked.

use std::io::Read;
use std::path::Path;

use super::builder::{self, noise, Compress, Layer, OciLayout};
use super::*;

/// Three layers: symlinks (merged-usr style, relative, absolute, a loop), a
/// hard link, a whiteout, an opaque directory, a file replaced by a
/// directory and an overwrite.
fn image(dir: &Path) -> (String, Vec<Layer>) {
    let mut oci = OciLayout::new(dir);
    let one = oci.layer(Compress::Gzip(6), |w| {
        w.dir("usr")
            .dir("usr/lib")
            .file("usr/lib/os-release", b"ID=strata\n");
        w.symlink("lib", "usr/lib");
        w.dir("etc")
            .file("etc/keep", &noise(1000, 1))
            .symlink("etc/os-release", "../usr/lib/os-release")
            .symlink("etc/abs", "/lib/os-release")
            .symlink("etc/loop-a", "loop-b")
            .symlink("etc/loop-b", "loop-a");
        w.dir("gone").file("gone/a", &noise(2000, 2));
        w.dir("opq").file("opq/old", &noise(4000, 4));
        w.file("swap", &noise(5000, 5));
        w.dir("data")
            .file("data/f", &noise(6000, 6))
            .hardlink("data/link", "data/f");
    });
    let two = oci.layer(Compress::Zstd, |w| {
        w.whiteout("gone");
        w.dir("opq").opaque("opq").file("opq/new", &noise(700, 7));
        w.dir("swap").file("swap/inner", &noise(800, 8));
    });
    let three = oci.layer(Compress::None, |w| {
        w.dir("etc").file("etc/keep", &noise(1500, 9));
    });
    oci.image("x", &[&one, &two, &three], "linux/amd64");
    let layout = oci.finish();
    (format!("{}:x", oci_ref(&layout)), vec![one, two, three])
}

fn oci_ref(layout: &Path) -> String {
    oci(layout)
}

/// Runs and expects exit 0; returns stdout.
fn ok(r: &Run, args: &[&str]) -> Vec<u8> {
    let out = r.run(args);
    assert!(
        out.status.success(),
        "strata {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The bytes of `path` in a layer's tar, read with the tar crate.
fn in_tar(layer: &Layer, path: &str) -> Vec<u8> {
    let blob = std::fs::read(&layer.path).unwrap();
    let tar: Box<dyn Read> = match layer.media_type.as_str() {
        builder::GZIP => Box::new(flate2::read::GzDecoder::new(&blob[..])),
        builder::ZSTD => Box::new(zstd::stream::read::Decoder::new(&blob[..]).unwrap()),
        _ => Box::new(&blob[..]),
    };
    let mut archive = tar::Archive::new(tar);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_str() == Some(path) {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            return bytes;
        }
    }
    panic!("no {path} in {}", layer.path.display())
}

#[test]
fn cat_writes_a_file_as_its_layer_tar_holds_it_merged_or_from_one_layer() {
    let r = Run::new();
    let (image, layers) = image(&r.path("img"));
    assert_eq!(
        ok(&r, &["cat", &image, "/etc/keep"]),
        in_tar(&layers[2], "etc/keep")
    );
    assert_eq!(
        ok(&r, &["cat", &image, "etc/keep", "--layer", "1"]),
        in_tar(&layers[0], "etc/keep")
    );
    assert_eq!(ok(&r, &["cat", &image, "/opq/new"]), noise(700, 7));
    let digest = &layers[1].digest;
    assert_eq!(
        ok(
            &r,
            &["cat", &image, "/swap/inner", "--layer", &digest[..16]]
        ),
        noise(800, 8)
    );
}

#[test]
fn cat_follows_symbolic_links_as_a_container_would_and_hard_links_to_their_target() {
    let r = Run::new();
    let (image, _) = image(&r.path("img"));
    // `..` after a link leaves where the link led (/usr/lib), as the kernel does.
    for path in [
        "/etc/os-release",
        "/etc/abs",
        "/lib/os-release",
        "/lib/../../etc/os-release",
    ] {
        assert_eq!(ok(&r, &["cat", &image, path]), b"ID=strata\n", "{path}");
    }
    let line = r.fails(&["cat", &image, "/lib/../etc/os-release"]);
    assert!(line.contains("no such file"), "{line}");
    assert_eq!(ok(&r, &["cat", &image, "/data/link"]), noise(6000, 6));
    let line = r.fails(&["cat", &image, "/etc/loop-a"]);
    assert!(line.contains("too many levels of symbolic links"), "{line}");
}

#[test]
fn cat_of_a_missing_deleted_or_hidden_path_is_one_line_and_exit_2() {
    let r = Run::new();
    let (image, _) = image(&r.path("img"));
    for (path, why) in [
        ("/nothing/here", "no such file or directory"),
        ("/gone/a", "no such file or directory"),
        ("/opq/old", "no such file or directory"),
        ("/etc", "is a directory"),
        ("/etc/keep/below", "not a directory"),
    ] {
        let line = r.fails(&["cat", &image, path]);
        assert!(line.contains(why) && line.contains(path), "{path}: {line}");
    }
    // In its own layer, the deleted file is still there.
    assert_eq!(
        ok(&r, &["cat", &image, "/gone/a", "--layer", "1"]),
        noise(2000, 2)
    );
    let line = r.fails(&["cat", &image, "/opq/new", "--layer", "1"]);
    assert!(line.contains("no such file"), "{line}");
}

#[test]
fn export_of_a_layer_hashes_to_its_diff_id() {
    let r = Run::new();
    let (image, layers) = image(&r.path("img"));
    for (i, layer) in layers.iter().enumerate() {
        let out = r.path(&format!("l{i}.tar"));
        let n = (i + 1).to_string();
        ok(
            &r,
            &["export", &image, "--layer", &n, "-o", out.to_str().unwrap()],
        );
        assert_eq!(
            builder::sha256(&std::fs::read(&out).unwrap()),
            layer.diff_id
        );
    }
    let stdout = ok(&r, &["export", &image, "--layer", "2", "-o", "-"]);
    assert_eq!(builder::sha256(&stdout), layers[1].diff_id);
}

/// A du tree without what names layers (a re-read image has one).
fn shape(node: &Value) -> Value {
    let mut node = node.clone();
    let obj = node.as_object_mut().unwrap();
    obj.remove("by_layer");
    if let Some(children) = obj.get_mut("children").and_then(Value::as_array_mut) {
        for c in children.iter_mut() {
            *c = shape(c);
        }
    }
    node
}

#[test]
fn a_merged_export_read_back_as_a_one_layer_image_has_the_same_tree_and_no_deleted_path() {
    let r = Run::new();
    let (image, _) = image(&r.path("img"));
    let out = r.path("merged.tar");
    ok(&r, &["export", &image, "-o", out.to_str().unwrap()]);
    let tar = std::fs::read(&out).unwrap();
    let mut names = Vec::new();
    let mut archive = tar::Archive::new(&tar[..]);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        if name == "etc/keep" {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).unwrap();
            assert_eq!(bytes, noise(1500, 9), "the last writer's");
        }
        names.push(name);
    }
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "one entry per path: {names:?}");
    assert!(
        names.contains(&"swap/".to_owned()),
        "a directory now: {names:?}"
    );
    for gone in ["gone", "gone/a", "opq/old"] {
        assert!(
            !names.iter().any(|n| n.trim_end_matches('/') == gone),
            "{gone} in {names:?}"
        );
    }
    assert!(!names.iter().any(|n| n.contains(".wh.")), "{names:?}");
    // Wrapped as a one-layer image, du reads the same tree.
    let mut oci = OciLayout::new(&r.path("again"));
    let layer = oci.raw_layer(&tar);
    oci.image("x", &[&layer], "linux/amd64");
    let again = format!("{}:x", oci_ref(&oci.finish()));
    let before = r.json(&["du", &image, "--depth", "9"]);
    let after = r.json(&["du", &again, "--depth", "9"]);
    assert_eq!(shape(&before["tree"]), shape(&after["tree"]));
    assert_eq!(ok(&r, &["cat", &again, "/lib/os-release"]), b"ID=strata\n");
}

#[test]
fn export_of_a_layer_that_does_not_match_its_diff_id_fails_and_leaves_no_file() {
    let r = Run::new();
    let mut oci = OciLayout::new(&r.path("bad"));
    let layer = oci.layer(Compress::Gzip(1), |w| {
        w.file("f", &noise(100_000, 3));
    });
    let mut config = OciLayout::config_for(&[&layer], "linux/amd64");
    config["rootfs"]["diff_ids"][0] = format!("sha256:{}", "0".repeat(64)).into();
    let mut desc = oci.manifest_with_config(&[&layer], &serde_json::to_vec(&config).unwrap());
    desc["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": "bad"});
    std::fs::write(
        r.path("bad/index.json"),
        serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": [desc]})).unwrap(),
    )
    .unwrap();
    let image = format!("{}:bad", oci_ref(&r.path("bad")));
    let export_to = |out: &Path| {
        r.fails(&[
            "export",
            &image,
            "--layer",
            "1",
            "-o",
            out.to_str().unwrap(),
        ])
    };
    let out = r.path("l.tar");
    let line = export_to(&out);
    assert!(line.contains("diff_id mismatch"), "{line}");
    assert!(!out.exists(), "the file strata wrote is removed");
    let line = export_to(&r.path(""));
    assert!(line.contains("is a directory"), "{line}");
}

/// Runs strata with its stdout on a terminal (`script` gives it a pty):
/// the exit code and what the terminal got.
fn on_terminal(r: &Run, args: &[&str]) -> (Option<i32>, String) {
    let strata = assert_cmd::cargo::cargo_bin("strata");
    let quoted: Vec<String> = std::iter::once(strata.display().to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .map(|a| format!("'{a}'"))
        .collect();
    let out = std::process::Command::new("script")
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .env("STRATA_CACHE_DIR", r.cache())
        .env("NO_COLOR", "1")
        .output()
        .expect("script (util-linux) runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_terminal_gets_text_but_no_binary_bytes_or_tar_unless_forced() {
    let r = Run::new();
    let (image, _) = image(&r.path("img"));
    let (code, shown) = on_terminal(&r, &["cat", &image, "/etc/os-release"]);
    assert_eq!(code, Some(0), "{shown}");
    assert!(shown.contains("ID=strata"), "{shown}");
    let (code, shown) = on_terminal(&r, &["cat", &image, "/data/f"]);
    assert_eq!(code, Some(2), "{shown}");
    assert!(
        shown.contains("is binary") && shown.contains("--force"),
        "{shown}"
    );
    assert_eq!(shown.trim_end().lines().count(), 1, "{shown}");
    let (code, shown) = on_terminal(&r, &["cat", &image, "/data/f", "--force"]);
    assert_eq!(code, Some(0));
    assert!(shown.len() >= 6000, "{} bytes", shown.len());
    let (code, shown) = on_terminal(&r, &["export", &image, "-o", "-"]);
    assert_eq!(code, Some(2), "{shown}");
    assert!(shown.contains("terminal"), "{shown}");
}
