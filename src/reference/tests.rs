//! The reference syntax: every form parsed, printed back, or refused.

use super::*;

fn p(s: &str) -> Result<Reference> {
    Reference::parse(s)
}

#[test]
fn local_transports_split_path_and_ref() {
    assert_eq!(
        p("oci:dir:app").unwrap(),
        Reference::OciDir {
            path: "dir".into(),
            name: Some("app".into())
        }
    );
    assert_eq!(
        p("oci-archive:a.tar").unwrap(),
        Reference::OciArchive {
            path: "a.tar".into(),
            name: None
        }
    );
    assert_eq!(
        p("docker-archive:a.tar:img:1.0").unwrap(),
        Reference::DockerArchive {
            path: "a.tar".into(),
            name: Some("img:1.0".into())
        }
    );
    assert!(matches!(p("oci:"), Err(Error::BadReference { .. })));
}

#[test]
fn registry_references_with_and_without_transport() {
    for s in [
        "docker://localhost:5000/app:1",
        "localhost:5000/app:1",
        "reg.example/a/b:2",
        "docker://reg.example/a@sha256:00",
    ] {
        assert!(matches!(p(s).unwrap(), Reference::Registry(_)), "{s}");
    }
    assert!(p("docker://reg.example/fam/*:1")
        .map(|r| matches!(r, Reference::Registry(ref g) if g.is_glob()))
        .unwrap());
}

#[test]
fn unknown_transports_are_named() {
    for (s, t) in [
        ("dir:/tmp/x", "dir"),
        ("ftp://x/y", "ftp"),
        ("Nginx:latest", "Nginx"),
    ] {
        match p(s) {
            Err(Error::UnknownTransport { transport, .. }) => assert_eq!(transport, t),
            other => panic!("{s}: {other:?}"),
        }
    }
    assert!(matches!(p("Just A Name"), Err(Error::BadReference { .. })));
}

#[test]
fn docker_hub_short_names_mean_docker_io() {
    for (s, repo, tag) in [
        ("alpine:3.19", "library/alpine", Some("3.19")),
        ("alpine", "library/alpine", Some("latest")),
        ("library/alpine", "library/alpine", Some("latest")),
        ("user/app:tag", "user/app", Some("tag")),
        ("nginx:latest", "library/nginx", Some("latest")),
    ] {
        let Ok(Reference::Registry(r)) = p(s) else {
            panic!("{s}: {:?}", p(s))
        };
        let parts = r.parts().unwrap();
        assert_eq!(parts.registry, "docker.io", "{s}");
        assert_eq!(parts.repository, repo, "{s}");
        assert_eq!(parts.tag.as_deref(), tag, "{s}");
    }
    let d = format!("sha256:{}", "b".repeat(64));
    let Ok(Reference::Registry(r)) = p(&format!("user/app@{d}")) else {
        panic!("digest short name")
    };
    assert_eq!(r.parts().unwrap().digest, Some(d));
}

#[test]
fn an_existing_path_without_transport_gets_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    std::fs::create_dir(&layout).unwrap();
    let file = dir.path().join("img.tar");
    std::fs::write(&file, b"x").unwrap();
    let reason = |path: &Path| match p(path.to_str().unwrap()) {
        Err(Error::BadReference { reason, .. }) => reason,
        other => panic!("{other:?}"),
    };
    assert!(reason(&layout).contains(&format!("oci:{}", layout.display())));
    let r = reason(&file);
    assert!(
        r.contains(&format!("docker-archive:{}", file.display())),
        "{r}"
    );
}

#[test]
fn engine_references_name_or_id() {
    assert_eq!(
        p("docker-daemon:fam/app:1").unwrap(),
        Reference::DockerDaemon {
            name: "fam/app:1".into()
        }
    );
    let id = format!("sha256:{}", "c".repeat(64));
    assert_eq!(
        p(&format!("docker-daemon:{id}")).unwrap(),
        Reference::DockerDaemon { name: id.clone() }
    );
    assert_eq!(
        p("containers-storage:localhost/app").unwrap(),
        Reference::ContainersStorage {
            name: "localhost/app".into()
        }
    );
    // A short ID, as `docker images` prints it.
    assert_eq!(
        p("docker-daemon:sha256:c0ffee123456").unwrap(),
        Reference::DockerDaemon {
            name: "sha256:c0ffee123456".into()
        }
    );
    for bad in [
        "docker-daemon:",
        "docker-daemon:sha256:",
        "docker-daemon:sha256:xyz",
        "docker-daemon:sha256:ABC",
        "containers-storage:sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
        "docker-daemon:UPPER",
        "containers-storage:[vfs@/a+/b]app",
    ] {
        assert!(matches!(p(bad), Err(Error::BadReference { .. })), "{bad}");
    }
    assert!(p("docker-archive:-").unwrap().is_stdin());
}

