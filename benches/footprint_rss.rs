//! Peak RSS of `strata footprint` over a 1 GB image (target: <= 64 MiB).
//! Builds the image once into target/bench-data, then runs the release
//! binary with --no-cache and reads its peak RSS from wait4(2) (support/measure.rs).
//! Exits 1 when the target is missed.

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "support/data.rs"]
mod data;
#[path = "support/measure.rs"]
mod measure;

use std::process::Command;

const TARGET_KIB: i64 = 64 * 1024;

fn main() {
    measure::serve();
    // Four ~250 MB layers: about 1 GB of tar stream.
    let layers: Vec<builder::Layer> = (0..4)
        .map(|i| data::layer_with(&format!("big-{i}"), 10 + i, 26_000, 9))
        .collect();
    let layout = data::dir().join("big-image");
    let _ = std::fs::remove_dir_all(&layout);
    let mut oci = builder::OciLayout::new(&layout);
    for l in &layers {
        let dest = oci.blob_path(&l.digest);
        std::fs::hard_link(&l.path, &dest)
            .or_else(|_| std::fs::copy(&l.path, &dest).map(|_| ()))
            .unwrap();
    }
    oci.image("big", &layers.iter().collect::<Vec<_>>(), "linux/amd64");
    oci.finish();

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_strata"));
    cmd.args(["footprint", "--no-cache", "--bytes", "-q"])
        .arg(format!("oci:{}", layout.display()));
    let (status, cost) = measure::measured(&cmd, std::process::Stdio::inherit(), None);
    let secs = cost.wall.as_secs_f64();
    let peak_kib = cost.peak_rss_kib;
    println!(
        "strata footprint over {} layers: {secs:.2}s, peak RSS {:.1} MiB (target <= 64 MiB)",
        layers.len(),
        peak_kib as f64 / 1024.0
    );
    if status != 0 || peak_kib > TARGET_KIB {
        eprintln!("target missed (exit status {status})");
        std::process::exit(1);
    }
}
