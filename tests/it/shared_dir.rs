//! The shared cache in a directory (`file://DIR`): served like a registry,
//! a tampered file refused and replaced, another format's entries and a
//! person's files never touched; a directory strata may not use or write
//! leaves the figures as they are, with one warning.

use std::fs;
use std::path::{Path, PathBuf};

use super::shared_cache::{family_figures, same, with, KEY};
use super::Run;

#[test]
fn a_shared_directory_serves_like_a_registry_and_a_tampered_file_is_replaced() {
    let r = Run::new();
    let (f, view, want) = family_figures(&r);
    let dir = r.path("team-cache");
    let shared = format!("file://{}", dir.display());
    let a = with(&r, &r.path("a"), &shared, Some(KEY), &view);
    assert!(same(&a, &want, "A").is_empty());
    let idx: Vec<PathBuf> = super::du::files_ending(&dir, ".idx");
    assert_eq!(idx.len(), f.layers.len());
    assert!(idx.iter().all(|p| p.to_string_lossy().contains(&format!(
        "/layers/v{}/sha256/",
        strata::layer::FORMAT_VERSION
    ))));
    let from = f.reg.requests().len();
    let b = with(&r, &r.path("b"), &shared, Some(KEY), &view);
    assert!(same(&b, &want, "B").is_empty());
    assert!(f.layer_reads(from).is_empty());

    let mut bytes = fs::read(&idx[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&idx[0], &bytes).unwrap();
    let c = with(&r, &r.path("c"), &shared, Some(KEY), &view);
    let warnings = same(&c, &want, "flipped");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("index checksum"), "{warnings:?}");
    let from = f.reg.requests().len();
    let d = with(&r, &r.path("d"), &shared, Some(KEY), &view);
    assert!(same(&d, &want, "replaced").is_empty());
    assert!(f.layer_reads(from).is_empty());
    // Another format's entries and a person's files are never touched.
    let other = dir.join("layers/v5/sha256");
    fs::create_dir_all(&other).unwrap();
    fs::write(other.join(format!("{}.idx", "ab".repeat(32))), b"old").unwrap();
    fs::write(dir.join("layers/README"), b"mine").unwrap();
    let e = with(&r, &r.path("e"), &shared, Some(KEY), &view);
    assert!(e.status.success());
    assert_eq!(
        fs::read(other.join(format!("{}.idx", "ab".repeat(32)))).unwrap(),
        b"old"
    );
    assert_eq!(fs::read(dir.join("layers/README")).unwrap(), b"mine");
}

#[test]
fn a_shared_directory_that_cannot_be_written_leaves_the_figures_with_one_warning() {
    let r = Run::new();
    let (_f, view, want) = family_figures(&r);
    // A file where the directory should be: it can be neither read nor written.
    let file = r.path("not-a-dir");
    fs::write(&file, b"x").unwrap();
    let out = with(
        &r,
        &r.path("a"),
        &format!("file://{}", file.display()),
        None,
        &view,
    );
    let warnings = same(&out, &want, "a file");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("not a directory"), "{warnings:?}");
    assert_eq!(fs::read(&file).unwrap(), b"x");
}

#[test]
fn a_shared_directory_strata_may_not_write_leaves_the_figures_with_one_warning() {
    let r = Run::new();
    let (_f, view, want) = family_figures(&r);
    let dir = r.path("team-cache");
    fs::create_dir(&dir).unwrap();
    let cache = r.path("own-cache");
    fs::create_dir(&cache).unwrap();
    let chmod = |mode: &str, p: &Path| {
        let ok = std::process::Command::new("chmod")
            .arg(mode)
            .arg(p)
            .status()
            .unwrap();
        assert!(ok.success());
    };
    let shared = format!("file://{}", dir.display());
    let mut cmd = r.cmd();
    cmd.env("STRATA_CACHE_DIR", &cache)
        .env("STRATA_SHARED_CACHE", &shared)
        .env_remove("STRATA_SHARED_CACHE_KEY");
    let out = if unsafe { libc::geteuid() } != 0 {
        chmod("a-w", &dir);
        let out = cmd.args(&view).output().unwrap();
        chmod("u+w", &dir);
        out
    } else {
        // Root writes anywhere: run as nobody, who may write its own cache only.
        chmod("a+rx", r.tmp.path());
        chmod("a+rwx", &cache);
        let mut setpriv = std::process::Command::new("setpriv");
        setpriv
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(cmd.get_program())
            .args(&view)
            .envs(cmd.get_envs().filter_map(|(k, v)| Some((k, v?))));
        setpriv.output().unwrap()
    };
    let warnings = same(&out, &want, "unwritable");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("could not be pushed") && warnings[0].contains("denied"),
        "{warnings:?}"
    );
    assert_eq!(
        fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing written there"
    );
}
