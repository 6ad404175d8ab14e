//! Hostile sources (issue 12): documents capped by the bytes received, files
//! that must be regular and inside their store, deadlines on every registry
//! wait, resumed blobs, no raw input or control characters on the terminal,
//! and an image named twice analysed once.

use std::fs;
use std::os::unix::fs::symlink;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::builder::{self, Compress, OciLayout};
use super::fault_proxy::{Fault, FaultProxy};
use super::registry_server::Registry;
use super::*;

/// One gzip image `img` in a layout; returns the layout and its manifest descriptor.
fn one_image(r: &Run) -> (OciLayout, Value) {
    let mut lay = OciLayout::new(&r.path("layout"));
    let layer = lay.layer(Compress::Gzip(6), |w| {
        w.dir("etc").file("etc/data", &builder::noise(20_000, 3));
    });
    let desc = lay.image("img", &[&layer], "linux/amd64");
    lay.finish();
    (lay, desc)
}

fn blob(lay: &OciLayout, desc: &Value) -> std::path::PathBuf {
    lay.blob_path(desc["digest"].as_str().unwrap())
}

fn manifest_of(lay: &OciLayout, desc: &Value) -> Value {
    serde_json::from_slice(&fs::read(blob(lay, desc)).unwrap()).unwrap()
}

/// Runs and expects a failure within `limit`; returns the line.
fn fails_within(r: &Run, limit: Duration, args: &[&str]) -> String {
    let start = Instant::now();
    let line = r.fails(args);
    eprintln!("{:.1?}: {line}", start.elapsed());
    assert!(
        start.elapsed() < limit,
        "took {:?} (limit {limit:?}): {line}",
        start.elapsed()
    );
    line
}

fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

#[test]
fn an_index_json_symlinked_to_dev_zero_or_a_fifo_is_refused_at_once() {
    let r = Run::new();
    let (lay, desc) = one_image(&r);
    let index = lay.dir.join("index.json");
    let saved = fs::read(&index).unwrap();
    fs::remove_file(&index).unwrap();
    symlink("/dev/zero", &index).unwrap();
    let ten = Duration::from_secs(10);
    let line = fails_within(&r, ten, &["footprint", &oci(&lay.dir)]);
    assert!(line.contains("index.json"), "{line}");
    fs::remove_file(&index).unwrap();
    mkfifo(&index);
    let line = fails_within(&r, ten, &["footprint", &oci(&lay.dir)]);
    assert!(
        line.contains("index.json") && line.contains("not a regular file (a FIFO)"),
        "{line}"
    );
    // A layer blob that is a FIFO, and an archive that is one.
    fs::remove_file(&index).unwrap();
    fs::write(&index, saved).unwrap();
    let layer = lay.blob_path(
        manifest_of(&lay, &desc)["layers"][0]["digest"]
            .as_str()
            .unwrap(),
    );
    fs::remove_file(&layer).unwrap();
    mkfifo(&layer);
    let line = fails_within(&r, ten, &["footprint", "--no-cache", &oci(&lay.dir)]);
    assert!(line.contains("not a regular file (a FIFO)"), "{line}");
    let archive = r.path("archive.tar");
    mkfifo(&archive);
    for t in ["oci-archive", "docker-archive"] {
        let line = fails_within(
            &r,
            ten,
            &["footprint", &format!("{t}:{}", archive.display())],
        );
        assert!(line.contains("not a regular file (a FIFO)"), "{line}");
    }
}

