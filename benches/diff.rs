//! `strata diff`: cold, two ~1 GB images sharing a base, against scanning
//! their distinct layers once (`footprint` of both, same run; target <=
//! 1.15x); warm, two images of 500,000 files that differ in 1 % of them
//! (target <= 1.5 s and <= 128 MiB peak RSS). Exits 1 when a target is missed.

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "support/data.rs"]
mod data;
#[path = "support/measure.rs"]
mod measure;

use builder::{Compress, OciLayout};
use measure::{best_of, run, strata, verdict};

fn main() {
    measure::serve();
    let mut missed = Vec::new();
    // 1. Cold: base (two ~250 MB layers) + one own ~250 MB layer each.
    let big: Vec<builder::Layer> = (0..4)
        .map(|i| data::layer_with(&format!("big-{i}"), 10 + i, 26_000, 9))
        .collect();
    let pair = data::dir().join("diff-pair");
    let _ = std::fs::remove_dir_all(&pair);
    let mut oci = OciLayout::new(&pair);
    for l in &big {
        std::fs::hard_link(&l.path, oci.blob_path(&l.digest)).unwrap();
    }
    oci.image("a", &[&big[0], &big[1], &big[2]], "linux/amd64");
    oci.image("b", &[&big[0], &big[1], &big[3]], "linux/amd64");
    oci.finish();
    let (a, b) = (
        format!("oci:{}:a", pair.display()),
        format!("oci:{}:b", pair.display()),
    );
    let scan = best_of(3, || {
        let mut c = strata();
        c.args(["footprint", "--no-cache", &a, &b]);
        c
    });
    let diff = best_of(3, || {
        let mut c = strata();
        c.args(["diff", "--no-cache", &a, &b]);
        c
    });
    let ratio = diff.wall.as_secs_f64() / scan.wall.as_secs_f64();
    println!(
        "cold: diff {:.2} s vs scanning the 4 distinct layers once {:.2} s -> {ratio:.2}x (target <= 1.15): {}",
        diff.wall.as_secs_f64(),
        scan.wall.as_secs_f64(),
        verdict("cold diff", ratio <= 1.15, &mut missed)
    );

    // 2. Warm: 500,000 files, and the same with 1 % of them rewritten.
    let many = data::many_files("many-500k", 500_000);
    let dir = data::dir().join("diff-many");
    let _ = std::fs::remove_dir_all(&dir);
    let mut oci = OciLayout::new(&dir);
    std::fs::hard_link(&many.path, oci.blob_path(&many.digest)).unwrap();
    let change = oci.layer(Compress::Gzip(6), |w| {
        for i in (0..500_000).step_by(100) {
            w.file(
                &format!("app/node_modules/pkg{:04}/lib/file{i}.js", i / 1000),
                format!("changed {i}\n").as_bytes(),
            );
        }
    });
    oci.image("one", &[&many], "linux/amd64");
    oci.image("two", &[&many, &change], "linux/amd64");
    oci.finish();
    let (one, two) = (
        format!("oci:{}:one", dir.display()),
        format!("oci:{}:two", dir.display()),
    );
    let cache = tempfile::tempdir().unwrap();
    let cmd = || {
        let mut c = strata();
        c.arg("--cache-dir")
            .arg(cache.path())
            .args(["diff", &one, &two]);
        c
    };
    run(&mut cmd());
    let warm = best_of(3, cmd);
    println!(
        "warm diff, 500,000 files, 1 % changed: {:.2} s (target <= 1.5 s): {}; peak RSS {:.1} MiB (target <= 128 MiB): {}",
        warm.wall.as_secs_f64(),
        verdict("warm diff time", warm.wall.as_secs_f64() <= 1.5, &mut missed),
        warm.rss_mib(),
        verdict("warm diff RSS", warm.rss_mib() <= 128.0, &mut missed)
    );
    if !missed.is_empty() {
        eprintln!("targets missed: {}", missed.join(", "));
        std::process::exit(1);
    }
}
