//! Deep footprint of an uncompressed docker-archive (~1 GB, four layers):
//! CPU time against an older strata (`STRATA_BASELINE=/path/to/strata`,
//! target <= 55 %) and wall time against dive 0.13 reading the same archive
//! (`dive --source docker-archive FILE --json OUT`, target <= 0.5x), in the
//! same run. Exits 1 when a target is missed.

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "support/data.rs"]
mod data;
#[path = "support/measure.rs"]
mod measure;

use std::process::Command;

use builder::{Compress, LayerWriter};
use measure::{best_of, peers, strata, verdict};

fn main() {
    measure::serve();
    let archive = data::dir().join("plain-1g.docker.tar");
    if !archive.exists() {
        let layout = data::dir().join("plain-1g");
        let _ = std::fs::remove_dir_all(&layout);
        let mut oci = builder::OciLayout::new(&layout);
        let layers: Vec<builder::Layer> = (0..4u64)
            .map(|i| {
                oci.layer(Compress::None, |w: &mut LayerWriter| {
                    data::fill(w, 26_000, 9, 40 + i)
                })
            })
            .collect();
        oci.image("plain", &layers.iter().collect::<Vec<_>>(), "linux/amd64");
        oci.finish();
        builder::docker_archive(&layout, &["plain"], &archive);
        let _ = std::fs::remove_dir_all(&layout);
    }
    let reference = format!("docker-archive:{}", archive.display());
    let mut missed = Vec::new();
    let ours = best_of(3, || {
        let mut c = strata();
        c.args(["footprint", "--no-cache", &reference]);
        c
    });
    println!(
        "archive: {:.2} GB; strata footprint --no-cache: {:.2} s wall, {:.2} s CPU, {:.1} MiB peak",
        std::fs::metadata(&archive).unwrap().len() as f64 / 1e9,
        ours.wall.as_secs_f64(),
        ours.cpu.as_secs_f64(),
        ours.rss_mib()
    );
    if let Some(old) = std::env::var_os("STRATA_BASELINE") {
        let base = best_of(3, || {
            let mut c = Command::new(&old);
            c.args(["footprint", "-q", "--no-cache", &reference]);
            c
        });
        let ratio = ours.cpu.as_secs_f64() / base.cpu.as_secs_f64();
        println!(
            "baseline {}: {:.2} s wall, {:.2} s CPU -> CPU ratio {ratio:.2} (target <= 0.55): {}",
            std::path::Path::new(&old).display(),
            base.wall.as_secs_f64(),
            base.cpu.as_secs_f64(),
            verdict("CPU vs baseline", ratio <= 0.55, &mut missed)
        );
    } else {
        println!("(set STRATA_BASELINE=/path/to/older/strata to compare CPU time)");
    }
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
        "dive 0.13: {:.2} s wall, {:.2} s CPU, {:.1} MiB peak -> wall ratio {ratio:.2} (target <= 0.5): {}",
        theirs.wall.as_secs_f64(),
        theirs.cpu.as_secs_f64(),
        theirs.rss_mib(),
        verdict("wall vs dive", ratio <= 0.5, &mut missed)
    );
    if !missed.is_empty() {
        eprintln!("targets missed: {}", missed.join(", "));
        std::process::exit(1);
    }
}
