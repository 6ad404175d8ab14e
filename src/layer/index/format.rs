//! Index file format v7: entries in path order, front-coded and varint-packed
//! (postcard), in zstd-compressed blocks of ~32 KiB that are read one at a
//! time; a footer carries the layer's summary and package databases, and a
//! block directory (`blocks`) lets a reader jump to a path.
//!
//! ```text
//! "STRATAIX" u32le(version)
//! { u32le(raw_len) u32le(zstd_len) u32le(count) zstd_frame }*  u32le(0) u32le(0) u32le(0)
//! zstd(postcard(Footer)) zstd(postcard(Blocks)) u64le(footer_len) u64le(blocks_len) "STRATAIX"
//! ```

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::blocks::{Blocks, FIRST_BLOCK};
use super::{Entry, LayerSummary, PackageDb};

pub(super) const MAGIC: &[u8; 8] = b"STRATAIX";
/// Bump when the file layout, the record or the package databases captured
/// change; old files are then misses.
pub const FORMAT_VERSION: u32 = 7;
const BLOCK_TARGET: usize = 32 * 1024;
/// No valid block is larger (a record holds at most two 64 KiB names).
pub(super) const BLOCK_LIMIT: usize = 1 << 20;
/// The captured databases' budgets (32 + 64 + 48 MiB) and their listing
/// (8 MiB), with room for framing.
pub(super) const FOOTER_LIMIT: u64 = 160 << 20;

/// What follows the entries: the layer's figures and its captured files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Footer {
    /// None in the sorter's temporary runs.
    pub summary: Option<LayerSummary>,
    pub package_dbs: Vec<PackageDb>,
    pub entries: u64,
}

/// One entry as stored: its path front-coded against the previous one.
#[derive(Serialize, Deserialize)]
pub(super) struct Record<'a> {
    pub(super) shared: u32,
    #[serde(borrow, serialize_with = "bytes")]
    pub(super) suffix: &'a [u8],
    pub(super) kind: u8,
    pub(super) size: u64,
    pub(super) mode: u32,
    pub(super) uid: u64,
    pub(super) gid: u64,
    pub(super) mtime: u64,
    #[serde(borrow, serialize_with = "some_bytes")]
    pub(super) link: Option<&'a [u8]>,
    pub(super) hash: Option<[u8; 16]>,
}

/// A byte string written at once, not byte by byte as a sequence (the same
/// bytes in postcard: a length, then the bytes; a 64 KiB name is one copy).
fn bytes<S: serde::Serializer>(b: &&[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bytes(b)
}

fn some_bytes<S: serde::Serializer>(b: &Option<&[u8]>, s: S) -> Result<S::Ok, S::Error> {
    match b {
        Some(b) => s.serialize_some(&Bytes(b)),
        None => s.serialize_none(),
    }
}

struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

pub(super) fn corrupt(reason: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("corrupt index: {reason}"),
    )
}

pub struct IndexWriter<W: Write> {
    out: W,
    block: Vec<u8>,
    count: u32,
    prev: Vec<u8>,
    compressor: zstd::bulk::Compressor<'static>,
    entries: u64,
    /// Bytes written so far: where the next block starts.
    offset: u64,
    /// The last path of the block before the one being filled.
    last_before: Vec<u8>,
    blocks: Blocks,
}

impl<W: Write> IndexWriter<W> {
    /// `level`: zstd level (1 for temporary runs, 3 for the cache).
    pub fn new(mut out: W, level: i32) -> io::Result<Self> {
        out.write_all(MAGIC)?;
        out.write_all(&FORMAT_VERSION.to_le_bytes())?;
        let mut compressor = zstd::bulk::Compressor::new(level)?;
        compressor.include_checksum(true)?;
        Ok(IndexWriter {
            out,
            block: Vec::with_capacity(BLOCK_TARGET * 2),
            count: 0,
            prev: Vec::new(),
            compressor,
            entries: 0,
            offset: FIRST_BLOCK,
            last_before: Vec::new(),
            blocks: Blocks::default(),
        })
    }

    pub fn push(&mut self, e: &Entry) -> io::Result<()> {
        if self.count == 0 {
            self.blocks
                .note(self.offset, self.entries, &self.last_before, &e.path);
        }
        let shared = super::common_prefix(&self.prev, &e.path);
        let record = Record {
            shared: shared as u32,
            suffix: &e.path[shared..],
            kind: e.kind.code(),
            size: e.size,
            mode: e.mode,
            uid: e.uid,
            gid: e.gid,
            mtime: e.mtime,
            link: e.link.as_deref(),
            hash: e.hash,
        };
        self.block = postcard::to_extend(&record, std::mem::take(&mut self.block))
            .map_err(io::Error::other)?;
        self.prev.truncate(shared);
        self.prev.extend_from_slice(&e.path[shared..]);
        self.count += 1;
        self.entries += 1;
        if self.block.len() >= BLOCK_TARGET {
            self.flush_block()?;
        }
        Ok(())
    }

