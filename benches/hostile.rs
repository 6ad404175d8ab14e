//! Hostile inputs under a memory cap: runs the release binary on each input of
//! issue 12 built here (local documents past their caps, /dev/zero and FIFO
//! files, registry faults through a proxy) with RLIMIT_AS = 2 GiB, and
//! reports the peak RSS (wait4) and wall time of each. Targets: <= 64 MiB and
//! <= 5 s, except deliberate stalls, which must end at the configured
//! deadline (`--timeout`, plus 2 s). Exits 1 when a target is missed.
//! Registry cases need `docker-registry` and `skopeo` (skipped without them).
//! Tree cases (issue 18: millions of entries, 60,000-byte names, 32,000
//! levels) are built once into target/bench-data and must stay within
//! 128 MiB and 30 s, scan included. `STRATA_HOSTILE_BIN` runs another binary
//! (e.g. main's, for a before/after table); `STRATA_HOSTILE_ONLY=trees` runs
//! the tree cases alone.

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "support/data.rs"]
mod data;
#[path = "../tests/it/fault_proxy.rs"]
mod fault_proxy;
#[path = "../tests/it/registry_server.rs"]
mod registry_server;

use std::fs;
use std::os::unix::fs::symlink;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use builder::{Compress, LayerWriter, OciLayout};
use fault_proxy::{Fault, FaultProxy};
use serde_json::Value;

const TARGET_KIB: i64 = 64 * 1024;
const TARGET_TIME: Duration = Duration::from_secs(5);
/// The address-space cap each run gets: a runaway allocation fails fast.
const AS_LIMIT: u64 = 2 << 30;
const TIMEOUT: &str = "--timeout=2s";
const STALL_LIMIT: Duration = Duration::from_secs(4);

struct Case {
    name: String,
    args: Vec<String>,
    /// A deliberate stall: it must end at the deadline, not within 5 s of work.
    stall: bool,
    /// The exit code a correct strata gives (0: valid input, 2: refused).
    exit: i32,
    /// Its targets: peak RSS and wall time (a stall: its deadline instead).
    peak_kib: i64,
    time: Duration,
}

struct Outcome {
    peak_kib: i64,
    secs: f64,
    status: i32,
}

/// Runs strata on `args`; a run still going at `deadline` is killed (a
/// runaway before a fix must not stall the table).
fn run(args: &[String], deadline: Duration) -> Outcome {
    let cache = tempfile::tempdir().unwrap();
    let bin = std::env::var_os("STRATA_HOSTILE_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_strata").into());
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env("STRATA_CACHE_DIR", cache.path())
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: AS_LIMIT,
                rlim_max: AS_LIMIT,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = Instant::now();
    // Reaped below by wait4(2), which also reports the peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if r == pid {
            break;
        }
        assert_eq!(r, 0);
        if start.elapsed() > deadline {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            assert_eq!(r, pid);
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Outcome {
        peak_kib: usage.ru_maxrss,
        secs: start.elapsed().as_secs_f64(),
        status,
    }
}

fn case(name: &str, args: &[&str], stall: bool) -> Case {
    Case {
        name: name.to_owned(),
        args: args.iter().map(|s| s.to_string()).collect(),
        stall,
        exit: 2,
        peak_kib: TARGET_KIB,
        time: if stall { STALL_LIMIT } else { TARGET_TIME },
    }
}

fn oci(dir: &Path) -> String {
    format!("oci:{}", dir.display())
}

/// A one-image layout; returns it and its manifest.
fn layout(dir: &Path) -> (OciLayout, Value) {
    let mut lay = OciLayout::new(dir);
    let layer = lay.layer(Compress::Gzip(6), |w| {
        w.file("data", &builder::noise(20_000, 3));
    });
    let desc = lay.image("img", &[&layer], "linux/amd64");
    lay.finish();
    let manifest =
        serde_json::from_slice(&fs::read(lay.blob_path(desc["digest"].as_str().unwrap())).unwrap())
            .unwrap();
    (lay, manifest)
}

/// A tar of one header claiming 1 GiB of `kind` (contents: sparse zeros).
fn sparse_tar(path: &Path, name: &str, kind: tar::EntryType) {
    let mut h = tar::Header::new_gnu();
    h.set_path(name).unwrap();
    h.set_entry_type(kind);
    h.set_size(1 << 30);
    h.set_mode(0o644);
    h.set_cksum();
    fs::write(path, h.as_bytes()).unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(512 + (1 << 30) + 1024)
        .unwrap();
}

