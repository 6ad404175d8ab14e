//! The engine room on a layer of 500,000 small files (~530 MB of tar):
//! peak RSS of `footprint --no-cache` (target <= 64 MiB) and `du --no-cache`
//! (<= 96 MiB); the index on disk (<= 48 bytes per entry); reading it back
//! (>= 2 million entries/s on one core); a warm `du` (<= 1 s).
//! Exits 1 when a target is missed.

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "support/data.rs"]
mod data;
#[path = "support/measure.rs"]
mod measure;

use std::time::Instant;

use measure::{best_of, run, strata, verdict};

fn main() {
    measure::serve();
    const FILES: usize = 500_000;
    let layer = data::many_files("many-500k", FILES);
    let layout = data::layout("many-image", &[&layer]);
    let reference = format!("oci:{}", layout.display());
    let mut missed = Vec::new();

    let fp = run(strata().args(["footprint", "--no-cache", &reference]));
    let du = run(strata().args(["du", "--no-cache", &reference]));

    let cache = tempfile::tempdir().unwrap();
    let cached = |args: &[&str]| {
        let mut c = strata();
        c.arg("--cache-dir").arg(cache.path()).args(args);
        c
    };
    let cold = run(&mut cached(&["du", &reference]));
    let layers = format!("layers/v{}/sha256", strata::layer::FORMAT_VERSION);
    let idx = std::fs::read_dir(cache.path().join(layers))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "idx"))
        .expect("an index in the cache");
    let footer = strata::layer::IndexReader::footer(&idx).unwrap();
    let bytes = std::fs::metadata(&idx).unwrap().len();
    let per_entry = bytes as f64 / footer.entries as f64;

    let mut read_rate: f64 = 0.0;
    for _ in 0..3 {
        let start = Instant::now();
        let mut n = 0usize;
        for e in strata::layer::IndexReader::open(&idx).unwrap() {
            e.unwrap();
            n += 1;
        }
        assert_eq!(n as u64, footer.entries);
        read_rate = read_rate.max(n as f64 / start.elapsed().as_secs_f64());
    }
    let warm = best_of(3, || cached(&["du", &reference]));

    println!(
        "layer: {FILES} files, {:.0} MB gzip; index entries: {}",
        layer.size as f64 / 1e6,
        footer.entries
    );
    println!("| measure | result | target | |\n| --- | --- | --- | --- |");
    let rows = [
        (
            "footprint --no-cache peak RSS",
            format!("{:.1} MiB ({:.1} s)", fp.rss_mib(), fp.wall.as_secs_f64()),
            "<= 64 MiB",
            fp.rss_mib() <= 64.0,
        ),
        (
            "du --no-cache peak RSS",
            format!("{:.1} MiB ({:.1} s)", du.rss_mib(), du.wall.as_secs_f64()),
            "<= 96 MiB",
            du.rss_mib() <= 96.0,
        ),
        (
            "index on disk",
            format!("{per_entry:.1} bytes/entry ({:.1} MB)", bytes as f64 / 1e6),
            "<= 48",
            per_entry <= 48.0,
        ),
        (
            "index read-back, one core",
            format!("{:.2} M entries/s", read_rate / 1e6),
            ">= 2 M/s",
            read_rate >= 2e6,
        ),
        (
            "warm du",
            format!(
                "{:.3} s (cold {:.1} s)",
                warm.wall.as_secs_f64(),
                cold.wall.as_secs_f64()
            ),
            "<= 1 s",
            warm.wall.as_secs_f64() <= 1.0,
        ),
    ];
    for (name, result, target, ok) in rows {
        println!(
            "| {name} | {result} | {target} | {} |",
            verdict(name, ok, &mut missed)
        );
    }
    if !missed.is_empty() {
        eprintln!("targets missed: {}", missed.join(", "));
        std::process::exit(1);
    }
}
