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

fn multi_platform_layout(r: &Run) -> std::path::PathBuf {
    let mut oci = builder::OciLayout::new(&r.path("multi"));
    let amd = oci.layer(Compress::Gzip(6), |w| {
        w.file("amd", &builder::noise(1000, 1));
    });
    let arm = oci.layer(Compress::Gzip(6), |w| {
        w.file("arm", &builder::noise(2000, 2));
    });
    let s390x = oci.layer(Compress::Gzip(6), |w| {
        w.file("s390x", &builder::noise(3000, 3));
    });
    oci.multi_platform(
        "multi",
        &[("linux/amd64", vec![&amd]), ("linux/arm64", vec![&arm])],
    );
    oci.image("mainframe", &[&s390x], "linux/s390x");
    oci.finish()
}

#[test]
fn platform_words_as_containerd_reads_them() {
    let r = Run::new();
    let layout = multi_platform_layout(&r);
    let multi = format!("{}:multi", oci(&layout));
    let v = r.json(&["footprint", "--platform", "linux/arm64/v8", &multi]);
    assert_eq!(v["images"][0]["platform"], "linux/arm64");
    let v = r.json(&["footprint", "--platform", "linux/aarch64", &multi]);
    assert_eq!(v["images"][0]["platform"], "linux/arm64");
    let v = r.json(&["footprint", "--platform", "all", &multi]);
    assert_eq!(v["images"].as_array().unwrap().len(), 2);
    let local = r.json(&["footprint", "--platform", "local", &multi]);
    let default = r.json(&["footprint", &multi]);
    assert_eq!(local, default);
}

#[test]
fn a_named_platform_a_single_platform_image_lacks_is_an_error_the_default_is_not() {
    let r = Run::new();
    let layout = multi_platform_layout(&r);
    let mainframe = format!("{}:mainframe", oci(&layout));
    let v = r.json(&["footprint", &mainframe]);
    assert_eq!(v["images"][0]["platform"], "linux/s390x");
    let line = r.fails(&["footprint", "--platform", "linux/arm64", &mainframe]);
    assert!(
        line.contains("no manifest for platform linux/arm64 (available: linux/s390x)"),
        "{line}"
    );
    r.json(&["footprint", "--platform", "linux/s390x", &mainframe]);
}

#[test]
fn names_printed_for_untagged_images_can_be_passed_back() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    // Drop the ref name of "worker": strata then names it by digest.
    let index_path = fam.layout.join("index.json");
    let mut index: serde_json::Value =
        serde_json::from_slice(&fs::read(&index_path).unwrap()).unwrap();
    index["manifests"][2]
        .as_object_mut()
        .unwrap()
        .remove("annotations");
    fs::write(&index_path, serde_json::to_vec(&index).unwrap()).unwrap();
    let all = r.json(&["footprint", &oci(&fam.layout)]);
    let untagged = all["images"][2]["name"].as_str().unwrap().to_owned();
    assert!(untagged.contains("@sha256:"), "{untagged}");
    let again = r.json(&["footprint", &untagged]);
    assert_eq!(again["images"][0]["name"], untagged);
    assert_eq!(again["images"][0]["total"], all["images"][2]["total"]);
    // Every printed name reads back, tagged ones too.
    for image in all["images"].as_array().unwrap() {
        let name = image["name"].as_str().unwrap();
        let back = r.json(&["footprint", name]);
        assert_eq!(back["images"][0]["total"], image["total"], "{name}");
    }
}

/// Re-tars a docker archive with other RepoTags in its manifest.json.
fn retag(archive: &std::path::Path, tags: &[&str], out: &std::path::Path) {
    let mut input = tar::Archive::new(fs::File::open(archive).unwrap());
    let mut b = tar::Builder::new(fs::File::create(out).unwrap());
    for entry in input.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().into_owned();
        let mut header = entry.header().clone();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        if path.to_str() == Some("manifest.json") {
            let mut items: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            for (item, tag) in items.as_array_mut().unwrap().iter_mut().zip(tags) {
                item["RepoTags"] = serde_json::json!([tag]);
            }
            bytes = serde_json::to_vec(&items).unwrap();
            header.set_size(bytes.len() as u64);
            header.set_cksum();
        }
        b.append_data(&mut header, &path, &bytes[..]).unwrap();
    }
    b.finish().unwrap();
}

#[test]
fn docker_archive_tags_match_as_docker_normalises_them() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let plain = r.path("plain.tar");
    builder::docker_archive(&fam.layout, &["app", "worker"], &plain);
    let full = r.path("full.tar");
    retag(
        &plain,
        &["docker.io/library/app:latest", "docker.io/team/worker:2"],
        &full,
    );
    let f = full.display();
    for (wanted, image) in [
        ("app:latest", "app"),
        ("app", "app"),
        ("library/app", "app"),
        ("docker.io/library/app:latest", "app"),
        ("team/worker:2", "worker"),
    ] {
        let v = r.json(&["footprint", &format!("docker-archive:{f}:{wanted}")]);
        let name = v["images"][0]["name"].as_str().unwrap().to_owned();
        assert!(name.contains(image), "{wanted}: {name}");
    }
    let line = r.fails(&["footprint", &format!("docker-archive:{f}:team/worker:1")]);
    assert!(line.contains("no image named"), "{line}");
}

