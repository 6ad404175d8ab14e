//! A `docker save` stream read in one pass (an engine's image export, or
//! `docker-archive:-` on stdin): metadata kept in memory; every engine
//! writes layers before the manifest.json that says what they are, so a
//! layer whose entry name carries its digest (Podman's `<diff_id>.tar`,
//! Docker's `blobs/sha256/<digest>`) and that is a plain tar is scanned as
//! it arrives (its name is what it must hash to), and only layers whose
//! digest the stream does not say yet are spooled to an anonymous temp file.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::sync::Arc;

use tar::EntryType;

use super::super::fs::Fs;
use crate::error::{Error, Result};
use crate::image::{Compression, Declared, Digest, LayerDesc};
use crate::source::{LayerSink, Reading};
use crate::tar_reader::TarReader;

/// Entries up to this size stay in memory (configs, manifest.json, `json`,
/// `VERSION`, empty layers); larger ones go to the spool file.
const IN_MEMORY_ENTRY: u64 = 256 << 10;
/// At most this much is kept in memory in all; past it everything is spooled.
const IN_MEMORY_TOTAL: u64 = 64 << 20;
/// A docker save stream of a few images has tens of entries; a stream with
/// more than this is not one.
const MAX_ENTRIES: usize = 100_000;
/// Bytes read from the stream at a time.
const READ_BUFFER: usize = 256 << 10;
/// What may follow the end of the archive (zero blocks, record padding).
const TRAILER: u64 = 1 << 20;

enum Item {
    Memory(Arc<[u8]>),
    Spooled {
        offset: u64,
        size: u64,
    },
    /// Scanned as it arrived (the sink keeps it by digest): its size alone.
    Taken {
        size: u64,
    },
    Link(String),
}

/// The files of a docker save stream, after the stream has been read whole.
pub struct StreamFs {
    name: String,
    items: HashMap<String, Item>,
    spool: Option<Arc<File>>,
    /// Bytes the stream carried (for the progress of the read, and errors).
    pub read: u64,
    /// Bytes written to the spool file.
    pub spooled: u64,
    /// Bytes of layers scanned as they arrived.
    pub taken: u64,
}

/// Counts the bytes that pass, so a truncated stream can say where it
/// ended, and reports them as the read's progress.
struct Counting<'p, R> {
    inner: R,
    count: u64,
    reading: &'p dyn Reading,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        self.reading.advance(n as u64);
        Ok(n)
    }
}

impl StreamFs {
    /// Reads `stream` to its end (its bytes reported to `reading`). `name`
    /// is how errors and the progress line name the source.
    pub fn read(stream: impl Read + Send, name: String, reading: &dyn Reading) -> Result<StreamFs> {
        reading.begin(&name);
        let mut counting = Counting {
            inner: stream,
            count: 0,
            reading,
        };
        let mut fs = StreamFs {
            name,
            items: HashMap::new(),
            spool: None,
            read: 0,
            spooled: 0,
            taken: 0,
        };
        let result = fs.read_entries(&mut counting, reading.layers());
        if result.is_ok() {
            // The end-of-archive blocks and a writer's padding: read them so
            // the writer (docker save, the engine) is not cut off mid-write.
            let _ = io::copy(&mut (&mut counting).take(TRAILER), &mut io::sink());
        }
        fs.read = counting.count;
        reading.end();
        match result {
            Ok(()) if fs.items.is_empty() => Err(Error::malformed(
                &fs.name,
                if fs.read == 0 {
                    "empty stream (no archive was sent)".to_owned()
                } else {
                    "not a tar archive".to_owned()
                },
            )),
            Ok(()) => Ok(fs),
            Err(StreamError::Truncated) => Err(Error::malformed(
                &fs.name,
                format!("archive ends after {} bytes (truncated)", fs.read),
            )),
            Err(StreamError::Other(e)) => Err(e),
        }
    }

    fn read_entries<R: Read + Send>(
        &mut self,
        stream: &mut Counting<'_, R>,
        sink: Option<&dyn LayerSink>,
    ) -> Result<(), StreamError> {
        // strata's bounded tar reader: long names and PAX headers are capped
        // before they are read (the tar crate would buffer them whole).
        // Large reads: each refill of an engine's export is a wait on the
        // runtime bridging its body; 8 KiB ones cost a wake-up per 8 KiB.
        let mut archive = TarReader::new(io::BufReader::with_capacity(READ_BUFFER, stream));
        let mut in_memory = 0u64;
        while let Some(entry) = archive.next_entry().map_err(|e| self.bad(e))? {
            if self.items.len() >= MAX_ENTRIES {
                return Err(StreamError::Other(Error::malformed(
                    &self.name,
                    format!("more than {MAX_ENTRIES} entries; not a docker save archive"),
                )));
            }
            let path = normalise(&String::from_utf8_lossy(&entry.path));
            let item = match entry.kind {
                EntryType::Regular | EntryType::Continuous => {
                    let size = entry.stored;
                    let mut data = archive.data();
                    let layer = sink
                        .filter(|_| size > IN_MEMORY_ENTRY)
                        .and_then(|sink| Some((sink, named_layer(&path, size)?)));
                    if let Some((sink, layer)) = layer {
                        let mut head = vec![0u8; TAR_MAGIC_END];
                        data.read_exact(&mut head).map_err(|e| self.bad(e))?;
                        let tar = is_tar(&head);
                        let mut blob = io::Cursor::new(head).chain(&mut data);
                        if tar {
                            if let Err(e) = sink.take(&layer, &mut blob) {
                                // A stream that ends inside the layer is a truncated
                                // archive, whatever the scan made of the short layer.
                                drop(blob);
                                return match io::copy(&mut data, &mut io::sink()) {
                                    Err(cut) => Err(self.bad(cut)),
                                    Ok(_) => Err(e.into()),
                                };
                            }
                            self.taken += size;
                            self.items.insert(path, Item::Taken { size });
                            continue;
                        }
                        // Compressed (or not a tar): spooled, read later as any blob.
                        let offset = self.spooled;
                        let mut spool: &File = self.spool_file()?;
                        let copied = io::copy(&mut blob, &mut spool).map_err(|e| self.bad(e))?;
                        self.spooled += copied;
                        self.items.insert(path, Item::Spooled { offset, size });
                        continue;
                    }
                    if size <= IN_MEMORY_ENTRY && in_memory + size <= IN_MEMORY_TOTAL {
                        let mut bytes = Vec::with_capacity(size as usize);
                        data.read_to_end(&mut bytes).map_err(|e| self.bad(e))?;
                        in_memory += size;
                        Item::Memory(bytes.into())
                    } else {
                        let offset = self.spooled;
                        let mut spool: &File = self.spool_file()?;
                        let copied = io::copy(&mut data, &mut spool);
                        let copied = copied.map_err(|e| self.bad(e))?;
                        self.spooled += copied;
                        Item::Spooled { offset, size }
                    }
                }
                EntryType::Symlink | EntryType::Link => {
                    let target = String::from_utf8_lossy(entry.link.as_deref().unwrap_or_default());
                    Item::Link(if entry.kind == EntryType::Symlink {
                        resolve_relative(&path, &target)
                    } else {
                        normalise(&target)
                    })
                }
                _ => continue,
            };
            self.items.insert(path, item);
        }
        Ok(())
    }

