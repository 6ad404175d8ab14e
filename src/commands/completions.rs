//! `strata completions SHELL` and `strata man`: generated from the clap
//! definition, written before any configuration or I/O.

use std::io::{self, Write};
use std::path::Path;

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
        Command::Man { dir: None } => Some(man(cli, out)),
        Command::Man { dir: Some(dir) } => Some(man_pages(cli, dir, out)),
        _ => None,
    }
}

/// The top page on stdout: synopsis, options, commands, references, exit
/// codes. Its COMMANDS section names the pages `--dir` writes.
fn man(cli: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    page(cli.disable_help_subcommand(true)).render(out)
}

/// A page whose footer names strata and its version, whatever the command.
fn page(cmd: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(cmd).source(format!("strata {}", env!("CARGO_PKG_VERSION")))
}

/// strata.1 and one page per command (strata-footprint.1, …) in `dir`,
/// created if missing; each path written is printed on stdout.
fn man_pages(cli: clap::Command, dir: &Path, out: &mut dyn Write) -> io::Result<()> {
    let at = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", dir.display()));
    std::fs::create_dir_all(dir).map_err(at)?;
    let mut cli = cli.disable_help_subcommand(true);
    cli.build();
    let mut pages = vec![page(cli.clone())];
    pages.extend(
        cli.get_subcommands()
            .filter(|c| !c.is_hide_set())
            .map(|c| page(c.clone())),
    );
    for page in pages {
        let path = page.generate_to(dir).map_err(at)?;
        writeln!(out, "{}", path.display())?;
    }
    Ok(())
}