#[test]
fn a_local_path_without_transport_gets_a_suggestion() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let line = r.fails(&["footprint", fam.layout.to_str().unwrap()]);
    assert!(
        line.contains(&format!("did you mean oci:{}?", fam.layout.display())),
        "{line}"
    );
    let archive = r.path("img.tar");
    builder::docker_archive(&fam.layout, &["app"], &archive);
    let line = r.fails(&["footprint", archive.to_str().unwrap()]);
    assert!(
        line.contains(&format!("docker-archive:{}", archive.display())),
        "{line}"
    );
}

#[test]
fn errors_name_each_cause_once() {
    let r = Run::new();
    let missing = r.path("nope.tar");
    let line = r.fails(&[
        "footprint",
        &format!("docker-archive:{}", missing.display()),
    ]);
    assert_eq!(line.matches("No such file").count(), 1, "{line}");
    let junk = r.path("junk.tar");
    fs::write(&junk, b"junk").unwrap();
    let line = r.fails(&["footprint", &format!("oci-archive:{}", junk.display())]);
    assert_eq!(
        line.matches(&junk.display().to_string()).count(),
        1,
        "{line}"
    );
}

#[test]
fn a_truncated_oci_archive_says_where_it_ends_not_that_it_is_no_layout() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let archive = r.path("oci.tar");
    builder::oci_archive(&fam.layout, &archive);
    let bytes = fs::read(&archive).unwrap();
    let cut = r.path("cut.tar");
    fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let line = r.fails(&["footprint", &format!("oci-archive:{}", cut.display())]);
    assert!(
        line.contains(&format!("archive ends after {} bytes", bytes.len() / 3)),
        "{line}"
    );
    assert!(!line.contains("not an OCI"), "{line}");
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    let r = Run::new();
    for shell in ["bash", "zsh", "fish"] {
        let out = r.run(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("footprint"), "{shell}");
        insta::assert_snapshot!(format!("completions_{shell}"), text);
    }
}

#[test]
fn a_man_page_names_the_references_and_exit_codes() {
    let r = Run::new();
    let out = r.run(&["man"]);
    assert!(out.status.success());
    let page = String::from_utf8(out.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH strata 1"),
        "{page}"
    );
    for needle in ["docker\\-daemon:", "Exit codes", "footprint"] {
        assert!(page.contains(needle), "{needle}");
    }
}

/// Issue 19.12: the top page names `strata-footprint(1)` and the others;
/// `strata man --dir DIR` writes each of them, a page `man -l` reads.
#[test]
fn man_dir_writes_every_page_the_top_page_names() {
    let r = Run::new();
    let dir = r.path("man/man1");
    let out = r.cmd().args(["man", "--dir"]).arg(&dir).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let top = String::from_utf8(r.run(&["man"]).stdout).unwrap();
    // Every command has its page, and the top page names exactly those pages.
    let commands = [
        "footprint",
        "compare",
        "du",
        "layers",
        "audit",
        "diff",
        "gate",
        "advise",
        "packages",
        "cat",
        "export",
        "history",
        "explore",
        "cache",
        "fleet",
        "completions",
        "man",
    ];
    let named: Vec<&str> = top
        .lines()
        .filter_map(|l| l.strip_prefix("strata\\-"))
        .filter_map(|l| l.strip_suffix("(1)"))
        .collect();
    assert_eq!(named.len(), commands.len(), "{top}");
    for name in
        std::iter::once("strata".to_owned()).chain(named.iter().map(|c| format!("strata-{c}")))
    {
        assert!(commands
            .iter()
            .any(|c| name == "strata" || name == format!("strata-{c}")));
        let path = dir.join(format!("{name}.1"));
        assert!(listed.contains(&path.display().to_string()), "{listed:?}");
        let page = std::fs::read_to_string(&path).unwrap();
        let th = page.lines().find(|l| l.starts_with(".TH ")).unwrap();
        assert!(th.starts_with(&format!(".TH {name} 1 ")), "{th}");
        assert!(
            page.contains(".SH NAME") && page.contains(".SH SYNOPSIS"),
            "{name}"
        );
        // man -l formats it as a page of that name, where man is installed.
        if let Ok(out) = std::process::Command::new("man")
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "80")
            .arg("-l")
            .arg(&path)
            .output()
        {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && text.contains("NAME"),
                "{name}: {text}"
            );
            assert!(text.contains(&format!("{name}(1)")), "{name}: {text}");
        }
    }
    assert_eq!(listed.len(), commands.len() + 1, "{listed:?}");
    assert!(
        !dir.join("strata-help.1").exists(),
        "no page for clap's help command"
    );
}

#[test]
fn help_shows_references_examples_and_exit_codes() {
    let r = Run::new();
    for (args, name) in [
        (&["--help"][..], "help_root"),
        (&["footprint", "--help"][..], "help_footprint"),
        (&["du", "--help"][..], "help_du"),
    ] {
        let out = r
            .cmd()
            .env("COLUMNS", "100")
            .env_remove("STRATA_CACHE_DIR")
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        for needle in ["docker-daemon:NAME", "Examples:", "Exit codes:"] {
            assert!(text.contains(needle), "{name}: {needle}");
        }
        insta::assert_snapshot!(name, text);
    }
}
