//! The terminal the explorer runs in: raw mode, the alternate screen and
//! mouse capture on entry, all undone on the way out — after a quit, an
//! error, a panic (a hook restores the terminal before the panic message)
//! or a signal (SIGTERM, SIGHUP, SIGINT, SIGQUIT stop the loop, which
//! restores it). The screen comes up as soon as the manifest is read; the
//! layers' indexes are read (or scanned, progress in the header) on a
//! thread; input arrives on its own thread; jobs run on two workers
//! (passes over the tree; package inventories), so every key is answered
//! while a pass runs.

use std::io::{self, stdout, IsTerminal};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::Scope;
use std::time::{Duration, Instant};

use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{enable_raw_mode, EnterAlternateScreen};
use ratatui::Terminal;

use super::jobs::{self, Context, Job};
use super::state::{App, Facts};
use super::update::Msg;
use crate::error::Error;
use crate::image::Image;
use crate::session::Session;
use crate::store::Indexes;

/// How often the loop looks for a signal when nothing else happens.
const TICK: Duration = Duration::from_millis(100);

/// Refuses to start without a terminal on both ends.
pub fn check_tty() -> anyhow::Result<()> {
    if !io::stdin().is_terminal() || !io::stdout().is_terminal() {
        return Err(Error::BadArgument {
            flag: "explore",
            reason: "needs a terminal (stdin and stdout); for a report use `strata layers` or `strata du`"
                .into(),
        }
        .into());
    }
    Ok(())
}

fn on_main_thread() -> bool {
    std::thread::current().name() == Some("main")
}

/// The terminal set up for the explorer; dropping it restores the terminal.
struct Screen {
    terminal: Terminal<CrosstermBackend<io::Stdout>>,
}

impl Screen {
    fn enter() -> io::Result<Screen> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // Only the thread that owns the screen restores it (stdout is
            // held by the main thread; a worker's panic ends the loop there).
            if on_main_thread() {
                leave();
            }
            previous(info);
        }));
        enable_raw_mode()?;
        let mut out = stdout();
        execute!(out, EnterAlternateScreen, EnableMouseCapture)?;
        let terminal = Terminal::new(CrosstermBackend::new(stdout()))?;
        Ok(Screen { terminal })
    }
}

/// Mouse capture off, then ratatui's restore (raw mode off, main screen back).
fn leave() {
    let _ = execute!(stdout(), DisableMouseCapture);
    ratatui::restore();
}

impl Drop for Screen {
    fn drop(&mut self) {
        leave();
        let _ = self.terminal.show_cursor();
        // Back to the default hook (strata installs none of its own); not
        // while unwinding, when the hooks may not be touched.
        if !std::thread::panicking() {
            let _ = std::panic::take_hook();
        }
    }
}

/// The epoch and quit flags a context shares with the loop.
#[derive(Default)]
pub struct Flags {
    pub epoch: AtomicU64,
    pub quit: AtomicBool,
}

/// A scan's progress, for the header: what is under way, said at most
/// every 100 ms.
struct Progress {
    tx: Mutex<Sender<Msg>>,
    total: AtomicU64,
    done: AtomicU64,
    said: Mutex<Instant>,
}

impl Progress {
    fn say(&self, what: String) {
        if let Ok(tx) = self.tx.lock() {
            let _ = tx.send(Msg::Loading(what));
        }
    }
}

impl crate::store::Progress for Progress {
    fn start(&self, layers: usize, bytes: u64) {
        self.total.store(bytes, Ordering::Relaxed);
        self.say(format!(
            "scanning {}",
            crate::units::count(layers as u64, "layer", "layers")
        ));
    }

    fn advance(&self, bytes: u64) {
        let done = self.done.fetch_add(bytes, Ordering::Relaxed) + bytes;
        let Ok(mut said) = self.said.lock() else {
            return;
        };
        if said.elapsed() >= Duration::from_millis(100) {
            *said = Instant::now();
            drop(said);
            let total = self.total.load(Ordering::Relaxed);
            self.say(format!(
                "scanning: {} of {}",
                crate::units::human(done),
                crate::units::human(total)
            ));
        }
    }

    fn finish(&self) {}

    fn fetching(&self, layers: usize) {
        self.say(format!(
            "reading {} from the shared cache",
            crate::units::count(layers as u64, "index", "indexes")
        ));
    }
}

/// Where jobs go: passes over the tree to one worker, package inventories
/// to the other (a long inventory never holds a listing up).
pub struct Workers {
    tree: Sender<Job>,
    side: Sender<Job>,
}

impl Workers {
    /// Two workers in `scope` running jobs on `cx`, answering on `tx`.
    pub fn spawn<'s, 'e: 's>(
        scope: &'s Scope<'s, 'e>,
        cx: &'s Context<'s>,
        tx: &Sender<Msg>,
    ) -> Workers {
        let (tree, tree_rx) = mpsc::channel::<Job>();
        let (side, side_rx) = mpsc::channel::<Job>();
        for rx in [tree_rx, side_rx] {
            let tx = tx.clone();
            scope.spawn(move || worker(rx, tx, cx));
        }
        Workers { tree, side }
    }

    pub fn send(&self, job: Job, cx: &Context) {
        if let Job::List { epoch, .. } | Job::Search { epoch, .. } = &job {
            cx.epoch.fetch_max(*epoch, Ordering::Relaxed);
        }
        let to = match job {
            Job::Packages { .. } | Job::Export { .. } => &self.side,
            _ => &self.tree,
        };
        let _ = to.send(job);
    }
}

