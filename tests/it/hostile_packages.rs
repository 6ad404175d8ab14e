//! Hostile package databases through the binary (issue 18: 2 and 7): the
//! images of package_images.rs, read within the claims budget, their
//! figures right, their names cut.

use super::package_images::*;
use super::*;
use builder::Compress;

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Issue 18.2: 4 M lines of `a,,` under a 4,000-byte directory once took
/// `packages` to 8 GB (the benchmark runs that one). 40,000 lines, a
/// 160 KB RECORD, already make 160 MB of joined paths: the RECORD is
/// dropped at the language budget (one warning) and the wheel owns its
/// metadata directory.
#[test]
fn a_record_of_thousands_of_lines_under_a_long_directory_is_read_within_the_claims_budget() {
    const LINES: u64 = 40_000;
    let r = Run::new();
    let layout = long_record(&r.path("img"), LINES, Compress::None);
    let out = r.run(&["packages", &format!("{}:h", oci(&layout)), "--format=json"]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("past the language budget of 128 MiB"),
        "{stderr}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let x = &v["packages"][0];
    assert_eq!(x["purl"], "pkg:pypi/x@1.0");
    let dist = LONG_RECORD_METADATA.len() as u64 + 4 * LINES;
    assert_eq!(
        (x["bytes"].as_u64(), x["files"].as_u64()),
        (Some(dist), Some(2))
    );
    assert_eq!(v["unowned"]["bytes"].as_u64(), Some(10));
}

/// Issue 18.2: layers of dpkg lists of 2-byte lines once made each line
/// a Vec (7.4 GB at 8 layers; the benchmark runs 12 layers of 32 MiB).
/// Here 12 layers of 20,000 lines: every line a claim, sorted and merged
/// beside the merged filesystem; the first package owns the 26 files.
/// (Past the claims budget: the unit tests, with a small budget.)
#[test]
fn dpkg_lists_of_two_byte_lines_over_twelve_layers_own_their_files_once() {
    let r = Run::new();
    let layout = tiny_list_lines(&r.path("img"), 12, 1, 40_000, Compress::None);
    let out = r.run(&[
        "packages",
        &format!("{}:h", oci(&layout)),
        "--format=json",
        "--sort=name",
    ]);
    let stderr = stderr_of(&out);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = v["packages"].as_array().unwrap();
    assert_eq!(packages.len(), 12);
    for p in packages {
        let files = if p["name"] == "p0" { 26 } else { 0 };
        assert_eq!(
            (
                p["files"].as_u64(),
                p["bytes"].as_u64(),
                p["bytes_source"].as_str()
            ),
            (Some(files), Some(files), Some("files")),
            "{p}"
        );
    }
}

/// Issue 18.7: a 15 MB package name was printed whole (30 s to render).
#[test]
fn a_15_mb_package_name_prints_cut_at_4_kib_with_its_length() {
    let r = Run::new();
    let layout = long_name(&r.path("img"), 15_000_000, Compress::None);
    let reference = format!("{}:h", oci(&layout));
    let out = r.run(&["packages", &reference, "--format=json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let name = v["packages"][0]["name"].as_str().unwrap();
    assert!(name.len() < 4096 + 64, "{}", name.len());
    assert!(
        name.contains("…[15000000 bytes, xxh3 "),
        "{}",
        &name[4000..]
    );
    assert_eq!(v["packages"][0]["bytes"].as_u64(), Some(2048));
    let out = r.run(&["packages", &reference]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.len() < 64 << 10, "{}", out.stdout.len());
}
