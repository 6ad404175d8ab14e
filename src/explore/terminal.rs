//! The terminal the explorer runs in: raw mode, the alternate screen and
//! mouse capture on entry, all undone on the way out — after a quit, an
//! error, a panic (a hook restores the terminal before the panic message)
//! or a signal (SIGTERM, SIGHUP, SIGINT, SIGQUIT stop the loop, which
//! restores it). Input arrives on its own thread; jobs run on two workers
//! (passes over the tree; package inventories), so a key is answered
//! while a pass runs.

use std::io::{self, stdout, IsTerminal};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{enable_raw_mode, EnterAlternateScreen};
use ratatui::Terminal;

use super::jobs::{self, Context, Job};
use super::state::App;
use super::update::Msg;
use crate::error::Error;

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
        let _ = std::panic::take_hook();
        std::panic::set_hook(Box::new(|info| {
            eprintln!("{info}");
        }));
        let _ = self.terminal.show_cursor();
    }
}

/// Runs the explorer until it quits; `first` are the jobs `App::new` asked for.
pub fn run(app: &mut App, first: Vec<Job>, cx: &Context) -> anyhow::Result<()> {
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
    app.size = (size.width, size.height);
    let (msg_tx, msg_rx) = mpsc::channel::<Msg>();
    spawn_input(msg_tx.clone());
    let outcome = std::thread::scope(|scope| -> anyhow::Result<()> {
        let (tree_tx, tree_rx) = mpsc::channel::<Job>();
        let (side_tx, side_rx) = mpsc::channel::<Job>();
        for rx in [tree_rx, side_rx] {
            let tx = msg_tx.clone();
            scope.spawn(move || worker(rx, tx, cx));
        }
        let send = |job: Job| {
            let to = match job {
                Job::Packages { .. } => &side_tx,
                _ => &tree_tx,
            };
            if let Job::List { epoch, .. } | Job::Search { epoch, .. } = &job {
                cx.epoch.fetch_max(*epoch, Ordering::Relaxed);
            }
            let _ = to.send(job);
        };
        first.into_iter().for_each(send);
        let result = event_loop(app, &mut screen, &msg_rx, &stop, &send);
        // Passes under way stop at their next look; the workers end.
        cx.epoch.store(u64::MAX, Ordering::Relaxed);
        cx.quit.store(true, Ordering::Relaxed);
        drop(screen);
        result
    });
    if stop.load(Ordering::Relaxed) {
        anyhow::bail!("explore: stopped by a signal");
    }
    outcome
}

fn event_loop(
    app: &mut App,
    screen: &mut Screen,
    rx: &Receiver<Msg>,
    stop: &AtomicBool,
    send: &dyn Fn(Job),
) -> anyhow::Result<()> {
    let mut dirty = true;
    loop {
        if dirty {
            screen.terminal.draw(|f| super::view::draw(f, app))?;
            dirty = false;
        }
        if app.quit || stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let msg = match rx.recv_timeout(TICK) {
            Ok(m) => m,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => anyhow::bail!("explore: its input ended"),
        };
        dirty = true;
        if let Msg::Resize(..) = msg {
            screen.terminal.autoresize()?;
        }
        for job in app.update(msg) {
            send(job);
        }
        // Take in whatever else arrived before drawing again.
        while let Ok(m) = rx.try_recv() {
            if let Msg::Resize(..) = m {
                screen.terminal.autoresize()?;
            }
            for job in app.update(m) {
                send(job);
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

fn worker(rx: Receiver<Job>, tx: Sender<Msg>, cx: &Context) {
    for job in rx {
        if cx.quit.load(Ordering::Relaxed) {
            return;
        }
        if let Some(done) = jobs::run(job, cx) {
            if tx.send(Msg::Done(done)).is_err() {
                return;
            }
        }
    }
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

/// The epoch and quit flags a context shares with the loop.
pub struct Flags {
    pub epoch: AtomicU64,
    pub quit: AtomicBool,
}

impl Default for Flags {
    fn default() -> Flags {
        Flags {
            epoch: AtomicU64::new(0),
            quit: AtomicBool::new(false),
        }
    }
}
