//! The run's pushes to the shared cache: a few worker threads started on the
//! first one, each layer pushed once, failures noted (a cache that refuses a
//! push, or cannot be reached, is pushed to no more), and the end of the run
//! waiting for them at most `--timeout`.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::Duration;

use super::super::tier::Kept;
use super::Inner;
use crate::image::Digest;
use crate::source::registry::artifact::Failed;

/// Pushes at once.
const WORKERS: usize = 4;

type Job = (Kept, PathBuf);

#[derive(Default)]
struct State {
    pending: Mutex<usize>,
    done: Condvar,
    pushed: AtomicUsize,
}

pub struct Pushes {
    inner: Arc<Inner>,
    state: Arc<State>,
    sender: Mutex<Option<mpsc::Sender<Job>>>,
    queued: Mutex<HashSet<Digest>>,
}

impl Pushes {
    pub(super) fn new(inner: Arc<Inner>) -> Pushes {
        Pushes {
            inner,
            state: Arc::new(State::default()),
            sender: Mutex::new(None),
            queued: Mutex::new(HashSet::new()),
        }
    }

    /// Queues one push (once per layer per run).
    pub fn push(&self, kept: Kept, index: PathBuf) {
        let fresh = self
            .queued
            .lock()
            .is_ok_and(|mut q| q.insert(kept.summary.digest.clone()));
        if !fresh {
            return;
        }
        let Ok(mut sender) = self.sender.lock() else {
            return;
        };
        let tx = sender.get_or_insert_with(|| self.start());
        if let Ok(mut n) = self.state.pending.lock() {
            *n += 1;
        }
        if tx.send((kept, index)).is_err() {
            self.finished();
        }
    }

    fn start(&self) -> mpsc::Sender<Job> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for _ in 0..WORKERS {
            let (rx, inner, state) = (rx.clone(), self.inner.clone(), self.state.clone());
            let spawned = std::thread::Builder::new()
                .name("strata-push".into())
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok((kept, index)) = job else { return };
                    if let Err(f) = push_one(&inner, &kept, &index) {
                        inner.notes.unpushed(&f);
                    } else {
                        state.pushed.fetch_add(1, Ordering::Relaxed);
                    }
                    done(&state);
                });
            if spawned.is_err() {
                break;
            }
        }
        tx
    }

    fn finished(&self) {
        done(&self.state);
    }

    /// Waits until every queued push has ended, or `timeout` has passed
    /// (what is left is said once). Returns the pushes that succeeded.
    pub fn wait(&self, timeout: Duration) -> usize {
        if let Ok(pending) = self.state.pending.lock() {
            let (left, _) = self
                .state
                .done
                .wait_timeout_while(pending, timeout, |n| *n > 0)
                .unwrap_or_else(|e| e.into_inner());
            if *left > 0 {
                self.inner.notes.late(*left);
            }
        }
        self.state.pushed.load(Ordering::Relaxed)
    }
}

fn done(state: &State) {
    if let Ok(mut n) = state.pending.lock() {
        *n = n.saturating_sub(1);
    }
    state.done.notify_all();
}

/// One push, unless the cache was found unreachable or read-only meanwhile
/// (then it fails for the same reason, and is counted with the others).
fn push_one(inner: &Inner, kept: &Kept, index: &std::path::Path) -> Result<(), Failed> {
    if let Some(f) = inner.stopped() {
        return Err(f);
    }
    let result = inner.backend.push(kept, index, inner.key.as_ref());
    if let Err(f) = &result {
        inner.stop(f);
    }
    result
}
