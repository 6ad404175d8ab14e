//! Local transports: dive's real archives and the builder's layouts agree.

use super::builder::{self, Compress};
use super::*;

#[test]
fn dive_docker_archive_matches_dives_own_figures() {
    let r = Run::new();
    let v = r.json(&[
        "footprint",
        &format!("docker-archive:{}", dive("test-docker-image.tar")),
    ]);
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 14);
    let files: Vec<u64> = layers
        .iter()
        .map(|l| l["files"].as_u64().unwrap())
        .collect();
    assert_eq!(files.iter().sum::<u64>(), 1220598, "dive sizeBytes");
    assert_eq!(files[1..].iter().sum::<u64>(), 66237, "dive userSizeBytes");
    assert_eq!(v["images"][0]["total"]["files"], 1220598);
}

#[test]
fn every_dive_oci_and_kaniko_archive_loads() {
    let r = Run::new();
    for (reference, compressed, uncompressed) in [
        ("oci-archive:test-oci-gzip-image.tar", 4132, 12800),
        ("oci-archive:test-oci-zstd-image.tar", 4314, 12800),
        ("oci-archive:test-oci-estargz-image.tar", 4496, 14848),
        ("oci-archive:test-oci-uncompressed-image.tar", 12800, 12800),
    ] {
        let (t, f) = reference.split_once(':').unwrap();
        let v = r.json(&["footprint", &format!("{t}:{}", dive(f))]);
        let total = &v["images"][0]["total"];
        assert_eq!(total["compressed"], compressed, "{reference}");
        assert_eq!(total["uncompressed"], uncompressed, "{reference}");
        assert_eq!(
            total["files"], 11189,
            "{reference}: README.md is 11189 bytes"
        );
    }
    let v = r.json(&[
        "footprint",
        &format!("docker-archive:{}", dive("test-kaniko-image.tar")),
    ]);
    assert_eq!(v["images"][0]["layers"], 14);
    assert_eq!(v["images"][0]["platform"], "linux/amd64");
}

#[test]
fn oci_layout_oci_archive_and_docker_archive_give_identical_figures() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let names = ["app", "app-dev", "worker", "rebuilt"];
    builder::oci_archive(&fam.layout, &r.path("oci.tar"));
    builder::docker_archive(&fam.layout, &names, &r.path("docker.tar"));
    let refs = |t: &str, p: &str| -> Vec<String> {
        names.iter().map(|n| format!("{t}:{p}:{n}")).collect()
    };
    let mut results = Vec::new();
    for (t, p) in [
        ("oci", r.path("layout")),
        ("oci-archive", r.path("oci.tar")),
        ("docker-archive", r.path("docker.tar")),
    ] {
        let refs = refs(t, p.to_str().unwrap());
        let mut args = vec!["footprint", "--no-cache"];
        args.extend(refs.iter().map(String::as_str));
        results.push(figures(&r.json(&args)));
    }
    assert_eq!(results[0], results[1], "oci vs oci-archive");
    assert_eq!(results[0], results[2], "oci vs docker-archive");
}

/// Copies `src` to `dst` with skopeo (installed by the test command).
pub fn skopeo(src: &str, dst: &str) {
    let out = std::process::Command::new("skopeo")
        .args(["--insecure-policy", "copy", "-q", src, dst])
        .output()
        .expect("skopeo is installed by the test command");
    assert!(
        out.status.success(),
        "skopeo {src} {dst}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn skopeo_converted_copies_give_identical_figures() {
    let r = Run::new();
    // skopeo keeps gzip blobs as they are in an oci-archive...
    let gz = builder::family(&r.path("gz"), Compress::Gzip(6));
    let oci_tar = r.path("app.oci.tar");
    skopeo(
        &format!("{}:app", oci(&gz.layout)),
        &format!("oci-archive:{}:app", oci_tar.display()),
    );
    let a = r.json(&["footprint", &format!("{}:app", oci(&gz.layout))]);
    let b = r.json(&["footprint", &format!("oci-archive:{}", oci_tar.display())]);
    assert_eq!(figures(&a), figures(&b));
    // ...and a docker-archive holds uncompressed layers, so start from those.
    let plain = builder::family(&r.path("plain"), Compress::None);
    let docker_tar = r.path("app.docker.tar");
    skopeo(
        &format!("{}:app", oci(&plain.layout)),
        &format!("docker-archive:{}:app:latest", docker_tar.display()),
    );
    let a = r.json(&["footprint", &format!("{}:app", oci(&plain.layout))]);
    let c = r.json(&[
        "footprint",
        &format!("docker-archive:{}", docker_tar.display()),
    ]);
    assert_eq!(figures(&a), figures(&c));
}

#[test]
fn an_index_yields_the_host_platform_a_chosen_one_or_all() {
    let r = Run::new();
    let mut oci = builder::OciLayout::new(&r.path("multi"));
    let amd = oci.layer(Compress::Gzip(6), |w| {
        w.file("amd", &[1u8; 1000]);
    });
    let arm = oci.layer(Compress::Gzip(6), |w| {
        w.file("arm", &[2u8; 2000]);
    });
    oci.multi_platform(
        "multi",
        &[("linux/amd64", vec![&amd]), ("linux/arm64/v8", vec![&arm])],
    );
    let dir = oci.finish();
    let reference = format!("oci:{}:multi", dir.display());
    let v = r.json(&["footprint", &reference, "--platform", "linux/arm64"]);
    assert_eq!(v["images"][0]["platform"], "linux/arm64/v8");
    assert_eq!(v["images"][0]["total"]["files"], 2000);
    let v = r.json(&["footprint", &reference, "--all-platforms"]);
    assert_eq!(v["images"].as_array().unwrap().len(), 2);
    let line = r.fails(&["footprint", &reference, "--platform", "linux/s390x"]);
    assert!(line.contains("linux/amd64, linux/arm64/v8"), "{line}");
}

#[test]
fn a_second_run_reads_no_blob() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let reference = oci(&fam.layout);
    let first = r.json(&["footprint", &reference]);
    // Remove every layer blob: only the cache can answer now.
    for layer in first["layers"].as_array().unwrap() {
        let digest = layer["digest"].as_str().unwrap();
        std::fs::write(
            fam.layout.join("blobs").join(digest.replacen(':', "/", 1)),
            b"gone",
        )
        .unwrap();
    }
    let second = r.json(&["footprint", &reference]);
    assert_eq!(first, second);
    let line = r.fails(&["footprint", "--no-cache", &reference]);
    assert!(line.contains("layer sha256:"), "{line}");
}

#[test]
fn docker_archive_refs_by_tag_and_by_index() {
    let r = Run::new();
    let archive = dive("test-docker-image.tar");
    let by_tag = r.json(&[
        "footprint",
        &format!("docker-archive:{archive}:dive-test:latest"),
    ]);
    let by_index = r.json(&["footprint", &format!("docker-archive:{archive}:@0")]);
    assert_eq!(by_tag["images"][0]["total"], by_index["images"][0]["total"]);
    let line = r.fails(&["footprint", &format!("docker-archive:{archive}:nope:1")]);
    assert!(
        line.contains("no image named \"nope:1\" (available: dive-test:latest)"),
        "{line}"
    );
}