#[test]
fn a_layout_blob_symlinked_to_a_local_secret_is_refused_without_echoing_it() {
    let r = Run::new();
    let (lay, desc) = one_image(&r);
    let secret = r.path("config.json");
    fs::write(
        &secret,
        r#"{"auths":{"x":{"auth":"U0VDUkVULUFVVEgtU1RSSU5H"}}}"#,
    )
    .unwrap();
    let config = lay.blob_path(
        manifest_of(&lay, &desc)["config"]["digest"]
            .as_str()
            .unwrap(),
    );
    let saved = fs::read(&config).unwrap();
    fs::remove_file(&config).unwrap();
    symlink(&secret, &config).unwrap();
    let line = r.fails(&["footprint", &oci(&lay.dir)]);
    assert!(line.contains("outside the layout"), "{line}");
    assert!(
        !line.contains("U0VDUkVU") && !line.contains("auths"),
        "{line}"
    );
    // A symlink that stays inside the layout is followed.
    fs::remove_file(&config).unwrap();
    fs::write(lay.dir.join("elsewhere"), &saved).unwrap();
    symlink("../../elsewhere", &config).unwrap();
    let v = r.json(&["footprint", &oci(&lay.dir)]);
    assert_eq!(v["images"].as_array().unwrap().len(), 1);
}

#[test]
fn documents_are_capped_by_the_bytes_read_not_the_bytes_declared() {
    let r = Run::new();
    let (lay, desc) = one_image(&r);
    // A manifest of 5 MiB (sparse zeros), honestly declared.
    let big = r.path("big-manifest");
    fs::File::create(&big).unwrap().set_len(5 << 20).unwrap();
    let mut index: Value =
        serde_json::from_slice(&fs::read(lay.dir.join("index.json")).unwrap()).unwrap();
    let digest = builder::sha256(&vec![0u8; 5 << 20]);
    fs::rename(&big, lay.blob_path(&digest)).unwrap();
    index["manifests"][0]["digest"] = json!(digest);
    index["manifests"][0]["size"] = json!(5 << 20);
    fs::write(lay.dir.join("index.json"), index.to_string()).unwrap();
    let line = r.fails(&["footprint", &oci(&lay.dir)]);
    assert!(line.contains("more than 4 MiB"), "{line}");
    // An index.json of 40 MiB.
    fs::File::create(lay.dir.join("index.json"))
        .unwrap()
        .set_len(40 << 20)
        .unwrap();
    let line = r.fails(&["footprint", &oci(&lay.dir)]);
    assert!(
        line.contains("index.json") && line.contains("more than 32 MiB"),
        "{line}"
    );
    let _ = desc;
}

/// A tar of one header claiming `size` bytes of `kind` (contents: sparse zeros).
fn sparse_tar(path: &std::path::Path, name: &str, kind: tar::EntryType, size: u64) {
    let mut h = tar::Header::new_gnu();
    h.set_path(name).unwrap();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    fs::write(path, h.as_bytes()).unwrap();
    // The contents, then the two zero blocks that end an archive.
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(512 + size.div_ceil(512) * 512 + 1024)
        .unwrap();
}

#[test]
fn archives_past_their_caps_are_refused() {
    let r = Run::new();
    let out = r.path("big.tar");
    sparse_tar(&out, "manifest.json", tar::EntryType::Regular, 33 << 20);
    let line = r.fails(&["footprint", &format!("docker-archive:{}", out.display())]);
    assert!(line.contains("more than 32 MiB"), "{line}");
    // A GNU long name of 1 GiB is refused before it is read.
    sparse_tar(&out, "././@LongLink", tar::EntryType::GNULongName, 1 << 30);
    let start = Instant::now();
    let line = r.fails(&["footprint", &format!("oci-archive:{}", out.display())]);
    assert!(line.contains("more than 64 KiB"), "{line}");
    assert!(start.elapsed() < Duration::from_secs(5));
    // The same on stdin (and from an engine's export stream): before the
    // stream was read with strata's bounded tar reader, the name was buffered whole.
    let start = Instant::now();
    // The file itself as stdin (piping 1 GiB through the harness would time the harness).
    let run = std::process::Command::new(assert_cmd::cargo::cargo_bin("strata"))
        .env("STRATA_CACHE_DIR", r.cache())
        .args(["footprint", "docker-archive:-"])
        .stdin(fs::File::open(&out).unwrap())
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{line}");
    assert!(
        line.contains("GNU long name of 1073741824 bytes (limit 65536)"),
        "{line}"
    );
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn an_archive_symlink_that_leaves_the_archive_is_refused() {
    let r = Run::new();
    let out = r.path("evil.tar");
    let mut b = tar::Builder::new(fs::File::create(&out).unwrap());
    let manifest = json!([{"Config": "evil/config.json", "RepoTags": ["evil:1"], "Layers": []}]);
    let bytes = manifest.to_string().into_bytes();
    let mut h = tar::Header::new_gnu();
    h.set_size(bytes.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "manifest.json", &bytes[..]).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "evil/config.json", "../../../../etc/passwd")
        .unwrap();
    b.finish().unwrap();
    drop(b);
    let line = r.fails(&["footprint", &format!("docker-archive:{}", out.display())]);
    assert!(line.contains("leaves the archive"), "{line}");
    assert!(!line.contains("root:"), "{line}");
}

