//! `strata advise` on two ~1 GB gzip images: a synthetic one (four ~250 MB
//! layers, no package database) and a Debian one built from this host's
//! real Debian system (its dpkg status and lists, gcc, build-essential and
//! the other -dev packages a build host has: what dev tooling reads).
//!
//! Targets, each checked in the same run:
//! - synthetic: warm <= 2 s and <= 128 MiB peak RSS; cold advise <= 1.1x a
//!   cold `strata layers` of the same image;
//! - Debian: with `STRATA_BEFORE=/path/to/strata` (a build of the commit
//!   before dev tooling), advise cold and warm <= 1.1x that binary's, the two
//!   run alternately (best of 3 each); warm peak RSS <= 128 MiB.
//!
//! Exits 1 when a target is missed.

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "support/data.rs"]
mod data;
#[path = "support/measure.rs"]
mod measure;

use std::process::Command;

use measure::{run, strata, verdict, Cost};

/// Bytes of host files in the Debian layer (as the packages bench has them).
const HOST_CAP: u64 = 960_000_000;

fn with(program: &str) -> Command {
    let mut c = Command::new(program);
    c.arg("-q");
    c
}

/// Best (least wall) of `n` alternate runs of each maker: (a's, b's).
fn alternate(
    n: usize,
    mut a: impl FnMut() -> Command,
    mut b: impl FnMut() -> Command,
) -> (Cost, Cost) {
    let (mut best_a, mut best_b): (Option<Cost>, Option<Cost>) = (None, None);
    for _ in 0..n {
        let x = run(&mut a());
        let y = run(&mut b());
        best_a = Some(best_a.map_or(x, |c| if x.wall < c.wall { x } else { c }));
        best_b = Some(best_b.map_or(y, |c| if y.wall < c.wall { y } else { c }));
    }
    (best_a.unwrap(), best_b.unwrap())
}

fn main() {
    measure::serve();
    let mut missed = Vec::new();
    synthetic(&mut missed);
    debian(&mut missed);
    if !missed.is_empty() {
        eprintln!("targets missed: {}", missed.join(", "));
        std::process::exit(1);
    }
}

fn synthetic(missed: &mut Vec<String>) {
    let layers: Vec<builder::Layer> = (0..4)
        .map(|i| data::layer_with(&format!("big-{i}"), 10 + i, 26_000, 9))
        .collect();
    let layout = data::layout("advise-1g", &layers.iter().collect::<Vec<_>>());
    let reference = format!("oci:{}:advise-1g", layout.display());
    let cold = |command: &'static str| {
        let reference = reference.clone();
        move || {
            let mut c = strata();
            c.args([command, "--no-cache", &reference]);
            c
        }
    };
    let (layers_cold, advise_cold) = alternate(3, cold("layers"), cold("advise"));
    let cache = tempfile::tempdir().unwrap();
    let warm_cmd = || {
        let mut c = strata();
        c.arg("--cache-dir")
            .arg(cache.path())
            .args(["advise", &reference]);
        c
    };
    run(&mut warm_cmd());
    let warm = measure::best_of(3, warm_cmd);
    let ratio = advise_cold.wall.as_secs_f64() / layers_cold.wall.as_secs_f64();
    println!(
        "synthetic cold: advise {:.2} s vs layers {:.2} s -> {ratio:.2}x (target <= 1.1): {}",
        advise_cold.wall.as_secs_f64(),
        layers_cold.wall.as_secs_f64(),
        verdict("synthetic cold advise", ratio <= 1.1, missed)
    );
    println!(
        "synthetic warm: {:.2} s (target <= 2 s): {}; peak RSS {:.1} MiB (target <= 128 MiB): {}",
        warm.wall.as_secs_f64(),
        verdict(
            "synthetic warm time",
            warm.wall.as_secs_f64() <= 2.0,
            missed
        ),
        warm.rss_mib(),
        verdict("synthetic warm RSS", warm.rss_mib() <= 128.0, missed)
    );
}

fn debian(missed: &mut Vec<String>) {
    let base = data::host_debian("host-debian", HOST_CAP);
    let layout = data::layout("advise-debian", &[&base]);
    let reference = format!("oci:{}:advise-debian", layout.display());
    let ours = env!("CARGO_BIN_EXE_strata").to_owned();
    let cache = tempfile::tempdir().unwrap();
    let warm = |program: String, dir: std::path::PathBuf| {
        let reference = reference.clone();
        move || {
            let mut c = with(&program);
            c.arg("--cache-dir").arg(&dir).args(["advise", &reference]);
            c
        }
    };
    let cold = |program: String| {
        let reference = reference.clone();
        move || {
            let mut c = with(&program);
            c.args(["advise", "--no-cache", &reference]);
            c
        }
    };
    let Some(before) = std::env::var_os("STRATA_BEFORE").map(|b| b.to_string_lossy().into_owned())
    else {
        let ours_warm = warm(ours.clone(), cache.path().join("after"));
        run(&mut ours_warm());
        let w = measure::best_of(3, ours_warm);
        println!(
            "debian warm: {:.2} s, peak RSS {:.1} MiB (target <= 128 MiB): {} (set STRATA_BEFORE for the 1.1x targets)",
            w.wall.as_secs_f64(),
            w.rss_mib(),
            verdict("debian warm RSS", w.rss_mib() <= 128.0, missed)
        );
        return;
    };
    let (b_cold, a_cold) = alternate(3, cold(before.clone()), cold(ours.clone()));
    let (before_warm, after_warm) = (
        warm(before, cache.path().join("before")),
        warm(ours, cache.path().join("after")),
    );
    run(&mut before_warm());
    run(&mut after_warm());
    let (b_warm, a_warm) = alternate(5, before_warm, after_warm);
    for (what, b, a) in [("cold", b_cold, a_cold), ("warm", b_warm, a_warm)] {
        let ratio = a.wall.as_secs_f64() / b.wall.as_secs_f64();
        println!(
            "debian {what}: advise {:.3} s vs before {:.3} s -> {ratio:.2}x (target <= 1.1): {}; peak RSS {:.1} MiB (before {:.1})",
            a.wall.as_secs_f64(),
            b.wall.as_secs_f64(),
            verdict(&format!("debian {what} advise"), ratio <= 1.1, missed),
            a.rss_mib(),
            b.rss_mib(),
        );
    }
    println!(
        "debian warm peak RSS {:.1} MiB (target <= 128 MiB): {}",
        a_warm.rss_mib(),
        verdict("debian warm RSS", a_warm.rss_mib() <= 128.0, missed)
    );
}
