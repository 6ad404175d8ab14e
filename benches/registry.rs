//! Registry benchmarks against a real local registry (CNCF distribution on
//! 127.0.0.1), timing the release binary end to end:
//! - a warm re-run of a deep footprint over a 5-image family vs the cold run
//!   (target: warm <= 5 % of cold);
//! - `--shallow` over a 10-image glob vs 10 sequential `skopeo inspect`
//!   calls against the same registry (target: < 0.3x).
//!
//! Exits 1 when a target is missed.

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "support/data.rs"]
mod data;
#[path = "../tests/it/registry_server.rs"]
mod registry_server;

use std::process::Command;
use std::time::{Duration, Instant};

use builder::Compress;

fn time(mut cmd: Command) -> Duration {
    let start = Instant::now();
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    start.elapsed()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let reg = registry_server::Registry::start(false);
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("family");
    let mut oci = builder::OciLayout::new(&layout);
    // A ~60 MB base shared by five images, each with its own ~10 MB layer.
    let base = oci.layer(Compress::Gzip(6), |w| data::fill(w, 6_000, 2, 1));
    for i in 0..5u64 {
        let own = oci.layer(Compress::Gzip(6), |w| data::fill(w, 1_500, 0, 100 + i));
        oci.image(&format!("svc{i}"), &[&base, &own], "linux/amd64");
    }
    let small = oci.layer(Compress::Gzip(6), |w| {
        w.file("etc/motd", b"hello\n");
    });
    for i in 0..10 {
        oci.image(&format!("tiny{i}"), &[&small], "linux/amd64");
    }
    oci.finish();
    for i in 0..5 {
        reg.push(&layout, &format!("svc{i}"), &format!("fam/svc{i}:1"), false);
    }
    for i in 0..10 {
        reg.push(
            &layout,
            &format!("tiny{i}"),
            &format!("ten/tiny{i}:1"),
            false,
        );
    }

    let exe = env!("CARGO_BIN_EXE_strata");
    let family: Vec<String> = (0..5)
        .map(|i| format!("docker://{}/fam/svc{i}:1", reg.host))
        .collect();
    let strata = |cache: &std::path::Path, args: &[String]| {
        let mut c = Command::new(exe);
        c.args(["footprint", "-q"])
            .args(args)
            .env("STRATA_CACHE_DIR", cache);
        c
    };
    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for run in 0..3 {
        let cache = work.path().join(format!("cache{run}"));
        cold.push(time(strata(&cache, &family)));
        warm.push(time(strata(&cache, &family)));
    }
    let (cold, warm) = (median(cold), median(warm));
    let warm_ratio = warm.as_secs_f64() / cold.as_secs_f64();
    println!("deep footprint, 5 images: cold {cold:.2?}, warm {warm:.2?} = {:.1} % of cold (target <= 5 %)", warm_ratio * 100.0);

    let glob = vec![
        "--shallow".to_owned(),
        format!("docker://{}/ten/*:1", reg.host),
    ];
    let shallow = median(
        (0..5)
            .map(|_| time(strata(&work.path().join("unused"), &glob)))
            .collect(),
    );
    let skopeo = median(
        (0..3)
            .map(|_| {
                let start = Instant::now();
                for i in 0..10 {
                    let mut c = Command::new("skopeo");
                    c.args(["inspect", "--tls-verify=false"])
                        .arg(format!("docker://{}/ten/tiny{i}:1", reg.host));
                    time(c);
                }
                start.elapsed()
            })
            .collect(),
    );
    let shallow_ratio = shallow.as_secs_f64() / skopeo.as_secs_f64();
    println!("--shallow over 10 images: {shallow:.2?}; 10 x skopeo inspect: {skopeo:.2?}; ratio {shallow_ratio:.2} (target < 0.3)");
    // Stopped before exit(1), which runs no destructor.
    drop(reg);
    if warm_ratio > 0.05 || shallow_ratio >= 0.3 {
        eprintln!("target missed");
        std::process::exit(1);
    }
}
