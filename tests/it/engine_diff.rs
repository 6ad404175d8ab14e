//! `strata diff` across transports (issue 19.2): an engine's copy of a layer
//! and a registry's gzip blob of the same tar are one layer, so the headline
//! and what the target adds are the same whichever holds the base.

use std::path::Path;

use super::engine::{json_ok, Podman, FAMILY};
use super::registry_server::Registry;
use super::*;

/// The headline's figures: layers added, the bytes they add, layers shared.
fn headline(v: &Value) -> (Value, Value, Value) {
    (
        v["added_layers"].clone(),
        v["adds"].clone(),
        v["shared_layers"].clone(),
    )
}

#[test]
fn diff_from_an_engine_image_to_a_registry_image_has_the_registry_to_registry_headline() {
    let Some(podman) = Podman::start() else {
        return;
    };
    podman.load(Path::new(FAMILY), "app", "localhost/app/api:1");
    let reg = Registry::start(false);
    reg.push(Path::new(FAMILY), "app", "app/api:1", false);
    reg.push(Path::new(FAMILY), "app-dev", "app/api-dev:1", false);
    let r = Run::new();
    let dev = format!("docker://{}/app/api-dev:1", reg.host);
    let mut engine = r.cmd();
    engine
        .env("DOCKER_HOST", podman.host())
        .env_remove("CONTAINER_HOST");
    let args = [
        "diff",
        "--only",
        "layers",
        "docker-daemon:localhost/app/api:1",
        &dev,
    ];
    let from_engine = json_ok(engine, &args);
    let from_registry = r.json(&[
        "diff",
        "--only",
        "layers",
        &format!("docker://{}/app/api:1", reg.host),
        &dev,
    ]);
    assert_eq!(headline(&from_engine), headline(&from_registry));
    assert_eq!(
        from_registry["added_layers"], 1,
        "app-dev is app + one layer"
    );
    assert_eq!(from_registry["shared_layers"], 3);
    let same: Vec<&Value> = from_engine["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["status"] == "same_content")
        .collect();
    assert_eq!(same.len(), 3, "the engine's layers are the registry's tars");
}
