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
    if let Some(done) = strata::commands::completions::run(&cli.command, &mut out) {
        let done = done.and_then(|_| out.flush());
        return match done {
            Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
                let _ = writeln!(io::stderr(), "strata: {e}");
                ExitCode::from(2)
            }
            _ => ExitCode::SUCCESS,
        };
    }
    let result = Config::from_cli(cli).and_then(|config| app::run(&config, &mut out));
    let _ = out.flush();
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, whatever the input put in names and messages.
            let _ = writeln!(io::stderr(), "strata: {}", escape(&one_line(&e)));
            ExitCode::from(2)
        }
    }
}

/// The error and its causes on one line, each cause once: a cause whose
/// text the line already carries (an io::Error its wrapper printed) is not repeated.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    // Line breaks are escaped with the rest when the line is printed.
    line
}

/// `strata … | head` closing the pipe early is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
