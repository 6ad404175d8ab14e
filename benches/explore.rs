//! `strata explore` on a one-layer image of 3,000,000 files (one directory),
//! warm cache: the explorer's own loop (the model, its update, its view
//! drawn into ratatui's TestBackend at 80x24, jobs on the real worker
//! threads) driven by a script of 200 keys, in a process of its own whose
//! peak RSS is read from wait4(2). Targets: first frame <= 1 s, every key
//! answered (its frame drawn) in <= 50 ms at the 99th percentile, peak RSS
//! <= 64 MiB. Also printed: when the figures and the tree are complete,
//! and how long keys that ask for a pass wait for its answer. dive 0.13 on
//! the same image as a gzip docker-archive (`dive --json`, what it does
//! before its first frame), when it can open it, and both cold on a ~1 GB
//! Debian image (this host's files): the explorer complete no later than
//! dive's first frame. Exits 1 when a target is
//! missed. `STRATA_EXPLORE_NO_DIVE=1` skips dive.

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "support/data.rs"]
mod data;
#[path = "../tests/it/explore_session.rs"]
mod explore_session;
#[path = "support/measure.rs"]
mod measure;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use builder::Compress;
use measure::{peers, strata, verdict};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use strata::explore::jobs::Context;
use strata::explore::terminal::{Flags, Workers};
use strata::explore::{source, view, App, Facts, Msg};

const FILES: usize = 3_000_000;
const DRIVE: &str = "STRATA_EXPLORE_DRIVE";

/// A one-image OCI layout of one layer of FILES files, built once.
fn image(compress: Compress, name: &str) -> PathBuf {
    let dir = data::dir().join("hostile-trees").join(name);
    let done = dir.join("built");
    if !done.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        builder::one_layer_image(&dir, name, compress, |w| builder::flat_files(w, FILES));
        std::fs::write(&done, b"").unwrap();
    }
    dir
}

fn main() {
    measure::serve();
    if std::env::var_os(DRIVE).is_some() {
        let args: Vec<String> = std::env::args().collect();
        drive(&args[1], Path::new(&args[2]));
        return;
    }
    let layout = image(Compress::Zstd, "flat-3m");
    let reference = format!("oci:{}:flat-3m", layout.display());
    let cache = tempfile::tempdir().unwrap();
    // Warm the cache: the layer scanned once.
    measure::run(
        strata()
            .arg("--cache-dir")
            .arg(cache.path())
            .args(["layers", &reference]),
    );
    let mut missed = Vec::new();
    let (ours, report) = driven(&reference, cache.path());
    println!("{FILES} files in one layer, warm cache, 80x24, 200 scripted keys:");
    println!(
        "first frame {:.0} ms (target <= 1000): {}",
        report.first_frame_ms,
        verdict("first frame", report.first_frame_ms <= 1000.0, &mut missed)
    );
    println!(
        "figures and tree complete at {:.2} s (the index checked in full, then one pass)",
        report.ready_ms / 1000.0
    );
    println!(
        "key -> frame: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target p99 <= 50): {}",
        report.p50,
        report.p99,
        report.max,
        verdict("key p99", report.p99 <= 50.0, &mut missed)
    );
    println!(
        "keys that asked for a pass ({}): answer complete p50 {:.2} s, max {:.2} s",
        report.passes,
        report.pass_p50 / 1000.0,
        report.pass_max / 1000.0
    );
    println!(
        "peak RSS {:.1} MiB (target <= 64): {}; {:.2} s CPU, {:.2} s wall",
        ours.rss_mib(),
        verdict("peak RSS", ours.rss_mib() <= 64.0, &mut missed),
        ours.cpu.as_secs_f64(),
        ours.wall.as_secs_f64()
    );
    if std::env::var_os("STRATA_EXPLORE_NO_DIVE").is_none() {
        versus_dive();
        debian_versus_dive(&mut missed);
    }
    if !missed.is_empty() {
        eprintln!("targets missed: {}", missed.join(", "));
        std::process::exit(1);
    }
}

/// The same image as a gzip docker-archive: strata's explorer on it cold
/// (the scan included), and dive's time and memory before its first frame
/// (`--json` runs the analysis its UI waits for).
fn versus_dive() {
    let archive = data::dir().join("hostile-trees").join("flat-3m.docker.tar");
    if !archive.exists() {
        let layout = image(Compress::Gzip(1), "flat-3m-gzip");
        builder::docker_archive(&layout, &["flat-3m-gzip"], &archive);
    }
    cold_beside_dive(&archive, "same image as a gzip docker-archive");
}

