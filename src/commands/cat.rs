//! `strata cat`: the bytes of one file of an image, as the merged
//! filesystem shows it (or as one layer holds it), to stdout — never binary
//! bytes to a terminal unless asked (`--force`).

use std::io::{self, IsTerminal, Write};

use crate::commands::{image_and_layer, LayerChoice};
use crate::error::Error;
use crate::extract;
use crate::reference::Reference;
use crate::session::{Outcome, Session};

#[derive(Debug)]
pub struct Args {
    pub reference: Reference,
    /// Relative to the root.
    pub path: Vec<u8>,
    pub layer: Option<LayerChoice>,
    pub force: bool,
}

pub fn run(session: &Session, args: &Args, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let (image, layer) = image_and_layer(session, &args.reference, args.layer.as_ref(), "cat")?;
    let store = session.store()?;
    let indexes = store.indexes(std::slice::from_ref(&image), session.progress())?;
    if args.force || !io::stdout().is_terminal() {
        extract::cat(&indexes, &image, &args.path, layer, out)?;
        return Ok(Outcome::Ok);
    }
    let mut text = TextOnly::new(out);
    let written = extract::cat(&indexes, &image, &args.path, layer, &mut text)
        .and_then(|_| Ok(text.finish()?));
    if text.refused {
        return Err(Error::BadArgument {
            flag: "--force",
            reason: format!(
                "{} is binary; not written to a terminal (redirect it, or give --force)",
                extract::resolve::shown(&args.path)
            ),
        }
        .into());
    }
    written?;
    Ok(Outcome::Ok)
}

/// Bytes looked at before deciding whether content is text.
const SNIFF: usize = 8 * 1024;

/// Passes text through and refuses binary content: the first bytes are
/// held until there are enough to tell (or the content ends).
struct TextOnly<'a> {
    out: &'a mut dyn Write,
    head: Vec<u8>,
    decided: bool,
    refused: bool,
}

impl<'a> TextOnly<'a> {
    fn new(out: &'a mut dyn Write) -> Self {
        TextOnly {
            out,
            head: Vec::new(),
            decided: false,
            refused: false,
        }
    }

    fn decide(&mut self) -> io::Result<()> {
        self.decided = true;
        if is_binary(&self.head) {
            self.refused = true;
            return Err(io::Error::other("binary content"));
        }
        let head = std::mem::take(&mut self.head);
        self.out.write_all(&head)
    }

    fn finish(&mut self) -> io::Result<()> {
        if !self.decided {
            self.decide()?;
        }
        self.out.flush()
    }
}

impl Write for TextOnly<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.refused {
            return Err(io::Error::other("binary content"));
        }
        if self.decided {
            return self.out.write(buf);
        }
        let n = buf.len().min(SNIFF - self.head.len());
        self.head.extend_from_slice(&buf[..n]);
        if self.head.len() == SNIFF {
            self.decide()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Content a terminal should not get raw: a NUL or another control
/// character (escape sequences included) than tab, line and page breaks,
/// or bytes that are not UTF-8 (a character cut at the end is fine).
fn is_binary(head: &[u8]) -> bool {
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return true,
    };
    text.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_passes_and_binary_or_escape_sequences_do_not() {
        assert!(!is_binary(b"PRETTY_NAME=\"Debian\"\n\tok\r\n"));
        assert!(!is_binary("h\u{e9}llo".as_bytes()));
        assert!(!is_binary(&"\u{e9}".as_bytes()[..1]), "a cut character");
        assert!(is_binary(b"\x7fELF\x02\x01"));
        assert!(is_binary(b"abc\0def"));
        assert!(is_binary(b"\x1b[31mred"));
        assert!(is_binary(b"\xff\xfe"));
    }

    #[test]
    fn the_head_is_held_until_decided_then_streamed() {
        let mut sink = Vec::new();
        let mut t = TextOnly::new(&mut sink);
        let line = b"a line of text\n".repeat(1000);
        t.write_all(&line).unwrap();
        t.finish().unwrap();
        assert_eq!(sink, line);
        let mut sink = Vec::new();
        let mut t = TextOnly::new(&mut sink);
        let mut bin = vec![b'x'; 100];
        bin.push(0);
        assert!(t.write_all(&bin).is_ok(), "held, not yet decided");
        assert!(t.finish().is_err() && t.refused);
        assert!(sink.is_empty(), "nothing of it reached the output");
    }
}
