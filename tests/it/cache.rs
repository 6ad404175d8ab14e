//! The cache owns only what it made: a person's files survive every command,
//! no link under the cache is followed, a damaged entry is a miss said once,
//! a read-only or full cache still gives the figures; `strata cache`.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Output};

use super::builder::{self, Compress, OciLayout};
use super::registry_server::Registry;
use super::*;

/// Every view a person runs, on the family's images.
fn views(layout: &Path) -> Vec<Vec<String>> {
    let at = |name: &str| format!("{}:{name}", oci(layout));
    vec![
        vec!["footprint".into(), oci(layout)],
        vec!["du".into(), at("app-dev")],
        vec!["layers".into(), at("app-dev")],
        vec!["diff".into(), at("app"), at("app-dev")],
        vec!["packages".into(), at("app")],
        vec!["audit".into(), at("app-dev"), "--layer".into(), "4".into()],
        vec!["advise".into(), at("worker")],
    ]
}

/// Runs with the cache in `cache`, JSON out.
fn run_in(r: &Run, cache: &Path, args: &[String]) -> Output {
    r.cmd()
        .env("STRATA_CACHE_DIR", cache)
        .args(args)
        .arg("--format=json")
        .output()
        .unwrap()
}

/// The figures of a run without any cache.
fn no_cache(r: &Run, args: &[String]) -> Value {
    let mut with = args.to_vec();
    with.push("--no-cache".into());
    r.json(&with.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Exit 0 and the figures of `want`; returns the lines on stderr.
fn same_figures(out: &Output, want: &Value, what: &str) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{what}: {stderr}");
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(&got, want, "{what}");
    stderr.lines().map(str::to_owned).collect()
}

/// Every file and link below `dir` (links not followed), with its content
/// or target: what a person had there.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let meta = fs::symlink_metadata(&p).unwrap();
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&p).unwrap();
                out.insert(p, target.into_os_string().into_encoded_bytes());
            } else if meta.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// `snapshot` without what strata made (its entries and markers).
fn persons(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let strata = |p: &Path| {
        let name = p.file_name().unwrap().to_string_lossy();
        let entry = (name.ends_with(".idx") || name.ends_with(".sum")) && name.len() == 68;
        name == "CACHEDIR.TAG"
            || (entry
                && p.parent()
                    .unwrap()
                    .ends_with(format!("{}/sha256", version())))
    };
    let mut all = snapshot(dir);
    all.retain(|p, _| !strata(p));
    all
}

fn write(path: &Path, content: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, content).unwrap();
}

fn person_files(root: &Path) {
    write(&root.join("layers/v2/notes.txt"), b"my notes");
    write(&root.join("layers/vendor-notes/x"), b"x");
    // Named like strata's own, but in a directory strata did not mark.
    write(
        &root
            .join("layers/v4/sha256")
            .join(format!("{}.idx", "0".repeat(64))),
        b"not strata's",
    );
}

/// Runs every view (and a prune) in `cache`: the figures of a run without a
/// cache each time, `warnings` lines on stderr, and `kept` unchanged after.
fn every_command_keeps(r: &Run, layout: &Path, cache: &Path, kept: &Path, warnings: usize) {
    let snapshot = persons;
    let before = snapshot(kept);
    assert!(!before.is_empty());
    for args in views(layout) {
        let want = no_cache(r, &args);
        let lines = same_figures(&run_in(r, cache, &args), &want, &args.join(" "));
        assert_eq!(lines.len(), warnings, "{args:?}: {lines:?}");
        assert_eq!(snapshot(kept), before, "{args:?} changed a person's files");
    }
    let prune = ["cache".to_owned(), "prune".to_owned()];
    let out = run_in(r, cache, &prune);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        snapshot(kept),
        before,
        "cache prune changed a person's files"
    );
}

#[test]
fn a_persons_directories_in_strata_cache_survive_every_command() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let cache = r.cache();
    r.json(&["footprint", &oci(&fam.layout)]);
    assert!(
        cache.join("CACHEDIR.TAG").is_file(),
        "strata marks what it makes"
    );
    person_files(&cache);
    write(
        &cache.join(format!("layers/{}/sha256/notes.txt", version())),
        b"in strata's own dir",
    );
    every_command_keeps(&r, &fam.layout, &cache, &cache, 0);
}

#[test]
fn in_a_directory_strata_did_not_make_it_keeps_to_its_own_subdirectory() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let cache = r.path("c");
    person_files(&cache);
    every_command_keeps(&r, &fam.layout, &cache, &cache.join("layers"), 0);
    assert!(cache.join("strata/CACHEDIR.TAG").is_file());
    assert!(!cache.join("CACHEDIR.TAG").exists());
    let out = run_in(&r, &cache, &["cache".into(), "path".into()]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["path"], cache.join("strata").display().to_string());
}