/// A ~1 GB Debian image (this host's Debian files, gzip, one layer) as a
/// docker-archive: explore cold, figures and tree complete, against dive's
/// time to its first frame. Target: no later than dive.
fn debian_versus_dive(missed: &mut Vec<String>) {
    let archive = data::dir().join("explore-debian.docker.tar");
    if !archive.exists() {
        let base = data::host_debian("host-debian", 960_000_000);
        let layout = data::layout("explore-debian", &[&base]);
        builder::docker_archive(&layout, &["explore-debian"], &archive);
    }
    let size = std::fs::metadata(&archive).unwrap().len() as f64 / 1e9;
    let label = format!("~1 GB Debian image ({size:.2} GB gzip docker-archive)");
    let (ours, dive) = cold_beside_dive(&archive, &label);
    if let Some(dive) = dive {
        println!(
            "cold open, figures and tree complete: {ours:.1} s vs dive's first frame {dive:.1} s (target <= dive's): {}",
            verdict("cold open vs dive", ours <= dive, missed)
        );
    }
}

/// The explorer cold on `archive` (an empty cache) and dive on it; the
/// seconds until the explorer's figures and tree are complete, and dive's
/// wall time to its first frame when it could open the archive.
fn cold_beside_dive(archive: &Path, label: &str) -> (f64, Option<f64>) {
    let reference = format!("docker-archive:{}", archive.display());
    let cache = tempfile::tempdir().unwrap();
    let (ours, report) = driven(&reference, cache.path());
    println!(
        "{label}, cold (empty cache): explore's first frame {:.0} ms, figures and tree complete at {:.1} s (scan included), {:.1} MiB peak",
        report.first_frame_ms,
        report.ready_ms / 1000.0,
        ours.rss_mib()
    );
    let dive = peers().join("dive");
    let out = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(&dive);
    cmd.args(["--source", "docker-archive"])
        .arg(archive)
        .arg("--json")
        .arg(out.path().join("dive.json"));
    let (status, cost) = measure::measured(&cmd, Stdio::null(), None);
    let theirs = if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        println!(
            "dive 0.13 on it: {:.1} s wall, {:.1} s CPU, {:.0} MiB peak before its first frame",
            cost.wall.as_secs_f64(),
            cost.cpu.as_secs_f64(),
            cost.rss_mib()
        );
        Some(cost.wall.as_secs_f64())
    } else {
        println!(
            "dive 0.13 could not open it (status {status}) after {:.1} s, {:.0} MiB peak",
            cost.wall.as_secs_f64(),
            cost.rss_mib()
        );
        None
    };
    (report.ready_ms / 1000.0, theirs)
}

struct Report {
    first_frame_ms: f64,
    ready_ms: f64,
    p50: f64,
    p99: f64,
    max: f64,
    passes: usize,
    pass_p50: f64,
    pass_max: f64,
}

/// Runs the scripted session in a process of its own; its cost and figures.
fn driven(reference: &str, cache: &Path) -> (measure::Cost, Report) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.arg(reference).arg(cache).env(DRIVE, "1");
    let out = tempfile::NamedTempFile::new().unwrap();
    let cost = measure::run_to(&mut cmd, out.path());
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(out.path()).unwrap()).unwrap();
    let f = |k: &str| v[k].as_f64().unwrap();
    let report = Report {
        first_frame_ms: f("first_frame_ms"),
        ready_ms: f("ready_ms"),
        p50: f("p50"),
        p99: f("p99"),
        max: f("max"),
        passes: v["passes"].as_u64().unwrap() as usize,
        pass_p50: f("pass_p50"),
        pass_max: f("pass_max"),
    };
    (cost, report)
}

