//! A real containerd for tests and benches: root, its own root/state dirs
//! and socket in a temp dir, no CRI plugin; killed when dropped. Needs only
//! std, tempfile and libc, so benches include it too.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `containerd` on a socket in a temp dir, stopped (killed) at the end.
pub struct Containerd {
    child: Child,
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
}

impl Containerd {
    /// None, after saying why, only where containerd cannot run here (not
    /// root, or not installed outside CI).
    pub fn start() -> Option<Containerd> {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipping: containerd needs root (its snapshotters mount)");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("containerd.sock");
        let config = dir.path().join("config.toml");
        fs::write(
            &config,
            format!(
                r#"version = 2
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]
[grpc]
  address = "{socket}"
[ttrpc]
  address = "{socket}.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
"#,
                root = dir.path().join("root").display(),
                state = dir.path().join("state").display(),
                socket = socket.display(),
            ),
        )
        .unwrap();
        let log = fs::File::create(dir.path().join("containerd.log")).unwrap();
        let child = Command::new("containerd")
            .arg("--config")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!(
                    "skipping: containerd cannot start here ({e}); scripts/test.sh installs it"
                );
                return None;
            }
            Err(e) => panic!("containerd is installed by scripts/test.sh in CI: {e}"),
        };
        let mut c = Containerd { child, dir, socket };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::os::unix::net::UnixStream::connect(&c.socket).is_err() {
            if let Ok(Some(status)) = c.child.try_wait() {
                panic!(
                    "containerd exited ({status}): {}",
                    fs::read_to_string(c.dir.path().join("containerd.log")).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "containerd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(c)
    }

    /// `ctr` on this containerd, in `namespace`.
    pub fn ctr(&self, namespace: &str, args: &[&str]) -> String {
        let out = Command::new("ctr")
            .arg("-a")
            .arg(&self.socket)
            .args(["-n", namespace])
            .args(args)
            .output()
            .expect("ctr comes with containerd");
        assert!(
            out.status.success(),
            "ctr {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `ctr images import` of an OCI archive as `BASE:REF`; `unpack` as a
    /// pull does (native snapshotter), or the blobs only.
    pub fn import_archive(&self, namespace: &str, archive: &Path, base: &str, unpack: bool) {
        let mut args = vec!["images", "import", "--base-name", base];
        if unpack {
            args.extend(["--snapshotter", "native"]);
        } else {
            args.push("--no-unpack");
        }
        args.push(archive.to_str().unwrap());
        self.ctr(namespace, &args);
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
