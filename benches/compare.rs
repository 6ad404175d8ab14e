//! `strata compare` over two families of 5 images each against `strata
//! footprint` of the same 10 images, cold (empty cache) and warm (cache
//! filled): target compare <= 1.1x footprint in wall time, in the same run.
//! Exits 1 when a target is missed.

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "support/data.rs"]
mod data;
#[path = "support/measure.rs"]
mod measure;

use std::path::{Path, PathBuf};
use std::process::Command;

use measure::{best_of, strata, verdict};

const SERVICES: [&str; 5] = ["nova", "glance", "keystone", "neutron", "cinder"];

/// A layout of five images `{prefix}-{service}`: `base` then one service layer each.
fn family(prefix: &str, base: &[&builder::Layer], seed: u64) -> PathBuf {
    let layout = data::dir().join(format!("compare-{prefix}"));
    let _ = std::fs::remove_dir_all(&layout);
    let mut oci = builder::OciLayout::new(&layout);
    let services: Vec<builder::Layer> = SERVICES
        .iter()
        .enumerate()
        .map(|(i, s)| data::layer_with(&format!("compare-{prefix}-{s}"), seed + i as u64, 2_000, 1))
        .collect();
    for l in base.iter().copied().chain(&services) {
        let dest = oci.blob_path(&l.digest);
        if !dest.exists() {
            std::fs::hard_link(&l.path, &dest)
                .or_else(|_| std::fs::copy(&l.path, &dest).map(|_| ()))
                .unwrap();
        }
    }
    for (s, l) in SERVICES.iter().zip(&services) {
        let mut layers: Vec<&builder::Layer> = base.to_vec();
        layers.push(l);
        oci.image(&format!("{prefix}-{s}"), &layers, "linux/amd64");
    }
    oci.finish()
}

fn run(cache: &Path, cold: bool, args: &[String]) -> measure::Cost {
    best_of(3, || {
        if cold {
            let _ = std::fs::remove_dir_all(cache);
        }
        let mut c: Command = strata();
        c.arg("--cache-dir").arg(cache).args(args);
        c
    })
}

fn main() {
    measure::serve();
    let fat_os = data::layer_with("compare-fat-os", 300, 12_000, 4);
    let fat_libs = data::layer_with("compare-fat-libs", 301, 6_000, 2);
    let lean_os = data::layer_with("compare-lean-os", 302, 3_000, 1);
    let fat = family("fat", &[&fat_os, &fat_libs], 310);
    let lean = family("lean", &[&lean_os], 320);
    let (fat, lean) = (
        format!("oci:{}", fat.display()),
        format!("oci:{}", lean.display()),
    );
    let compare: Vec<String> = ["compare", &fat, "--vs", &lean, "--deploy", "nova,glance"]
        .map(String::from)
        .to_vec();
    let footprint: Vec<String> = ["footprint", &fat, &lean].map(String::from).to_vec();
    let cache = data::dir().join("compare-cache");
    let mut missed = Vec::new();
    for cold in [true, false] {
        if !cold {
            // Fill the cache once; both commands then read summaries only.
            run(&cache, true, &footprint);
        }
        let fp = run(&cache, cold, &footprint);
        let cmp = run(&cache, cold, &compare);
        let ratio = cmp.wall.as_secs_f64() / fp.wall.as_secs_f64();
        let name = if cold { "cold" } else { "warm" };
        println!(
            "{name}: compare {:.3}s (cpu {:.3}s, {:.1} MiB) vs footprint {:.3}s (cpu {:.3}s, {:.1} MiB): {ratio:.2}x (target <= 1.1x) {}",
            cmp.wall.as_secs_f64(),
            cmp.cpu.as_secs_f64(),
            cmp.rss_mib(),
            fp.wall.as_secs_f64(),
            fp.cpu.as_secs_f64(),
            fp.rss_mib(),
            verdict(name, ratio <= 1.1, &mut missed)
        );
    }
    let _ = std::fs::remove_dir_all(&cache);
    if !missed.is_empty() {
        eprintln!("targets missed: {}", missed.join(", "));
        std::process::exit(1);
    }
}