    fn spool_file(&mut self) -> Result<&File, StreamError> {
        if self.spool.is_none() {
            // Anonymous: unlinked from the start, gone when strata exits.
            let file = tempfile::tempfile()
                .map_err(|e| Error::io(std::env::temp_dir(), e))
                .map_err(StreamError::Other)?;
            self.spool = Some(Arc::new(file));
        }
        Ok(self.spool.as_deref().expect("just set"))
    }

    /// A read error: the stream ended early, or the engine's connection failed.
    fn bad(&self, e: io::Error) -> StreamError {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            return StreamError::Truncated;
        }
        // The tar reader reports a short stream as "archive ends in the middle of …".
        let text = e.to_string();
        if text.contains("archive ends in the middle") {
            return StreamError::Truncated;
        }
        StreamError::Other(Error::malformed(&self.name, crate::error::clip(&text)))
    }

    fn lookup(&self, path: &str) -> Option<&Item> {
        let mut path = normalise(path);
        for _ in 0..16 {
            match self.items.get(&path)? {
                Item::Link(target) => path = target.clone(),
                item => return Some(item),
            }
        }
        None
    }
}

/// Where a ustar header says `ustar` (POSIX, GNU and PAX tars all do).
const TAR_MAGIC_END: usize = 263;

/// Whether a blob starts like a tar stream (not gzip, not zstd).
fn is_tar(head: &[u8]) -> bool {
    head.len() >= TAR_MAGIC_END && &head[257..262] == b"ustar"
}

/// The layer an entry's name says it is: `<64 hex>.tar` (Podman, docker
/// save before 25) or `blobs/sha256/<64 hex>` (docker save 25 and on). As a
/// plain tar its digest is its diff_id, and both are checked as it is scanned.
fn named_layer(path: &str, size: u64) -> Option<LayerDesc> {
    let hex = path
        .strip_suffix(".tar")
        .filter(|h| !h.contains('/'))
        .or_else(|| path.strip_prefix("blobs/sha256/"))?;
    let digest = Digest::parse(&format!("sha256:{hex}"), path).ok()?;
    Some(LayerDesc {
        diff_id: Some(digest.clone()),
        digest,
        size,
        declared: Declared::MediaType(Compression::None),
        history: None,
        foreign: None,
    })
}

enum StreamError {
    Truncated,
    Other(Error),
}

impl From<Error> for StreamError {
    fn from(e: Error) -> Self {
        StreamError::Other(e)
    }
}

impl Fs for StreamFs {
    fn name(&self) -> &str {
        &self.name
    }

    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send>, u64)>> {
        Ok(match self.lookup(path) {
            Some(Item::Memory(bytes)) => {
                Some((Box::new(io::Cursor::new(bytes.clone())), bytes.len() as u64))
            }
            Some(Item::Taken { size }) => Some((Box::new(Taken) as Box<dyn Read + Send>, *size)),
            Some(Item::Spooled { offset, size }) => match &self.spool {
                Some(file) => Some((
                    Box::new(SpoolReader {
                        file: file.clone(),
                        pos: *offset,
                        end: offset + size,
                    }),
                    *size,
                )),
                None => None,
            },
            _ => None,
        })
    }
}

/// A layer scanned as the stream passed: its bytes are gone, and the
/// store holds its index (a read here means the store lost it).
struct Taken;

impl Read for Taken {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::other(
            "a layer scanned as the stream passed is no longer kept; read the image again",
        ))
    }
}

/// One spooled entry, read by position so threads can read entries at once.
struct SpoolReader {
    file: Arc<File>,
    pos: u64,
    end: u64,
}

impl Read for SpoolReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf.len().min((self.end - self.pos) as usize);
        if want == 0 {
            return Ok(0);
        }
        let n = read_at(&self.file, &mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "spool file shorter than written",
            ));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, pos)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, pos)
}

fn normalise(path: &str) -> String {
    path.split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// A symlink target inside the archive, resolved against the link's directory.
fn resolve_relative(link_path: &str, target: &str) -> String {
    if target.starts_with('/') {
        return normalise(target);
    }
    let mut parts: Vec<&str> = link_path.split('/').collect();
    parts.pop();
    for p in target.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests;