fn local_cases(work: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    let (zero, _) = layout(&work.join("zero"));
    let index = zero.dir.join("index.json");
    fs::remove_file(&index).unwrap();
    symlink("/dev/zero", &index).unwrap();
    cases.push(case(
        "index.json -> /dev/zero",
        &["footprint", &oci(&zero.dir)],
        false,
    ));

    let (fifo, _) = layout(&work.join("fifo"));
    let index = fifo.dir.join("index.json");
    fs::remove_file(&index).unwrap();
    let c = std::ffi::CString::new(index.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    cases.push(case(
        "index.json is a FIFO",
        &["footprint", &oci(&fifo.dir)],
        false,
    ));

    let (big, _) = layout(&work.join("big"));
    fs::File::create(big.dir.join("index.json"))
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    cases.push(case(
        "index.json of 1 GiB",
        &["footprint", &oci(&big.dir)],
        false,
    ));

    let archive = work.join("big-manifest.tar");
    sparse_tar(&archive, "manifest.json", tar::EntryType::Regular);
    let reference = format!("docker-archive:{}", archive.display());
    cases.push(case(
        "manifest.json of 1 GiB",
        &["footprint", &reference],
        false,
    ));

    let archive = work.join("long-name.tar");
    sparse_tar(&archive, "././@LongLink", tar::EntryType::GNULongName);
    let reference = format!("oci-archive:{}", archive.display());
    cases.push(case(
        "archive long name of 1 GiB",
        &["footprint", &reference],
        false,
    ));
    cases
}

/// An image whose one uncompressed layer is the tar file at `tar` (hashed as
/// it streams; its digest is its diff_id).
fn raw_layer_image(dir: &Path, tar: &Path) -> String {
    use sha2::{Digest as _, Sha256};
    let mut lay = OciLayout::new(dir);
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut fs::File::open(tar).unwrap(), &mut hasher).unwrap();
    let digest = format!("sha256:{}", hex::encode(hasher.finalize()));
    fs::rename(tar, lay.blob_path(&digest)).unwrap();
    let layer = builder::Layer {
        path: lay.blob_path(&digest),
        diff_id: digest.clone(),
        digest,
        size,
        media_type: builder::TAR.to_owned(),
        files: 0,
    };
    lay.image("h", &[&layer], "linux/amd64");
    format!("{}:h", oci(&lay.finish()))
}

/// Layer-level hostile inputs: what a tar declares is capped before it is read.
fn layer_cases(work: &Path) -> Vec<Case> {
    let mut cases = Vec::new();
    for (name, member, kind) in [
        (
            "layer: GNU long name of 1 GiB",
            "././@LongLink",
            tar::EntryType::GNULongName,
        ),
        (
            "layer: PAX header of 1 GiB",
            "PaxHeaders/x",
            tar::EntryType::XHeader,
        ),
    ] {
        let tar = work.join(format!("{}.tar", kind.as_byte()));
        sparse_tar(&tar, member, kind);
        let reference = raw_layer_image(&work.join(format!("layer-{}", kind.as_byte())), &tar);
        cases.push(case(name, &["footprint", &reference], false));
    }
    // A 2^60-byte sparse file: valid, sized by its map, never expanded.
    let mut h = tar::Header::new_gnu();
    h.set_path("holes").unwrap();
    h.set_entry_type(tar::EntryType::GNUSparse);
    h.set_size(4);
    h.set_mode(0o644);
    {
        let gnu = h.as_gnu_mut().unwrap();
        gnu.set_real_size(1 << 60);
        gnu.sparse[0].set_offset(1 << 59);
        gnu.sparse[0].set_length(4);
    }
    h.set_cksum();
    let mut bytes = h.as_bytes().to_vec();
    bytes.extend_from_slice(b"data");
    bytes.resize(512 * 4, 0);
    let tar = work.join("sparse.tar");
    fs::write(&tar, &bytes).unwrap();
    let reference = raw_layer_image(&work.join("layer-sparse"), &tar);
    let mut c = case(
        "layer: sparse file of 2^60 bytes",
        &["footprint", &reference],
        false,
    );
    c.exit = 0;
    cases.push(c);
    cases
}

/// A one-image OCI layout of one zstd layer filled by `fill`, built once
/// into target/bench-data; returns its reference.
fn tree_image(name: &str, fill: impl FnOnce(&mut LayerWriter)) -> String {
    let dir = data::dir().join("hostile-trees").join(name);
    let done = dir.join("built");
    let reference = format!("{}:{name}", oci(&dir));
    if !done.exists() {
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(
            builder::one_layer_image(&dir, name, Compress::Zstd, fill),
            reference
        );
        fs::write(&done, b"").unwrap();
    }
    reference
}

