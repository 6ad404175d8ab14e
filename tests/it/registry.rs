//! The registry source against a real registry (CNCF distribution on 127.0.0.1).

use std::fs;

use base64::Engine as _;

use super::builder::{self, Compress};
use super::registry_server::{corrupting_proxy, free_port, Registry, PASSWORD, USER};
use super::*;

fn pushed_family(reg: &Registry, r: &Run, creds: bool) -> builder::Family {
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    for name in ["app", "app-dev", "worker", "rebuilt"] {
        reg.push(&fam.layout, name, &format!("fam/{name}:1"), creds);
    }
    fam
}

fn family_refs(reg: &Registry) -> Vec<String> {
    ["app", "app-dev", "worker", "rebuilt"]
        .iter()
        .map(|n| format!("docker://{}/fam/{n}:1", reg.host))
        .collect()
}

#[test]
fn registry_copies_match_the_oci_layout_field_for_field() {
    let reg = Registry::start(false);
    let r = Run::new();
    let fam = pushed_family(&reg, &r, false);
    let local: Vec<String> = ["app", "app-dev", "worker", "rebuilt"]
        .iter()
        .map(|n| format!("{}:{n}", oci(&fam.layout)))
        .collect();
    let mut args = vec!["footprint", "--no-cache"];
    args.extend(local.iter().map(String::as_str));
    let from_layout = r.json(&args);
    let remote = family_refs(&reg);
    let mut args = vec!["footprint", "--no-cache"];
    args.extend(remote.iter().map(String::as_str));
    let from_registry = r.json(&args);
    assert_eq!(figures(&from_layout), figures(&from_registry));
    assert_eq!(
        from_registry["images"][0]["name"],
        format!("docker://{}/fam/app:1", reg.host)
    );
    // A bare HOST/REPO:TAG is a registry reference too.
    let bare = r.json(&["footprint", &format!("{}/fam/app:1", reg.host)]);
    assert_eq!(
        bare["images"][0]["total"],
        from_registry["images"][0]["total"]
    );
}

#[test]
fn a_warm_rerun_downloads_no_blob() {
    let reg = Registry::start(false);
    let r = Run::new();
    pushed_family(&reg, &r, false);
    let refs = family_refs(&reg);
    let mut args = vec!["footprint"];
    args.extend(refs.iter().map(String::as_str));
    let cold = r.json(&args);
    let before = reg.blob_gets();
    assert!(before > 0);
    let warm = r.json(&args);
    assert_eq!(cold, warm);
    assert_eq!(reg.blob_gets(), before, "a warm run fetched a blob");
    // Without the cache, every layer and config is fetched again.
    r.json(&[&["footprint", "--no-cache"][..], &args[1..]].concat());
    assert!(reg.blob_gets() >= before + 6 + 3);
}

#[test]
fn digest_references_resolve_and_are_checked() {
    let reg = Registry::start(false);
    let r = Run::new();
    pushed_family(&reg, &r, false);
    let v = r.json(&["footprint", &format!("docker://{}/fam/app:1", reg.host)]);
    let digest = v["images"][0]["manifest_digest"]
        .as_str()
        .unwrap()
        .to_owned();
    let by_digest = r.json(&[
        "footprint",
        &format!("docker://{}/fam/app@{digest}", reg.host),
    ]);
    assert_eq!(by_digest["images"][0]["total"], v["images"][0]["total"]);
}

