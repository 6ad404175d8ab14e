//! docker-daemon:, containers-storage: and docker-archive:- against a real
//! Podman service (vfs storage and its socket in a temp dir, stopped at the end).

use std::fs;
use std::path::Path;

use serde_json::Value;

use super::builder;
use super::*;

pub const FAMILY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/family");
const NAMES: [&str; 4] = ["app", "app-dev", "worker", "rebuilt"];

pub use super::podman_service::Podman;

/// strata with this engine as `DOCKER_HOST` and no other engine in sight.
pub fn engine_cmd(r: &Run, host: &str) -> assert_cmd::Command {
    let mut c = r.cmd();
    c.env("DOCKER_HOST", host).env_remove("CONTAINER_HOST");
    c
}

pub fn json_ok(mut cmd: assert_cmd::Command, args: &[&str]) -> Value {
    let out = cmd.args(args).arg("--format=json").output().unwrap();
    assert!(
        out.status.success(),
        "strata {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

pub fn fails_with(mut cmd: assert_cmd::Command, args: &[&str]) -> String {
    let out = cmd.args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "strata {args:?}: {stderr}");
    assert!(out.stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.starts_with("strata: "), "{stderr}");
    stderr
}

fn as_str(a: &[String]) -> Vec<&str> {
    a.iter().map(String::as_str).collect()
}

/// Per image: layers, uncompressed and files (what an engine keeps).
fn engine_figures(v: &Value) -> Vec<(Value, Value, Value)> {
    v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["layers"].clone(),
                i["total"]["uncompressed"].clone(),
                i["total"]["files"].clone(),
            )
        })
        .collect()
}

#[test]
fn the_family_in_podman_has_the_oci_layouts_uncompressed_and_files_figures() {
    let Some(podman) = Podman::start() else {
        return;
    };
    for n in NAMES {
        podman.load(Path::new(FAMILY), n, &format!("localhost/fam/{n}:1"));
    }
    let r = Run::new();
    let layout: Vec<String> = NAMES.iter().map(|n| format!("oci:{FAMILY}:{n}")).collect();
    let daemon: Vec<String> = NAMES
        .iter()
        .map(|n| format!("docker-daemon:localhost/fam/{n}:1"))
        .collect();
    let storage: Vec<String> = NAMES
        .iter()
        .map(|n| format!("containers-storage:localhost/fam/{n}:1"))
        .collect();
    let args = |refs: &[String]| -> Vec<String> {
        let mut a = vec!["footprint".to_owned(), "--no-cache".to_owned()];
        a.extend(refs.iter().cloned());
        a
    };
    // `rebuilt` differs from `worker` only by a recompressed layer: an engine
    // stores layers uncompressed, so there it *is* worker (same config, same
    // layers) and is analysed once, with a warning. Compare the other three.
    let (layout_args, daemon_args) = (args(&layout[..3]), args(&daemon[..3]));
    let from_layout = r.json(&as_str(&layout_args));
    let from_daemon = json_ok(engine_cmd(&r, &podman.host()), &as_str(&daemon_args));
    assert_eq!(engine_figures(&from_layout), engine_figures(&from_daemon));
    assert_eq!(
        from_daemon["images"][0]["name"],
        "docker-daemon:localhost/fam/app:1"
    );
    // app, app-dev and worker share layers by digest in both: same set figures.
    let three = |v: &Value| {
        (
            v["set"]["dedup_total"]["uncompressed"].clone(),
            v["set"]["dedup_total"]["files"].clone(),
        )
    };
    let (layout3, daemon3) = (args(&layout[..3]), args(&daemon[..3]));
    let l3 = r.json(&as_str(&layout3));
    let d3 = json_ok(engine_cmd(&r, &podman.host()), &as_str(&daemon3));
    assert_eq!(three(&l3), three(&d3));
    let all = args(&daemon);
    let out = engine_cmd(&r, &podman.host())
        .args(as_str(&all))
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("fam/rebuilt:1 is the same image as docker-daemon:localhost/fam/worker:1"),
        "{stderr}"
    );

    // du, the merged filesystem (whiteouts and an opaque dir in app-dev): the same tree.
    for n in ["app", "app-dev"] {
        let layout_du = r.json(&["du", "--no-cache", &format!("oci:{FAMILY}:{n}")]);
        let daemon_du = json_ok(
            engine_cmd(&r, &podman.host()),
            &[
                "du",
                "--no-cache",
                &format!("docker-daemon:localhost/fam/{n}:1"),
            ],
        );
        assert_eq!(layout_du["tree"], daemon_du["tree"], "du {n}");
    }

    // containers-storage: finds the service at $XDG_RUNTIME_DIR/podman/podman.sock.
    let mut cmd = r.cmd();
    cmd.env("XDG_RUNTIME_DIR", &podman.runtime_dir)
        .env_remove("DOCKER_HOST")
        .env_remove("CONTAINER_HOST");
    let storage_args = args(&storage[..3]);
    let from_storage = json_ok(cmd, &as_str(&storage_args));
    assert_eq!(engine_figures(&from_storage), engine_figures(&from_layout));

    // An image ID as the engine prints it is a reference too.
    let id = from_daemon["images"][0]["config_digest"]
        .as_str()
        .map(str::to_owned);
    if let Some(id) = id {
        let by_id = json_ok(
            engine_cmd(&r, &podman.host()),
            &["footprint", "--no-cache", &format!("docker-daemon:{id}")],
        );
        assert_eq!(
            by_id["images"][0]["total"],
            from_daemon["images"][0]["total"]
        );
    }
}

