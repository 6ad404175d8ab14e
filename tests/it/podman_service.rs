//! A real Podman service for tests and benches: `podman system service` on a
//! socket in a temp dir with its own vfs storage, killed when dropped.
//! Needs only std and tempfile, so benches include it too.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `podman system service` on a socket in a temp dir, with its own storage.
pub struct Podman {
    child: Child,
    pub dir: tempfile::TempDir,
    /// `$XDG_RUNTIME_DIR` under which the socket sits as `podman/podman.sock`.
    pub runtime_dir: PathBuf,
    pub socket: PathBuf,
}

impl Podman {
    /// None, after saying why, only where podman cannot start on this machine.
    pub fn start() -> Option<Podman> {
        Podman::start_with("vfs")
    }

    /// `start` with another storage driver (`overlay` keeps each layer once:
    /// what a bench of a large image can afford on disk).
    pub fn start_with(driver: &str) -> Option<Podman> {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("driver"), driver).unwrap();
        let runtime_dir = dir.path().join("xdg");
        let socket = runtime_dir.join("podman/podman.sock");
        fs::create_dir_all(socket.parent().unwrap()).unwrap();
        fs::create_dir_all(dir.path().join("tmp")).unwrap();
        let log = fs::File::create(dir.path().join("podman.log")).unwrap();
        let mut cmd = Command::new("podman");
        cmd.args(Podman::store_args_of(dir.path()))
            .args(["--cgroup-manager", "cgroupfs", "--events-backend", "none"])
            .arg("--tmpdir")
            .arg(dir.path().join("tmp"))
            .args(["system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!("skipping: podman cannot start here ({e}); scripts/test.sh installs it");
                return None;
            }
            Err(e) => panic!("podman is installed by scripts/test.sh in CI: {e}"),
        };
        let mut podman = Podman {
            child,
            dir,
            runtime_dir,
            socket,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::os::unix::net::UnixStream::connect(&podman.socket).is_err() {
            if let Ok(Some(status)) = podman.child.try_wait() {
                eprintln!(
                    "skipping: podman system service exited ({status}): {}",
                    fs::read_to_string(podman.dir.path().join("podman.log")).unwrap_or_default()
                );
                return None;
            }
            assert!(Instant::now() < deadline, "podman service did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(podman)
    }

    /// podman's flags for this service's storage.
    pub fn store_args(&self) -> Vec<String> {
        Podman::store_args_of(self.dir.path())
    }

    fn driver(dir: &Path) -> String {
        fs::read_to_string(dir.join("driver")).unwrap_or_else(|_| "vfs".to_owned())
    }

    fn store_args_of(dir: &Path) -> Vec<String> {
        vec![
            "--root".into(),
            dir.join("root").display().to_string(),
            "--runroot".into(),
            dir.join("run").display().to_string(),
            "--storage-driver".into(),
            Podman::driver(dir),
        ]
    }

    /// `DOCKER_HOST` for this service.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Copies `oci:LAYOUT:NAME` into the service's storage as `TAG`.
    pub fn load(&self, layout: &Path, name: &str, tag: &str) {
        let store = format!(
            "containers-storage:[{}@{}+{}]{tag}",
            Podman::driver(self.dir.path()),
            self.dir.path().join("root").display(),
            self.dir.path().join("run").display()
        );
        let out = Command::new("skopeo")
            .args(["--insecure-policy", "copy", "-q"])
            .arg(format!("oci:{}:{name}", layout.display()))
            .arg(store)
            .output()
            .expect("skopeo is installed by the test command");
        assert!(
            out.status.success(),
            "skopeo copy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `podman save` of `tag` (docker-archive format) to `out`.
    pub fn save(&self, tag: &str, out: &Path) {
        let status = Command::new("podman")
            .args(self.store_args())
            .args(["save", "-q", "--format", "docker-archive", "-o"])
            .arg(out)
            .arg(tag)
            .status()
            .unwrap();
        assert!(status.success(), "podman save {tag}");
    }

    /// Stops the service the hard way: its socket file stays behind.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        self.kill();
        // The overlay driver bind-mounts its own directory: undo it, or the
        // temp dir cannot be removed.
        let overlay = self.dir.path().join("root/overlay");
        if Podman::driver(self.dir.path()) == "overlay" {
            let _ = Command::new("umount").arg(&overlay).status();
        }
    }
}
