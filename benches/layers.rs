//! `strata layers` cold on a ~1 GB gzip image (four ~250 MB layers in a
//! docker-archive) against `dive --source docker-archive FILE --json OUT` on
//! the same file, same run: wall time <= 0.5x dive's, peak RSS below dive's.
//! Also `strata advise`-style warm re-runs are cheap: a warm `layers` is
//! reported. Exits 1 when a target is missed.

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "support/data.rs"]
mod data;
#[path = "support/measure.rs"]
mod measure;

use std::process::Command;

use measure::{best_of, peers, strata, verdict};

fn main() {
    measure::serve();
    let archive = data::dir().join("gzip-1g.docker.tar");
    if !archive.exists() {
        let layers: Vec<builder::Layer> = (0..4)
            .map(|i| data::layer_with(&format!("big-{i}"), 10 + i, 26_000, 9))
            .collect();
        let layout = data::layout("gzip-1g", &layers.iter().collect::<Vec<_>>());
        builder::docker_archive(&layout, &["gzip-1g"], &archive);
    }
    let reference = format!("docker-archive:{}", archive.display());
    let mut missed = Vec::new();
    let ours = best_of(3, || {
        let mut c = strata();
        c.args(["layers", "--no-cache", &reference]);
        c
    });
    let cache = tempfile::tempdir().unwrap();
    let warm_cmd = || {
        let mut c = strata();
        c.arg("--cache-dir")
            .arg(cache.path())
            .args(["layers", &reference]);
        c
    };
    measure::run(&mut warm_cmd());
    let warm = best_of(3, warm_cmd);
    let dive = peers().join("dive");
    let out = tempfile::tempdir().unwrap();
    let theirs = best_of(3, || {
        let mut c = Command::new(&dive);
        c.args(["--source", "docker-archive"])
            .arg(&archive)
            .arg("--json")
            .arg(out.path().join("dive.json"));
        c
    });
    let ratio = ours.wall.as_secs_f64() / theirs.wall.as_secs_f64();
    println!(
        "archive {:.2} GB; strata layers --no-cache: {:.2} s, {:.2} s CPU, {:.1} MiB peak; warm: {:.3} s",
        std::fs::metadata(&archive).unwrap().len() as f64 / 1e9,
        ours.wall.as_secs_f64(),
        ours.cpu.as_secs_f64(),
        ours.rss_mib(),
        warm.wall.as_secs_f64()
    );
    println!(
        "dive 0.13: {:.2} s, {:.2} s CPU, {:.1} MiB peak",
        theirs.wall.as_secs_f64(),
        theirs.cpu.as_secs_f64(),
        theirs.rss_mib()
    );
    println!(
        "wall ratio {ratio:.2} (target <= 0.5): {}; peak RSS {:.1} vs {:.1} MiB (target below dive's): {}",
        verdict("wall vs dive", ratio <= 0.5, &mut missed),
        ours.rss_mib(),
        theirs.rss_mib(),
        verdict("RSS vs dive", ours.rss_mib() < theirs.rss_mib(), &mut missed)
    );
    if !missed.is_empty() {
        eprintln!("targets missed: {}", missed.join(", "));
        std::process::exit(1);
    }
}
