//! `strata gate`: which images a rule's `match` selects and which baseline
//! entry each image is compared with — by the names users type, by
//! repository path and tag, whatever the transport (issue 19.1).

use super::builder::{self, Compress, OciLayout};
use super::gate::{app, gate_json, policy, FAMILY};
use super::*;

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
