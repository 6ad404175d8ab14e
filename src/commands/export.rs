//! `strata export`: an image's merged filesystem as one tar (what `crane
//! export` gives), or one layer's own tar verified against its diff_id, to
//! the file the user names (or stdout) — never a directory, never a terminal.
//! A file strata wrote that failed verification is removed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::commands::{image_and_layer, LayerChoice};
use crate::error::Error;
use crate::extract::tree;
use crate::image::Image;
use crate::reference::Reference;
use crate::session::{Outcome, Session};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout,
    File(PathBuf),
}

#[derive(Debug)]
pub struct Args {
    pub reference: Reference,
    pub output: Output,
    pub layer: Option<LayerChoice>,
}

fn refused(reason: String) -> anyhow::Error {
    Error::BadArgument {
        flag: "--output",
        reason,
    }
    .into()
}

pub fn run(session: &Session, args: &Args, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    match &args.output {
        Output::Stdout if io::stdout().is_terminal() => {
            return Err(refused(
                "stdout is a terminal; name a file (-o FILE) or redirect it".into(),
            ))
        }
        Output::File(path) if path.is_dir() => {
            return Err(refused(format!("{}: is a directory", path.display())))
        }
        _ => {}
    }
    let (image, layer) = image_and_layer(session, &args.reference, args.layer.as_ref(), "export")?;
    let store = session.store()?;
    let indexes = match layer {
        None => Some(store.indexes(std::slice::from_ref(&image), session.progress())?),
        Some(_) => None,
    };
    let write = |out: &mut dyn Write| -> anyhow::Result<()> {
        match (layer, &indexes) {
            (Some(n), _) => tree::write_layer(&image, n, out)?,
            (None, Some(indexes)) => tree::write_merged(indexes, &image, b"", out)?,
            (None, None) => unreachable!("indexes are read for the merged filesystem"),
        };
        Ok(out.flush()?)
    };
    match &args.output {
        Output::Stdout => write(out)?,
        Output::File(path) => to_file(path, &image, write)?,
    }
    Ok(Outcome::Ok)
}

/// Writes through `write` into `path`; on failure, the file is removed when
/// it is a regular file (strata made or emptied it), never anything else.
fn to_file(
    path: &Path,
    image: &Image,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let io_err = |e| Error::io(path, e);
    let file: File = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(io_err)?;
    if file.is_terminal() {
        return Err(refused(format!("{}: is a terminal", path.display())));
    }
    let regular = file.metadata().map_err(io_err)?.is_file();
    let mut out = BufWriter::with_capacity(256 * 1024, file);
    let done = write(&mut out).and_then(|()| {
        let file = out.into_inner().map_err(|e| io_err(e.into_error()))?;
        Ok(file.sync_all().map_err(io_err)?)
    });
    if let Err(e) = done {
        if regular {
            let _ = fs::remove_file(path);
        }
        return Err(e.context(format!("{}: not exported", image.name)));
    }
    Ok(())
}