#[test]
fn json_errors_never_quote_the_input() {
    let r = Run::new();
    let (lay, _) = one_image(&r);
    fs::write(
        lay.dir.join("index.json"),
        r#"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:SECRET-VALUE-1","size":"SECRET-VALUE-2"}]}"#,
    )
    .unwrap();
    let line = r.fails(&["footprint", &oci(&lay.dir)]);
    assert!(line.contains("malformed JSON"), "{line}");
    assert!(!line.contains("SECRET"), "{line}");
}

#[test]
fn control_characters_in_names_are_escaped_on_the_terminal() {
    let r = Run::new();
    let mut lay = OciLayout::new(&r.path("layout"));
    let layer = lay.layer(Compress::Gzip(6), |w| {
        w.file("x", b"x");
    });
    lay.image("evil\x1b]0;pwned\x07\rname\u{9b}", &[&layer], "linux/amd64");
    lay.finish();
    let out = r.run(&["footprint", &format!("{}:nope", oci(&lay.dir))]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(
        !stderr.trim_end().chars().any(|c| c.is_control()),
        "{stderr:?}"
    );
    assert!(
        stderr.contains("evil\\x1b]0;pwned\\x07\\rname\\u{9b}"),
        "{stderr}"
    );
}

#[test]
fn the_same_image_named_twice_is_analysed_once_with_a_warning() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let app = format!("{}:app", oci(&fam.layout));
    let once = r.json(&["footprint", &app]);
    let out = r
        .cmd()
        .args(["footprint", "--format=json", &app, &app])
        .output()
        .unwrap();
    assert!(out.status.success());
    let twice: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(twice, once);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("strata: warning: ") && stderr.contains("analysed once"),
        "{stderr}"
    );
    // The whole layout and one of its images: the same manifest digest.
    let out = r
        .cmd()
        .args(["footprint", "--format=json", &oci(&fam.layout), &app])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["images"].as_array().unwrap().len(), 4);
    // Without a manifest digest (docker-archive): same config and layers.
    builder::docker_archive(&fam.layout, &["app", "worker", "rebuilt"], &r.path("d.tar"));
    let arch = |n: &str| format!("docker-archive:{}:{n}", r.path("d.tar").display());
    let out = r
        .cmd()
        .args(["footprint", "--format=json", &arch("app"), &arch("worker")])
        .args([&arch("rebuilt"), &arch("app")])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["images"].as_array().unwrap().len(), 3);
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    // --quiet hides progress only: the warning stays (issue 18, item 7).
    let out = r.run(&["footprint", "-q", "--format=json", &app, &app]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("strata: warning: "), "{err}");
}

#[test]
fn timeout_flag_takes_seconds_or_units_and_refuses_nonsense() {
    let r = Run::new();
    let (lay, _) = one_image(&r);
    for ok in ["30", "2m", "1500ms", "45s"] {
        r.json(&["footprint", "--timeout", ok, &oci(&lay.dir)]);
    }
    for bad in ["0", "abc", "-1", "5h"] {
        let line = r.fails(&["footprint", &format!("--timeout={bad}"), &oci(&lay.dir)]);
        assert!(line.contains("--timeout"), "{line}");
    }
}

