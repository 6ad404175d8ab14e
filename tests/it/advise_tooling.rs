//! `strata advise` on what the runtime does not need (issue 25) and on how
//! its figures add up (issue 19.4): dev tooling with exactly the packages
//! only it needs, per ecosystem; build caches and test folders one finding
//! each; a path in two findings counted once; deleted told from overwritten.

use super::dev_images::{self, *};
use super::*;

fn image(layout: &std::path::Path, name: &str) -> String {
    format!("{}:{name}", oci(layout))
}

/// The findings of the first image of an advise document.
fn findings(v: &Value) -> Vec<Value> {
    v["images"][0]["findings"].as_array().unwrap().clone()
}

fn of_kind(v: &Value, kind: &str) -> Vec<Value> {
    findings(v)
        .into_iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

/// (name, bytes, layer) of a tooling finding's packages.
fn packages(f: &Value) -> Vec<(String, u64, u64)> {
    f["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["bytes"].as_u64().unwrap(),
                p["layer"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn p(name: &str, bytes: usize, layer: u64) -> (String, u64, u64) {
    (name.to_owned(), bytes as u64, layer)
}

#[test]
fn a_deb_tool_frees_itself_and_its_two_exclusive_dependencies_never_the_shared_one() {
    let r = Run::new();
    let layout = dev_images::deb(&r.path("deb"));
    let v = r.json(&["advise", &image(&layout, "deb")]);
    let tooling = of_kind(&v, "dev_tooling");
    assert_eq!(tooling.len(), 1, "{tooling:?}");
    let f = &tooling[0];
    assert_eq!(f["subject"], "deb/gdb");
    assert_eq!(
        packages(f),
        [
            p("gdb", GDB + GDB_PY, 2),
            p("libexclusive2", LIBEXCLUSIVE2, 2),
            p("libexclusive1", LIBEXCLUSIVE1, 2)
        ]
    );
    // 7,000 + 500 + 2,200 + 1,100: libshared (curl needs it) stays.
    assert_eq!(f["bytes"], 10_800);
    assert_eq!(f["files"], 4);
    assert_eq!(f["layer"], 2);
    assert_eq!(f["created_by"], "RUN apt-get install -y gdb");
    let table = String::from_utf8(r.run(&["advise", &image(&layout, "deb")]).stdout).unwrap();
    assert!(table.contains("dev and test tooling (deb/gdb)"), "{table}");
}

#[test]
fn an_apk_tool_frees_what_only_it_needs_through_sonames() {
    let r = Run::new();
    let layout = dev_images::apk(&r.path("apk"));
    let v = r.json(&["advise", &image(&layout, "apk")]);
    let tooling = of_kind(&v, "dev_tooling");
    assert_eq!(tooling.len(), 1, "{tooling:?}");
    assert_eq!(tooling[0]["subject"], "apk/gdb");
    assert_eq!(
        packages(&tooling[0]),
        [
            p("gdb", GDB, 2),
            p("libexcl2", LIBEXCLUSIVE2, 2),
            p("libexcl1", LIBEXCLUSIVE1, 2)
        ]
    );
    assert_eq!(tooling[0]["bytes"], 10_300);
}

#[test]
fn a_python_tool_frees_what_only_its_requires_dist_names() {
    let r = Run::new();
    let (layout, freed) = dev_images::python(&r.path("py"));
    let v = r.json(&["advise", &image(&layout, "python")]);
    let tooling = of_kind(&v, "dev_tooling");
    assert_eq!(tooling.len(), 1, "{tooling:?}");
    let names: Vec<String> = packages(&tooling[0]).into_iter().map(|p| p.0).collect();
    assert_eq!(
        names,
        ["pytest", "pluggy", "iniconfig"],
        "packaging stays: gunicorn needs it"
    );
    assert_eq!(tooling[0]["bytes"], freed as u64);
    assert_eq!(tooling[0]["subject"], "python/pytest");
}

#[test]
fn an_npm_tool_frees_its_own_and_nested_packages_never_one_the_app_needs() {
    let r = Run::new();
    let (layout, freed) = dev_images::npm(&r.path("npm"));
    let v = r.json(&["advise", &image(&layout, "npm")]);
    let tooling = of_kind(&v, "dev_tooling");
    assert_eq!(tooling.len(), 1, "{tooling:?}");
    let mut names: Vec<String> = packages(&tooling[0]).into_iter().map(|p| p.0).collect();
    names.sort();
    assert_eq!(
        names,
        ["jest", "jest-cli", "pretty-format", "pretty-format"]
    );
    assert_eq!(
        tooling[0]["bytes"], freed as u64,
        "ms stays: express needs it"
    );
}

#[test]
fn a_go_build_cache_a_cargo_registry_and_an_app_spec_are_one_finding_each() {
    let r = Run::new();
    let layout = dev_images::caches(&r.path("c"));
    let v = r.json(&["advise", &image(&layout, "caches")]);
    let got: Vec<(String, String, u64, u64, u64)> = findings(&v)
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["subject"].as_str().unwrap_or("").to_owned(),
                f["bytes"].as_u64().unwrap(),
                f["files"].as_u64().unwrap(),
                f["layer"].as_u64().unwrap(),
            )
        })
        .collect();
    let want = |k: &str, s: &str, b: u64, n: u64, l: u64| (k.to_owned(), s.to_owned(), b, n, l);
    assert_eq!(
        got,
        [
            want("build_cache", "cargo registry", 5000, 1, 2),
            want("build_cache", "go build cache", 4000, 2, 1),
            want("test_folder", "/app/spec", 1000, 2, 3),
        ]
    );
    // JSON names every path with its bytes, whatever --top says.
    let v = r.json(&["advise", "--top", "1", &image(&layout, "caches")]);
    assert_eq!(
        findings(&v)[1]["paths"],
        serde_json::json!([
            {"path": "/root/.cache/go-build/ab/abcdef-d", "bytes": 3000},
            {"path": "/root/.cache/go-build/cd/cdef01-a", "bytes": 1000},
        ])
    );
    assert_eq!(v["images"][0]["total_bytes"], 10_000);
}

#[test]
fn on_the_prod_dev_pair_the_tooling_finding_is_what_diff_says_the_packages_add() {
    let r = Run::new();
    let (prod, dev) = super::diff::prod_dev(&r.path("pd"));
    let d = r.json(&["diff", &prod, &dev]);
    let added: Vec<&Value> = d["packages"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["change"] == "added")
        .collect();
    assert_eq!(added.len(), 2, "gdb by dpkg, pytest by pip");
    assert!(added.iter().all(|c| c["tooling"].is_string()), "{added:?}");
    let added_bytes: u64 = added
        .iter()
        .map(|c| c["target_bytes"].as_u64().unwrap())
        .sum();
    let v = r.json(&["advise", &dev]);
    let tooling: u64 = of_kind(&v, "dev_tooling")
        .iter()
        .map(|f| f["bytes"].as_u64().unwrap())
        .sum();
    assert_eq!(tooling, added_bytes);
    assert!(of_kind(&r.json(&["advise", &prod]), "dev_tooling").is_empty());
}

/// One layer: a 3 MB file in a Go build cache (also a big file) and the
/// same bytes again in the app (a duplicate, and big); then a layer that
/// deletes one file and writes another again.
fn overlaps(dir: &std::path::Path) -> std::path::PathBuf {
    use super::builder::{noise, Compress, OciLayout};
    let mut oci = OciLayout::new(dir);
    let three = noise(3_000_000, 1);
    let one = oci.layer(Compress::Gzip(1), |w| {
        w.file("app/blob.bin", &three)
            .file("root/.cache/go-build/00/blob-d", &three)
            .file("tmp/gone.log", &noise(1000, 2))
            .file("etc/conf", &noise(2000, 3));
    });
    let two = oci.layer(Compress::Gzip(1), |w| {
        w.whiteout("tmp/gone.log").file("etc/conf", &noise(2500, 4));
    });
    dev_images::image_with_steps(
        &mut oci,
        "o",
        &[
            (&one, "COPY . /"),
            (&two, "RUN rm /tmp/gone.log && configure > /etc/conf"),
        ],
    );
    oci.finish()
}

#[test]
fn the_headline_counts_a_path_two_findings_share_once() {
    let r = Run::new();
    let layout = overlaps(&r.path("o"));
    let v = r.json(&["advise", "--big", "1MB", &image(&layout, "o")]);
    let sum: u64 = findings(&v)
        .iter()
        .map(|f| f["bytes"].as_u64().unwrap())
        .sum();
    // big file: both copies (6 MB); build cache: the cache copy (3 MB);
    // duplicate: the second copy (3 MB); deleted 1,000; overwritten 2,000.
    assert_eq!(sum, 12_003_000);
    // Each copy once: 6 MB of blobs, and 3,000 bytes of logs and conf.
    assert_eq!(v["images"][0]["total_bytes"], 6_003_000);
    let text = String::from_utf8(
        r.run(&["advise", "--big", "1MB", &image(&layout, "o")])
            .stdout,
    )
    .unwrap();
    assert!(text.contains("5 findings, 6MB could go"), "{text}");
}

#[test]
fn deleted_later_and_overwritten_later_each_name_the_layer_that_did_it() {
    let r = Run::new();
    let layout = overlaps(&r.path("o"));
    let v = r.json(&[
        "advise",
        "--kind",
        "deleted-later,overwritten-later",
        &image(&layout, "o"),
    ]);
    let f = findings(&v);
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(f[0]["kind"], "overwritten_later");
    assert_eq!(f[0]["bytes"], 2000);
    assert_eq!(
        f[0]["paths"],
        serde_json::json!([{"path": "/etc/conf", "bytes": 2000}])
    );
    assert_eq!(f[1]["kind"], "deleted_later");
    assert_eq!(
        f[1]["paths"],
        serde_json::json!([{"path": "/tmp/gone.log", "bytes": 1000}])
    );
    for x in &f {
        assert_eq!(
            (x["layer"].as_u64(), x["created_by"].as_str()),
            (Some(1), Some("COPY . /"))
        );
        assert_eq!(x["later"]["layer"], 2);
        assert_eq!(
            x["later"]["created_by"],
            "RUN rm /tmp/gone.log && configure > /etc/conf"
        );
    }
}

fn gate(r: &Run, policy: &std::path::Path, reference: &str) -> std::process::Output {
    r.cmd()
        .args(["gate", "--policy", policy.to_str().unwrap(), reference])
        .output()
        .unwrap()
}

#[test]
fn a_policy_adds_a_kind_of_its_own_and_turns_a_kind_off_for_advise_and_the_gate() {
    let r = Run::new();
    let layout = dev_images::caches(&r.path("c"));
    let policy = r.path("p.toml");
    std::fs::write(
        &policy,
        "[advise]\nextra = [{ kind = \"binaries\", paths = [\"usr/local/bin/**\"] }]\noff = [\"test_folder\"]\n",
    )
    .unwrap();
    let v = r.json(&[
        "advise",
        "--policy",
        policy.to_str().unwrap(),
        &image(&layout, "caches"),
    ]);
    let kinds: Vec<(String, String)> = findings(&v)
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().unwrap().to_owned(),
                f["subject"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("custom".into(), "binaries".into())),
        "{kinds:?}"
    );
    assert!(!kinds.iter().any(|k| k.0 == "test_folder"), "{kinds:?}");
    std::fs::write(
        &policy,
        "[advise]\nextra = [{ kind = \"binaries\", paths = [\"usr/local/bin/**\"] }]\n\n[[image]]\nmax_findings = { binaries = 5999, build_cache = \"1MB\" }\n",
    )
    .unwrap();
    let out = gate(&r, &policy, &image(&layout, "caches"));
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("max_findings binaries"), "{text}");
    assert!(text.contains("/usr/local/bin/server"), "{text}");
}

#[test]
fn the_gate_limits_the_bytes_of_dev_tooling() {
    let r = Run::new();
    let layout = dev_images::deb(&r.path("deb"));
    let policy = r.path("p.toml");
    for (limit, code) in [(10_800, 0), (10_799, 1)] {
        std::fs::write(
            &policy,
            format!("[[image]]\nmax_findings = {{ dev_tooling = {limit} }}\n"),
        )
        .unwrap();
        let out = gate(&r, &policy, &image(&layout, "deb"));
        assert_eq!(out.status.code(), Some(code), "{limit}");
    }
}
