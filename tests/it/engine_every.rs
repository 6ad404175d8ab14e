//! `docker-daemon:*` and `containers-storage:*`: every image of a real
//! Podman service, each once, against the same images from their layout.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::engine::{engine_cmd, fails_with, json_ok, Podman, FAMILY};
use super::*;

/// Per image, keyed by its ID: uncompressed and files totals.
fn by_id(v: &Value) -> Vec<(String, Value, Value)> {
    let mut out: Vec<(String, Value, Value)> = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["config_digest"].as_str().unwrap().to_owned(),
                i["total"]["uncompressed"].clone(),
                i["total"]["files"].clone(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn set(v: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    for total in ["sum_total", "dedup_total"] {
        for measure in ["uncompressed", "files"] {
            out.push(v["set"][total][measure].clone());
        }
    }
    out
}

#[test]
fn every_image_of_the_engine_equals_the_familys_layout() {
    let Some(podman) = Podman::start() else {
        return;
    };
    for n in ["app", "app-dev", "worker", "rebuilt"] {
        podman.load(Path::new(FAMILY), n, &format!("localhost/fam/{n}:1"));
    }
    let r = Run::new();
    // In an engine `rebuilt` *is* `worker` (the same config; layers kept
    // uncompressed): one image with two tags, listed once.
    let every = json_ok(
        engine_cmd(&r, &podman.host()),
        &["footprint", "--no-cache", "docker-daemon:*"],
    );
    let layout = r.json(&[
        "footprint",
        "--no-cache",
        &format!("oci:{FAMILY}:app"),
        &format!("oci:{FAMILY}:app-dev"),
        &format!("oci:{FAMILY}:worker"),
    ]);
    assert_eq!(by_id(&every), by_id(&layout));
    assert_eq!(set(&every), set(&layout));
    assert_eq!(
        names(&every),
        [
            "docker-daemon:localhost/fam/app-dev:1",
            "docker-daemon:localhost/fam/app:1",
            "docker-daemon:localhost/fam/rebuilt:1",
        ]
    );
    // The whole family's layout less its same-content copy (rebuilt's
    // recompressed base): what the engine stores once.
    let family = r.json(&["footprint", "--no-cache", &format!("oci:{FAMILY}")]);
    let copies = family["same_content"][0]["digests"]
        .as_array()
        .unwrap()
        .len() as u64;
    assert_eq!(
        every["set"]["dedup_total"]["uncompressed"],
        family["set"]["dedup_total"]["uncompressed"]
            .as_u64()
            .unwrap()
            - family["same_content"][0]["uncompressed"].as_u64().unwrap() * (copies - 1)
    );

    // containers-storage:* is the same engine, through its Podman socket.
    let mut cmd = r.cmd();
    cmd.env("XDG_RUNTIME_DIR", &podman.runtime_dir)
        .env_remove("DOCKER_HOST")
        .env_remove("CONTAINER_HOST");
    let storage = json_ok(cmd, &["footprint", "--no-cache", "containers-storage:*"]);
    assert_eq!(by_id(&storage), by_id(&every));
}

#[test]
fn untagged_images_are_named_by_id_and_read_only_with_all() {
    let Some(podman) = Podman::start() else {
        return;
    };
    podman.load(Path::new(FAMILY), "app", "localhost/fam/app:1");
    podman.load(Path::new(FAMILY), "worker", "localhost/fam/worker:1");
    let status = Command::new("podman")
        .args(podman.store_args())
        .args(["untag", "localhost/fam/app:1"])
        .status()
        .unwrap();
    assert!(status.success());
    let r = Run::new();
    let tagged = json_ok(
        engine_cmd(&r, &podman.host()),
        &["footprint", "--no-cache", "docker-daemon:*"],
    );
    assert_eq!(tagged["images"].as_array().unwrap().len(), 1);
    assert_eq!(
        tagged["images"][0]["name"],
        "docker-daemon:localhost/fam/worker:1"
    );
    let all = json_ok(
        engine_cmd(&r, &podman.host()),
        &["footprint", "--no-cache", "--all", "docker-daemon:*"],
    );
    assert_eq!(
        names(&all),
        [
            "docker-daemon:localhost/fam/worker:1",
            "docker-daemon:sha256:a1262e20aac6",
        ]
    );
    // The name printed is a reference strata reads back.
    let one = json_ok(
        engine_cmd(&r, &podman.host()),
        &[
            "footprint",
            "--no-cache",
            "docker-daemon:sha256:a1262e20aac6",
        ],
    );
    assert_eq!(one["images"][0]["total"], all["images"][1]["total"]);
}

#[test]
fn an_engine_with_nothing_tagged_says_so() {
    let Some(podman) = Podman::start() else {
        return;
    };
    let r = Run::new();
    let line = fails_with(
        engine_cmd(&r, &podman.host()),
        &["footprint", "docker-daemon:*"],
    );
    assert!(line.contains("holds no image"), "{line}");
}