// ---- registry faults, through a proxy in front of a real registry ----

struct Pushed {
    reg: Registry,
    layer: String,
    config: String,
}

fn pushed(r: &Run) -> Pushed {
    let reg = Registry::start(false);
    let (lay, desc) = one_image(r);
    reg.push(&lay.dir, "img", "hostile/img:1", false);
    let m = manifest_of(&lay, &desc);
    Pushed {
        reg,
        layer: m["layers"][0]["digest"].as_str().unwrap().to_owned(),
        config: m["config"]["digest"].as_str().unwrap().to_owned(),
    }
}

fn via(proxy: &FaultProxy) -> String {
    format!("docker://{}/hostile/img:1", proxy.addr)
}

const T: &str = "--timeout=1s";
/// A failure must come within the deadline plus scheduling slack.
const LIMIT: Duration = Duration::from_secs(4);

#[test]
fn endless_documents_stop_at_their_cap() {
    let r = Run::new();
    let p = pushed(&r);
    let proxy = FaultProxy::start(&p.reg.host, "/manifests/", Fault::Endless);
    let line = fails_within(&r, LIMIT, &["footprint", "--no-cache", &via(&proxy)]);
    assert!(
        line.contains("manifest") && line.contains("more than 4 MiB"),
        "{line}"
    );
    let proxy = FaultProxy::start(&p.reg.host, &p.config, Fault::Endless);
    let line = fails_within(&r, LIMIT, &["footprint", "--no-cache", &via(&proxy)]);
    assert!(
        line.contains("config") && line.contains("more than"),
        "{line}"
    );
    let proxy = FaultProxy::start(&p.reg.host, &p.layer, Fault::Endless);
    let line = fails_within(&r, LIMIT, &["footprint", "--no-cache", &via(&proxy)]);
    assert!(
        line.contains(&p.layer) && line.contains("more than"),
        "{line}"
    );
}