#[test]
fn a_layers_link_to_a_persons_directory_is_never_followed() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let theirs = r.path("theirs");
    write(&theirs.join("v1/keep"), b"keep");
    write(&theirs.join(format!("{}/sha256/keep", version())), b"keep");
    // A cache strata made, whose layers/ became a link: refused, one warning.
    let cache = r.cache();
    r.json(&["footprint", &oci(&fam.layout)]);
    fs::remove_dir_all(cache.join("layers")).unwrap();
    std::os::unix::fs::symlink(&theirs, cache.join("layers")).unwrap();
    every_command_keeps(&r, &fam.layout, &cache, &theirs, 1);
    let line = &run_in(&r, &cache, &views(&fam.layout)[1]).stderr;
    assert!(String::from_utf8_lossy(line).contains("symbolic link"));
    // A directory strata did not make, with such a link: strata keeps to its own.
    let other = r.path("other");
    fs::create_dir(&other).unwrap();
    std::os::unix::fs::symlink(&theirs, other.join("layers")).unwrap();
    every_command_keeps(&r, &fam.layout, &other, &theirs, 0);
}

#[test]
fn a_linked_version_directory_is_not_written_through() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let cache = r.cache();
    r.json(&["footprint", &oci(&fam.layout)]);
    let theirs = r.path("theirs");
    write(&theirs.join("keep"), b"keep");
    fs::remove_dir_all(cache.join(format!("layers/{}", version()))).unwrap();
    std::os::unix::fs::symlink(&theirs, cache.join(format!("layers/{}", version()))).unwrap();
    every_command_keeps(&r, &fam.layout, &cache, &theirs, 1);
    assert_eq!(fs::read_dir(&theirs).unwrap().count(), 1);
}

/// The cache file of `digest` ending with `suffix`.
fn entry_file(cache: &Path, digest: &str, suffix: &str) -> PathBuf {
    let hex = digest.trim_start_matches("sha256:");
    cache.join(format!("layers/{}/sha256/{hex}{suffix}", version()))
}

#[test]
fn a_flipped_byte_in_any_cache_file_gives_the_no_cache_figures_and_one_warning() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let args: Vec<String> = vec!["du".into(), format!("{}:app", oci(&fam.layout))];
    let want = no_cache(&r, &args);
    for suffix in [".idx", ".sum"] {
        let len = {
            let cache = r.path("probe");
            run_in(&r, &cache, &args);
            fs::metadata(entry_file(&cache, &fam.base.digest, suffix))
                .unwrap()
                .len() as usize
        };
        for at in [0, 9, 13, 40, len / 2, len - 12, len - 1] {
            let cache = r.path(&format!("c{suffix}{at}"));
            same_figures(&run_in(&r, &cache, &args), &want, "cold");
            let file = entry_file(&cache, &fam.base.digest, suffix);
            let clean = fs::read(&file).unwrap();
            let mut bad = clean.clone();
            bad[at.min(len - 1)] ^= 0x5a;
            fs::write(&file, &bad).unwrap();
            let what = format!("{suffix} byte {at} of {len}");
            let lines = same_figures(&run_in(&r, &cache, &args), &want, &what);
            assert_eq!(lines.len(), 1, "{what}: {lines:?}");
            assert!(lines[0].contains("damaged entry"), "{what}: {lines:?}");
            assert!(
                lines[0].contains(&fam.base.digest[..19]),
                "{what}: {lines:?}"
            );
            assert_eq!(fs::read(&file).unwrap(), clean, "{what}: replaced");
            let lines = same_figures(&run_in(&r, &cache, &args), &want, &what);
            assert!(lines.is_empty(), "{what}: {lines:?}");
        }
    }
}

