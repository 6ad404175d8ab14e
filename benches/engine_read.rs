//! Reading engines, on a ~1 GB image (four layers of data::layer, about 920
//! MB of tar): `docker-daemon:` against the engine's bare export (curl of the
//! same API endpoint to /dev/null), target <= 1.1x, and the bytes strata
//! writes meanwhile (no temporary file when the export's order allows);
//! `containerd:` against `oci:` of the same image's layout, target <= 1.1x.
//! Each figure beside its peer from the same run; best of 3 wall times.
//! Needs root (containerd) and podman, skopeo, containerd, curl installed
//! (scripts/test.sh); exits 1 when a target is missed.

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "../tests/it/containerd_service.rs"]
mod containerd_service;
#[path = "support/data.rs"]
mod data;
#[path = "support/measure.rs"]
mod measure;
#[path = "../tests/it/podman_service.rs"]
mod podman_service;

use std::process::Command;

use measure::{best_of, strata, verdict, Cost};

const NAME: &str = "read-image";
const TAG: &str = "localhost/read:1";

fn show(what: &str, c: &Cost) {
    println!(
        "  {what:<44} {:>7.2} s  cpu {:>6.2} s  rss {:>5.0} MiB  written {:>7.1} MB",
        c.wall.as_secs_f64(),
        c.cpu.as_secs_f64(),
        c.rss_mib(),
        c.written as f64 / 1e6
    );
}

fn main() {
    measure::serve();
    let layers: Vec<builder::Layer> = (0..4)
        .map(|i| data::layer(&format!("read-{i}"), 900 + i))
        .collect();
    let refs: Vec<&builder::Layer> = layers.iter().collect();
    let layout = data::layout(NAME, &refs);
    let tar_bytes: u64 = layers.iter().map(|l| l.files).sum();
    let blob_bytes: u64 = layers.iter().map(|l| l.size).sum();
    println!(
        "image: {} layers, {:.0} MB compressed, {:.0} MB of files",
        layers.len(),
        blob_bytes as f64 / 1e6,
        tar_bytes as f64 / 1e6
    );
    let mut missed = Vec::new();

    // containerd: the same blobs, read through its content store.
    let ctd = containerd_service::Containerd::start().expect("containerd runs here (root)");
    let archive = data::dir().join(format!("{NAME}.tar"));
    builder::oci_archive(&layout, &archive);
    ctd.import_archive("default", &archive, "read/x", false);
    let _ = std::fs::remove_file(&archive);
    let oci = best_of(3, || {
        let mut c = strata();
        c.args([
            "footprint",
            "--no-cache",
            &format!("oci:{}:{NAME}", layout.display()),
        ]);
        c
    });
    let containerd = best_of(3, || {
        let mut c = strata();
        c.env("CONTAINERD_ADDRESS", &ctd.socket).args([
            "footprint",
            "--no-cache",
            &format!("containerd:default/read/x:{NAME}"),
        ]);
        c
    });
    drop(ctd);
    let ratio = containerd.wall.as_secs_f64() / oci.wall.as_secs_f64();
    println!("containerd: vs the layout (target <= 1.1x)");
    show("strata footprint oci:LAYOUT", &oci);
    show("strata footprint containerd:default/…", &containerd);
    println!(
        "  ratio {ratio:.2}x: {}",
        verdict("containerd <= 1.1x oci", ratio <= 1.1, &mut missed)
    );

    // Podman: the engine's export, bare and read by strata.
    let podman = podman_service::Podman::start_with("overlay").expect("podman runs here");
    podman.load(&layout, NAME, TAG);
    let host = podman.host();
    let bare = best_of(3, || {
        let mut c = Command::new("curl");
        c.args(["-sf", "--unix-socket"])
            .arg(&podman.socket)
            .args(["-o", "/dev/null"])
            .arg(format!("http://d/v1.41/images/{TAG}/get"));
        c
    });
    let daemon = best_of(3, || {
        let mut c = strata();
        c.env("DOCKER_HOST", &host).args([
            "footprint",
            "--no-cache",
            &format!("docker-daemon:{TAG}"),
        ]);
        c
    });
    let ratio = daemon.wall.as_secs_f64() / bare.wall.as_secs_f64();
    println!("docker-daemon: vs the bare export (target <= 1.1x, nothing spooled)");
    show("curl GET /images/NAME/get > /dev/null", &bare);
    show("strata footprint docker-daemon:NAME", &daemon);
    println!(
        "  ratio {ratio:.2}x: {}",
        verdict("docker-daemon <= 1.1x export", ratio <= 1.1, &mut missed)
    );
    // The layer indexes of a --no-cache run are written too (tens of bytes
    // per file); a spooled export would write the whole tar again.
    let spooled = daemon.written > tar_bytes / 4;
    println!(
        "  written {:.1} MB of {:.0} MB of tar: {}",
        daemon.written as f64 / 1e6,
        tar_bytes as f64 / 1e6,
        verdict("docker-daemon spools nothing", !spooled, &mut missed)
    );
    // Stopped before exit(1), which runs no destructor.
    drop(podman);
    if !missed.is_empty() {
        println!("missed: {}", missed.join(", "));
        std::process::exit(1);
    }
}