/// Trees that cost memory or time by their shape (issue 18, items 3 and 4):
/// valid images, so each must give its report within 128 MiB and 30 s.
fn tree_cases() -> Vec<Case> {
    let long = tree_image("long-names", |w| builder::long_names(w, 100_000, 60_000));
    let flat = tree_image("flat-3m", |w| builder::flat_files(w, 3_000_000));
    let deep = tree_image("deep-file", |w| builder::deep_file(w, 32_000, b"deep"));
    let nested = tree_image("nested-dirs", |w| builder::nested_dirs(w, 32_000, None));
    let runs: [(&str, Vec<&str>); 10] = [
        ("100k names of 60 kB: du", vec!["du", &long]),
        (
            "100k names of 60 kB: audit",
            vec!["audit", &long, "--layer", "1"],
        ),
        ("3M files in a dir: du", vec!["du", &flat]),
        (
            "3M files in a dir: audit",
            vec!["audit", &flat, "--layer", "1"],
        ),
        ("3M files in a dir: advise", vec!["advise", &flat]),
        (
            "file 32k deep: du --depth 8000",
            vec!["du", &deep, "--depth", "8000"],
        ),
        ("32k nested dirs: layers", vec!["layers", &nested]),
        ("32k nested dirs: diff", vec!["diff", &deep, &nested]),
        ("32k nested dirs: du", vec!["du", &nested]),
        ("32k nested dirs: footprint", vec!["footprint", &nested]),
    ];
    runs.into_iter()
        .map(|(name, args)| {
            let mut c = case(name, &args, false);
            c.exit = 0;
            c.peak_kib = 128 * 1024;
            c.time = Duration::from_secs(30);
            c
        })
        .collect()
}

fn registry_cases(work: &Path) -> Option<(registry_server::Registry, Vec<Case>)> {
    let found = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    };
    if !found("docker-registry") || !found("skopeo") {
        eprintln!("docker-registry or skopeo missing: registry cases skipped");
        return None;
    }
    let reg = registry_server::Registry::start(false);
    let (lay, manifest) = layout(&work.join("pushed"));
    reg.push(&lay.dir, "img", "hostile/img:1", false);
    let layer = manifest["layers"][0]["digest"].as_str().unwrap().to_owned();
    let config = manifest["config"]["digest"].as_str().unwrap().to_owned();
    let mut cases = Vec::new();
    let faults = [
        ("endless manifest", "/manifests/", Fault::Endless, false),
        ("endless config", config.as_str(), Fault::Endless, false),
        ("endless layer blob", layer.as_str(), Fault::Endless, false),
        ("split first segment", "/blobs/", Fault::SplitFirst, false),
        (
            "truncated layer blob (resumed)",
            layer.as_str(),
            Fault::Truncate { times: 1 },
            false,
        ),
        ("manifest never answers", "/manifests/", Fault::Hang, true),
        (
            "manifest trickles (300 ms/byte)",
            "/manifests/",
            Fault::Trickle { ms: 300 },
            true,
        ),
        (
            "layer blob never answers",
            layer.as_str(),
            Fault::Hang,
            true,
        ),
        (
            "layer body stalls (3 s/byte)",
            layer.as_str(),
            Fault::Trickle { ms: 3000 },
            true,
        ),
        ("_catalog never answers", "/_catalog", Fault::Hang, true),
    ];
    for (name, pattern, fault, stall) in faults {
        let proxy = FaultProxy::start(&reg.host, pattern, fault);
        let reference = if pattern == "/_catalog" {
            format!("docker://{}/hostile/*:1", proxy.addr)
        } else {
            format!("docker://{}/hostile/img:1", proxy.addr)
        };
        let mut c = case(
            name,
            &["footprint", "--no-cache", TIMEOUT, &reference],
            stall,
        );
        if matches!(fault, Fault::SplitFirst | Fault::Truncate { .. }) {
            c.exit = 0;
        }
        cases.push(c);
    }
    Some((reg, cases))
}

fn main() {
    let work = tempfile::tempdir().unwrap();
    let trees_only = std::env::var("STRATA_HOSTILE_ONLY").is_ok_and(|v| v == "trees");
    let mut cases = Vec::new();
    if !trees_only {
        cases.extend(local_cases(work.path()));
        cases.extend(layer_cases(work.path()));
    }
    cases.extend(tree_cases());
    let registry = if trees_only {
        None
    } else {
        registry_cases(work.path()).map(|(reg, more)| {
            cases.extend(more);
            reg
        })
    };
    let mut missed = false;
    println!(
        "{:<34} {:>6} {:>9} {:>9}  target",
        "hostile input", "exit", "peak RSS", "wall"
    );
    for c in &cases {
        let o = run(&c.args, c.time * 4 + Duration::from_secs(10));
        let exited = libc::WIFEXITED(o.status);
        let exit = libc::WEXITSTATUS(o.status);
        let ok =
            o.peak_kib <= c.peak_kib && o.secs <= c.time.as_secs_f64() && exited && exit == c.exit;
        missed |= !ok;
        println!(
            "{:<34} {:>6} {:>5.1} MiB {:>7.2} s  {} (<= {} MiB, <= {} s){}",
            c.name,
            if exited {
                exit.to_string()
            } else {
                format!("sig {}", libc::WTERMSIG(o.status))
            },
            o.peak_kib as f64 / 1024.0,
            o.secs,
            if ok { "ok" } else { "MISSED" },
            c.peak_kib / 1024,
            c.time.as_secs(),
            if c.stall {
                " stall: ends at --timeout"
            } else {
                ""
            },
        );
    }
    drop(registry);
    if missed {
        eprintln!("a target was missed");
        std::process::exit(1);
    }
}
