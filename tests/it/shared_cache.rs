//! The shared cache (`--shared-cache`): a run on an empty local cache reads
//! no layer blob once another run has filled it, and prints the same; a
//! tampered, foreign, oversized or unsigned entry is refused, rescanned and
//! replaced with one warning; an unreachable or read-only shared cache
//! leaves the figures as they are, with one warning (the registry backend;
//! the directory's are in shared_dir.rs).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Output;

use serde_json::Value;
use strata::source::registry::artifact::Artifacts;

use super::builder::{self, Compress};
use super::fault_proxy::{Fault, FaultProxy};
use super::registry_server::{free_port, Registry};
use super::*;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const KEY: &str = "a-ci-secret-of-32-bytes-or-more!";

/// The standard family, pushed as fam/{app,app-dev,worker}:1.
pub struct Fam {
    pub reg: Registry,
    pub layers: BTreeSet<String>,
}

pub fn fam(r: &Run) -> Fam {
    let reg = Registry::start(false);
    let f = builder::family(&r.path("layout"), Compress::Gzip(6));
    for name in ["app", "app-dev", "worker"] {
        reg.push(&f.layout, name, &format!("fam/{name}:1"), false);
    }
    let mut layers = BTreeSet::new();
    let index: Value =
        serde_json::from_slice(&fs::read(f.layout.join("index.json")).unwrap()).unwrap();
    for m in index["manifests"].as_array().unwrap() {
        let name = m["annotations"]["org.opencontainers.image.ref.name"].as_str();
        if name == Some("rebuilt") {
            continue;
        }
        let digest = m["digest"].as_str().unwrap();
        let blob = f.layout.join("blobs/sha256").join(&digest[7..]);
        let manifest: Value = serde_json::from_slice(&fs::read(blob).unwrap()).unwrap();
        for l in manifest["layers"].as_array().unwrap() {
            layers.insert(l["digest"].as_str().unwrap().to_owned());
        }
    }
    Fam { reg, layers }
}

impl Fam {
    fn image(&self, name: &str) -> String {
        format!("docker://{}/fam/{name}:1", self.reg.host)
    }

    fn shared(&self) -> String {
        format!("docker://{}/strata-cache", self.reg.host)
    }

    /// Every view a CI job runs, in tables.
    fn views(&self) -> Vec<Vec<String>> {
        let (app, dev, worker) = (
            self.image("app"),
            self.image("app-dev"),
            self.image("worker"),
        );
        let v = |args: &[&str]| args.iter().map(|s| s.to_string()).collect();
        vec![
            v(&["footprint", &app, &dev, &worker]),
            v(&["du", &dev]),
            v(&["layers", &dev]),
            v(&["diff", &app, &dev]),
            v(&["packages", &app]),
            v(&["advise", &worker]),
        ]
    }

    /// Layer blobs read from the image repositories since request `from`.
    pub fn layer_reads(&self, from: usize) -> Vec<String> {
        self.reg.requests()[from..]
            .iter()
            .filter(|l| l.starts_with("GET /v2/fam/") && l.contains("/blobs/"))
            .filter(|l| self.layers.iter().any(|d| l.contains(d.as_str())))
            .cloned()
            .collect()
    }

    /// Client for the shared repository, for tampering with it.
    fn artifacts(&self) -> Artifacts {
        Artifacts::with_defaults(&self.reg.host, "strata-cache").unwrap()
    }
}

/// strata with `cache` as its local cache and `shared` as the shared one.
pub fn with(r: &Run, cache: &Path, shared: &str, key: Option<&str>, args: &[String]) -> Output {
    let mut cmd = r.cmd();
    cmd.env("STRATA_CACHE_DIR", cache)
        .env("STRATA_SHARED_CACHE", shared)
        .env_remove("STRATA_SHARED_CACHE_KEY");
    if let Some(k) = key {
        cmd.env("STRATA_SHARED_CACHE_KEY", k);
    }
    cmd.args(args).output().unwrap()
}

/// Exit 0 and the stdout of `want`; returns the lines on stderr.
pub fn same(out: &Output, want: &[u8], what: &str) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{what}: {stderr}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(want),
        "{what}"
    );
    stderr.lines().map(str::to_owned).collect()
}

