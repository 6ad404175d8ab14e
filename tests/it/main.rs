//! strata's integration tests: one binary, each test a short sentence
//! through `Run` (the built binary, a temp cache, no network but loopback).

mod advise;
mod advise_tooling;
mod bad_input;
mod builder;
mod cache;
mod cli_habits;
mod compare;
mod containerd;
mod containerd_service;
mod dev_images;
mod diff;
mod du;
mod engine;
mod engine_diff;
mod engine_every;
mod engine_stream;
mod explore;
mod explore_session;
mod explore_tmux;
mod extract;
mod fault_proxy;
mod fleet;
mod fleet_registry;
mod fleet_views;
mod footprint;
mod foreign;
mod gate;
mod gate_match;
mod history;
mod hostile_layers;
mod hostile_packages;
mod hostile_sources;
mod layers;
mod local_sources;
mod package_images;
mod packages;
mod pictures;
mod podman_service;
mod purls;
mod readme;
mod redis_server;
mod registry;
mod registry_auth;
mod registry_server;
mod report;
mod sbom;
mod shared_cache;
mod shared_dir;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

pub const DIVE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/dive");

pub fn dive(file: &str) -> String {
    format!("{DIVE}/{file}")
}

/// A temp dir for the test's files and a fresh cache dir.
pub struct Run {
    pub tmp: tempfile::TempDir,
}

impl Default for Run {
    fn default() -> Run {
        Run::new()
    }
}

impl Run {
    pub fn new() -> Run {
        Run {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    pub fn cache(&self) -> PathBuf {
        self.path("cache")
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("strata").unwrap();
        c.env("STRATA_CACHE_DIR", self.cache())
            .env("NO_COLOR", "1")
            .env_remove("DOCKER_CONFIG")
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("XDG_RUNTIME_DIR")
            .env("HOME", self.path("home"))
            .env_remove("STRATA_CREDS");
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// Runs, expects exit 0 and a silent stderr (no progress bar off a
    /// terminal), parses stdout as JSON.
    pub fn json(&self, args: &[&str]) -> Value {
        self.json_with(self.cmd(), args)
    }

    /// `json` with `stdin` (a file) on standard input.
    pub fn json_stdin(&self, args: &[&str], stdin: &Path) -> Value {
        let mut cmd = self.cmd();
        cmd.pipe_stdin(stdin).unwrap();
        self.json_with(cmd, args)
    }

    /// `json` with one more environment variable set.
    pub fn json_env(&self, key: &str, value: &Path, args: &[&str]) -> Value {
        let mut cmd = self.cmd();
        cmd.env(key, value);
        self.json_with(cmd, args)
    }

    /// `json`, and the report is at most `max` bytes (what a person reads
    /// stays small, however big the input).
    pub fn json_within(&self, max: usize, args: &[&str]) -> Value {
        let v = self.json(args);
        let len = serde_json::to_vec_pretty(&v).unwrap().len();
        assert!(len <= max, "strata {args:?}: a report of {len} bytes");
        v
    }

    fn json_with(&self, mut cmd: Command, args: &[&str]) -> Value {
        let out = cmd.args(args).arg("--format=json").output().unwrap();
        assert!(
            out.status.success(),
            "strata {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Runs, expects exit 2 with one line on stderr, nothing on stdout; returns the line.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "strata {args:?}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "stdout not empty: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(stderr.lines().count(), 1, "not one line: {stderr}");
        assert!(stderr.starts_with("strata: "), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    }
}

pub fn oci(path: &Path) -> String {
    format!("oci:{}", path.display())
}

/// The figures of a footprint JSON, without names (which differ per transport).
pub fn figures(v: &Value) -> Value {
    let mut v = v.clone();
    for image in v["images"].as_array_mut().unwrap() {
        let obj = image.as_object_mut().unwrap();
        obj.remove("name");
        obj.remove("manifest_digest");
    }
    v
}

/// The image names of a footprint JSON, in order.
pub fn names(v: &Value) -> Vec<&str> {
    v["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect()
}
