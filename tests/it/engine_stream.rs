//! Engine exports scanned as they arrive: a Podman image whose layers are
//! larger than what stays in memory reads the same as its layout, cold and
//! warm, through the engine and through `podman save | strata … docker-archive:-`.

use std::path::Path;

use super::builder::{self, Compress, OciLayout};
use super::engine::{engine_cmd, json_ok, Podman};
use super::*;

/// Two layers of 1 MB and 600 kB of incompressible files, a small third.
fn big_layout(dir: &Path) -> std::path::PathBuf {
    let mut oci = OciLayout::new(dir);
    let base = oci.layer(Compress::Gzip(6), |w| {
        w.dir("usr/lib")
            .file("usr/lib/libbig.so", &builder::noise(1_000_000, 11))
            .file("usr/lib/libtwo.so", &builder::noise(20_000, 12));
    });
    let app = oci.layer(Compress::Gzip(6), |w| {
        w.dir("app")
            .file("app/server", &builder::noise(600_000, 13));
        w.whiteout("usr/lib/libtwo.so");
    });
    let small = oci.layer(Compress::Gzip(6), |w| {
        w.file("app/config.yaml", b"port: 8080\n");
    });
    oci.image("big", &[&base, &app, &small], "linux/amd64");
    oci.finish()
}

fn figures_of(v: &Value) -> (Value, Value, Value) {
    (
        v["images"][0]["layers"].clone(),
        v["images"][0]["total"]["uncompressed"].clone(),
        v["images"][0]["total"]["files"].clone(),
    )
}

#[test]
fn an_export_with_large_layers_is_scanned_as_it_arrives_cold_and_warm() {
    let Some(podman) = Podman::start() else {
        return;
    };
    let r = Run::new();
    let layout = big_layout(&r.path("layout"));
    podman.load(&layout, "big", "localhost/big:1");
    let from_layout = r.json(&["footprint", "--no-cache", &format!("{}:big", oci(&layout))]);
    let daemon = |args: &[&str]| json_ok(engine_cmd(&r, &podman.host()), args);
    let cold = daemon(&["footprint", "--no-cache", "docker-daemon:localhost/big:1"]);
    assert_eq!(figures_of(&cold), figures_of(&from_layout));
    // With the cache: scanned into it as the export passes, then found there.
    let first = daemon(&["footprint", "docker-daemon:localhost/big:1"]);
    let warm = daemon(&["footprint", "docker-daemon:localhost/big:1"]);
    assert_eq!(figures_of(&first), figures_of(&from_layout));
    assert_eq!(figures_of(&warm), figures_of(&from_layout));
    // The merged filesystem (a whiteout in the second layer) from the indexes
    // the stream made.
    let du = daemon(&["du", "--no-cache", "docker-daemon:localhost/big:1"]);
    let layout_du = r.json(&["du", "--no-cache", &format!("{}:big", oci(&layout))]);
    assert_eq!(du["tree"], layout_du["tree"]);

    // `podman save | strata footprint docker-archive:-`: the same, from stdin.
    let saved = r.path("saved.tar");
    podman.save("localhost/big:1", &saved);
    let out = r
        .cmd()
        .args([
            "footprint",
            "--no-cache",
            "--format=json",
            "docker-archive:-",
        ])
        .pipe_stdin(&saved)
        .unwrap()
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let from_stdin: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(figures_of(&from_stdin), figures_of(&from_layout));
}

#[test]
fn a_corrupt_layer_in_an_export_is_an_error_never_a_figure() {
    let r = Run::new();
    let layout = big_layout(&r.path("layout"));
    let archive = r.path("podman-like.tar");
    // What Podman writes: `<diff_id>.tar` first, manifest.json last; one
    // layer's bytes changed after its name was given.
    let (manifest, config) = builder::manifest_and_config(&layout, 0);
    let blob = |d: &str| builder::blob_in(&layout, d);
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let mut b = tar::Builder::new(std::fs::File::create(&archive).unwrap());
    let add = |b: &mut tar::Builder<std::fs::File>, name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    };
    let mut layers = Vec::new();
    for (i, l) in manifest["layers"].as_array().unwrap().iter().enumerate() {
        let gz = std::fs::read(blob(l["digest"].as_str().unwrap())).unwrap();
        let mut tar = Vec::new();
        std::io::copy(&mut flate2::read::GzDecoder::new(&gz[..]), &mut tar).unwrap();
        if i == 0 {
            let last = tar.len() - 2000;
            tar[last] ^= 0xff; // one byte of a file: still a tar, another digest
        }
        let name = format!(
            "{}.tar",
            config["rootfs"]["diff_ids"][i]
                .as_str()
                .unwrap()
                .trim_start_matches("sha256:")
        );
        add(&mut b, &name, &tar);
        layers.push(name);
    }
    let config_name = format!("{}.json", config_digest.trim_start_matches("sha256:"));
    add(
        &mut b,
        &config_name,
        &std::fs::read(blob(config_digest)).unwrap(),
    );
    let items =
        serde_json::json!([{"Config": config_name, "RepoTags": ["big:1"], "Layers": layers}]);
    add(
        &mut b,
        "manifest.json",
        &serde_json::to_vec(&items).unwrap(),
    );
    b.finish().unwrap();
    drop(b);
    let out = r
        .cmd()
        .args(["footprint", "--no-cache", "docker-archive:-"])
        .pipe_stdin(&archive)
        .unwrap()
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{line}");
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(line.contains("mismatch"), "{line}");
    assert!(out.stdout.is_empty());
}