/// The 200 keys: open the directory of 3,000,000 files, move, page, sort
/// both ways, list more, filter, clear, search, change mode, the wasted
/// view, help, the layers pane, close and open again.
fn script() -> Vec<KeyEvent> {
    let mut keys: Vec<KeyCode> = vec![KeyCode::Right];
    keys.extend([KeyCode::Char('j'); 40]);
    keys.extend([KeyCode::PageDown; 5]);
    keys.extend([KeyCode::Char('k'); 10]);
    keys.extend([KeyCode::PageUp; 2]);
    keys.extend([KeyCode::End, KeyCode::Enter, KeyCode::Home]);
    keys.extend([KeyCode::Char('s'), KeyCode::Char('j'), KeyCode::Char('s')]);
    keys.push(KeyCode::Char('f'));
    keys.extend("f00012".chars().map(KeyCode::Char));
    keys.extend([KeyCode::Enter, KeyCode::Char('j'), KeyCode::Esc]);
    keys.push(KeyCode::Char('/'));
    keys.extend("f2345678".chars().map(KeyCode::Char));
    keys.extend([KeyCode::Enter, KeyCode::Char('n'), KeyCode::Char('N')]);
    keys.extend([KeyCode::Char('m'), KeyCode::Char('m')]);
    keys.extend([KeyCode::Char('w'), KeyCode::Char('j'), KeyCode::Char('w')]);
    keys.extend([KeyCode::Char('?'), KeyCode::Char('x')]);
    keys.extend([KeyCode::Tab, KeyCode::Char('j'), KeyCode::Tab]);
    keys.extend([KeyCode::Home, KeyCode::Left, KeyCode::Right]);
    let mut down = true;
    while keys.len() < 200 {
        keys.push(if down {
            KeyCode::Char('j')
        } else {
            KeyCode::Char('k')
        });
        down = !down;
    }
    keys.into_iter()
        .map(|c| KeyEvent::new(c, KeyModifiers::NONE))
        .collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The scripted session, in this process: prints its figures as JSON.
fn drive(reference: &str, cache: &Path) {
    let t0 = Instant::now();
    let (session, reference) = explore_session::session(cache, reference);
    let image = strata::commands::one_image(
        session.load(std::slice::from_ref(&reference)).unwrap(),
        "explore",
    )
    .unwrap();
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut app = App::new(Facts::new(&image, None), false, (80, 24));
    terminal.draw(|f| view::draw(f, &app)).unwrap();
    let first_frame = t0.elapsed();
    let store = session.store().unwrap();
    let indexes = store
        .indexes(std::slice::from_ref(&image), &strata::store::NoProgress)
        .unwrap();
    let merged = source::Merged::new(&indexes, &image);
    let flags = Flags::default();
    let cx = Context::new(&merged, &indexes, &image, &flags);
    let (tx, rx) = mpsc::channel::<Msg>();
    let out = std::thread::scope(|scope| {
        let workers = Workers::spawn(scope, &cx, &tx);
        for job in app.start(Facts::new(&image, Some(&indexes))) {
            workers.send(job, &cx);
        }
        // Answers taken in and drawn until nothing is on its way.
        let settle = |app: &mut App, terminal: &mut Terminal<TestBackend>| {
            while app.busy() {
                let Ok(msg) = rx.recv_timeout(Duration::from_secs(120)) else {
                    panic!("no answer in 120 s");
                };
                for job in app.update(msg) {
                    workers.send(job, &cx);
                }
                terminal.draw(|f| view::draw(f, app)).unwrap();
            }
        };
        settle(&mut app, &mut terminal);
        let ready = t0.elapsed();
        let (mut frames, mut passes) = (Vec::new(), Vec::new());
        for key in script() {
            let start = Instant::now();
            let jobs = app.update(Msg::Key(key));
            let asked = !jobs.is_empty();
            for job in jobs {
                workers.send(job, &cx);
            }
            terminal.draw(|f| view::draw(f, &app)).unwrap();
            frames.push(ms(start.elapsed()));
            settle(&mut app, &mut terminal);
            if asked {
                passes.push(ms(start.elapsed()));
            }
        }
        flags.quit.store(true, std::sync::atomic::Ordering::Relaxed);
        drop(workers);
        frames.sort_by(f64::total_cmp);
        passes.sort_by(f64::total_cmp);
        serde_json::json!({
            "first_frame_ms": ms(first_frame),
            "ready_ms": ms(ready),
            "p50": percentile(&frames, 0.5),
            "p99": percentile(&frames, 0.99),
            "max": frames.last().copied().unwrap_or(0.0),
            "passes": passes.len(),
            "pass_p50": percentile(&passes, 0.5),
            "pass_max": passes.last().copied().unwrap_or(0.0),
        })
    });
    println!("{out}");
}
