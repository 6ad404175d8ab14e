//! `strata explore REF`: the interactive explorer (src/explore/) on one image.

use crate::reference::Reference;
use crate::session::{Outcome, Session};

#[derive(Debug)]
pub struct Args {
    pub reference: Reference,
}

pub fn run(session: &Session, args: &Args) -> anyhow::Result<Outcome> {
    crate::explore::run(session, &args.reference)
}
