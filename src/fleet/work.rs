//! `fleet work`: one worker of a pool (a consumer group). It takes a job —
//! first one another worker has held past `--claim-after` (XAUTOCLAIM), else
//! a new one (XREADGROUP) — scans the layer through the store, pushes its
//! entry to the shared cache, waits for the push, and acknowledges the job
//! only once the shared cache answers that it has the entry. A failed job stays pending with its error and is tried
//! again after `--claim-after`; one delivered more than `--attempts` times
//! goes to the dead-letter stream. SIGTERM (or SIGINT) finishes the current
//! layer, then the worker exits 0.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use super::queue::{Delivery, Job, Queue};
use super::QueueOptions;
use crate::error::Error;
use crate::image::{Declared, Image, ImageName, LayerDesc, Transport};
use crate::session::Session;
use crate::source::registry::walk::Walker;

/// The longest error line the dead-letter stream keeps.
const ERROR_LIMIT: usize = 400;

#[derive(Debug, Clone)]
pub struct WorkOptions {
    /// The consumer group: one per pool of workers.
    pub group: String,
    /// This worker's name in the group (default: host name and process id).
    pub consumer: Option<String>,
    /// Stop once no job is left, pending or in flight.
    pub until_empty: bool,
    /// A job held this long by a worker is taken back by another.
    pub claim_after: Duration,
    /// Failures after which a job goes to the dead-letter stream.
    pub attempts: u64,
}

/// What one worker did.
#[derive(Debug, Default, Serialize)]
pub struct Worked {
    pub queue: String,
    pub fleet: String,
    pub group: String,
    pub consumer: String,
    /// Jobs acknowledged: their entry is in the shared cache.
    pub jobs_done: u64,
    /// Of those, layers scanned here (the rest were in the shared cache already).
    pub scanned: u64,
    /// Attempts that failed (the job stays pending for another try).
    pub failures: u64,
    /// Jobs this worker moved to the dead-letter stream.
    pub dead: u64,
    /// `drained` (--until-empty) or `signal` (SIGTERM, SIGINT).
    pub stopped: &'static str,
}

pub fn work(session: &Session, queue: &QueueOptions, opts: &WorkOptions) -> anyhow::Result<Worked> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())
            .map_err(|e| Error::io("signal handler", e))?;
    }
    let store = session.store()?;
    if store.shared().is_none() {
        return Err(Error::BadArgument {
            flag: "--shared-cache",
            reason: "strata fleet work pushes each scan to the shared cache (--shared-cache or STRATA_SHARED_CACHE)".into(),
        }
        .into());
    }
    let mut q = Queue::connect(queue)?;
    let consumer = opts.consumer.clone().unwrap_or_else(default_consumer);
    q.join(&opts.group)?;
    let mut worked = Worked {
        queue: q.shown().to_owned(),
        fleet: queue.name.clone(),
        group: opts.group.clone(),
        consumer: consumer.clone(),
        ..Worked::default()
    };
    let mut walkers: HashMap<String, Walker> = HashMap::new();
    let progress = session.progress();
    let mut waiting = false;
    loop {
        if stop.load(Ordering::Relaxed) {
            worked.stopped = "signal";
            break;
        }
        let delivery = match q.claim(&opts.group, &consumer, opts.claim_after)? {
            Some(d) => Some(d),
            None => q.next(&opts.group, &consumer)?,
        };
        let Some(d) = delivery else {
            if opts.until_empty && q.outstanding(&opts.group)? == (0, 0) {
                worked.stopped = "drained";
                break;
            }
            // Jobs in flight elsewhere: wait for them (or for their claim);
            // the blocking read above paces this loop.
            if !waiting {
                progress.counting("fleet work: waiting for jobs", None);
                waiting = true;
            }
            continue;
        };
        waiting = false;
        if d.attempts > opts.attempts || d.job.is_none() {
            let why = match &d.job {
                None => "not a job strata wrote (fields missing or malformed)".to_owned(),
                Some(_) => format!(
                    "delivered {} times without finishing (a worker stopped or was killed on it)",
                    d.attempts - 1
                ),
            };
            q.bury(&opts.group, &consumer, &d, &why)?;
            worked.dead += 1;
            continue;
        }
        match run(session, &mut walkers, &d)? {
            Ran::Done { scanned } => {
                let Some(job) = &d.job else { continue };
                q.done(&opts.group, &d, &job.digest)?;
                worked.jobs_done += 1;
                worked.scanned += u64::from(scanned);
            }
            Ran::Failed(error) => {
                q.failed(&d, &error)?;
                worked.failures += 1;
            }
        }
    }
    progress.finish();
    q.leave(&opts.group, &consumer)?;
    Ok(worked)
}