fn tag(digest: &str) -> String {
    format!("sha256-{}.v{}", &digest[7..], strata::layer::FORMAT_VERSION)
}

#[test]
fn run_b_on_an_empty_local_cache_reads_no_layer_blob_and_prints_what_run_a_printed() {
    let r = Run::new();
    let f = fam(&r);
    let shared = f.shared();
    for (i, view) in f.views().iter().enumerate() {
        let what = view.join(" ");
        let a = with(&r, &r.path(&format!("a{i}")), &shared, None, view);
        assert!(
            a.status.success(),
            "{what}: {}",
            String::from_utf8_lossy(&a.stderr)
        );
        assert!(
            a.stderr.is_empty(),
            "{what}: {}",
            String::from_utf8_lossy(&a.stderr)
        );
        let from = f.reg.requests().len();
        let b = with(&r, &r.path(&format!("b{i}")), &shared, None, view);
        let warnings = same(&b, &a.stdout, &what);
        assert!(warnings.is_empty(), "{what}: {warnings:?}");
        assert_eq!(f.layer_reads(from), Vec::<String>::new(), "{what}");
        // Only manifests, configs and the shared entries were asked for.
        for line in &f.reg.requests()[from..] {
            let ok = line.starts_with("GET /v2/ ")
                || line.contains("/manifests/")
                || line.starts_with("GET /v2/strata-cache/blobs/")
                || (line.starts_with("GET /v2/fam/") && line.contains("/blobs/"));
            assert!(ok, "{what}: {line}");
        }
    }
    let pushed = f
        .reg
        .requests()
        .iter()
        .filter(|l| l.starts_with("PUT /v2/strata-cache/manifests/sha256-"))
        .count();
    assert_eq!(
        pushed,
        f.layers.len(),
        "each layer pushed once, by the first run"
    );
}

/// Fills the shared cache with every layer of the family (run A), and
/// returns the figures every later run must print.
fn filled(r: &Run, f: &Fam, key: Option<&str>) -> (Vec<String>, Vec<u8>) {
    let view = vec![
        "footprint".to_owned(),
        f.image("app"),
        f.image("app-dev"),
        f.image("worker"),
    ];
    let a = with(r, &r.path("a"), &f.shared(), key, &view);
    assert!(a.status.success() && a.stderr.is_empty(), "{a:?}");
    (view, a.stdout)
}

/// A run on a fresh local cache: one warning naming `why`, the true
/// figures, and the entry pushed again (a later fresh run reads no layer).
fn refused_and_replaced(r: &Run, f: &Fam, key: Option<&str>, why: &str, n: &str) {
    let (view, want) = (filled_view(f), figures_of(r, f));
    let out = with(r, &r.path(&format!("c-{n}")), &f.shared(), key, &view);
    let warnings = same(&out, &want, why);
    assert_eq!(warnings.len(), 1, "{why}: {warnings:?}");
    assert!(
        warnings[0].contains("refused, rescanned and pushed again") && warnings[0].contains(why),
        "{warnings:?}"
    );
    let from = f.reg.requests().len();
    let again = with(r, &r.path(&format!("d-{n}")), &f.shared(), key, &view);
    let warnings = same(&again, &want, why);
    assert!(
        warnings.is_empty(),
        "{why}: replaced, so no warning: {warnings:?}"
    );
    assert!(f.layer_reads(from).is_empty(), "{why}: replaced");
}

/// The family in a registry, the view every run prints, and its figures.
pub fn family_figures(r: &Run) -> (Fam, Vec<String>, Vec<u8>) {
    let f = fam(r);
    let view = filled_view(&f);
    let want = figures_of(r, &f);
    (f, view, want)
}

pub fn filled_view(f: &Fam) -> Vec<String> {
    vec![
        "footprint".to_owned(),
        f.image("app"),
        f.image("app-dev"),
        f.image("worker"),
    ]
}

