//! Pictures: a warm `du --format html` of the 500,000-file image against the
//! same `du` as a table (target <= 1.2x the table's time), and the page's
//! weight for a 3,000,000-file image (target <= 2 MB; set
//! STRATA_BENCH_SKIP_3M=1 to skip building that image, ~3 GB of tar).
//! Exits 1 when a target is missed.

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "support/data.rs"]
mod data;
#[path = "support/measure.rs"]
mod measure;

use measure::{best_of_to, run, strata, verdict};

/// Warm `du` of `reference` in `format`, best of five; and the page it wrote.
fn du(
    cache: &std::path::Path,
    reference: &str,
    format: &str,
    out: &std::path::Path,
) -> measure::Cost {
    best_of_to(5, out, || {
        let mut c = strata();
        c.arg("--cache-dir")
            .arg(cache)
            .args(["du", reference, "--format", format]);
        c
    })
}

fn main() {
    measure::serve();
    let mut missed = Vec::new();
    let out = tempfile::tempdir().unwrap();

    let layer = data::many_files("many-500k", 500_000);
    let layout = data::layout("many-image", &[&layer]);
    let reference = format!("oci:{}", layout.display());
    let cache = tempfile::tempdir().unwrap();
    run(strata()
        .arg("--cache-dir")
        .arg(cache.path())
        .args(["du", &reference]));
    let table = du(
        cache.path(),
        &reference,
        "table",
        &out.path().join("du.txt"),
    );
    let page = out.path().join("du.html");
    let html = du(cache.path(), &reference, "html", &page);
    let ratio = html.wall.as_secs_f64() / table.wall.as_secs_f64();
    println!(
        "warm du, 500,000 files: table {:.3} s, html {:.3} s -> {ratio:.2}x (target <= 1.2): {}; page {} bytes",
        table.wall.as_secs_f64(),
        html.wall.as_secs_f64(),
        verdict("html du time", ratio <= 1.2, &mut missed),
        std::fs::metadata(&page).unwrap().len()
    );

    if std::env::var_os("STRATA_BENCH_SKIP_3M").is_none() {
        let big = data::many_files("many-3m", 3_000_000);
        let layout = data::layout("many-3m-image", &[&big]);
        let reference = format!("oci:{}", layout.display());
        let cache = tempfile::tempdir().unwrap();
        for (flags, name) in [
            (&[][..], "defaults"),
            (&["--depth", "4", "--top", "50"][..], "--depth 4 --top 50"),
            (&["--depth", "5", "--top", "100"][..], "--depth 5 --top 100"),
        ] {
            let page = out.path().join("du-3m.html");
            let cost = best_of_to(1, &page, || {
                let mut c = strata();
                c.arg("--cache-dir")
                    .arg(cache.path())
                    .args(["du", &reference, "--format", "html"])
                    .args(flags);
                c
            });
            let bytes = std::fs::metadata(&page).unwrap().len();
            println!(
                "du --format html {name}, 3,000,000 files: {bytes} bytes (target <= 2,000,000): {}; {:.2} s, peak RSS {:.1} MiB",
                verdict(
                    &format!("3M page weight ({name})"),
                    bytes <= 2_000_000,
                    &mut missed
                ),
                cost.wall.as_secs_f64(),
                cost.rss_mib()
            );
        }
    }
    if !missed.is_empty() {
        eprintln!("targets missed: {}", missed.join(", "));
        std::process::exit(1);
    }
}