#[test]
fn basic_auth_with_creds_and_with_a_docker_config() {
    let reg = Registry::start(true);
    let r = Run::new();
    pushed_family(&reg, &r, true);
    let reference = format!("docker://{}/fam/app:1", reg.host);
    let creds = format!("{USER}:{PASSWORD}");
    let with_creds = r.json(&["footprint", "--creds", &creds, &reference]);
    assert_eq!(with_creds["images"].as_array().unwrap().len(), 1);

    let docker_config = r.path("docker");
    fs::create_dir_all(&docker_config).unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(&creds);
    fs::write(
        docker_config.join("config.json"),
        serde_json::to_vec(&serde_json::json!({"auths": {reg.host.clone(): {"auth": auth}}}))
            .unwrap(),
    )
    .unwrap();
    let v = r.json_env("DOCKER_CONFIG", &docker_config, &["footprint", &reference]);
    assert_eq!(v["images"][0]["total"], with_creds["images"][0]["total"]);

    // podman's auth file, the same format.
    let podman = r.path("auth.json");
    fs::copy(docker_config.join("config.json"), &podman).unwrap();
    let v = r.json_env("REGISTRY_AUTH_FILE", &podman, &["footprint", &reference]);
    assert_eq!(v["images"][0]["total"], with_creds["images"][0]["total"]);

    let line = r.fails(&["footprint", &reference]);
    assert!(line.contains("unauthorized"), "anonymous: {line}");
    let line = r.fails(&["footprint", &format!("docker://{}/fam/*:1", reg.host)]);
    assert!(
        line.contains("does not allow listing repositories"),
        "{line}"
    );
    let wrong = format!("{USER}:not-the-{PASSWORD}");
    let out = r.run(&["footprint", "--creds", &wrong, &reference]);
    assert_eq!(out.status.code(), Some(2));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(all.lines().count(), 1, "{all}");
    assert!(all.contains("unauthorized"), "{all}");
    assert!(!all.contains(PASSWORD), "the password leaked: {all}");
}

