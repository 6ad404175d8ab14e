//! `strata advise` on a ~1 GB gzip image (four ~250 MB layers): warm (target
//! <= 2 s and <= 128 MiB peak RSS) and cold against a cold `strata layers`
//! of the same image in the same run (target <= 1.1x). Exits 1 when a target
//! is missed.

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "support/data.rs"]
mod data;
#[path = "support/measure.rs"]
mod measure;

use measure::{best_of, run, strata, verdict};

fn main() {
    measure::serve();
    let layers: Vec<builder::Layer> = (0..4)
        .map(|i| data::layer_with(&format!("big-{i}"), 10 + i, 26_000, 9))
        .collect();
    let layout = data::layout("advise-1g", &layers.iter().collect::<Vec<_>>());
    let reference = format!("oci:{}:advise-1g", layout.display());
    let mut missed = Vec::new();
    let cold = |command: &'static str| {
        let reference = reference.clone();
        best_of(3, move || {
            let mut c = strata();
            c.args([command, "--no-cache", &reference]);
            c
        })
    };
    let (layers_cold, advise_cold) = (cold("layers"), cold("advise"));
    let cache = tempfile::tempdir().unwrap();
    let warm_cmd = || {
        let mut c = strata();
        c.arg("--cache-dir")
            .arg(cache.path())
            .args(["advise", &reference]);
        c
    };
    run(&mut warm_cmd());
    let warm = best_of(3, warm_cmd);
    let ratio = advise_cold.wall.as_secs_f64() / layers_cold.wall.as_secs_f64();
    println!(
        "cold: advise {:.2} s vs layers {:.2} s -> {ratio:.2}x (target <= 1.1): {}",
        advise_cold.wall.as_secs_f64(),
        layers_cold.wall.as_secs_f64(),
        verdict("cold advise", ratio <= 1.1, &mut missed)
    );
    println!(
        "warm: {:.2} s (target <= 2 s): {}; peak RSS {:.1} MiB (target <= 128 MiB): {}",
        warm.wall.as_secs_f64(),
        verdict("warm time", warm.wall.as_secs_f64() <= 2.0, &mut missed),
        warm.rss_mib(),
        verdict("warm RSS", warm.rss_mib() <= 128.0, &mut missed)
    );
    if !missed.is_empty() {
        eprintln!("targets missed: {}", missed.join(", "));
        std::process::exit(1);
    }
}