#[test]
fn untagged_names_as_printed_parse_back() {
    let d = format!("sha256:{}", "d".repeat(64));
    let r = p(&format!("oci:dir@{d}")).unwrap();
    assert_eq!(
        r,
        Reference::OciDir {
            path: "dir".into(),
            name: Some(format!("@{d}"))
        }
    );
    assert_eq!(r.to_string(), format!("oci:dir@{d}"));
    let r = p("docker-archive:a.tar:@2").unwrap();
    assert_eq!(r.to_string(), "docker-archive:a.tar:@2");
}

fn parts(s: &str) -> RegistryParts {
    RegistryRef { text: s.into() }.parts().unwrap()
}

#[test]
fn registry_references_split_like_docker() {
    let p = parts("127.0.0.1:5000/fam/app:1.2");
    assert_eq!(
        (p.registry.as_str(), p.repository.as_str(), p.tag.as_deref()),
        ("127.0.0.1:5000", "fam/app", Some("1.2"))
    );
    let p = parts("nginx");
    assert_eq!(
        (p.registry.as_str(), p.repository.as_str(), p.tag.as_deref()),
        ("docker.io", "library/nginx", Some("latest"))
    );
    let p = parts("team/api");
    assert_eq!(p.repository, "team/api");
    let d = format!("sha256:{}", "a".repeat(64));
    let p = parts(&format!("localhost/x@{d}"));
    assert_eq!((p.tag, p.digest), (None, Some(d.clone())));
    let p = parts(&format!("reg.example/x:t@{d}"));
    assert_eq!(
        (p.tag.as_deref(), p.digest.as_deref()),
        (Some("t"), Some(d.as_str()))
    );
    for bad in [
        "reg.example/UPPER:1",
        "reg.example/x:bad tag",
        "reg.example/x@sha256:00",
        "reg.example//x",
        "reg.example/",
    ] {
        assert!(RegistryRef { text: bad.into() }.parts().is_err(), "{bad}");
    }
}

#[test]
fn display_round_trips() {
    for s in [
        "oci:d:x",
        "oci-archive:f.tar",
        "docker-archive:f.tar:a:b",
        "docker://h.io/r:t",
        "docker-daemon:app:1",
        "containers-storage:localhost/app:1",
    ] {
        assert_eq!(p(s).unwrap().to_string(), s);
    }
}

#[test]
fn containerd_references_keep_namespace_and_name_as_written() {
    for s in [
        "containerd:default/fam/x:app",
        "containerd:k8s.io/docker.io/library/nginx:1.27",
        "containerd:nginx",
        "containerd:import-2026-12-01:app",
        "containerd:default/*",
        "containerd:*",
    ] {
        let r = p(s).unwrap();
        assert!(matches!(r, Reference::Containerd { .. }), "{s}");
        assert_eq!(r.to_string(), s);
    }
    for bad in [
        "containerd:",
        "containerd:default/",
        "containerd:default/fam/*",
        "containerd:fam*",
        "containerd:a b",
        "containerd:de fault/*",
    ] {
        assert!(matches!(p(bad), Err(Error::BadReference { .. })), "{bad}");
    }
    let long = format!("containerd:{}", "a".repeat(600));
    assert!(matches!(p(&long), Err(Error::BadReference { .. })));
}

#[test]
fn a_star_alone_names_every_image_of_an_engine() {
    assert_eq!(
        p("docker-daemon:*").unwrap(),
        Reference::DockerDaemon { name: EVERY.into() }
    );
    assert_eq!(
        p("containers-storage:*").unwrap(),
        Reference::ContainersStorage { name: EVERY.into() }
    );
    for bad in ["docker-daemon:fam/*", "docker-daemon:*:1"] {
        assert!(matches!(p(bad), Err(Error::BadReference { .. })), "{bad}");
    }
}