#[test]
fn multi_arch_index_platform_selection() {
    let reg = Registry::start(false);
    let r = Run::new();
    let mut lay = builder::OciLayout::new(&r.path("multi"));
    let amd = lay.layer(Compress::Gzip(6), |w| {
        w.file("amd", &builder::noise(1000, 1));
    });
    let arm = lay.layer(Compress::Gzip(6), |w| {
        w.file("arm", &builder::noise(2000, 2));
    });
    lay.multi_platform(
        "multi",
        &[("linux/amd64", vec![&amd]), ("linux/arm64", vec![&arm])],
    );
    let dir = lay.finish();
    reg.push(&dir, "multi", "multi:1", false);
    let reference = format!("docker://{}/multi:1", reg.host);
    let v = r.json(&["footprint", "--platform", "linux/arm64", &reference]);
    assert_eq!(v["images"][0]["platform"], "linux/arm64");
    assert_eq!(v["images"][0]["total"]["files"], 2000);
    let v = r.json(&["footprint", "--all-platforms", &reference]);
    let platforms: Vec<&str> = v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["platform"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    let line = r.fails(&["footprint", "--platform", "linux/riscv64", &reference]);
    assert!(
        line.contains(
            "no manifest for platform linux/riscv64 (available: linux/amd64, linux/arm64)"
        ),
        "{line}"
    );
}

#[test]
fn missing_repo_missing_tag_and_registry_down() {
    let reg = Registry::start(false);
    let r = Run::new();
    pushed_family(&reg, &r, false);
    let line = r.fails(&[
        "footprint",
        &format!("docker://{}/nope/nothing:1", reg.host),
    ]);
    assert!(
        line.contains("unknown") || line.contains("not found"),
        "{line}"
    );
    let line = r.fails(&["footprint", &format!("docker://{}/fam/app:404", reg.host)]);
    assert!(line.contains("manifest unknown"), "{line}");
    let line = r.fails(&[
        "footprint",
        &format!("docker://127.0.0.1:{}/fam/app:1", free_port()),
    ]);
    assert!(line.contains("cannot connect"), "{line}");
}

#[test]
fn a_proxy_that_corrupts_blob_bytes_is_an_error_not_a_figure() {
    let reg = Registry::start(false);
    let r = Run::new();
    let mut lay = builder::OciLayout::new(&r.path("one"));
    let layer = lay.layer(Compress::None, |w| {
        w.file("data", &builder::noise(20_000, 5));
    });
    lay.image("one", &[&layer], "linux/amd64");
    let dir = lay.finish();
    reg.push(&dir, "one", "one:1", false);
    let proxy = corrupting_proxy(reg.host.clone(), 64);
    let line = r.fails(&[
        "footprint",
        "--no-cache",
        &format!("docker://{proxy}/one:1"),
    ]);
    assert!(line.to_lowercase().contains("digest"), "{line}");
}

#[test]
fn shallow_over_a_ten_image_glob_requests_no_blob() {
    let reg = Registry::start(false);
    let r = Run::new();
    let mut lay = builder::OciLayout::new(&r.path("ten"));
    let base = lay.layer(Compress::Gzip(6), |w| {
        w.file("base", &builder::noise(5000, 9));
    });
    for i in 0..10u64 {
        let own = lay.layer(Compress::Gzip(6), |w| {
            w.file("own", &builder::noise(1000 + i as usize, i + 100));
        });
        lay.image(&format!("img{i}"), &[&base, &own], "linux/amd64");
    }
    let dir = lay.finish();
    for i in 0..10 {
        reg.push(&dir, &format!("img{i}"), &format!("ten/img{i}:1"), false);
    }
    assert_eq!(reg.manifest_puts(), 10, "the access log is read");
    let before = reg.blob_gets();
    let v = r.json(&[
        "footprint",
        "--shallow",
        &format!("docker://{}/ten/*:1", reg.host),
    ]);
    assert_eq!(reg.blob_gets(), before, "--shallow fetched a blob");
    assert_eq!(v["shallow"], true);
    let images = v["images"].as_array().unwrap();
    assert_eq!(images.len(), 10);
    assert_eq!(v["set"]["distinct_layers"], 11);
    assert!(images
        .iter()
        .all(|i| i["total"]["files"].is_null() && i["shared"]["compressed"].as_u64() > Some(0)));
    let table = String::from_utf8(
        r.run(&[
            "footprint",
            "--shallow",
            &format!("docker://{}/ten/*:1", reg.host),
        ])
        .stdout,
    )
    .unwrap();
    assert!(
        table.contains("shallow: figures from manifests alone"),
        "{table}"
    );
    // The deep figures agree on what shallow knows.
    let deep = r.json(&["footprint", &format!("docker://{}/ten/*:1", reg.host)]);
    assert_eq!(
        deep["set"]["dedup_total"]["compressed"],
        v["set"]["dedup_total"]["compressed"]
    );
    assert!(reg.blob_gets() >= before + 11, "the deep run is counted");
}

/// A server that answers every request with 503 and counts manifest requests.
fn always_503() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::{BufRead, BufReader, Write};
    use std::sync::atomic::Ordering;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(32) {
            let Ok(mut conn) = conn else { break };
            let mut first = String::new();
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let _ = reader.read_line(&mut first);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            if first.contains("/manifests/") {
                seen.fetch_add(1, Ordering::SeqCst);
            }
            let _ = conn.write_all(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy");
        }
    });
    (addr, count)
}

#[test]
fn server_errors_are_retried_with_backoff_then_reported() {
    let (addr, count) = always_503();
    let r = Run::new();
    let line = r.fails(&["footprint", &format!("docker://{addr}/fam/app:1")]);
    assert!(
        line.contains("HTTP 503") && line.contains("after 4 tries"),
        "{line}"
    );
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 4);
}