    pub fn entries(&self) -> u64 {
        self.entries
    }

    fn flush_block(&mut self) -> io::Result<()> {
        if self.count == 0 {
            return Ok(());
        }
        let frame = self.compressor.compress(&self.block)?;
        self.out
            .write_all(&(self.block.len() as u32).to_le_bytes())?;
        self.out.write_all(&(frame.len() as u32).to_le_bytes())?;
        self.out.write_all(&self.count.to_le_bytes())?;
        self.out.write_all(&frame)?;
        self.offset += 12 + frame.len() as u64;
        self.block.clear();
        self.count = 0;
        // Each block starts its own front coding, so blocks stand alone.
        std::mem::swap(&mut self.prev, &mut self.last_before);
        self.prev.clear();
        Ok(())
    }

    /// Ends the entries, writes the footer, and hands back the output.
    pub fn finish(mut self, footer: &Footer) -> io::Result<W> {
        self.flush_block()?;
        self.blocks.end = self.offset;
        self.out.write_all(&[0u8; 12])?;
        // Streamed into the compressor: the captured databases (up to the
        // capture budgets) are never copied whole a second time.
        let counted = Counted {
            inner: &mut self.out,
            n: 0,
        };
        let enc = postcard::to_io(footer, zstd::stream::Encoder::new(counted, 3)?)
            .map_err(io::Error::other)?;
        let packed = enc.finish()?.n;
        let blocks = self.blocks.encode()?;
        self.out.write_all(&blocks)?;
        self.out.write_all(&packed.to_le_bytes())?;
        self.out.write_all(&(blocks.len() as u64).to_le_bytes())?;
        self.out.write_all(MAGIC)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Counts the bytes written through it.
struct Counted<W> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::super::read::IndexReader;
    use super::super::EntryKind;
    use super::*;
    use std::fs::File;

    fn entry(path: &str, kind: EntryKind, size: u64) -> Entry {
        Entry {
            path: path.as_bytes().to_vec(),
            kind,
            size,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 1_600_000_000,
            link: (kind == EntryKind::Symlink).then(|| b"target".to_vec()),
            hash: (kind == EntryKind::File).then_some([7u8; 16]),
        }
    }

    #[test]
    fn entries_and_footer_round_trip_across_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.idx");
        let entries: Vec<Entry> = (0..5000)
            .map(|i| {
                let kind = [EntryKind::File, EntryKind::Dir, EntryKind::Symlink][i % 3];
                entry(&format!("usr/share/doc/pkg{:05}/file", i), kind, i as u64)
            })
            .collect();
        let mut w = IndexWriter::new(File::create(&path).unwrap(), 3).unwrap();
        for e in &entries {
            w.push(e).unwrap();
        }
        let footer = Footer {
            summary: None,
            package_dbs: vec![PackageDb {
                path: "var/lib/dpkg/status".into(),
                content: b"Package: x\n".to_vec(),
                size: 11,
                skipped: false,
            }],
            entries: entries.len() as u64,
        };
        w.finish(&footer).unwrap();
        let back: Vec<Entry> = IndexReader::open(&path)
            .unwrap()
            .collect::<io::Result<_>>()
            .unwrap();
        assert_eq!(back, entries);
        assert_eq!(IndexReader::footer(&path).unwrap(), footer);
    }

    /// Names are written as byte strings: the same bytes a sequence of
    /// bytes gives (indexes written before read back alike).
    #[test]
    fn a_record_is_written_as_a_sequence_of_bytes_would_be() {
        #[derive(Serialize)]
        struct Plain<'a> {
            suffix: &'a [u8],
            link: Option<&'a [u8]>,
        }
        #[derive(Serialize)]
        struct Fast<'a> {
            #[serde(serialize_with = "bytes")]
            suffix: &'a [u8],
            #[serde(serialize_with = "some_bytes")]
            link: Option<&'a [u8]>,
        }
        let name = vec![b'n'; 70_000];
        for link in [None, Some(&b"target"[..])] {
            let plain = postcard::to_stdvec(&Plain {
                suffix: &name,
                link,
            })
            .unwrap();
            let fast = postcard::to_stdvec(&Fast {
                suffix: &name,
                link,
            })
            .unwrap();
            assert_eq!(plain, fast);
        }
    }

    #[test]
    fn a_damaged_file_is_an_error_not_entries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.idx");
        let mut w = IndexWriter::new(File::create(&path).unwrap(), 3).unwrap();
        for i in 0..100 {
            w.push(&entry(&format!("f{i}"), EntryKind::File, 1))
                .unwrap();
        }
        w.finish(&Footer::default()).unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[40] ^= 0xff;
        std::fs::write(&path, &bytes).unwrap();
        let result: io::Result<Vec<Entry>> = IndexReader::open(&path).unwrap().collect();
        assert!(result.is_err());
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(IndexReader::footer(&path).is_err());
    }
}