#[test]
fn a_missing_image_a_stopped_service_and_a_forbidden_socket_each_give_one_line() {
    let Some(mut podman) = Podman::start() else {
        return;
    };
    let r = Run::new();
    let line = fails_with(
        engine_cmd(&r, &podman.host()),
        &["footprint", "docker-daemon:localhost/nope:1"],
    );
    assert!(line.contains("no image \"localhost/nope:1\""), "{line}");

    // Another user may not use root's socket.
    if unsafe { libc::geteuid() } == 0 {
        let strata = assert_cmd::cargo::cargo_bin("strata");
        let mut cmd = assert_cmd::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(strata)
            .env("DOCKER_HOST", podman.host())
            .env("HOME", "/nonexistent")
            .env("NO_COLOR", "1");
        let line = fails_with(cmd, &["footprint", "--no-cache", "docker-daemon:app"]);
        assert!(line.contains("permission denied"), "{line}");
    } else {
        let socket = r.path("forbidden.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        fs::set_permissions(&socket, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
        let line = fails_with(
            engine_cmd(&r, &format!("unix://{}", socket.display())),
            &["footprint", "docker-daemon:app"],
        );
        assert!(line.contains("permission denied"), "{line}");
    }

    podman.kill();
    let line = fails_with(
        engine_cmd(&r, &podman.host()),
        &["footprint", "docker-daemon:localhost/fam/app:1"],
    );
    assert!(
        line.contains("nothing answers") || line.contains("no socket"),
        "{line}"
    );
}

#[test]
fn containers_storage_without_a_podman_service_says_how_to_start_one() {
    if Path::new("/run/podman/podman.sock").exists() {
        eprintln!("skipping: this machine runs a system Podman service");
        return;
    }
    let r = Run::new();
    let mut cmd = r.cmd();
    cmd.env("XDG_RUNTIME_DIR", r.path("xdg"))
        .env_remove("DOCKER_HOST")
        .env_remove("CONTAINER_HOST");
    let line = fails_with(cmd, &["footprint", "containers-storage:app"]);
    assert!(line.contains("podman system service"), "{line}");
}

#[test]
fn docker_archive_on_stdin_equals_the_file() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), builder::Compress::Gzip(6));
    let archive = r.path("docker.tar");
    builder::docker_archive(&fam.layout, &NAMES, &archive);
    let from_file = r.json(&[
        "footprint",
        "--no-cache",
        &format!("docker-archive:{}", archive.display()),
    ]);
    let out = r
        .cmd()
        .args([
            "footprint",
            "--no-cache",
            "--format=json",
            "docker-archive:-",
        ])
        .pipe_stdin(&archive)
        .unwrap()
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let from_stdin: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(figures(&from_file), figures(&from_stdin));
    assert_eq!(
        from_stdin["images"][0]["name"],
        "docker-archive:-:app:latest"
    );
}