#[test]
fn stalls_and_trickles_end_at_the_deadline() {
    let r = Run::new();
    let p = pushed(&r);
    for (pattern, fault) in [
        ("/manifests/", Fault::Hang),
        // Each byte within the idle timeout, the whole past the deadline.
        ("/manifests/", Fault::Trickle { ms: 300 }),
        (p.config.as_str(), Fault::Hang),
        (p.layer.as_str(), Fault::Hang),
        // The body stalls longer than the idle timeout.
        (p.layer.as_str(), Fault::Trickle { ms: 1500 }),
    ] {
        let proxy = FaultProxy::start(&p.reg.host, pattern, fault);
        let line = fails_within(&r, LIMIT, &["footprint", "--no-cache", T, &via(&proxy)]);
        assert!(line.contains("timed out"), "{fault:?} on {pattern}: {line}");
        assert!(proxy.hits.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    }
    let proxy = FaultProxy::start(&p.reg.host, "/_catalog", Fault::Hang);
    let glob = format!("docker://{}/hostile/*:1", proxy.addr);
    let line = fails_within(&r, LIMIT, &["footprint", T, &glob]);
    assert!(line.contains("listing repositories: timed out"), "{line}");
}

#[test]
fn split_and_truncated_bodies_give_the_right_figures() {
    use std::sync::atomic::Ordering::SeqCst;
    let r = Run::new();
    let p = pushed(&r);
    let direct = r.json(&[
        "footprint",
        "--no-cache",
        &format!("docker://{}/hostile/img:1", p.reg.host),
    ]);
    let proxy = FaultProxy::start(&p.reg.host, "/blobs/", Fault::SplitFirst);
    assert_eq!(
        figures(&r.json(&["footprint", "--no-cache", &via(&proxy)])),
        figures(&direct)
    );
    for pattern in [p.layer.as_str(), p.config.as_str(), "/manifests/"] {
        let proxy = FaultProxy::start(&p.reg.host, pattern, Fault::Truncate { times: 1 });
        let v = r.json(&["footprint", "--no-cache", &via(&proxy)]);
        assert_eq!(figures(&v), figures(&direct), "{pattern}");
        assert_eq!(proxy.hits.load(SeqCst), 2, "{pattern}: one retry");
        if pattern == p.layer {
            assert_eq!(proxy.ranged.load(SeqCst), 1, "resumed where it broke off");
        }
    }
    // A server without Range support sends the body whole again: the bytes
    // already read are skipped.
    let fault = Fault::TruncateIgnoringRange { times: 1 };
    let proxy = FaultProxy::start(&p.reg.host, &p.layer, fault);
    let v = r.json(&["footprint", "--no-cache", &via(&proxy)]);
    assert_eq!(figures(&v), figures(&direct));
    assert_eq!(proxy.hits.load(SeqCst), 2);
    // A body that always breaks off: bounded retries, then one line.
    let proxy = FaultProxy::start(&p.reg.host, &p.layer, Fault::Truncate { times: 100 });
    let line = fails_within(
        &r,
        Duration::from_secs(10),
        &["footprint", "--no-cache", &via(&proxy)],
    );
    assert!(
        line.contains("connection broken") && line.contains(&p.layer),
        "{line}"
    );
    assert_eq!(proxy.hits.load(SeqCst), 4);
}

#[test]
fn a_token_registry_is_met_with_a_bearer_token() {
    use std::sync::atomic::Ordering::SeqCst;
    let r = Run::new();
    let p = pushed(&r);
    let direct = r.json(&[
        "footprint",
        "--no-cache",
        &format!("docker://{}/hostile/img:1", p.reg.host),
    ]);
    let proxy = FaultProxy::start(&p.reg.host, "/v2/hostile/", Fault::Bearer);
    let v = r.json(&["footprint", "--no-cache", &via(&proxy)]);
    assert_eq!(figures(&v), figures(&direct));
    // Manifest, config and layer: each challenged once at most, then sent with the token.
    assert!(
        proxy.authorized.load(SeqCst) >= 3,
        "{}",
        proxy.authorized.load(SeqCst)
    );
}

#[test]
fn catalog_gets_credentials_only_when_challenged() {
    use std::sync::atomic::Ordering::SeqCst;
    let r = Run::new();
    let p = pushed(&r);
    let proxy = FaultProxy::start(&p.reg.host, "/v2/", Fault::Pass);
    let glob = format!("docker://{}/hostile/*:1", proxy.addr);
    let v = r.json(&["footprint", "--creds", "someone:pa55", &glob]);
    assert_eq!(v["images"].as_array().unwrap().len(), 1);
    assert!(proxy.hits.load(SeqCst) >= 4);
    assert_eq!(proxy.authorized.load(SeqCst), 0, "credentials sent unasked");
    // A registry that challenges gets them, for the listing too.
    let reg = Registry::start(true);
    let r2 = Run::new();
    let (lay, _) = one_image(&r2);
    reg.push(&lay.dir, "img", "hostile/img:1", true);
    let proxy = FaultProxy::start(&reg.host, "/_catalog", Fault::Pass);
    let glob = format!("docker://{}/hostile/*:1", proxy.addr);
    let creds = format!(
        "{}:{}",
        super::registry_server::USER,
        super::registry_server::PASSWORD
    );
    let v = r.json(&["footprint", "--creds", &creds, &glob]);
    assert_eq!(v["images"].as_array().unwrap().len(), 1);
    assert_eq!(
        proxy.hits.load(SeqCst),
        2,
        "anonymous, then after the challenge"
    );
    assert_eq!(proxy.authorized.load(SeqCst), 1);
}
