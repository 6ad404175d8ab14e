//! One run: build the session, dispatch to the command's room, say the
//! run's warnings once on stderr.

use std::io::Write;

use crate::commands;
use crate::config::{Command, Config};
pub use crate::session::Outcome;
use crate::session::Session;

pub fn run(config: &Config, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let session = Session::new(config.session.clone());
    let outcome = match &config.command {
        Command::Footprint(args) => commands::footprint::run(&session, args, out),
        Command::Compare(args) => commands::compare::run(&session, args, out),
        Command::Du(args) => commands::du::run(&session, args, out),
        Command::Layers(args) => commands::layers::run(&session, args, out),
        Command::Audit(args) => commands::audit::run(&session, args, out),
        Command::Diff(args) => commands::diff::run(&session, args, out),
        Command::Gate(args) => commands::gate::run(&session, args, out),
        Command::Advise(args) => commands::advise::run(&session, args, out),
        Command::Packages(args) => commands::packages::run(&session, args, out),
        Command::Cache(args) => commands::cache::run(&session, args, out),
        Command::Cat(args) => commands::cat::run(&session, args, out),
        Command::Export(args) => commands::export::run(&session, args, out),
        Command::History(args) => commands::history::run(&session, args, out),
        Command::Fleet(args) => commands::fleet::run(&session, args, out),
        Command::Explore(args) => commands::explore::run(&session, args),
    };
    for w in session.take_warnings() {
        eprintln!("strata: warning: {}", crate::escape::escape(&w));
    }
    let outcome = outcome?;
    out.flush()?;
    Ok(outcome)
}
