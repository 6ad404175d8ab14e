//! `strata gate`: every rule kind at its boundary, warn and fail, exit codes
//! in every format, forbidden paths, growth against a baseline, malformed
//! policies, JUnit.

use super::builder::{self, Compress, OciLayout};
use super::*;

pub const FAMILY: &str = concat!("oci:", env!("CARGO_MANIFEST_DIR"), "/fixtures/family");

pub fn policy(r: &Run, text: &str) -> String {
    let p = r.path("policy.toml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

pub fn app() -> String {
    format!("{FAMILY}:app")
}

/// app's figures, from footprint.
fn totals(r: &Run) -> Value {
    r.json(&["footprint", &app()])["images"][0]["total"].clone()
}

fn gate(r: &Run, args: &[&str]) -> (i32, String) {
    let out = r.cmd().arg("gate").args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// `strata gate --format json ARGS`: the exit code, the report, stderr.
pub fn gate_json(r: &Run, args: &[&str]) -> (i32, Value, String) {
    let out = r
        .cmd()
        .args(["gate", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{stderr}"));
    (out.status.code().unwrap(), v, stderr)
}

#[test]
fn each_size_rule_trips_one_byte_over_its_limit_and_not_at_it() {
    let r = Run::new();
    let t = totals(&r);
    for (rule, key) in [
        ("max_compressed", "compressed"),
        ("max_uncompressed", "uncompressed"),
        ("max_files", "files"),
    ] {
        let n = t[key].as_u64().unwrap();
        for (limit, level, code) in [(n, "fail", 0), (n - 1, "fail", 1), (n - 1, "warn", 0)] {
            let p = policy(
                &r,
                &format!("[[image]]\nlevel = \"{level}\"\n{rule} = {limit}\n"),
            );
            for format in ["table", "json", "markdown"] {
                let (got, _) = gate(&r, &["--policy", &p, "--format", format, &app()]);
                assert_eq!(got, code, "{rule} = {limit} ({level}, {format})");
            }
        }
    }
    let p = policy(&r, "[[image]]\nmax_layers = 3\n");
    assert_eq!(gate(&r, &["--policy", &p, &app()]).0, 0);
    let p = policy(&r, "[[image]]\nmax_layers = 2\n");
    assert_eq!(gate(&r, &["--policy", &p, &app()]).0, 1);
}

#[test]
fn set_waste_and_efficiency_rules_at_their_boundaries() {
    let r = Run::new();
    let dive_image = format!("docker-archive:{}", dive("test-docker-image.tar"));
    // dive's image: strata wasted 32025, dive efficiency 0.9844212134184309.
    for (text, code) in [
        ("[[image]]\nmax_wasted = 32025\n", 0),
        ("[[image]]\nmax_wasted = 32024\n", 1),
        ("[[image]]\nmin_efficiency = 0.98\n", 0),
        ("[[image]]\nmin_efficiency = 0.99\n", 1),
        ("[[image]]\nmax_dive_wasted = \"32kB\"\n", 1),
        ("[[image]]\nlevel = \"warn\"\nmin_efficiency = 0.99\n", 0),
    ] {
        let p = policy(&r, text);
        assert_eq!(gate(&r, &["--policy", &p, &dive_image]).0, code, "{text}");
    }
    let dedup = r.json(&["footprint", &app()])["set"]["dedup_total"]["compressed"]
        .as_u64()
        .unwrap();
    let p = policy(&r, &format!("[set]\nmax_dedup_total = {dedup}\n"));
    assert_eq!(gate(&r, &["--policy", &p, &app()]).0, 0);
    let p = policy(&r, &format!("[set]\nmax_dedup_total = {}\n", dedup - 1));
    let (code, table) = gate(&r, &["--policy", &p, &app()]);
    assert_eq!(code, 1);
    assert!(
        table.contains("max_dedup_total") && table.contains("FAIL"),
        "{table}"
    );
}

#[test]
fn a_dive_ci_file_is_a_policy_too() {
    let r = Run::new();
    let p = r.path(".dive-ci");
    std::fs::write(&p, "rules:\n  lowestEfficiency: 0.99\n  highestWastedBytes: 20MB\n  highestUserWastedPercent: disabled\n").unwrap();
    let dive_image = format!("docker-archive:{}", dive("test-docker-image.tar"));
    let v = {
        let out = r
            .cmd()
            .args(["gate", "--format", "json", "--policy"])
            .arg(&p)
            .arg(&dive_image)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let rules: Vec<(&str, &str)> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["rule"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rules,
        [("max_dive_wasted", "pass"), ("min_efficiency", "fail")]
    );
}

#[test]
fn test_tooling_in_a_prod_image_is_named_with_its_bytes() {
    let r = Run::new();
    let mut lay = OciLayout::new(&r.path("pd"));
    let base = lay.layer(Compress::Gzip(6), |w| {
        w.file("app/main.py", b"print(1)\n");
    });
    let dev = lay.layer(Compress::Gzip(6), |w| {
        w.file(
            "usr/lib/python3/site-packages/pytest/__init__.py",
            &builder::noise(7000, 2),
        );
    });
    lay.image("prod", &[&base], "linux/amd64");
    lay.image("prod-leaky", &[&base, &dev], "linux/amd64");
    let layout = lay.finish();
    let p = policy(
        &r,
        "[[image]]\nmatch = \"*prod*\"\nforbidden_paths = [\"**/site-packages/pytest/**\"]\n",
    );
    let (code, _) = gate(&r, &["--policy", &p, &format!("{}:prod", oci(&layout))]);
    assert_eq!(code, 0);
    let (code, table) = gate(
        &r,
        &["--policy", &p, &format!("{}:prod-leaky", oci(&layout))],
    );
    assert_eq!(code, 1);
    assert!(
        table.contains("/usr/lib/python3/site-packages/pytest/__init__.py (layer #2)"),
        "{table}"
    );
    assert!(table.contains("1 files, 7000 bytes"), "{table}");
}

#[test]
fn growth_against_a_baseline_names_the_layer_behind_it() {
    let r = Run::new();
    let mut lay = OciLayout::new(&r.path("g"));
    let base = lay.layer(Compress::None, |w| {
        w.file("app/bin", &builder::noise(100_000, 1));
    });
    let more = lay.layer(Compress::None, |w| {
        w.file("app/data", &builder::noise(5_000_000, 2));
    });
    lay.image("v1", &[&base], "linux/amd64");
    lay.image("v2", &[&base, &more], "linux/amd64");
    let layout = lay.finish();
    let (v1, v2) = (
        format!("{}:v1", oci(&layout)),
        format!("{}:v2", oci(&layout)),
    );
    let baseline = r.path("base.json");
    let out = r
        .cmd()
        .args(["gate", "--write-baseline"])
        .arg(&baseline)
        .arg(&v1)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b = baseline.display().to_string();
    let p = policy(&r, "[[image]]\nmax_growth = \"1MB\"\n");
    let (code, table) = gate(&r, &["--policy", &p, "--baseline", &b, &v2]);
    assert_eq!(code, 1, "{table}");
    assert!(
        table.contains(&format!("new layer {}", &more.digest[..19])),
        "{table}"
    );
    let p = policy(&r, "[[image]]\nmax_growth = \"10MB\"\n");
    let out = r
        .cmd()
        .args([
            "gate",
            "--format",
            "json",
            "--policy",
            &p,
            "--baseline",
            &b,
            &v2,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["checks"][0]["actual"].as_f64(),
        Some(more.size as f64),
        "5 MB of growth"
    );
    // A baseline of another schema is a clear error.
    std::fs::write(
        r.path("old.json"),
        br#"{"schema_version": 99, "command": "baseline"}"#,
    )
    .unwrap();
    let line = r.fails(&[
        "gate",
        "--policy",
        &p,
        "--baseline",
        r.path("old.json").to_str().unwrap(),
        &v2,
    ]);
    assert!(
        line.contains("not a strata baseline of schema_version 1 (found 99)"),
        "{line}"
    );
}

#[test]
fn a_malformed_policy_names_the_file_line_and_column_never_its_text() {
    let r = Run::new();
    for (text, expected) in [
        (
            "[[image]]\nSECRET_max_compresed = 1\n",
            "line 2, column 1: unknown field, expected one of `match`",
        ),
        (
            "[[image]]\nmax_files = \"12 SECRET\"\n",
            "line 2, column 13: not a size",
        ),
        (
            "[[image]]\nmax_layers = \"SECRET\"\n",
            "line 2, column 14: invalid type, expected u64",
        ),
        (
            "[[image]]\nlevel = \"SECRET\"\nmax_layers = 1\n",
            "line 2, column 9: unknown variant, expected `fail` or `warn`",
        ),
        (
            "[[image]]\nmatch = \"[SECRET\"\nmax_layers = 1\n",
            "line 2, column 9: not a glob: an unclosed character class",
        ),
        (
            "[[image]]\nforbidden_paths = [\"a/[SECRET\"]\n",
            "line 2, column 19: not a glob",
        ),
    ] {
        let p = policy(&r, text);
        let line = r.fails(&["gate", "--policy", &p, &app()]);
        assert!(
            line.contains(&format!("policy.toml: {expected}")),
            "{text}: {line}"
        );
        assert!(!line.contains("SECRET"), "{line}");
    }
}

/// Issue 18.7: `--policy /etc/passwd` printed the file's first line, and a
/// shadow-like file its hash. Every file the gate reads (a TOML policy, a
/// `.dive-ci`, a baseline) is named by place and by what was expected.
#[test]
fn a_secret_file_given_as_policy_or_baseline_never_reaches_stderr() {
    let r = Run::new();
    let secret = "root:$6$SECRETSALT$SECRETHASHSECRETHASH:19000:0:99999:7:::\n";
    let shadow = r.path("shadow");
    std::fs::write(&shadow, secret).unwrap();
    let shadow = shadow.to_str().unwrap();
    let line = r.fails(&["gate", "--policy", shadow, &app()]);
    assert!(
        line.contains("shadow: line 1, column 5: not valid TOML"),
        "{line}"
    );
    let line = r.fails(&["gate", "--policy", "/etc/passwd", &app()]);
    assert!(line.contains("/etc/passwd: line 1, column"), "{line}");
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let first = passwd.lines().next().unwrap_or("root:x:0:0");
    assert!(!line.contains(first) && !line.contains("root:x"), "{line}");

    let dive_ci = r.path(".dive-ci");
    for text in [
        "rules:\n  SECRETHASH: 1\n",
        "rules:\n  lowestEfficiency: SECRETHASH\n",
        "rules:\n  highestWastedBytes: SECRETHASH\n",
        &format!("rules:\n{secret}"),
    ] {
        std::fs::write(&dive_ci, text).unwrap();
        let line = r.fails(&["gate", "--policy", dive_ci.to_str().unwrap(), &app()]);
        assert!(line.contains(".dive-ci: line 2, column"), "{line}");
        assert!(!line.contains("SECRET"), "{line}");
    }

    let p = policy(&r, "[[image]]\nmax_growth = \"1MB\"\n");
    for text in [
        secret.to_owned(),
        r#"{"schema_version": 1, "command": "baseline", "images": [{"name": "SECRETHASH", "key": "k", "compressed": "SECRETHASH", "uncompressed": 1, "files": 1, "layers": []}], "dedup_compressed": 1}"#.to_owned(),
        r#"{"schema_version": 1, "command": "baseline", "images": [], "dedup_compressed": 1, "SECRETHASH": "#.to_owned(),
    ] {
        std::fs::write(r.path("base.json"), &text).unwrap();
        let line = r.fails(&["gate", "--policy", &p, "--baseline", r.path("base.json").to_str().unwrap(), &app()]);
        assert!(line.contains("base.json: malformed JSON"), "{line}");
        assert!(line.contains("line 1 column"), "{line}");
        assert!(!line.contains("SECRET"), "{line}");
    }
}

#[test]
fn the_junit_file_has_one_test_case_per_check() {
    let r = Run::new();
    let p = policy(
        &r,
        "[[image]]\nmax_layers = 2\nmax_compressed = \"1GB\"\n[set]\nmax_dedup_total = \"1GB\"\n",
    );
    let junit = r.path("gate.xml");
    let out = r
        .cmd()
        .args(["gate", "--policy", &p, "--junit"])
        .arg(&junit)
        .arg(app())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase").count(), 3, "{xml}");
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    assert!(xml.starts_with("<?xml"), "{xml}");
}

#[test]
fn the_example_policy_catches_the_fixture_family_wasting_half_of_app_dev() {
    let r = Run::new();
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/policy/strata.toml");
    let (code, table) = gate(&r, &["--policy", p, FAMILY]);
    assert_eq!(code, 1, "{table}");
    let failed: Vec<&str> = table
        .lines()
        .filter(|l| l.trim_start().starts_with("FAIL"))
        .collect();
    assert_eq!(failed.len(), 1, "{table}");
    assert!(
        failed[0].contains("app-dev")
            && failed[0].contains("max_wasted_percent")
            && failed[0].contains("50.0%"),
        "{table}"
    );
}

#[test]
fn pytest_is_forbidden_in_prod_named_with_its_version_and_bytes() {
    let r = Run::new();
    let (prod, dev) = super::diff::prod_dev(&r.path("pd"));
    let p = policy(
        &r,
        "[[image]]\nforbidden_packages = [\"python/pytest\", \"*/ipython\"]\n",
    );
    let (code, table) = gate(&r, &["--policy", &p, &prod]);
    assert_eq!(code, 0, "{table}");
    let (code, table) = gate(&r, &["--policy", &p, &dev]);
    assert_eq!(code, 1, "{table}");
    let bytes = 12000 + super::diff::PYTEST_METADATA.len() + super::diff::PYTEST_RECORD.len();
    assert!(
        table.contains(&format!("python/pytest 8.0.0 ({bytes} bytes)")),
        "{table}"
    );
}

#[test]
fn bytes_under_a_path_at_the_boundary_for_fail_and_warn() {
    let r = Run::new();
    // app's merged filesystem holds bin/sh (40,000 bytes) under /bin.
    for (limit, level, code) in [(40000, "fail", 0), (39999, "fail", 1), (39999, "warn", 0)] {
        let p = policy(
            &r,
            &format!("[[image]]\nlevel = \"{level}\"\nmax_under = {{ \"/bin\" = {limit} }}\n"),
        );
        for format in ["table", "json", "markdown"] {
            let (got, out) = gate(&r, &["--policy", &p, "--format", format, &app()]);
            assert_eq!(got, code, "{limit} {level} {format}: {out}");
            assert!(out.contains("max_under /bin"), "{out}");
        }
    }
}

#[test]
fn every_other_rule_warns_instead_of_failing_at_warn_level() {
    let r = Run::new();
    let dive_image = format!("docker-archive:{}", dive("test-docker-image.tar"));
    for rule in [
        "max_layers = 1",
        "max_wasted = 1",
        "max_wasted_percent = 0.1",
        "min_efficiency = 0.999",
        "max_dive_wasted = 1",
        "max_dive_user_wasted = 0.01",
        "forbidden_paths = [\"root/**\"]",
    ] {
        let p = policy(&r, &format!("[[image]]\nlevel = \"warn\"\n{rule}\n"));
        let out = r
            .cmd()
            .args(["gate", "--format", "json", "--policy", &p, &dive_image])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{rule}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["status"], "warn", "{rule}");
        let p = policy(&r, &format!("[[image]]\n{rule}\n"));
        assert_eq!(
            gate(&r, &["--policy", &p, &dive_image]).0,
            1,
            "{rule} fails at fail level"
        );
    }
}

/// The README's GitHub Actions and GitLab CI snippets run these commands:
/// record a baseline, then gate with it, markdown to the step summary and
/// JUnit for the merge request.
#[test]
fn the_ci_snippets_commands_run_as_documented() {
    let r = Run::new();
    let baseline = r.path("main-baseline.json");
    let junit = r.path("gate.xml");
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/policy/strata.toml");
    let image = format!("{FAMILY}:app");
    let out = r
        .cmd()
        .args(["gate", "--write-baseline"])
        .arg(&baseline)
        .arg(&image)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = r
        .cmd()
        .args(["gate", "--policy", policy, "--baseline"])
        .arg(&baseline)
        .args(["--format", "markdown", "--junit"])
        .arg(&junit)
        .arg(&image)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("| STATUS | IMAGE | RULE | ACTUAL | LIMIT |"),
        "{md}"
    );
    assert!(md.contains("max_growth"), "{md}");
    assert!(std::fs::read_to_string(&junit)
        .unwrap()
        .contains("<testsuite"));
}

/// Every merged-filesystem rule at once on 20,000 files in one directory:
/// one pass gives the bytes under a path, the files matching a pattern
/// (counted all, five named), the waste and the findings, each exact.
#[test]
fn every_filesystem_rule_at_once_on_20_000_files_is_exact() {
    let r = Run::new();
    let reference = builder::one_layer_image(&r.path("flat"), "flat", Compress::None, |w| {
        builder::flat_files(w, 20_000)
    });
    let p = policy(
        &r,
        "[[image]]\nmax_under = { \"/d\" = 19999 }\nforbidden_paths = [\"d/f000000*\"]\n\
         max_wasted = 1\nmax_findings = { duplicate_content = 19992 }\n",
    );
    let out = r
        .cmd()
        .args(["gate", "--format", "json", "--policy", &p, &reference])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = |rule: &str| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["rule"].as_str().unwrap().starts_with(rule))
            .unwrap_or_else(|| panic!("no {rule} in {v}"))
            .clone()
    };
    assert_eq!(check("max_under")["actual"], 20_000.0);
    assert_eq!(check("max_under")["status"], "fail");
    let forbidden = check("forbidden_paths");
    assert_eq!(forbidden["actual"], 10.0);
    assert_eq!(
        forbidden["detail"].as_array().unwrap().len(),
        6,
        "{forbidden}"
    );
    assert_eq!(check("max_wasted")["status"], "pass");
    assert_eq!(check("max_findings")["actual"], 19_993.0);
    assert_eq!(check("max_findings")["detail"].as_array().unwrap().len(), 5);
}