#[test]
fn a_flipped_byte_in_a_cached_config_is_fetched_again_with_one_warning() {
    let reg = Registry::start(false);
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    reg.push(&fam.layout, "app", "fam/app:1", false);
    let args: Vec<String> = vec![
        "footprint".into(),
        format!("docker://{}/fam/app:1", reg.host),
    ];
    let want = no_cache(&r, &args);
    let cache = r.cache();
    same_figures(&run_in(&r, &cache, &args), &want, "cold");
    let configs: Vec<PathBuf> = fs::read_dir(cache.join("configs/sha256"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(configs.len(), 1);
    let clean = fs::read(&configs[0]).unwrap();
    let mut bad = clean.clone();
    bad[clean.len() / 2] ^= 1;
    fs::write(&configs[0], &bad).unwrap();
    let lines = same_figures(&run_in(&r, &cache, &args), &want, "damaged config");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("config sha256:"), "{lines:?}");
    assert_eq!(fs::read(&configs[0]).unwrap(), clean, "replaced");
}

/// The built strata as a std Command, set up as `Run::cmd` sets it up.
fn strata(r: &Run, cache: &Path) -> StdCommand {
    let mut c = StdCommand::new(assert_cmd::cargo::cargo_bin("strata"));
    c.env("STRATA_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .env("HOME", r.path("home"))
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("STRATA_CREDS");
    c
}

/// Runs strata so that `cache` cannot be written: as another user when
/// this is root (root writes anywhere), else with the cache made read-only.
fn read_only_run(r: &Run, cache: &Path, args: &[String]) -> Output {
    let chmod = |mode: &str| {
        let ok = StdCommand::new("chmod")
            .args(["-R", mode])
            .arg(cache)
            .status()
            .unwrap();
        assert!(ok.success());
    };
    if unsafe { libc::geteuid() } != 0 {
        chmod("a-w");
        let out = run_in(r, cache, args);
        chmod("u+w");
        return out;
    }
    // nobody reads the layout and the cache, and writes neither.
    chmod("a+rX");
    for dir in [r.tmp.path().to_owned(), r.path("layout")] {
        StdCommand::new("chmod")
            .args(["-R", "a+rX"])
            .arg(dir)
            .status()
            .unwrap();
    }
    let strata = strata(r, cache);
    let mut cmd = StdCommand::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(strata.get_program())
        .args(args)
        .arg("--format=json")
        .envs(strata.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .output()
        .unwrap()
}

#[test]
fn a_read_only_cache_gives_the_figures_with_one_warning() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let cache = r.cache();
    let warm: Vec<String> = vec!["du".into(), format!("{}:app", oci(&fam.layout))];
    same_figures(&run_in(&r, &cache, &warm), &no_cache(&r, &warm), "warm");
    let before = snapshot(&cache);
    // app-dev needs one layer the cache lacks: scanned into a private directory.
    for args in [
        warm.clone(),
        views(&fam.layout)[1].clone(),
        views(&fam.layout)[3].clone(),
    ] {
        let want = no_cache(&r, &args);
        let lines = same_figures(&read_only_run(&r, &cache, &args), &want, &args.join(" "));
        assert_eq!(lines.len(), 1, "{args:?}: {lines:?}");
        assert!(lines[0].contains("cannot be written"), "{lines:?}");
    }
    assert_eq!(snapshot(&cache), before, "nothing written");
}

#[test]
fn a_full_cache_finishes_the_run_from_a_private_directory() {
    // A 32 KiB file system for the cache needs a mount: a user namespace.
    let probe = StdCommand::new("unshare").args(["-rm", "true"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("skipped: no user namespaces (unshare -rm) here to mount a small tmpfs");
        return;
    }
    let r = Run::new();
    let mut lay = OciLayout::new(&r.path("layout"));
    let small = lay.layer(Compress::Gzip(6), |w| {
        w.file("etc/small", b"small");
    });
    let many = lay.layer(Compress::Gzip(6), |w| {
        for i in 0..6_000 {
            w.file(
                &format!("usr/share/many/file-{i:05}"),
                &builder::noise(8, i),
            );
        }
    });
    lay.image("full", &[&small, &many], "linux/amd64");
    let layout = lay.finish();
    let args: Vec<String> = vec!["du".into(), format!("{}:full", oci(&layout))];
    let want = no_cache(&r, &args);
    let cache = r.cache();
    fs::create_dir(&cache).unwrap();
    let strata = strata(&r, &cache);
    let out = StdCommand::new("unshare")
        .args([
            "-rm",
            "sh",
            "-c",
            r#"mount -t tmpfs -o size=32k tmpfs "$0" && exec "$@""#,
        ])
        .arg(&cache)
        .arg(strata.get_program())
        .args(&args)
        .arg("--format=json")
        .envs(strata.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .output()
        .unwrap();
    let lines = same_figures(&out, &want, "full cache");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("cannot be written (no storage space)"),
        "{lines:?}"
    );
}

/// Sets a file's time of last use `days` ago.
fn age(path: &Path, days: u64) {
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(days * 86_400);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

#[test]
fn cache_du_prune_and_path_see_and_remove_only_strata_entries() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let cache = r.cache();
    r.json(&["footprint", &oci(&fam.layout)]);
    let du = r.json(&["cache", "du"]);
    assert_eq!(du["entries"], 6, "six distinct layers: {du}");
    assert_eq!(du["parts"][0]["format"], version());
    let on_disk: u64 = fs::read_dir(cache.join(format!("layers/{}/sha256", version())))
        .unwrap()
        .flatten()
        .map(|e| e.metadata().unwrap().len())
        .sum();
    assert_eq!(du["bytes"], on_disk);
    // A person's files beside strata's, and a link named like an entry.
    let theirs = r.path("theirs.txt");
    write(&theirs, b"mine");
    let sha = cache.join(format!("layers/{}/sha256", version()));
    write(&sha.join("notes.txt"), b"mine");
    write(&sha.join(format!("{}.txt", "ab".repeat(32))), b"mine");
    write(&cache.join("configs/sha256/README"), b"mine");
    std::os::unix::fs::symlink(&theirs, sha.join(format!("{}.idx", "cd".repeat(32)))).unwrap();
    let people: Vec<PathBuf> = vec![
        theirs.clone(),
        sha.join("notes.txt"),
        sha.join(format!("{}.txt", "ab".repeat(32))),
        cache.join("configs/sha256/README"),
        sha.join(format!("{}.idx", "cd".repeat(32))),
    ];
    assert_eq!(
        r.json(&["cache", "du"])["entries"],
        6,
        "a person's files are not entries"
    );
    let worker = r.json(&["layers", &format!("{}:worker", oci(&fam.layout))]);
    let worker = worker["layers"][1]["digest"].as_str().unwrap().to_owned();
    // Two entries unused for 40 days, one for 10.
    for (digest, days) in [
        (&fam.base.digest, 40),
        (&fam.recompressed.digest, 40),
        (&worker, 10),
    ] {
        age(&entry_file(&cache, digest, ".sum"), days);
    }
    let p = r.json(&["cache", "prune", "--older-than", "30d"]);
    assert_eq!(p["removed"]["entries"], 2, "{p}");
    assert!(!entry_file(&cache, &fam.base.digest, ".idx").exists());
    assert!(!entry_file(&cache, &fam.base.digest, ".sum").exists());
    assert!(entry_file(&cache, &worker, ".sum").exists());
    // Least recently used first: the 10-day-old entry goes before the rest.
    let kept = p["kept"]["bytes"].as_u64().unwrap();
    let p = r.json(&["cache", "prune", "--max-size", &(kept - 1).to_string()]);
    assert_eq!(p["removed"]["entries"], 1, "{p}");
    assert!(!entry_file(&cache, &worker, ".sum").exists());
    let p = r.json(&["cache", "prune"]);
    assert_eq!(p["kept"]["entries"], 0, "{p}");
    assert_eq!(r.json(&["cache", "du"])["entries"], 0);
    for f in &people {
        assert!(fs::symlink_metadata(f).is_ok(), "{} removed", f.display());
    }
    assert_eq!(fs::read(&theirs).unwrap(), b"mine");
    assert!(cache.join("CACHEDIR.TAG").is_file());
    let out = r.run(&["cache", "path"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n", cache.display())
    );
    let line = r.fails(&["cache", "du", "--no-cache"]);
    assert!(line.contains("--no-cache"), "{line}");
    let line = r.fails(&["cache", "prune", "--older-than", "30x"]);
    assert!(line.contains("--older-than"), "{line}");
}

/// An image of `n` layers, each one small file.
fn tall_image(dir: &Path, n: usize) -> String {
    format!("{}:tall", oci(&builder::tall(dir, n)))
}

#[test]
fn a_merge_of_300_layers_keeps_within_64_open_files() {
    let r = Run::new();
    let reference = tall_image(&r.path("tall"), 300);
    let mut cmd = strata(&r, &r.cache());
    cmd.args(["du", &reference, "--format=json"]);
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 64,
                rlim_max: 64,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["tree"]["bytes"], 3000);
    assert_eq!(v["tree"]["files"], 300);
}

#[test]
fn an_image_of_more_layers_than_strata_merges_is_refused_in_one_line() {
    let r = Run::new();
    let reference = tall_image(&r.path("tall"), 1001);
    let v = r.json(&["footprint", &reference]);
    assert_eq!(v["images"][0]["layers"], 1001);
    let line = r.fails(&["du", &reference]);
    assert!(line.contains("1001 layers, more than the 1000"), "{line}");
    let line = r.fails(&["du", &reference, "--layer", "1"]);
    assert!(line.contains("1001 layers"), "{line}");
}

/// The directory name of the current index format (`v6`, …).
fn version() -> String {
    format!("v{}", strata::layer::FORMAT_VERSION)
}