enum Ran {
    Done {
        scanned: bool,
    },
    /// The layer could not be scanned (one line, for the dead-letter stream).
    Failed(String),
}

/// Scans a job's layer (unless the shared cache has it meanwhile), waits for
/// its push, and asks the shared cache whether it now has the entry: only
/// then is the job done. A push still running after `--timeout` is a failed
/// attempt (the entry may be there when the job comes back); a shared cache
/// that cannot be asked, refuses pushes or cannot be reached stops the
/// worker, its job left queued.
fn run(
    session: &Session,
    walkers: &mut HashMap<String, Walker>,
    d: &Delivery,
) -> anyhow::Result<Ran> {
    let Some(job) = &d.job else {
        return Ok(Ran::Failed("not a job".into()));
    };
    let store = session.store()?;
    let Some(shared) = store.shared() else {
        return Ok(Ran::Failed("no shared cache".into()));
    };
    // A shared cache that cannot be asked stops the worker (`?`): every
    // job would fail on it.
    let lacking = shared.lacking(std::slice::from_ref(&job.digest))?;
    if lacking.is_empty() {
        return Ok(Ran::Done { scanned: false });
    }
    let image = match image_of(session, walkers, job) {
        Ok(image) => image,
        Err(e) => return Ok(Ran::Failed(one_line(&format!("{e:#}")))),
    };
    // Pushed without asking the shared cache again: it was just asked.
    let filled =
        match store.push_lacking(std::slice::from_ref(&image), &lacking, session.progress()) {
            Ok(filled) => filled,
            Err(e) => return Ok(Ran::Failed(one_line(&e.to_string()))),
        };
    if shared
        .lacking(std::slice::from_ref(&job.digest))?
        .is_empty()
    {
        return Ok(Ran::Done {
            scanned: filled.scanned > 0,
        });
    }
    if let Some(why) = shared.refusing() {
        return Err(Error::Registry {
            registry: shared.location().to_string(),
            reason: format!(
                "takes no entry ({}); stopping (the job of layer {} stays queued)",
                crate::error::clip(&why),
                job.digest.short()
            ),
        }
        .into());
    }
    Ok(Ran::Failed(format!(
        "the entry of layer {} was not in the shared cache after --timeout (a push still running, or one that failed: see the worker's warnings)",
        job.digest.short()
    )))
}

/// A one-layer image for the job: the layer as its images declare it, read
/// from the repository the job names. (Its config is never read.)
fn image_of(
    session: &Session,
    walkers: &mut HashMap<String, Walker>,
    job: &Job,
) -> anyhow::Result<Image> {
    let (host, repo) = job
        .repository
        .split_once('/')
        .ok_or_else(|| Error::malformed("job", "its repository names no registry host"))?;
    let walker = match walkers.get(host) {
        Some(w) => w,
        None => {
            let opts = session.source_options();
            let w = Walker::connect(host, opts, session.warnings())?;
            walkers.entry(host.to_owned()).or_insert(w)
        }
    };
    Ok(Image {
        name: ImageName::new(Transport::Docker, host).with_repository(repo),
        platform: None,
        manifest_digest: None,
        config_digest: job.digest.clone(),
        layers: vec![LayerDesc {
            digest: job.digest.clone(),
            size: job.size,
            diff_id: Some(job.diff_id.clone()),
            declared: Declared::MediaType(job.compression),
            history: None,
            foreign: None,
        }],
        created: None,
        history: Vec::new(),
        blobs: walker.blobs(repo),
    })
}

/// An error as the dead-letter stream keeps it: one line, no control
/// character, at most ERROR_LIMIT bytes.
pub fn one_line(text: &str) -> String {
    let flat = text.replace(['\n', '\r'], "; ");
    let escaped = crate::escape::escape(&flat).into_owned();
    if escaped.len() <= ERROR_LIMIT {
        return escaped;
    }
    let mut end = ERROR_LIMIT;
    while !escaped.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &escaped[..end])
}

/// `HOST-PID`: unique among the workers of a pool on any number of machines
/// (a pod's host name is its own).
fn default_consumer() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into buf.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let host = if ok {
        String::from_utf8_lossy(&buf[..end])
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
            .take(64)
            .collect()
    } else {
        "worker".to_owned()
    };
    format!("{host}-{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_line_is_one_line_without_control_characters_and_bounded() {
        let line = one_line("blob x: bad\nnext\u{1b}[31m line");
        assert!(!line.contains('\n') && !line.contains('\u{1b}'), "{line}");
        assert!(one_line(&"x".repeat(5000)).len() <= ERROR_LIMIT + 4);
        assert!(default_consumer().ends_with(&format!("-{}", std::process::id())));
    }
}