/// The figures without any shared cache.
pub fn figures_of(r: &Run, f: &Fam) -> Vec<u8> {
    let mut view = filled_view(f);
    view.push("--no-cache".into());
    let out = r
        .cmd()
        .env_remove("STRATA_SHARED_CACHE")
        .args(&view)
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

/// The manifest of `digest`'s entry, and its index blob.
fn entry(f: &Fam, digest: &str) -> (Value, Vec<u8>) {
    let a = f.artifacts();
    let bytes = a
        .manifest(&tag(digest), OCI_MANIFEST, 1 << 20)
        .unwrap()
        .unwrap();
    let m: Value = serde_json::from_slice(&bytes).unwrap();
    let index = &m["layers"][0];
    let mut blob = Vec::new();
    a.blob(
        index["digest"].as_str().unwrap(),
        index["size"].as_u64().unwrap(),
        &mut |b| {
            blob.extend_from_slice(b);
            Ok(())
        },
    )
    .unwrap();
    (m, blob)
}

/// Puts `manifest` under `digest`'s tag, with `blob` as its index.
fn put_entry(f: &Fam, digest: &str, mut manifest: Value, blob: &[u8], declared: Option<u64>) {
    let a = f.artifacts();
    let blob_digest = builder::sha256(blob);
    let owned = blob.to_vec();
    a.push_blob(&blob_digest, blob.len() as u64, &move || {
        Ok(Box::new(std::io::Cursor::new(owned.clone())))
    })
    .unwrap();
    manifest["layers"][0]["digest"] = blob_digest.into();
    manifest["layers"][0]["size"] = declared.unwrap_or(blob.len() as u64).into();
    let bytes = serde_json::to_vec(&manifest).unwrap();
    a.put_manifest(&tag(digest), OCI_MANIFEST, &bytes).unwrap();
}

#[test]
fn a_tampered_foreign_or_oversized_entry_is_refused_rescanned_and_replaced() {
    let r = Run::new();
    let f = fam(&r);
    filled(&r, &f, None);
    let layers: Vec<&String> = f.layers.iter().collect();
    let (victim, other) = (layers[0].as_str(), layers[1].as_str());

    let (m, mut blob) = entry(&f, victim);
    let mid = blob.len() / 2;
    blob[mid] ^= 0x01;
    put_entry(&f, victim, m, &blob, None);
    refused_and_replaced(&r, &f, None, "index checksum", "flip");

    let (m, blob) = entry(&f, other);
    put_entry(&f, victim, m, &blob, None);
    refused_and_replaced(&r, &f, None, "another layer's entry", "other");

    // Declared over the limit: refused unread.
    let (m, blob) = entry(&f, victim);
    put_entry(&f, victim, m, &blob, Some((256 << 20) + 1));
    refused_and_replaced(&r, &f, None, "larger than the limit", "declared");

    // Declared as it was, but the registry sends more: refused at the cap.
    let (m, mut blob) = entry(&f, victim);
    let declared = blob.len() as u64;
    blob.extend_from_slice(&vec![0u8; 1 << 20]);
    put_entry(&f, victim, m, &blob, Some(declared));
    refused_and_replaced(&r, &f, None, "longer than its entry declares", "sent");
}

#[test]
fn with_a_key_an_entry_without_a_valid_mac_is_a_miss_and_is_replaced_signed() {
    let r = Run::new();
    let f = fam(&r);
    // Entries pushed without a key carry no MAC.
    filled(&r, &f, None);
    let view = filled_view(&f);
    let want = figures_of(&r, &f);
    let out = with(&r, &r.path("k1"), &f.shared(), Some(KEY), &view);
    let warnings = same(&out, &want, "unsigned");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("no MAC"), "{warnings:?}");
    // Replaced, signed: a keyed run on a fresh cache reads no layer.
    let from = f.reg.requests().len();
    let out = with(&r, &r.path("k2"), &f.shared(), Some(KEY), &view);
    assert!(same(&out, &want, "signed").is_empty());
    assert!(f.layer_reads(from).is_empty());
    // Another key: every MAC is wrong.
    let out = with(
        &r,
        &r.path("k3"),
        &f.shared(),
        Some("another-secret-of-enough-bytes"),
        &view,
    );
    let warnings = same(&out, &want, "wrong key");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("wrong MAC"), "{warnings:?}");
    // A well-formed entry whose MAC was edited.
    let victim = f.layers.iter().next().unwrap().clone();
    let out = with(&r, &r.path("k4"), &f.shared(), Some(KEY), &view);
    assert!(out.status.success());
    let (mut m, blob) = entry(&f, &victim);
    m["annotations"]["vnd.strata.mac"] = format!("hmac-sha256:{}", "0".repeat(64)).into();
    put_entry(&f, &victim, m, &blob, None);
    refused_and_replaced(&r, &f, Some(KEY), "wrong MAC", "edited");
}

