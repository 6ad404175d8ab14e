//! `strata completions SHELL` and `strata man`: generated from the clap
//! definition, written to stdout before any configuration or I/O.

use std::io::{self, Write};

use clap::CommandFactory;

use crate::cli::{Cli, Command};

/// Writes what `command` asks for when it is a generator; None for every
/// other command (they go through config and the app).
pub fn run(command: &Command, out: &mut dyn Write) -> Option<io::Result<()>> {
    let mut cli = Cli::command();
    match command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut cli, "strata", out);
            Some(Ok(()))
        }
        Command::Man => Some(man(cli, out)),
        _ => None,
    }
}

/// The page for strata: synopsis, options, commands, references, exit codes.
fn man(cli: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    clap_mangen::Man::new(cli).render(out)
}