fn worker(rx: Receiver<Job>, tx: Sender<Msg>, cx: &Context) {
    for job in rx {
        if cx.quit.load(Ordering::Relaxed) {
            return;
        }
        // A job that panics fails alone: the explorer says so and goes on.
        let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| jobs::run(job, cx)))
            .unwrap_or_else(|_| Some(jobs::Done::Failed("a job failed unexpectedly".into())));
        if let Some(done) = done {
            if tx.send(Msg::Done(done)).is_err() {
                return;
            }
        }
    }
}

/// Reads terminal events on a thread of their own (it may block in read
/// until the process ends).
fn spawn_input(tx: Sender<Msg>) {
    std::thread::spawn(move || loop {
        let msg = match event::read() {
            Ok(Event::Key(k)) => Msg::Key(k),
            Ok(Event::Mouse(m)) => Msg::Mouse(m),
            Ok(Event::Resize(w, h)) => Msg::Resize(w, h),
            Ok(_) => continue,
            Err(_) => return,
        };
        if tx.send(msg).is_err() {
            return;
        }
    });
}

/// How a stretch of the loop ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    Quit,
    Signal,
    Indexed,
}

/// Draws and answers messages until the user quits, a signal comes, or
/// (when `until_indexed`) the indexes are read; jobs asked for go to `send`.
pub fn pump<B: Backend>(
    app: &mut App,
    terminal: &mut Terminal<B>,
    rx: &Receiver<Msg>,
    stop: &AtomicBool,
    send: &mut dyn FnMut(Job),
) -> anyhow::Result<Ended> {
    let mut dirty = true;
    loop {
        if dirty {
            terminal
                .draw(|f| super::view::draw(f, app))
                .map_err(|e| anyhow::anyhow!("drawing: {e}"))?;
            dirty = false;
        }
        if app.quit {
            return Ok(Ended::Quit);
        }
        if stop.load(Ordering::Relaxed) {
            return Ok(Ended::Signal);
        }
        let first = match rx.recv_timeout(TICK) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => anyhow::bail!("explore: its input ended"),
        };
        // Take in whatever else arrived before drawing again.
        for msg in std::iter::once(first).chain(rx.try_iter()) {
            if matches!(msg, Msg::Indexed) {
                return Ok(Ended::Indexed);
            }
            if let Msg::Resize(..) = msg {
                terminal
                    .autoresize()
                    .map_err(|e| anyhow::anyhow!("resizing: {e}"))?;
            }
            for job in app.update(msg) {
                send(job);
            }
        }
        dirty = true;
    }
}

/// Runs the explorer on `image` until the user quits.
pub fn run(session: &Session, image: &Image, color: bool) -> anyhow::Result<()> {
    let store = session.store()?;
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGQUIT,
    ] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    let mut screen = Screen::enter()?;
    let size = screen.terminal.size()?;
    let mut app = App::new(Facts::new(image, None), color, (size.width, size.height));
    let (tx, rx) = mpsc::channel::<Msg>();
    spawn_input(tx.clone());
    let indexes: OnceLock<crate::error::Result<Indexes>> = OnceLock::new();
    let flags = Flags::default();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let progress = Progress {
            tx: Mutex::new(tx.clone()),
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            said: Mutex::new(Instant::now()),
        };
        let (indexes, loaded) = (&indexes, tx.clone());
        scope.spawn(move || {
            let _ = indexes.set(store.indexes(std::slice::from_ref(image), &progress));
            let _ = loaded.send(Msg::Indexed);
        });
        // Until the indexes are read: the manifest's figures, keys queued.
        let mut queued = Vec::new();
        let ended = pump(&mut app, &mut screen.terminal, &rx, &stop, &mut |j| {
            queued.push(j)
        })?;
        if ended != Ended::Indexed {
            // A scan cannot be stopped half way: the terminal is restored
            // and the process ends, as Ctrl-C ends any other command.
            drop(screen);
            if ended == Ended::Signal {
                eprintln!("strata: explore: stopped by a signal");
                std::process::exit(2);
            }
            std::process::exit(0);
        }
        let indexes = match indexes.get() {
            Some(Ok(i)) => i,
            Some(Err(e)) => return Err(anyhow::anyhow!("{e}")),
            None => anyhow::bail!("explore: the layers' indexes were not read"),
        };
        let source = super::source::Merged::new(indexes, image);
        let cx = Context::new(&source, indexes, image, &flags);
        let result = std::thread::scope(|inner| {
            let workers = Workers::spawn(inner, &cx, &tx);
            let first = app.start(Facts::new(image, Some(indexes)));
            for job in first.into_iter().chain(queued) {
                workers.send(job, &cx);
            }
            let ended = pump(&mut app, &mut screen.terminal, &rx, &stop, &mut |j| {
                workers.send(j, &cx)
            });
            // Passes under way stop at their next look; the workers end.
            flags.epoch.store(u64::MAX, Ordering::Relaxed);
            flags.quit.store(true, Ordering::Relaxed);
            drop(workers);
            ended
        });
        drop(screen);
        match result? {
            Ended::Signal => anyhow::bail!("explore: stopped by a signal"),
            _ => Ok(()),
        }
    })
}

/// Every job in line, answers fed back until none is left (tests, benches).
pub fn settle(app: &mut App, jobs: Vec<Job>, cx: &Context) {
    let mut queue: std::collections::VecDeque<Job> = jobs.into();
    while let Some(job) = queue.pop_front() {
        if let Job::List { epoch, .. } | Job::Search { epoch, .. } = &job {
            cx.epoch.fetch_max(*epoch, Ordering::Relaxed);
        }
        if let Some(done) = jobs::run(job, cx) {
            queue.extend(app.update(Msg::Done(done)));
        }
    }
}