#[test]
fn a_platform_the_index_lists_is_found_even_when_its_config_says_another() {
    // `podman manifest add --arch arch77` rewrites the index, not the config.
    let reg = Registry::start(false);
    let r = Run::new();
    let mut lay = builder::OciLayout::new(&r.path("multi"));
    let amd = lay.layer(Compress::Gzip(6), |w| {
        w.file("amd", &builder::noise(1000, 1));
    });
    let odd = lay.layer(Compress::Gzip(6), |w| {
        w.file("odd", &builder::noise(3000, 2));
    });
    let mut a = lay.manifest(&[&amd], "linux/amd64");
    a["platform"] = serde_json::json!({"os": "linux", "architecture": "amd64"});
    let mut b = lay.manifest(&[&odd], "linux/amd64");
    b["platform"] = serde_json::json!({"os": "linux", "architecture": "arch77"});
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [a, b]});
    let (digest, size) = lay.put_blob(&serde_json::to_vec(&index).unwrap());
    let dir = lay.finish();
    let top = serde_json::json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": size,
        "annotations": {"org.opencontainers.image.ref.name": "multi"}
    }]});
    fs::write(dir.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    reg.push(&dir, "multi", "multi:1", false);
    for reference in [
        format!("docker://{}/multi:1", reg.host),
        format!("{}:multi", oci(&dir)),
    ] {
        let out = r.run(&[
            "footprint",
            "--format=json",
            "--platform",
            "linux/arch77",
            &reference,
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{reference}: {stderr}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["images"][0]["platform"], "linux/arch77", "{reference}");
        assert_eq!(v["images"][0]["total"]["files"], 3000, "{reference}");
        assert!(stderr.contains("its config says linux/amd64"), "{stderr}");
    }
}

#[test]
fn a_missing_tag_lists_the_tags_there_and_a_glob_names_the_repositories_that_lack_it() {
    let reg = Registry::start(false);
    let r = Run::new();
    let fam = pushed_family(&reg, &r, false);
    for i in 2..13 {
        reg.push(&fam.layout, "app", &format!("fam/app:{i}"), false);
    }
    let line = r.fails(&["footprint", &format!("docker://{}/fam/app:404", reg.host)]);
    assert!(
        line.contains("manifest unknown")
            && line.contains("tags there: 1, 10, 11, 12, 2, 3, 4, 5, 6, 7, +2 more"),
        "{line}"
    );
    let line = r.fails(&["footprint", &format!("docker://{}/fam/worker:2", reg.host)]);
    assert!(line.contains("tags there: 1"), "{line}");
    // A repository that does not exist has no tags to list.
    let line = r.fails(&["footprint", &format!("docker://{}/nope/x:1", reg.host)]);
    assert!(!line.contains("tags there"), "{line}");

    let line = r.fails(&["footprint", &format!("docker://{}/fam/*:404", reg.host)]);
    assert!(
        line.contains(
            "no repository matching fam/* has tag 404: fam/app, fam/app-dev, fam/rebuilt, fam/worker lack it (tags there: 1, 10, 11"
        ),
        "{line}"
    );
    let line = r.fails(&["footprint", &format!("docker://{}/nope/*:1", reg.host)]);
    assert!(line.contains("no repository matches nope/*"), "{line}");
}

#[test]
fn a_host_that_does_not_resolve_is_named_as_such_at_once() {
    // `.invalid` never resolves (RFC 6761): strata fails it without asking
    // any DNS server, and with no proxy in the environment nothing else is
    // asked either, so this test reaches no network.
    let r = Run::new();
    for reference in [
        "docker://registry.invalid/app:1",
        "docker://registry.invalid:5000/app/*:1",
    ] {
        let mut cmd = r.cmd();
        for proxy in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"] {
            cmd.env_remove(proxy).env_remove(proxy.to_ascii_lowercase());
        }
        let out = cmd
            .args([
                "footprint",
                "--insecure-registry",
                "registry.invalid:5000",
                reference,
            ])
            .output()
            .unwrap();
        let line = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{line}");
        assert_eq!(line.lines().count(), 1, "{line}");
        assert!(
            line.contains("cannot resolve host registry.invalid"),
            "{line}"
        );
        assert!(!line.contains("tries"), "retried: {line}");
    }
}
