//! containerd: against a real containerd (root, its own root/state dirs and
//! socket in a temp dir, no CRI plugin), fed with `ctr images import`.

use std::fs;
use std::path::Path;

use serde_json::Value;

use super::builder;
use super::engine::{fails_with, json_ok, FAMILY};
use super::*;

pub use super::containerd_service::Containerd;

const NAMES: [&str; 4] = ["app", "app-dev", "worker", "rebuilt"];

/// What the tests do with a containerd beyond starting it.
pub trait Use {
    fn import(&self, namespace: &str, layout: &Path, base: &str, scratch: &Path);
    fn cmd(&self, r: &Run) -> assert_cmd::Command;
    fn json(&self, r: &Run, args: &[&str]) -> Value;
    fn fails(&self, r: &Run, args: &[&str]) -> String;
}

impl Use for Containerd {
    /// Imports an OCI layout's images as `BASE:REF` (unpacked, like a pull).
    fn import(&self, namespace: &str, layout: &Path, base: &str, scratch: &Path) {
        let archive = scratch.join(format!("{}.tar", base.replace('/', "_")));
        builder::oci_archive(layout, &archive);
        self.import_archive(namespace, &archive, base, true);
    }

    /// strata with this containerd as `CONTAINERD_ADDRESS`.
    fn cmd(&self, r: &Run) -> assert_cmd::Command {
        let mut c = r.cmd();
        c.env("CONTAINERD_ADDRESS", &self.socket);
        c
    }

    fn json(&self, r: &Run, args: &[&str]) -> Value {
        json_ok(self.cmd(r), args)
    }

    /// Expects exit 2 and one line on stderr; returns it.
    fn fails(&self, r: &Run, args: &[&str]) -> String {
        fails_with(self.cmd(r), args)
    }
}

fn footprint(refs: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut args = vec!["footprint".to_owned(), "--no-cache".to_owned()];
    args.extend(refs);
    args
}

fn strs(a: &[String]) -> Vec<&str> {
    a.iter().map(String::as_str).collect()
}

#[test]
fn containerd_images_have_the_oci_layouts_figures_in_all_three_measures() {
    let Some(ctd) = Containerd::start() else {
        return;
    };
    let r = Run::new();
    ctd.import("default", Path::new(FAMILY), "fam/x", r.tmp.path());
    let layout = footprint(NAMES.iter().map(|n| format!("oci:{FAMILY}:{n}")));
    let stored = footprint(
        NAMES
            .iter()
            .map(|n| format!("containerd:default/fam/x:{n}")),
    );
    let from_layout = r.json(&strs(&layout));
    let from_containerd = ctd.json(&r, &strs(&stored));
    assert_eq!(figures(&from_layout), figures(&from_containerd));
    assert_eq!(
        from_containerd["images"][0]["name"],
        "containerd:default/fam/x:app"
    );
    // The same manifests, by digest: containerd holds the layout's blobs.
    for (l, c) in from_layout["images"]
        .as_array()
        .unwrap()
        .iter()
        .zip(from_containerd["images"].as_array().unwrap())
    {
        assert_eq!(l["manifest_digest"], c["manifest_digest"]);
        assert!(c["total"]["compressed"].is_u64());
    }
    // The names strata prints are references it reads back.
    let again = ctd.json(
        &r,
        &["du", "--no-cache", "containerd:default/fam/x:app-dev"],
    );
    let layout_du = r.json(&["du", "--no-cache", &format!("oci:{FAMILY}:app-dev")]);
    assert_eq!(again["tree"], layout_du["tree"]);
}

#[test]
fn a_whole_namespace_lists_each_image_once() {
    let Some(ctd) = Containerd::start() else {
        return;
    };
    let r = Run::new();
    ctd.import("default", Path::new(FAMILY), "fam/x", r.tmp.path());
    // The same images again under other names: still four images.
    ctd.import("default", Path::new(FAMILY), "copy/x", r.tmp.path());
    let every = ctd.json(&r, &["footprint", "--no-cache", "containerd:default/*"]);
    assert_eq!(
        names(&every),
        [
            "containerd:default/copy/x:app",
            "containerd:default/copy/x:app-dev",
            "containerd:default/copy/x:rebuilt",
            "containerd:default/copy/x:worker",
        ]
    );
    let layout = r.json(&["footprint", "--no-cache", &format!("oci:{FAMILY}")]);
    assert_eq!(every["set"], layout["set"]);
    // Another namespace is another store: empty here.
    ctd.ctr("other", &["namespaces", "create", "other"]);
    let line = ctd.fails(&r, &["footprint", "containerd:other/*"]);
    assert!(line.contains("no images in namespace other"), "{line}");
}

#[test]
fn an_image_whose_layers_were_discarded_after_unpacking_gives_one_line_naming_it() {
    let Some(ctd) = Containerd::start() else {
        return;
    };
    let r = Run::new();
    ctd.import("node", Path::new(FAMILY), "gone/x", r.tmp.path());
    // What discard_unpacked_layers leaves: the snapshots, not the blobs.
    let manifest: Value = serde_json::from_slice(
        &fs::read(format!(
            "{FAMILY}/blobs/sha256/8b15d265c80e563b116204e10178357d5fa096429da273c34aa6a29ae7d15b6c"
        ))
        .unwrap(),
    )
    .unwrap();
    let layer = manifest["layers"][1]["digest"].as_str().unwrap();
    ctd.ctr("node", &["content", "rm", layer]);
    let line = ctd.fails(&r, &["footprint", "containerd:node/gone/x:worker"]);
    assert!(line.contains("containerd:node/gone/x:worker"), "{line}");
    assert!(
        line.contains("1 of its 2 layer blobs are not in containerd's content store"),
        "{line}"
    );
    assert!(line.contains("discard_unpacked_layers"), "{line}");
    // Its neighbour, whose blobs are all there, still reads.
    let app = ctd.json(
        &r,
        &["footprint", "--no-cache", "containerd:node/gone/x:app"],
    );
    assert_eq!(app["images"][0]["layers"], 3);
}

#[test]
fn a_name_without_namespace_is_looked_for_in_k8s_io_then_default() {
    let Some(ctd) = Containerd::start() else {
        return;
    };
    let r = Run::new();
    ctd.import("default", Path::new(FAMILY), "fam/x", r.tmp.path());
    let v = ctd.json(&r, &["footprint", "--no-cache", "containerd:fam/x:worker"]);
    assert_eq!(v["images"][0]["name"], "containerd:default/fam/x:worker");
    let line = ctd.fails(&r, &["footprint", "containerd:fam/x:nope"]);
    assert!(line.contains("no image named \"fam/x:nope\""), "{line}");
    assert!(line.contains("default/fam/x:app"), "{line}");
}

#[test]
fn no_containerd_at_the_address_gives_one_line() {
    let r = Run::new();
    let at = |socket: &Path| {
        let mut cmd = r.cmd();
        cmd.env("CONTAINERD_ADDRESS", socket);
        fails_with(cmd, &["footprint", "containerd:app"])
    };
    let line = at(&r.path("none.sock"));
    assert!(line.contains("no socket there"), "{line}");
    // A socket nobody serves.
    let socket = r.path("dead.sock");
    drop(std::os::unix::net::UnixListener::bind(&socket).unwrap());
    let line = at(&socket);
    assert!(line.contains("nothing answers there"), "{line}");
}
