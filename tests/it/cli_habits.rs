//! Habits users bring from skopeo, podman, docker and other CLIs: auth files,
//! short names, platform words, completions, man page, help, names passed back.

use std::fs;
use std::process::Command;

use super::builder::{self, Compress};
use super::registry_server::{Registry, PASSWORD, USER};
use super::*;

fn skopeo_login(reg: &Registry, env: &[(&str, &std::path::Path)], extra: &[&str]) {
    let mut cmd = Command::new("skopeo");
    cmd.args(["login", "--tls-verify=false", "-u", USER, "-p", PASSWORD])
        .args(extra)
        .arg(&reg.host)
        .env_remove("REGISTRY_AUTH_FILE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .expect("skopeo is installed by the test command");
    assert!(
        out.status.success(),
        "skopeo login: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_skopeo_login_is_seen_without_any_credential_flag() {
    let reg = Registry::start(true);
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    reg.push(&fam.layout, "app", "fam/app:1", true);
    let reference = format!("docker://{}/fam/app:1", reg.host);

    // skopeo's default file: $XDG_RUNTIME_DIR/containers/auth.json.
    let xdg = r.path("xdg");
    fs::create_dir_all(&xdg).unwrap();
    skopeo_login(&reg, &[("XDG_RUNTIME_DIR", &xdg)], &[]);
    assert!(xdg.join("containers/auth.json").is_file());
    let v = r.json_env("XDG_RUNTIME_DIR", &xdg, &["footprint", &reference]);
    assert_eq!(v["images"].as_array().unwrap().len(), 1);

    // --authfile, as `skopeo login --authfile` writes it.
    let file = r.path("my-auth.json");
    skopeo_login(
        &reg,
        &[("XDG_RUNTIME_DIR", &xdg)],
        &["--authfile", file.to_str().unwrap()],
    );
    let with_flag = r.json(&[
        "footprint",
        "--authfile",
        file.to_str().unwrap(),
        &reference,
    ]);
    assert_eq!(with_flag["images"][0]["total"], v["images"][0]["total"]);

    // ~/.config/containers/auth.json, podman's file when no runtime dir has one.
    let config = r.path("home/.config/containers");
    fs::create_dir_all(&config).unwrap();
    fs::copy(&file, config.join("auth.json")).unwrap();
    let from_home = r.json(&["footprint", &reference]);
    assert_eq!(from_home["images"][0]["total"], v["images"][0]["total"]);
}

#[test]
fn a_malformed_docker_config_or_a_missing_helper_is_a_warning_not_silence() {
    let reg = Registry::start(true);
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    reg.push(&fam.layout, "app", "fam/app:1", true);
    let reference = format!("docker://{}/fam/app:1", reg.host);
    let docker = r.path("docker");
    fs::create_dir_all(&docker).unwrap();
    for (config, says) in [
        ("{\"auths\": {", "malformed"),
        (
            "{\"credsStore\": \"strata-test-no-such-helper\"}",
            "credential helper",
        ),
    ] {
        fs::write(docker.join("config.json"), config).unwrap();
        let out = r
            .cmd()
            .env("DOCKER_CONFIG", &docker)
            .args(["footprint", &reference])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 2, "{stderr}");
        assert!(lines[0].starts_with("strata: warning: "), "{stderr}");
        assert!(lines[0].contains(says), "{stderr}");
        assert!(lines[1].contains("unauthorized"), "{stderr}");
        assert!(!stderr.contains(PASSWORD));
    }
}
