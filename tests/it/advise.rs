//! `strata advise`: one builder-made image per kind of finding, with the
//! bytes computed by hand; none on the clean fixtures; the same whatever the
//! transport.

use super::builder::{self, Compress, OciLayout};
use super::*;

const FAMILY: &str = concat!("oci:", env!("CARGO_MANIFEST_DIR"), "/fixtures/family");

/// (kind, bytes, layer) of each finding.
fn findings(v: &Value, image: usize) -> Vec<(String, u64, u64)> {
    v["images"][image]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["bytes"].as_u64().unwrap(),
                f["layer"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn kinds_image(dir: &std::path::Path) -> std::path::PathBuf {
    let mut oci = OciLayout::new(dir);
    let five = builder::noise(5_000_000, 1);
    let ten = builder::noise(10_000_000, 2);
    let one = oci.layer(Compress::Gzip(1), |w| {
        w.dir("app")
            .file("app/run.bin", &five)
            .file("app/model.bin", &ten);
        w.dir("var/lib/apt/lists").file(
            "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
            &builder::noise(3000, 3),
        );
        w.dir("srv/a")
            .file("srv/a/logo.png", &builder::noise(4000, 4));
        w.dir("srv/b")
            .file("srv/b/logo.png", &builder::noise(4000, 4));
    });
    let two = oci.layer(Compress::Gzip(1), |w| {
        // RUN chmod +x app/run.bin: the same bytes again with a new mode.
        w.dir("app").file_mode("app/run.bin", &five, 0o755);
        // RUN rm app/model.bin: frees nothing.
        w.whiteout("app/model.bin");
    });
    oci.image("kinds", &[&one, &two], "linux/amd64");
    oci.finish()
}

#[test]
fn each_kind_of_finding_with_the_bytes_computed_by_hand() {
    let r = Run::new();
    let layout = kinds_image(&r.path("k"));
    let v = r.json(&["advise", &format!("{}:kinds", oci(&layout))]);
    assert_eq!(
        findings(&v, 0),
        [
            ("deleted_later".to_owned(), 10_000_000, 1),
            ("metadata_only_copy".to_owned(), 5_000_000, 2),
            ("duplicate_content".to_owned(), 4000, 1),
            ("package_manager_leftovers".to_owned(), 3000, 1),
        ]
    );
    let f = &v["images"][0]["findings"][1];
    // Each path with its bytes (issue 19.4).
    assert_eq!(
        f["paths"],
        serde_json::json!([{"path": "/app/run.bin", "bytes": 5_000_000}])
    );
    assert!(f["fix"].as_str().unwrap().contains("--chown"));
    assert!(
        f["compressed_estimate"].as_u64().unwrap() > 4_900_000,
        "noise does not compress"
    );
    let v = r.json(&[
        "advise",
        "--big",
        "8MB",
        "--kind",
        "big-file",
        &format!("{}:kinds", oci(&layout)),
    ]);
    assert_eq!(
        findings(&v, 0),
        [],
        "the 10 MB model.bin is deleted; run.bin is 5 MB"
    );
    let v = r.json(&[
        "advise",
        "--big",
        "4MB",
        "--kind",
        "big-file",
        "--min-bytes",
        "1MB",
        &format!("{}:kinds", oci(&layout)),
    ]);
    assert_eq!(findings(&v, 0), [("big_file".to_owned(), 5_000_000, 2)]);
}

#[test]
fn the_clean_fixtures_give_no_finding() {
    let r = Run::new();
    for name in ["app", "worker", "rebuilt"] {
        let v = r.json(&["advise", &format!("{FAMILY}:{name}")]);
        assert_eq!(findings(&v, 0), [], "{name}");
    }
}

#[test]
fn findings_are_the_same_across_transports_and_the_registry() {
    let r = Run::new();
    let layout = kinds_image(&r.path("k"));
    builder::oci_archive(&layout, &r.path("k.oci.tar"));
    builder::docker_archive(&layout, &["kinds"], &r.path("k.docker.tar"));
    let a = r.json(&["advise", &format!("{}:kinds", oci(&layout))]);
    let b = r.json(&[
        "advise",
        &format!("oci-archive:{}:kinds", r.path("k.oci.tar").display()),
    ]);
    let c = r.json(&[
        "advise",
        &format!(
            "docker-archive:{}:kinds:latest",
            r.path("k.docker.tar").display()
        ),
    ]);
    let reg = super::registry_server::Registry::start(false);
    reg.push(&layout, "kinds", "kinds/img:1", false);
    let d = r.json(&["advise", &format!("docker://{}/kinds/img:1", reg.host)]);
    let strip = |v: &Value| v["images"][0]["findings"].clone();
    assert_eq!(strip(&a), strip(&b), "oci-archive");
    assert_eq!(strip(&a), strip(&c), "docker-archive");
    assert_eq!(strip(&a), strip(&d), "registry");
}

#[test]
fn the_gate_limits_the_bytes_of_each_kind_of_finding() {
    let r = Run::new();
    let layout = kinds_image(&r.path("k"));
    let reference = format!("{}:kinds", oci(&layout));
    let policy = r.path("p.toml");
    for (limit, code) in [("5000000", 0), ("4999999", 1)] {
        std::fs::write(
            &policy,
            format!("[[image]]\nmax_findings = {{ metadata_only_copy = {limit} }}\n"),
        )
        .unwrap();
        let out = r
            .cmd()
            .args(["gate", "--policy"])
            .arg(&policy)
            .arg(&reference)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{limit}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("max_findings metadata_only_copy"), "{text}");
        if code == 1 {
            assert!(text.contains("/app/run.bin"), "{text}");
        }
    }
    std::fs::write(&policy, "[[image]]\nmax_findings = { chown_copies = 1 }\n").unwrap();
    let line = r.fails(&["gate", "--policy", policy.to_str().unwrap(), &reference]);
    // The place and the kinds expected; never the file's text (issue 18.7).
    assert!(
        line.contains("line 2, column 16: unknown kind of finding, expected deleted_later"),
        "{line}"
    );
    assert!(!line.contains("chown_copies"), "{line}");
}

/// 20,000 one-byte files of 7 contents in one directory: one duplicate
/// finding counts every copy and names the first `--top`.
#[test]
fn duplicates_among_20_000_files_are_all_counted_and_the_first_named() {
    let r = Run::new();
    let reference = builder::one_layer_image(&r.path("flat"), "flat", Compress::None, |w| {
        builder::flat_files(w, 20_000)
    });
    let v = r.json(&["advise", &reference]);
    let f = &v["images"][0]["findings"][0];
    assert_eq!(f["kind"], "duplicate_content");
    assert_eq!(
        (f["files"].as_u64(), f["bytes"].as_u64()),
        (Some(19_993), Some(19_993))
    );
    // JSON lists every copy with its bytes (issue 19.4); the table the first three.
    let paths = f["paths"].as_array().unwrap();
    assert_eq!(paths.len(), 19_993);
    assert_eq!(
        paths[..3],
        [
            serde_json::json!({"path": "/d/f0000007", "bytes": 1}),
            serde_json::json!({"path": "/d/f0000008", "bytes": 1}),
            serde_json::json!({"path": "/d/f0000009", "bytes": 1}),
        ]
    );
    assert_eq!(paths[19_992]["path"], "/d/f0019999");
    let text = String::from_utf8(r.run(&["advise", &reference]).stdout).unwrap();
    assert!(text.contains("+19990 more"), "{text}");
}