#[test]
fn a_short_key_is_refused_before_any_work() {
    let r = Run::new();
    let out = r
        .cmd()
        .env("STRATA_SHARED_CACHE", "file:///nonexistent")
        .env("STRATA_SHARED_CACHE_KEY", "k3y")
        .args(["footprint", &dive("dive-test.tar")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("STRATA_SHARED_CACHE_KEY"), "{stderr}");
    assert!(!stderr.contains("k3y"), "the key is never echoed: {stderr}");
}

#[test]
fn an_unreachable_or_read_only_shared_cache_leaves_the_figures_with_one_warning() {
    let r = Run::new();
    let (f, view, want) = family_figures(&r);
    let down = format!("docker://127.0.0.1:{}/strata-cache", free_port());
    let out = with(&r, &r.path("u"), &down, None, &view);
    let warnings = same(&out, &want, "unreachable");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("could not be read"), "{warnings:?}");

    let proxy = FaultProxy::start(&f.reg.host, "/nothing/", Fault::ReadOnly);
    let ro = format!("docker://{}/strata-cache", proxy.addr);
    let out = with(&r, &r.path("ro"), &ro, None, &view);
    let warnings = same(&out, &want, "read-only");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("could not be pushed") && warnings[0].contains("denied"),
        "{warnings:?}"
    );
    assert!(proxy.hits.load(std::sync::atomic::Ordering::SeqCst) > 0);
    assert!(
        !f.reg
            .requests()
            .iter()
            .any(|l| l.contains("PUT /v2/strata-cache/")),
        "nothing reached the registry"
    );
}

#[test]
fn cache_push_fills_the_shared_cache_and_cache_pull_warms_a_local_one_from_it() {
    let r = Run::new();
    let f = fam(&r);
    let images = [f.image("app"), f.image("app-dev"), f.image("worker")];
    let args = |cmd: &str| -> Vec<String> {
        let mut a = vec!["cache".to_owned(), cmd.to_owned()];
        a.extend(images.iter().cloned());
        a.push("--format=json".into());
        a
    };
    let n = f.layers.len() as u64;
    let push = with(&r, &r.path("p"), &f.shared(), None, &args("push"));
    assert!(push.status.success() && push.stderr.is_empty(), "{push:?}");
    let v: Value = serde_json::from_slice(&push.stdout).unwrap();
    assert_eq!(
        (v["layers"].as_u64(), v["pushed"].as_u64()),
        (Some(n), Some(n))
    );
    let again = with(&r, &r.path("p"), &f.shared(), None, &args("push"));
    let v: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        (v["present"].as_u64(), v["pushed"].as_u64()),
        (Some(n), Some(0))
    );

    let from = f.reg.requests().len();
    let pull = with(&r, &r.path("q"), &f.shared(), None, &args("pull"));
    assert!(pull.status.success() && pull.stderr.is_empty(), "{pull:?}");
    let v: Value = serde_json::from_slice(&pull.stdout).unwrap();
    assert_eq!(
        (v["pulled"].as_u64(), v["scanned"].as_u64()),
        (Some(n), Some(0))
    );
    assert!(f.layer_reads(from).is_empty());
    // Warm: a run there needs nothing from either cache.
    let from = f.reg.requests().len();
    let out = with(&r, &r.path("q"), &f.shared(), None, &filled_view(&f));
    assert!(out.status.success());
    assert!(!f.reg.requests()[from..]
        .iter()
        .any(|l| l.contains("strata-cache")));

    let none = r
        .cmd()
        .env_remove("STRATA_SHARED_CACHE")
        .args(args("push"))
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("--shared-cache"));
}
