//! `strata explore`: an image's layers and files, looked at interactively
//! (a terminal UI like dive's) — a second front end over the same store
//! and analyses. The model (`state`) changes only in `update`, the screen
//! is drawn from it by `view`; directories are listed from the on-disk
//! indexes when they open (`listing`, `tree`), never the whole tree in
//! memory. Only this module knows the terminal.

mod answers;
pub mod classify;
mod details;
pub mod filter;
pub mod jobs;
pub mod keys;
pub mod layout;
pub mod listing;
mod lists;
mod panes;
pub mod pass;
mod prompts;
pub mod source;
pub mod state;
pub mod terminal;
pub mod tree;
pub mod update;
pub mod view;

#[cfg(test)]
mod tests;

use crate::commands::one_image;
use crate::reference::Reference;
use crate::session::{Outcome, Session};

pub use state::{App, Facts};
pub use update::Msg;

/// Colour unless NO_COLOR is set (to anything but "") or TERM is dumb.
pub fn color_allowed() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    !(no_color || dumb)
}

/// Opens `reference` in the explorer and runs it until the user quits.
pub fn run(session: &Session, reference: &Reference) -> anyhow::Result<Outcome> {
    terminal::check_tty()?;
    let image = one_image(session.load(std::slice::from_ref(reference))?, "explore")?;
    terminal::run(session, &image, color_allowed())?;
    Ok(Outcome::Ok)
}

/// Reads `reference` (scanning what the cache lacks) and hands `f` the
/// explorer's model at its first layer, the jobs that fill it, and what
/// those jobs read: the terminal loop, or a test or bench driving it.
pub fn with_explorer<R>(
    session: &Session,
    reference: &Reference,
    size: (u16, u16),
    color: bool,
    f: impl FnOnce(&mut App, Vec<jobs::Job>, &jobs::Context) -> anyhow::Result<R>,
) -> anyhow::Result<R> {
    let image = one_image(session.load(std::slice::from_ref(reference))?, "explore")?;
    let store = session.store()?;
    let indexes = store.indexes(std::slice::from_ref(&image), session.progress())?;
    let source = source::Merged::new(&indexes, &image);
    let flags = terminal::Flags::default();
    let cx = jobs::Context::new(&source, &indexes, &image, &flags);
    let mut app = App::new(Facts::new(&image, None), color, size);
    let first = app.start(Facts::new(&image, Some(&indexes)));
    f(&mut app, first, &cx)
}
