//! Foreign (non-distributable) layers: a layout that leaves one out still
//! analyses in every view with the layer marked, and its URL (a listener on
//! 127.0.0.1 that counts connections) is requested only with --fetch-foreign.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::{json, Value};

use super::builder::{self, Compress, Layer, OciLayout};
use super::*;

const NONDISTRIBUTABLE: &str = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";

/// An HTTP server on 127.0.0.1 that counts its connections and answers
/// every request with `body`; stopped when dropped.
struct CountingServer {
    port: u16,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CountingServer {
    fn start(body: Vec<u8>) -> CountingServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, halt) = (connections.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        count.fetch_add(1, Ordering::Relaxed);
                        s.set_nonblocking(false).unwrap();
                        let mut head = [0u8; 4096];
                        let _ = s.read(&mut head);
                        let _ = write!(
                            s,
                            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = s.write_all(&body);
                    }
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
                }
            }
        });
        CountingServer {
            port,
            connections,
            stop,
            thread: Some(thread),
        }
    }

    fn count(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

impl Drop for CountingServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `base` (ID, bin/sh), a foreign layer (`windows/base.dll`, served at
/// `url`), `app`; the layout keeps the foreign blob only when `keep`.
fn foreign_layout(dir: &Path, url: &str, keep: bool) -> (PathBuf, Layer) {
    let mut oci = OciLayout::new(dir);
    let base = oci.layer(Compress::Gzip(6), |w| {
        w.dir("etc").file("etc/os-release", b"ID=strata-test\n");
        w.dir("var/lib/dpkg").file(
            "var/lib/dpkg/status",
            b"Package: base-files\nVersion: 1\n\n",
        );
    });
    let foreign = oci.layer(Compress::Gzip(6), |w| {
        w.dir("windows")
            .file("windows/base.dll", &builder::noise(60_000, 9));
    });
    let app = oci.layer(Compress::Gzip(6), |w| {
        w.dir("app").file("app/server", &builder::noise(20_000, 8));
    });
    let mut desc = foreign.descriptor();
    desc["mediaType"] = json!(NONDISTRIBUTABLE);
    desc["urls"] = json!([url]);
    let descriptors = vec![base.descriptor(), desc, app.descriptor()];
    oci.image_from("win", &[&base, &foreign, &app], descriptors, "linux/amd64");
    oci.image("plain", &[&base], "linux/amd64");
    if !keep {
        std::fs::remove_file(oci.blob_path(&foreign.digest)).unwrap();
    }
    (oci.finish(), foreign)
}

/// Runs, expects success; returns stdout and stderr.
fn ok(r: &Run, args: &[&str]) -> (String, String) {
    let out = r.run(args);
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert!(out.status.success(), "strata {args:?}: {stderr}");
    (stdout, stderr)
}

fn json_of(r: &Run, args: &[&str]) -> (Value, String) {
    let mut a = args.to_vec();
    a.push("--format=json");
    let (out, err) = ok(r, &a);
    (serde_json::from_str(&out).unwrap(), err)
}

#[test]
fn a_foreign_layer_left_out_is_marked_in_every_view_and_its_url_never_requested() {
    let r = Run::new();
    let server = CountingServer::start(b"never asked for".to_vec());
    let url = format!("http://127.0.0.1:{}/foreign.tar.gz", server.port);
    let (layout, foreign) = foreign_layout(&r.path("layout"), &url, false);
    let win = format!("oci:{}:win", layout.display());
    let plain = format!("oci:{}:plain", layout.display());
    let short = &foreign.digest[..19];
    let one_note = |stderr: &str| {
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("foreign layer not here and not fetched")
                && stderr.contains(short)
                && stderr.contains("--fetch-foreign"),
            "{stderr}"
        );
    };

    let (fp, err) = json_of(&r, &["footprint", "--no-cache", &win]);
    one_note(&err);
    let layer = fp["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["digest"] == foreign.digest.as_str())
        .unwrap();
    assert_eq!(layer["foreign"], true);
    assert_eq!(layer["compressed"], foreign.size);
    assert!(layer["uncompressed"].is_null() && layer["files"].is_null());
    assert!(fp["images"][0]["total"]["uncompressed"].is_null());
    assert!(fp["images"][0]["total"]["compressed"].as_u64().unwrap() > foreign.size);
    let (table, _) = ok(&r, &["footprint", "--no-cache", &win]);
    assert!(
        table.contains("foreign (non-distributable) layers"),
        "{table}"
    );
    assert!(table.contains("not read"), "{table}");

    let (layers, err) = json_of(&r, &["layers", "--no-cache", &win]);
    one_note(&err);
    assert_eq!(layers["layers"][1]["foreign"], true);
    assert!(layers["layers"][1]["uncompressed"].is_null());
    assert_eq!(layers["layers"][1]["compressed"], foreign.size);
    assert!(layers["layers"][2]["uncompressed"].is_u64());
    let (table, _) = ok(&r, &["layers", "--no-cache", &win]);
    assert!(table.contains("(foreign)"), "{table}");

    // du: the merged filesystem without the foreign layer's files.
    let (du, err) = json_of(&r, &["du", "--no-cache", &win]);
    one_note(&err);
    let tree = du["tree"].to_string();
    assert!(tree.contains("app") && !tree.contains("windows"), "{tree}");
    let (table, _) = ok(&r, &["du", "--no-cache", &win]);
    assert!(table.contains("(foreign)"), "{table}");

    let (diff, err) = json_of(&r, &["diff", "--no-cache", &plain, &win]);
    one_note(&err);
    let rows = diff["layers"].as_array().unwrap();
    assert!(rows
        .iter()
        .any(|l| l["foreign"] == true && l["uncompressed"].is_null()));
    assert!(diff["adds"]["uncompressed"].is_null());
    assert_eq!(
        diff["adds"]["compressed"].as_u64().unwrap(),
        foreign.size + rows.last().unwrap()["compressed"].as_u64().unwrap()
    );

    for view in [
        vec!["packages", "--no-cache", &win],
        vec!["advise", "--no-cache", &win],
        vec!["compare", "--no-cache", "--common", &plain, "--vs", &win],
    ] {
        let (_, err) = ok(&r, &view);
        one_note(&err);
    }
    // One layer's own content cannot be shown: one line says why.
    for view in ["du", "audit"] {
        let out = r.run(&[view, "--no-cache", &win, "--layer", "2"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(out.stdout.is_empty());
        let mut lines = stderr.lines();
        one_note(lines.next().unwrap());
        let line = lines.next().unwrap();
        assert!(
            line.contains("is a foreign layer that is not here"),
            "{line}"
        );
        assert!(lines.next().is_none(), "{stderr}");
    }
    assert_eq!(server.count(), 0, "the foreign URL was requested");

    // An oci-archive that leaves it out reads the same.
    let archive = r.path("win.tar");
    builder::oci_archive(&layout, &archive);
    let (from_archive, err) = json_of(
        &r,
        &[
            "footprint",
            "--no-cache",
            &format!("oci-archive:{}:win", archive.display()),
        ],
    );
    one_note(&err);
    assert_eq!(figures(&from_archive), figures(&fp));
    assert_eq!(server.count(), 0);
}

#[test]
fn fetch_foreign_reads_the_url_and_verifies_it_like_any_blob() {
    let r = Run::new();
    // The blob served at the URL: the foreign layer itself.
    let full = r.path("full");
    let (full, foreign) = foreign_layout(&full, "http://127.0.0.1:9/unused", true);
    let bytes = std::fs::read(&foreign.path).unwrap();
    let server = CountingServer::start(bytes);
    let url = format!("http://127.0.0.1:{}/foreign.tar.gz", server.port);
    let (layout, _) = foreign_layout(&r.path("layout"), &url, false);
    let win = format!("oci:{}:win", layout.display());
    let fetched = r.json(&["footprint", "--no-cache", "--fetch-foreign", &win]);
    assert!(server.count() >= 1);
    // The same figures as the layout that holds the blob.
    let held = r.json(&[
        "footprint",
        "--no-cache",
        &format!("oci:{}:win", full.display()),
    ]);
    assert_eq!(fetched["images"][0]["total"], held["images"][0]["total"]);
    assert_eq!(fetched["layers"][1]["foreign"], true);
    assert!(fetched["layers"][1]["uncompressed"].is_u64());
    let du = r.json(&["du", "--no-cache", "--fetch-foreign", &win]);
    assert!(du["tree"].to_string().contains("windows"));

    // Other bytes at the URL: a digest mismatch, never a figure.
    let liar = CountingServer::start(builder::noise(foreign.size as usize, 3));
    let url = format!("http://127.0.0.1:{}/foreign.tar.gz", liar.port);
    let (bad, _) = foreign_layout(&r.path("bad"), &url, false);
    let line = r.fails(&[
        "footprint",
        "--no-cache",
        "--fetch-foreign",
        &format!("oci:{}:win", bad.display()),
    ]);
    assert!(line.contains(&foreign.digest), "{line}");
    assert_eq!(liar.count(), 1);
}

#[test]
fn a_docker_save_archive_that_leaves_a_foreign_layer_out_names_it_in_layer_sources() {
    let r = Run::new();
    let server = CountingServer::start(Vec::new());
    let url = format!("http://127.0.0.1:{}/foreign.tar.gz", server.port);
    let (layout, foreign) = foreign_layout(&r.path("layout"), &url, false);
    // docker save's layout: manifest.json names every layer, and its
    // LayerSources describe the foreign ones, whose blobs it leaves out.
    let (manifest, _) = builder::manifest_and_config(&layout, 0);
    let blob = |d: &str| builder::blob_in(&layout, d);
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let archive = r.path("saved.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&archive).unwrap());
    let name = |d: &str| format!("blobs/{}", d.replacen(':', "/", 1));
    b.append_path_with_name(blob(config_digest), name(config_digest))
        .unwrap();
    let mut layers = Vec::new();
    for l in manifest["layers"].as_array().unwrap() {
        let d = l["digest"].as_str().unwrap();
        if d != foreign.digest {
            b.append_path_with_name(blob(d), name(d)).unwrap();
        }
        layers.push(name(d));
    }
    let mut source = manifest["layers"][1].clone();
    source["mediaType"] = json!("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip");
    let items = json!([{
        "Config": name(config_digest),
        "RepoTags": ["win:1"],
        "Layers": layers,
        "LayerSources": {foreign.diff_id.clone(): source},
    }]);
    let bytes = serde_json::to_vec(&items).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(bytes.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "manifest.json", &bytes[..]).unwrap();
    b.finish().unwrap();
    drop(b);
    let reference = format!("docker-archive:{}", archive.display());
    let (fp, err) = json_of(&r, &["footprint", "--no-cache", &reference]);
    assert!(
        err.contains("foreign layer not here and not fetched"),
        "{err}"
    );
    assert_eq!(fp["layers"][1]["foreign"], true);
    assert_eq!(fp["layers"][1]["compressed"], foreign.size);
    let (layers, _) = json_of(&r, &["layers", "--no-cache", &reference]);
    assert_eq!(layers["layers"][1]["foreign"], true);
    assert_eq!(server.count(), 0);
}
