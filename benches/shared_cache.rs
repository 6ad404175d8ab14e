//! The shared cache on a CI runner's shape, against a real local registry
//! (CNCF distribution on 127.0.0.1): a 5-image family (~1.5 GB
//! uncompressed: one base, five service layers) where every run starts with
//! an empty local cache.
//! - run A (empty shared cache) scans every layer and pushes its entry;
//!   run B (another empty local cache) reads the entries instead of the
//!   layers: target B's wall <= 0.1x A's;
//! - bytes pushed (index blobs, manifests, the empty config) <= 1.1x the
//!   index bytes A's local cache holds;
//! - 20 runs of B at once on one registry print the same as A.
//!
//! Exits 1 when a target is missed.

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "support/data.rs"]
mod data;
#[path = "support/measure.rs"]
mod measure;
#[path = "../tests/it/registry_server.rs"]
mod registry_server;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use strata::source::registry::artifact::Artifacts;

const RUNS_AT_ONCE: usize = 20;

/// Bytes of the index files of a local cache (`layers/v7/sha256/*.idx`).
fn index_bytes(cache: &Path) -> u64 {
    std::fs::read_dir(cache.join("layers/v7/sha256"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "idx"))
        .map(|e| e.metadata().map_or(0, |m| m.len()))
        .sum()
}

fn main() {
    measure::serve();
    let reg = registry_server::Registry::start(false);
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("family");
    let base = data::layer("shared-base", 61);
    let own: Vec<builder::Layer> = (0..5u64)
        .map(|i| data::layer(&format!("shared-svc{i}"), 70 + i))
        .collect();
    let mut oci = builder::OciLayout::new(&layout);
    for l in std::iter::once(&base).chain(&own) {
        std::fs::hard_link(&l.path, oci.blob_path(&l.digest))
            .or_else(|_| std::fs::copy(&l.path, oci.blob_path(&l.digest)).map(|_| ()))
            .unwrap();
    }
    for (i, l) in own.iter().enumerate() {
        oci.image(&format!("svc{i}"), &[&base, l], "linux/amd64");
    }
    oci.finish();
    for i in 0..5 {
        reg.push(&layout, &format!("svc{i}"), &format!("fam/svc{i}:1"), false);
    }
    let layers: Vec<&builder::Layer> = std::iter::once(&base).chain(&own).collect();
    let refs: Vec<String> = (0..5)
        .map(|i| format!("docker://{}/fam/svc{i}:1", reg.host))
        .collect();
    let shared = format!("docker://{}/strata-cache", reg.host);
    let strata = |cache: &Path| {
        let mut c = measure::strata();
        c.arg("footprint")
            .args(&refs)
            .env("STRATA_CACHE_DIR", cache)
            .env("STRATA_SHARED_CACHE", &shared)
            .env_remove("STRATA_SHARED_CACHE_KEY");
        c
    };

    let out_a = work.path().join("a.txt");
    let a = measure::run_to(&mut strata(&work.path().join("cache-a")), &out_a);
    let want = std::fs::read(&out_a).unwrap();
    let local = index_bytes(&work.path().join("cache-a"));

    let artifacts = Artifacts::with_defaults(&reg.host, "strata-cache").unwrap();
    let mut pushed = 2u64; // the empty config
    for l in &layers {
        let tag = format!("sha256-{}.v7", &l.digest[7..]);
        let m = artifacts
            .manifest(&tag, "application/vnd.oci.image.manifest.v1+json", 1 << 20)
            .unwrap()
            .expect("every layer's entry was pushed by run A");
        let v: serde_json::Value = serde_json::from_slice(&m).unwrap();
        pushed += m.len() as u64 + v["layers"][0]["size"].as_u64().unwrap();
    }

    let from = reg.requests().len();
    let out_b = work.path().join("b.txt");
    let b = measure::run_to(&mut strata(&work.path().join("cache-b")), &out_b);
    let same_b = std::fs::read(&out_b).unwrap() == want;
    let layer_reads = reg.requests()[from..]
        .iter()
        .filter(|r| r.contains("/fam/") && layers.iter().any(|l| r.contains(&l.digest)))
        .count();

    let start = Instant::now();
    let children: Vec<_> = (0..RUNS_AT_ONCE)
        .map(|i| {
            let mut c: Command = strata(&work.path().join(format!("cache-c{i}")));
            c.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let together = start.elapsed();
    let identical = outputs
        .iter()
        .filter(|o| o.status.success() && o.stdout == want && o.stderr.is_empty())
        .count();

    let ratio = b.wall.as_secs_f64() / a.wall.as_secs_f64();
    let pushed_ratio = pushed as f64 / local as f64;
    let mut missed = Vec::new();
    println!(
        "family: 5 images, {} distinct layers, {:.0} MB compressed",
        layers.len(),
        layers.iter().map(|l| l.size).sum::<u64>() as f64 / 1e6
    );
    println!(
        "run A (scan + push):  {:>8.2} s  {:>6.0} MiB peak RSS",
        a.wall.as_secs_f64(),
        a.rss_mib()
    );
    println!(
        "run B (shared cache): {:>8.2} s  {:>6.0} MiB peak RSS  layer blobs read: {layer_reads}  same output: {same_b}",
        b.wall.as_secs_f64(),
        b.rss_mib()
    );
    println!(
        "B / A: {ratio:.3} (target <= 0.1): {}",
        measure::verdict(
            "B <= 0.1x A",
            ratio <= 0.1 && same_b && layer_reads == 0,
            &mut missed
        )
    );
    println!(
        "bytes pushed: {pushed} for {local} local index bytes = {pushed_ratio:.3}x (target <= 1.1): {}",
        measure::verdict("pushed <= 1.1x", pushed_ratio <= 1.1, &mut missed)
    );
    println!(
        "{RUNS_AT_ONCE} runs of B at once: {identical}/{RUNS_AT_ONCE} identical to A, {:.2} s for all: {}",
        together.as_secs_f64(),
        measure::verdict(
            "concurrent B identical",
            identical == RUNS_AT_ONCE,
            &mut missed
        )
    );
    // Stopped before exit(1), which runs no destructor.
    drop(reg);
    if !missed.is_empty() {
        eprintln!("missed: {}", missed.join(", "));
        std::process::exit(1);
    }
}
