//! Entry point: parse, validate, run; one line on error; exit 0 ok, 1 gate failed, 2 error.

use std::io::{self, Write};
use std::process::ExitCode;

use strata::app::{self, Outcome};
use strata::config::Config;
use strata::escape::escape;

fn main() -> ExitCode {
    let cli = strata::cli::parse();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = Config::from_cli(cli).and_then(|config| app::run(&config, &mut out));
    let _ = out.flush();
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, whatever the input put in names and messages.
            let line = format!("{e:#}").replace('\n', " ");
            let _ = writeln!(io::stderr(), "strata: {}", escape(&line));
            ExitCode::from(2)
        }
    }
}

/// `strata … | head` closing the pipe early is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
