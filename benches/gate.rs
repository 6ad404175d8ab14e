//! The gate over a warm 5-image set (the fixture family and dive's test
//! image) against footprint of the same set: target <= 10 % more wall time.
//! Exits 1 when the target is missed.

#[path = "support/measure.rs"]
mod measure;

use measure::{best_of, run, strata, verdict};

fn main() {
    measure::serve();
    let root = env!("CARGO_MANIFEST_DIR");
    let refs = [
        format!("oci:{root}/fixtures/family"),
        format!("docker-archive:{root}/fixtures/dive/test-docker-image.tar"),
    ];
    let cache = tempfile::tempdir().unwrap();
    let policy = cache.path().join("size.toml");
    std::fs::write(
        &policy,
        "[[image]]\nmax_compressed = \"450MB\"\nmax_uncompressed = \"1GB\"\nmax_layers = 40\n[set]\nmax_dedup_total = \"2GB\"\n",
    )
    .unwrap();
    let cmd = |args: &[&str]| {
        let mut c = strata();
        c.arg("--cache-dir")
            .arg(cache.path())
            .args(args)
            .args(&refs);
        c
    };
    run(&mut cmd(&["footprint"]));
    let footprint = best_of(21, || cmd(&["footprint"]));
    let p = policy.display().to_string();
    let gate = best_of(21, || cmd(&["gate", "--policy", &p]));
    let extra = gate.wall.as_secs_f64() / footprint.wall.as_secs_f64() - 1.0;
    let mut missed = Vec::new();
    println!(
        "warm, 5 images: footprint {:.1} ms, gate {:.1} ms: +{:.1} % (target <= 10 %): {}",
        footprint.wall.as_secs_f64() * 1e3,
        gate.wall.as_secs_f64() * 1e3,
        extra * 100.0,
        verdict("gate overhead", extra <= 0.10, &mut missed)
    );
    if !missed.is_empty() {
        std::process::exit(1);
    }
}
