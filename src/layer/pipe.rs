//! The pipelined scan: three stages on scoped threads joined by bounded
//! channels of recycled fixed-size chunks — read + hash the blob, decompress,
//! then hash the tar stream and walk it on the calling thread. Memory in
//! flight stays at a few chunks whatever the layer size.

use std::io::{self, BufRead, Read};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

use super::decode::{decoder, stage_of, tag, Compression, StageError};
use super::index::IndexBuilder;
use super::walk::{self, Walked};
use crate::error::Error;
use crate::image::{Algorithm, Digest};

const CHUNK: usize = 256 * 1024;
const IN_FLIGHT: usize = 4;

type Chunk = io::Result<(Vec<u8>, usize)>;

/// The hashing blob reader, which hands back its digest at EOF.
pub trait IntoHashing {
    fn finish_hashing(self) -> io::Result<(Option<Digest>, u64)>;
}

impl<R: Read> IntoHashing for super::Prefixed<super::digest::HashingReader<'_, R>> {
    fn finish_hashing(self) -> io::Result<(Option<Digest>, u64)> {
        self.inner.finish()
    }
}

/// Returns the walk and the blob's digest and size. An uncompressed blob
/// skips the decompression stage: its bytes are the tar stream. The blob is
/// read straight into the stage's chunks (no buffer in between).
pub fn decode_and_walk<R: Read + Send + IntoHashing>(
    compression: Compression,
    mut input: R,
    digest: &str,
    diff_alg: Option<Algorithm>,
    index: &mut IndexBuilder,
) -> Result<(Walked, Option<Digest>, u64), Error> {
    let (raw_tx, raw_rx) = sync_channel::<Chunk>(IN_FLIGHT);
    let (raw_free_tx, raw_free_rx) = channel::<Vec<u8>>();
    std::thread::scope(|s| {
        // Stage 1: read the blob (hashing it as it passes).
        let reader = s.spawn(move || -> io::Result<Option<(Option<Digest>, u64)>> {
            match pump(&mut input, &raw_tx, &raw_free_rx)? {
                true => {
                    drop(raw_tx);
                    input.finish_hashing().map(Some)
                }
                false => Ok(None),
            }
        });
        let compressed = ChannelReader::new(raw_rx, raw_free_tx);
        let (walked, inflated) = if compression == Compression::None {
            (walk::walk(compressed, digest, diff_alg, index), Ok(()))
        } else {
            // Stage 2: decompress; stage 3 (here): hash the tar stream and walk it.
            let (tar_tx, tar_rx) = sync_channel::<Chunk>(IN_FLIGHT);
            let (tar_free_tx, tar_free_rx) = channel::<Vec<u8>>();
            let inflater = s.spawn(move || -> io::Result<()> {
                let mut dec = decoder(compression, compressed)?;
                pump(&mut dec, &tar_tx, &tar_free_rx).map(|_| ())
            });
            let walked = walk::walk(
                ChannelReader::new(tar_rx, tar_free_tx),
                digest,
                diff_alg,
                index,
            );
            let inflated = inflater
                .join()
                .unwrap_or_else(|_| Err(panicked("decompression")));
            (walked, inflated)
        };
        let read = reader.join().unwrap_or_else(|_| Err(panicked("blob read")));
        let walked = walked?;
        inflated.map_err(|e| walk::corrupt(digest, e))?;
        match read.map_err(|e| walk::corrupt(digest, e))? {
            Some((d, n)) => Ok((walked, d, n)),
            None => Err(walk::corrupt(
                digest,
                io::Error::other("tar stream ended before the blob did"),
            )),
        }
    })
}

fn panicked(stage: &'static str) -> io::Error {
    io::Error::other(StageError {
        stage,
        message: "worker thread panicked".into(),
    })
}

/// Moves `r` into chunks on `tx` until EOF (true) or until the receiver
/// hangs up (false: a later stage failed, and reports why). A read error is
/// also sent on, so the last stage reports it with its stage name.
fn pump<R: Read + ?Sized>(
    r: &mut R,
    tx: &SyncSender<Chunk>,
    free: &Receiver<Vec<u8>>,
) -> io::Result<bool> {
    loop {
        let mut chunk = free.try_recv().unwrap_or_else(|_| vec![0u8; CHUNK]);
        let n = match fill(r, &mut chunk) {
            Ok(n) => n,
            Err(e) => {
                let _ = tx.send(Err(copy_error(&e)));
                return Err(e);
            }
        };
        if n == 0 {
            return Ok(true);
        }
        if tx.send(Ok((chunk, n))).is_err() {
            return Ok(false);
        }
    }
}

fn fill<R: Read + ?Sized>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
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

/// The receiving end of a stage, as a buffered reader over its chunks.
struct ChannelReader {
    rx: Receiver<Chunk>,
    free: Sender<Vec<u8>>,
    current: Vec<u8>,
    len: usize,
    pos: usize,
}

impl ChannelReader {
    fn new(rx: Receiver<Chunk>, free: Sender<Vec<u8>>) -> Self {
        ChannelReader {
            rx,
            free,
            current: Vec::new(),
            len: 0,
            pos: 0,
        }
    }
}

impl BufRead for ChannelReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
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
                Err(_) => return Ok(&[]),
            }
        }
        Ok(&self.current[self.pos..self.len])
    }

    fn consume(&mut self, amount: usize) {
        self.pos = (self.pos + amount).min(self.len);
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = buf.len().min(available.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}