#[test]
fn a_truncated_archive_on_stdin_says_where_it_ends() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), builder::Compress::Gzip(6));
    let archive = r.path("docker.tar");
    builder::docker_archive(&fam.layout, &["app"], &archive);
    let bytes = fs::read(&archive).unwrap();
    let cut = r.path("cut.tar");
    fs::write(&cut, &bytes[..bytes.len() / 2 + 100]).unwrap();
    let out = r
        .cmd()
        .args(["footprint", "docker-archive:-"])
        .pipe_stdin(&cut)
        .unwrap()
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{line}");
    assert_eq!(line.lines().count(), 1, "{line}");
    assert!(
        line.contains(&format!(
            "archive ends after {} bytes",
            bytes.len() / 2 + 100
        )),
        "{line}"
    );
    // The same file named on the command line says the same.
    let line = r.fails(&["footprint", &format!("docker-archive:{}", cut.display())]);
    assert!(line.contains("archive ends after"), "{line}");
}

#[test]
fn a_podman_save_archive_equals_the_engine_and_its_stdin_stream() {
    let Some(podman) = Podman::start() else {
        return;
    };
    podman.load(Path::new(FAMILY), "app-dev", "localhost/fam/app-dev:1");
    let r = Run::new();
    let saved = r.path("saved.tar");
    podman.save("localhost/fam/app-dev:1", &saved);
    let from_file = r.json(&[
        "footprint",
        "--no-cache",
        &format!("docker-archive:{}", saved.display()),
    ]);
    let from_daemon = json_ok(
        engine_cmd(&r, &podman.host()),
        &[
            "footprint",
            "--no-cache",
            "docker-daemon:localhost/fam/app-dev:1",
        ],
    );
    assert_eq!(engine_figures(&from_file), engine_figures(&from_daemon));
    for total in ["sum_total", "dedup_total"] {
        for measure in ["uncompressed", "files"] {
            assert_eq!(
                from_file["set"][total][measure], from_daemon["set"][total][measure],
                "{total} {measure}"
            );
        }
    }
    // The engine keeps no compressed blobs: null, never the tar's size.
    assert!(from_file["images"][0]["total"]["compressed"].is_u64());
    assert!(from_daemon["images"][0]["total"]["compressed"].is_null());
    assert!(from_daemon["layers"][0]["compressed"].is_null());
    let table = engine_cmd(&r, &podman.host())
        .args([
            "footprint",
            "--no-cache",
            "docker-daemon:localhost/fam/app-dev:1",
        ])
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    let row = table.lines().nth(1).unwrap();
    assert_eq!(row.split_whitespace().nth(3), Some("-"), "{table}");
    assert!(table.contains("1 image, 4 distinct layers"), "{table}");
}

#[test]
fn an_image_id_works_whole_or_short_with_or_without_sha256() {
    let Some(podman) = Podman::start() else {
        return;
    };
    podman.load(Path::new(FAMILY), "app", "localhost/fam/app:1");
    let r = Run::new();
    let by_name = json_ok(
        engine_cmd(&r, &podman.host()),
        &[
            "footprint",
            "--no-cache",
            "docker-daemon:localhost/fam/app:1",
        ],
    );
    let id = by_name["images"][0]["config_digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let hex = id.strip_prefix("sha256:").unwrap();
    let short = &hex[..12];
    for name in [
        id.clone(),
        format!("sha256:{short}"),
        short.to_owned(),
        hex.to_owned(),
    ] {
        for transport in ["docker-daemon", "containers-storage"] {
            let mut cmd = engine_cmd(&r, &podman.host());
            cmd.env("XDG_RUNTIME_DIR", &podman.runtime_dir);
            let v = json_ok(
                cmd,
                &["footprint", "--no-cache", &format!("{transport}:{name}")],
            );
            assert_eq!(
                v["images"][0]["total"], by_name["images"][0]["total"],
                "{transport}:{name}"
            );
            assert_eq!(v["images"][0]["name"], format!("{transport}:{name}"));
        }
    }
}
