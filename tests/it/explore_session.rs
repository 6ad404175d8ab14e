//! A session and a reference for `strata explore REF` with a cache in a
//! given directory, as the command line would make them (tests, benches).

use std::path::Path;

use clap::Parser;
use strata::reference::Reference;
use strata::session::Session;

pub fn session(cache: &Path, reference: &str) -> (Session, Reference) {
    let cli = strata::cli::Cli::try_parse_from([
        "strata",
        "-q",
        "--cache-dir",
        cache.to_str().unwrap(),
        "explore",
        reference,
    ])
    .unwrap();
    let config = strata::config::Config::from_cli(cli).unwrap();
    let strata::config::Command::Explore(args) = config.command else {
        unreachable!("explore parses to explore")
    };
    (Session::new(config.session), args.reference)
}
