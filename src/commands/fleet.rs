//! `strata fleet plan|work|report|status|clear`: the fleet's steps (src/fleet)
//! composed with the run's session, each rendered as its report.

use std::io::Write;

use crate::fleet::work::WorkOptions;
use crate::fleet::{self, Cleared, Glob, QueueOptions};
use crate::session::{Outcome, Session};

#[derive(Debug)]
pub enum Action {
    Plan { globs: Vec<Glob> },
    Work(WorkOptions),
    Report { top: usize },
    Status,
    Clear,
}

#[derive(Debug)]
pub struct Args {
    pub queue: QueueOptions,
    pub action: Action,
}

pub fn run(session: &Session, args: &Args, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let q = &args.queue;
    match &args.action {
        Action::Plan { globs } => session.render(out, &fleet::plan::plan(session, q, globs)?)?,
        Action::Work(opts) => session.render(out, &fleet::work::work(session, q, opts)?)?,
        Action::Report { top } => session.render(out, &fleet::report::report(session, q, *top)?)?,
        Action::Status => session.render(out, &fleet::status::status(q)?)?,
        Action::Clear => {
            let mut queue = fleet::queue::Queue::connect(q)?;
            let cleared = Cleared {
                keys_removed: queue.clear()?,
                queue: queue.shown().to_owned(),
                fleet: q.name.clone(),
            };
            session.render(out, &cleared)?
        }
    }
    Ok(Outcome::Ok)
}
