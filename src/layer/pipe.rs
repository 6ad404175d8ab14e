//! The two-thread scan: one thread reads and decompresses, the other hashes
//! the tar stream and walks it; fixed-size chunks are recycled between them.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender};

use super::decode::{decoder, stage_of, tag, Compression, StageError};
use super::digest::HashingReader;
use super::walk::{self, Walked};
use crate::error::Error;

const CHUNK: usize = 256 * 1024;
const IN_FLIGHT: usize = 4;

type Chunk = io::Result<(Vec<u8>, usize)>;

/// Decompresses `input` on a scoped thread and walks the tar on this one.
/// Returns the walk and the compressed stream's digest and size.
pub fn decode_and_walk<R: BufRead + Send + IntoHashing>(
    compression: Compression,
    mut input: R,
    digest: &str,
) -> Result<(Walked, String, u64), Error> {
    let (tx, rx) = sync_channel::<Chunk>(IN_FLIGHT);
    let (free_tx, free_rx) = channel::<Vec<u8>>();
    std::thread::scope(|s| {
        let producer = s.spawn(move || -> io::Result<Option<(String, u64)>> {
            match pump(compression, &mut input, &tx, &free_rx) {
                Err(e) => {
                    // The walk reports the failure with its stage; send it a copy.
                    let _ = tx.send(Err(copy_error(&e)));
                    Err(e)
                }
                // The walk stopped early: its error is the one reported.
                Ok(false) => Ok(None),
                Ok(true) => {
                    drop(tx);
                    input.finish_hashing().map(Some)
                }
            }
        });
        let reader = ChannelReader {
            rx,
            free: free_tx,
            current: Vec::new(),
            len: 0,
            pos: 0,
        };
        let walked = walk::walk(reader, digest);
        let produced = producer.join().unwrap_or_else(|_| {
            Err(io::Error::other(StageError {
                stage: "decompression",
                message: "decoder thread panicked".into(),
            }))
        });
        let walked = walked?;
        match produced.map_err(|e| walk::corrupt(digest, e))? {
            Some((d, n)) => Ok((walked, d, n)),
            None => Err(walk::corrupt(
                digest,
                io::Error::other("tar stream ended before the blob did"),
            )),
        }
    })
}

/// The buffered compressed stream, which hands back its hashing reader at EOF.
pub trait IntoHashing {
    fn finish_hashing(self) -> io::Result<(String, u64)>;
}

impl<R: Read> IntoHashing for io::BufReader<HashingReader<'_, R>> {
    fn finish_hashing(self) -> io::Result<(String, u64)> {
        self.into_inner().finish()
    }
}

fn pump<R: BufRead + Send>(
    compression: Compression,
    input: &mut R,
    tx: &std::sync::mpsc::SyncSender<Chunk>,
    free: &Receiver<Vec<u8>>,
) -> io::Result<bool> {
    let mut dec = decoder(compression, input)?;
    loop {
        let mut chunk = free.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK]);
        let n = fill(&mut dec, &mut chunk)?;
        if n == 0 {
            return Ok(true);
        }
        if tx.send(Ok((chunk, n))).is_err() {
            return Ok(false);
        }
    }
}

fn fill(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn copy_error(e: &io::Error) -> io::Error {
    let (stage, message) = match stage_of(e) {
        Some(s) => (s.stage, s.message.clone()),
        None => ("decompression", e.to_string()),
    };
    tag(
        io::Error::new(e.kind(), StageError { stage, message }),
        stage,
    )
}

struct ChannelReader {
    rx: Receiver<Chunk>,
    free: Sender<Vec<u8>>,
    current: Vec<u8>,
    len: usize,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.len {
            match self.rx.recv() {
                Ok(Ok((chunk, n))) => {
                    let old = std::mem::replace(&mut self.current, chunk);
                    if !old.is_empty() {
                        let _ = self.free.send(old);
                    }
                    self.len = n;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.len - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
