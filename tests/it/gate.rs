//! `strata gate`: every rule kind at its boundary, warn and fail, exit codes
//! in every format, forbidden paths, growth against a baseline, malformed
//! policies, JUnit.

use super::builder::{self, Compress, OciLayout};
use super::*;

const FAMILY: &str = concat!("oci:", env!("CARGO_MANIFEST_DIR"), "/fixtures/family");

fn policy(r: &Run, text: &str) -> String {
    let p = r.path("policy.toml");
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

fn app() -> String {
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
fn gate_json(r: &Run, args: &[&str]) -> (i32, Value, String) {
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

/// Issue 19.1: `match = "app/api*"` ran against the full `docker://…` name,
/// selected nothing, and the gate said PASS with 0 checks.
#[test]
fn a_rule_that_selects_no_image_is_an_error_naming_the_rule_and_the_names() {
    let r = Run::new();
    let p = policy(
        &r,
        "[[image]]\nmax_layers = 10\n\n[[image]]\nmatch = \"app/api*\"\nmax_layers = 1\n",
    );
    let line = r.fails(&["gate", "--policy", &p, &app(), &format!("{FAMILY}:worker")]);
    assert!(
        line.contains(
            "policy.toml: [[image]] #2 (line 4): its match selects no image; tried against"
        ),
        "{line}"
    );
    assert!(
        line.contains(&app()) && line.contains(&format!("{FAMILY}:worker")),
        "{line}"
    );
    // A policy with no limit at all checks nothing: an error too.
    let p = policy(&r, "[[image]]\nmatch = \"*\"\n");
    let line = r.fails(&["gate", "--policy", &p, &app()]);
    assert!(line.contains("no rule to check"), "{line}");
    // Growth rules alone and no baseline: nothing could be checked.
    let p = policy(&r, "[[image]]\nmax_growth = \"1MB\"\n");
    let line = r.fails(&["gate", "--policy", &p, &app()]);
    assert!(
        line.contains("no check could run: growth rules are not checked without --baseline"),
        "{line}"
    );
}

/// A layout's ref name is matched as typed: `app` selects app, not app-dev.
#[test]
fn a_layouts_ref_name_selects_that_image_alone() {
    let r = Run::new();
    let p = policy(&r, "[[image]]\nmatch = \"app\"\nmax_layers = 3\n");
    let (code, v, stderr) = gate_json(&r, &["--policy", &p, FAMILY]);
    assert_eq!(code, 0, "{stderr}");
    let scopes: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["scope"].as_str().unwrap())
        .collect();
    assert_eq!(scopes, [app().as_str()]);
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

/// Two layouts of the same app: v1 (ref names `app/api:1`, `app/api-dev:1`)
/// and v2 (`api-2`, `api-dev-2`, for the registry), each v2 image one layer
/// over its v1. Returns the layouts and the sizes of api's and api-dev's new layers.
fn api_versions(r: &Run) -> (PathBuf, PathBuf, u64, u64) {
    let layers = |lay: &mut OciLayout| {
        let mk = |lay: &mut OciLayout, path: &str, len: usize, seed: u64| {
            lay.layer(Compress::Gzip(6), |w| {
                w.file(path, &builder::noise(len, seed));
            })
        };
        (
            mk(lay, "bin/sh", 20_000, 1),
            mk(lay, "app/api", 10_000, 2),
            mk(lay, "app/dev", 30_000, 3),
            mk(lay, "app/api.v2", 5_000, 4),
            mk(lay, "app/dev.v2", 50_000, 5),
        )
    };
    let mut v1 = OciLayout::new(&r.path("v1"));
    let (base, api, dev, _, _) = layers(&mut v1);
    v1.image("app/api:1", &[&base, &api], "linux/amd64");
    v1.image("app/api-dev:1", &[&base, &api, &dev], "linux/amd64");
    let mut v2 = OciLayout::new(&r.path("v2"));
    let (base, api, dev, api2, dev2) = layers(&mut v2);
    v2.image("api-2", &[&base, &api, &api2], "linux/amd64");
    v2.image("api-dev-2", &[&base, &api, &dev, &dev2], "linux/amd64");
    (v1.finish(), v2.finish(), api2.size, dev2.size)
}

fn checks(v: &Value) -> Vec<(String, String, f64)> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["scope"].as_str().unwrap().to_owned(),
                c["rule"].as_str().unwrap().to_owned(),
                c["actual"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// Issue 19.1: `match` takes what users type (`app/api*`, `HOST/app/api:*`,
/// the full reference), and a baseline entry is found by repository path and
/// tag whatever the transport: api and api-dev, gated together against a
/// baseline recorded from an OCI layout, are each compared with their own entry.
#[test]
fn match_and_baselines_go_by_repository_path_and_tag_across_transports() {
    let r = Run::new();
    let reg = super::registry_server::Registry::start(false);
    let (v1, v2, api_growth, dev_growth) = api_versions(&r);
    reg.push(&v2, "api-2", "app/api:2", false);
    reg.push(&v2, "api-dev-2", "app/api-dev:2", false);
    let host = &reg.host;
    let (api, dev) = (
        format!("docker://{host}/app/api:2"),
        format!("docker://{host}/app/api-dev:2"),
    );

    for (pattern, selected) in [
        ("app/api*", vec![&api, &dev]),
        ("app/api", vec![&api]),
        (&format!("{host}/app/api:*"), vec![&api]),
        (&api, vec![&api]),
        ("app/api-dev:2", vec![&dev]),
    ] {
        let p = policy(
            &r,
            &format!("[[image]]\nmatch = {pattern:?}\nmax_layers = 9\n"),
        );
        let v = r.json(&["gate", "--policy", &p, &api, &dev]);
        let scopes: Vec<String> = checks(&v).into_iter().map(|c| c.0).collect();
        let selected: Vec<String> = selected.into_iter().cloned().collect();
        assert_eq!(scopes, selected, "match = {pattern:?}");
    }
    let p = policy(&r, "[[image]]\nmatch = \"app/apx*\"\nmax_layers = 9\n");
    let line = r.fails(&["gate", "--policy", &p, &api, &dev]);
    assert!(
        line.contains("[[image]] #1 (line 1): its match selects no image"),
        "{line}"
    );
    assert!(line.contains(&api) && line.contains(&dev), "{line}");

    // The baseline, from the layout: entries by repository path and tag.
    let base = r.path("base.json");
    let out = r
        .cmd()
        .args(["gate", "--write-baseline"])
        .arg(&base)
        .arg(oci(&v1))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let recorded: Value = serde_json::from_slice(&std::fs::read(&base).unwrap()).unwrap();
    let entries: Vec<(&str, &str)> = recorded["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["repository"].as_str().unwrap(),
                e["tag"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(entries, [("app/api", "1"), ("app/api-dev", "1")]);

    let growth = policy(&r, "[[image]]\nmax_growth = \"1GB\"\n");
    let b = base.to_str().unwrap();
    let v = r.json(&["gate", "--policy", &growth, "--baseline", b, &api, &dev]);
    assert_eq!(
        checks(&v),
        [
            (api.clone(), "max_growth".to_owned(), api_growth as f64),
            (dev.clone(), "max_growth".to_owned(), dev_growth as f64),
        ],
        "each image against its own entry"
    );

    // A baseline holding one of them: the other is not matched to it.
    let only = |repo: &str, file: &str| {
        let mut b = recorded.clone();
        b["images"]
            .as_array_mut()
            .unwrap()
            .retain(|e| e["repository"] == repo);
        std::fs::write(r.path(file), serde_json::to_vec(&b).unwrap()).unwrap();
        r.path(file).display().to_string()
    };
    let dev_only = only("app/api-dev", "dev.json");
    let (code, v, stderr) = gate_json(
        &r,
        &["--policy", &growth, "--baseline", &dev_only, &api, &dev],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        checks(&v),
        [(dev.clone(), "max_growth".to_owned(), dev_growth as f64)]
    );
    assert!(
        stderr.contains(&format!("{api} is not in the baseline")),
        "{stderr}"
    );
    let line = r.fails(&["gate", "--policy", &growth, "--baseline", &dev_only, &api]);
    assert!(
        line.contains(&format!("no check could run: {api} is not in the baseline")),
        "{line}"
    );
    let api_only = only("app/api", "api.json");
    let line = r.fails(&["gate", "--policy", &growth, "--baseline", &api_only, &dev]);
    assert!(
        line.contains(&format!("{dev} is not in the baseline")),
        "{line}"
    );
}

/// An engine keeps no compressed size: a compressed limit on its image is
/// not checked and says so (alone, it is a gate that checks nothing: an
/// error); its baseline entry records no compressed size, and growth against
/// it is measured in uncompressed bytes, matched by repository and tag.
#[test]
fn an_engine_image_is_never_gated_on_a_compressed_size_it_lacks() {
    let Some(podman) = super::footprint::podman_with(&[
        ("app", "localhost/fam/app:1"),
        ("app-dev", "localhost/fam/app:2"),
    ]) else {
        return;
    };
    let r = Run::new();
    let engine = || super::footprint::engine_cmd(&r, &podman);
    let (v1, v2) = (
        "docker-daemon:localhost/fam/app:1",
        "docker-daemon:localhost/fam/app:2",
    );
    let p = policy(&r, "[[image]]\nmax_compressed = \"1GB\"\n");
    let out = engine()
        .args(["gate", "--policy", &p, v1])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("no check could run: {v1}: no compressed size (an engine keeps layers uncompressed): max_compressed not checked")),
        "{stderr}"
    );
    let p = policy(
        &r,
        "[[image]]\nmax_compressed = \"1GB\"\nmax_uncompressed = \"1GB\"\n",
    );
    let out = engine()
        .args(["gate", "--format", "json", "--policy", &p, v1])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(checks(&v).len(), 1, "max_uncompressed alone: {v}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_compressed not checked"));

    let base = r.path("base.json");
    let out = engine()
        .args(["gate", "--write-baseline"])
        .arg(&base)
        .arg(v1)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b: Value = serde_json::from_slice(&std::fs::read(&base).unwrap()).unwrap();
    assert_eq!(b["images"][0]["compressed"], Value::Null, "{b}");
    assert_eq!(b["images"][0]["repository"], "fam/app");
    assert_eq!(b["dedup_compressed"], Value::Null);
    let uncompressed = |v: &Value| v["images"][0]["total"]["uncompressed"].as_u64().unwrap();
    let growth = uncompressed(&r.json(&["footprint", &format!("{FAMILY}:app-dev")]))
        - uncompressed(&r.json(&["footprint", &app()]));
    let p = policy(&r, "[[image]]\nmax_growth = \"1GB\"\n");
    let out = engine()
        .args(["gate", "--format", "json", "--policy", &p, "--baseline"])
        .arg(&base)
        .arg(v2)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        checks(&v),
        [(v2.to_owned(), "max_growth".to_owned(), growth as f64)]
    );
    assert_eq!(
        v["checks"][0]["detail"][0],
        "in uncompressed bytes: one side has no compressed size"
    );
}
