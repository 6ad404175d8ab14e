//! A real registry for tests: Debian's docker-registry (CNCF distribution)
//! on 127.0.0.1, a free port, temp storage; stopped when dropped. Also a tiny
//! proxy that corrupts blob bytes.
#![allow(dead_code)]

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub const USER: &str = "strata";
pub const PASSWORD: &str = "hunter2-not-in-output";

pub struct Registry {
    child: Child,
    pub host: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A directory the registry's storage goes under instead of the system's
/// temp directory (the fleet bench puts it on tmpfs).
pub const STORAGE_ENV: &str = "STRATA_TEST_REGISTRY_DIR";

impl Registry {
    pub fn start(with_auth: bool) -> Registry {
        let dir = match std::env::var_os(STORAGE_ENV) {
            Some(parent) => tempfile::tempdir_in(parent).unwrap(),
            None => tempfile::tempdir().unwrap(),
        };
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("storage").display()
        );
        if with_auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", USER, PASSWORD])
                .output()
                .expect("htpasswd (apache2-utils) is installed by the test command");
            fs::write(dir.path().join("htpasswd"), out.stdout).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: strata-test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        fs::write(&config_path, config).unwrap();
        let log = dir.path().join("registry.log");
        // The access log goes to stdout, everything else to stderr: keep both.
        let log_file = fs::File::create(&log).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .spawn()
            .expect("docker-registry is installed by the test command");
        let host = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&host).is_err() {
            assert!(
                Instant::now() < deadline,
                "registry did not start: {}",
                fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Registry {
            child,
            host,
            log,
            _dir: dir,
        }
    }

    /// CPU time the registry process has used so far (user + system), for
    /// benches that tell its share from strata's.
    pub fn cpu(&self) -> Duration {
        let stat =
            fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces): utime and stime are 14 and 15.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let f: Vec<u64> = after
            .split_whitespace()
            .map(|x| x.parse().unwrap_or(0))
            .collect();
        let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Duration::from_millis(ticks * 1000 / hz)
    }

    /// The registry's storage root (distribution's filesystem driver), for
    /// filling it in bulk (fleet_registry.rs).
    pub fn storage(&self) -> PathBuf {
        self._dir.path().join("storage")
    }

    /// Pushes `oci:LAYOUT:NAME` to `REPO:TAG` with skopeo (every platform of an index).
    pub fn push(&self, layout: &Path, name: &str, repo_tag: &str, creds: bool) {
        let mut cmd = Command::new("skopeo");
        cmd.args([
            "--insecure-policy",
            "copy",
            "-q",
            "--all",
            "--preserve-digests",
            "--dest-tls-verify=false",
        ]);
        if creds {
            cmd.arg(format!("--dest-creds={USER}:{PASSWORD}"));
        }
        cmd.arg(format!("oci:{}:{name}", layout.display()))
            .arg(format!("docker://{}/{repo_tag}", self.host));
        let out = cmd
            .output()
            .expect("skopeo is installed by the test command");
        assert!(
            out.status.success(),
            "skopeo push: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn access_log(&self, method: &str, what: &str) -> usize {
        let method = format!("\"{method} /v2/");
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains(&method) && l.contains(what))
            .count()
    }

    /// Every request line the registry has logged so far (`GET /v2/… HTTP/1.1`).
    pub fn requests(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let start = l.find("\"")? + 1;
                let len = l[start..].find('"')?;
                let line = &l[start..start + len];
                line.contains(" /v2/").then(|| line.to_owned())
            })
            .collect()
    }

    /// How many blob GETs the registry has served so far (from its access log).
    pub fn blob_gets(&self) -> usize {
        self.access_log("GET", "/blobs/")
    }

    /// How many manifests were pushed (proves the access log is being read).
    pub fn manifest_puts(&self) -> usize {
        self.access_log("PUT", "/manifests/")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A proxy on 127.0.0.1 in front of `upstream` that flips one byte in the
/// middle of every blob response body. Serves at most `limit` connections.
pub fn corrupting_proxy(upstream: String, limit: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(limit) {
            let Ok(mut client) = conn else { break };
            let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
            let mut reader = BufReader::new(client.try_clone().unwrap());
            let mut head = Vec::new();
            let mut line = String::new();
            let mut length = 0usize;
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if line == "\r\n" {
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if lower.starts_with("connection:") {
                    continue;
                }
                head.extend_from_slice(line.as_bytes());
            }
            let is_blob = String::from_utf8_lossy(&head)
                .lines()
                .next()
                .is_some_and(|l| l.contains("/blobs/"));
            let mut body = vec![0u8; length];
            let _ = reader.read_exact(&mut body);
            let Ok(mut up) = TcpStream::connect(&upstream) else {
                break;
            };
            head.extend_from_slice(b"Connection: close\r\n\r\n");
            let _ = up.write_all(&head);
            let _ = up.write_all(&body);
            let mut response = Vec::new();
            let _ = up.read_to_end(&mut response);
            if is_blob {
                if let Some(pos) = response.windows(4).position(|w| w == b"\r\n\r\n") {
                    let body_len = response.len() - pos - 4;
                    if body_len > 0 {
                        let i = pos + 4 + body_len / 2;
                        response[i] ^= 0x01;
                    }
                }
            }
            let _ = client.write_all(&response);
        }
    });
    addr
}
