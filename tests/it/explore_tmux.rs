//! `strata explore` end to end: the real binary in a real terminal (a
//! private tmux server on a temp socket), driven with send-keys and read
//! with capture-pane: open an image, go to layer 2, open a directory, sort,
//! filter, quit — and the terminal is as it was (main screen, cooked mode).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of its own, killed when dropped.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket).env_remove("TMUX");
        c
    }

    fn run(&self, args: &[&str]) -> String {
        let out = self
            .cmd()
            .args(args)
            .output()
            .expect("tmux runs (scripts/test.sh installs it)");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    /// Waits until the screen holds `text`; panics with the screen after 30 s.
    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "no {text:?} on screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.run(&["send-keys", "-t", "t", k]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// Starts `strata explore` on dive's test image in a new tmux server; the
/// pane then prints `exit=N`, the tty's icanon and echo flags, and `done`.
fn start(run: &crate::Run) -> Tmux {
    let tmux = Tmux {
        socket: run.path("tmux.sock"),
    };
    let strata = PathBuf::from(env!("CARGO_BIN_EXE_strata"));
    let archive = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dive/test-docker-image.tar");
    let script = format!(
        "NO_COLOR=1 STRATA_CACHE_DIR={cache} {strata} explore docker-archive:{archive}; \
         echo \"exit=$?\"; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; \
         echo; echo done; sleep 120",
        cache = shell_quote(&run.cache()),
        strata = shell_quote(&strata),
        archive = shell_quote(&archive),
    );
    tmux.run(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "100",
        "-y",
        "30",
        "sh",
        "-c",
        &script,
    ]);
    tmux
}

/// The terminal as it was: the command's exit code, cooked mode, echo, the main screen.
fn restored(tmux: &Tmux, code: &str) {
    let after = tmux.wait_for("done");
    assert!(after.contains(&format!("exit={code}")), "{after}");
    assert!(
        after.contains("icanon") && !after.contains("-icanon"),
        "cooked mode back: {after}"
    );
    assert!(!after.contains("-echo"), "echo back: {after}");
    assert!(
        !after.contains("CREATED BY"),
        "the main screen is back: {after}"
    );
    assert_eq!(
        tmux.run(&["display", "-p", "-t", "t", "#{alternate_on}"])
            .trim(),
        "0"
    );
}

#[test]
fn the_real_binary_in_tmux_opens_moves_sorts_filters_quits_and_restores_the_terminal() {
    let run = crate::Run::new();
    let tmux = start(&run);
    let first = tmux.wait_for("▸ bin");
    assert!(
        first.contains("#1/14 up to it") && first.contains("CREATED BY"),
        "{first}"
    );
    assert_eq!(
        tmux.run(&["display", "-p", "-t", "t", "#{alternate_on}"])
            .trim(),
        "1"
    );
    // Layer 2, then the tree: the first directory opened, sorted by name, filtered.
    tmux.keys(&["]"]);
    let layer2 = tmux.wait_for("somefile.txt");
    assert!(layer2.contains("#2/14 up to it"), "{layer2}");
    tmux.keys(&["Right"]);
    let opened = tmux.wait_for("▾");
    tmux.keys(&["s"]);
    let sorted = tmux.wait_for("by name");
    assert_ne!(opened, sorted);
    tmux.keys(&["f", "s", "o", "m", "e", "Enter"]);
    let filtered = tmux.wait_for("path some");
    assert!(
        filtered.contains("somefile.txt") && !filtered.contains(" bin"),
        "{filtered}"
    );
    tmux.keys(&["q"]);
    restored(&tmux, "0");
}

#[test]
fn sigterm_ends_the_explorer_with_the_terminal_restored() {
    let run = crate::Run::new();
    let tmux = start(&run);
    tmux.wait_for("▸ bin");
    // The pane runs `sh -c`; strata is its child.
    let shell = tmux.run(&["display", "-p", "-t", "t", "#{pane_pid}"]);
    let children =
        std::fs::read_to_string(format!("/proc/{0}/task/{0}/children", shell.trim())).unwrap();
    let pid: i32 = children.split_whitespace().next().unwrap().parse().unwrap();
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    restored(&tmux, "2");
}
