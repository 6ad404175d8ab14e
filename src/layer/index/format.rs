//! Index file format v2: entries in path order, front-coded and varint-packed
//! (postcard), in zstd-compressed blocks of ~32 KiB that are read one at a
//! time; a footer carries the layer's summary and package databases.
//!
//! ```text
//! "STRATAIX" u32le(version)
//! { u32le(raw_len) u32le(zstd_len) u32le(count) zstd_frame }*  u32le(0) u32le(0) u32le(0)
//! zstd(postcard(Footer)) u64le(footer_len) "STRATAIX"
//! ```

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Entry, EntryKind, LayerSummary, PackageDb};

const MAGIC: &[u8; 8] = b"STRATAIX";
/// Bump when the file layout, the record or the package databases captured
/// change; old files are then misses.
pub const FORMAT_VERSION: u32 = 6;
const BLOCK_TARGET: usize = 32 * 1024;
/// No valid block is larger (a record holds at most two 64 KiB names).
const BLOCK_LIMIT: usize = 1 << 20;
/// The captured databases' budgets (32 + 64 + 48 MiB) and their listing
/// (8 MiB), with room for framing.
const FOOTER_LIMIT: u64 = 160 << 20;

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
struct Record<'a> {
    shared: u32,
    #[serde(borrow)]
    suffix: &'a [u8],
    kind: u8,
    size: u64,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    #[serde(borrow)]
    link: Option<&'a [u8]>,
    hash: Option<[u8; 16]>,
}

fn corrupt(reason: &str) -> io::Error {
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
        })
    }

    pub fn push(&mut self, e: &Entry) -> io::Result<()> {
        let shared = self
            .prev
            .iter()
            .zip(&e.path)
            .take_while(|(a, b)| a == b)
            .count();
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
        self.block.clear();
        self.count = 0;
        // Each block starts its own front coding, so blocks stand alone.
        self.prev.clear();
        Ok(())
    }

    /// Ends the entries, writes the footer, and hands back the output.
    pub fn finish(mut self, footer: &Footer) -> io::Result<W> {
        self.flush_block()?;
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
        self.out.write_all(&packed.to_le_bytes())?;
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

/// Streams the entries of an index file, one block in memory at a time.
pub struct IndexReader {
    r: BufReader<File>,
    raw: Vec<u8>,
    packed: Vec<u8>,
    pos: usize,
    left: u32,
    prev: Vec<u8>,
    decompressor: zstd::bulk::Decompressor<'static>,
    done: bool,
}

fn check_head<R: Read>(r: &mut R) -> io::Result<()> {
    let mut head = [0u8; 12];
    r.read_exact(&mut head)
        .map_err(|_| corrupt("shorter than its header"))?;
    if &head[..8] != MAGIC {
        return Err(corrupt("not a strata index"));
    }
    if head[8..] != FORMAT_VERSION.to_le_bytes() {
        return Err(corrupt("another format version"));
    }
    Ok(())
}

impl IndexReader {
    pub fn open(path: &Path) -> io::Result<IndexReader> {
        let mut r = BufReader::with_capacity(64 * 1024, File::open(path)?);
        check_head(&mut r)?;
        Ok(IndexReader {
            r,
            raw: Vec::new(),
            packed: Vec::new(),
            pos: 0,
            left: 0,
            prev: Vec::new(),
            decompressor: zstd::bulk::Decompressor::new()?,
            done: false,
        })
    }

    /// The footer of an index file, read from its end.
    pub fn footer(path: &Path) -> io::Result<Footer> {
        let mut f = File::open(path)?;
        check_head(&mut f)?;
        let len = f.seek(SeekFrom::End(0))?;
        if len < 12 + 12 + 16 {
            return Err(corrupt("truncated"));
        }
        f.seek(SeekFrom::End(-16))?;
        let mut tail = [0u8; 16];
        f.read_exact(&mut tail)?;
        if &tail[8..] != MAGIC {
            return Err(corrupt("no footer (an interrupted write?)"));
        }
        let footer_len = u64::from_le_bytes(tail[..8].try_into().unwrap_or_default());
        if footer_len > FOOTER_LIMIT || footer_len + 16 + 24 > len {
            return Err(corrupt("footer length"));
        }
        f.seek(SeekFrom::End(-16 - footer_len as i64))?;
        let mut packed = vec![0u8; footer_len as usize];
        f.read_exact(&mut packed)?;
        let bytes = zstd::stream::decode_all(&packed[..])?;
        postcard::from_bytes(&bytes).map_err(|_| corrupt("footer"))
    }

    fn next_block(&mut self) -> io::Result<bool> {
        let mut head = [0u8; 12];
        self.r
            .read_exact(&mut head)
            .map_err(|_| corrupt("ends inside its entries"))?;
        let word = |i: usize| u32::from_le_bytes(head[i..i + 4].try_into().unwrap_or_default());
        let (raw_len, packed_len, count) = (word(0) as usize, word(4) as usize, word(8));
        if raw_len == 0 && packed_len == 0 && count == 0 {
            return Ok(false);
        }
        if raw_len > BLOCK_LIMIT || packed_len > BLOCK_LIMIT * 2 || count == 0 {
            return Err(corrupt("block header"));
        }
        self.packed.resize(packed_len, 0);
        self.r
            .read_exact(&mut self.packed)
            .map_err(|_| corrupt("ends inside a block"))?;
        self.raw.clear();
        self.raw.reserve(raw_len);
        let n = self
            .decompressor
            .decompress_to_buffer(&self.packed, &mut self.raw)
            .map_err(|_| corrupt("block does not decompress"))?;
        if n != raw_len {
            return Err(corrupt("block length"));
        }
        self.pos = 0;
        self.left = count;
        self.prev.clear();
        Ok(true)
    }

    fn next_entry(&mut self) -> io::Result<Option<Entry>> {
        if self.left == 0 && (self.done || !self.next_block()?) {
            self.done = true;
            return Ok(None);
        }
        let (record, rest): (Record, &[u8]) =
            postcard::take_from_bytes(&self.raw[self.pos..]).map_err(|_| corrupt("record"))?;
        let used = self.raw.len() - self.pos - rest.len();
        let shared = record.shared as usize;
        if shared > self.prev.len() {
            return Err(corrupt("path prefix"));
        }
        self.prev.truncate(shared);
        self.prev.extend_from_slice(record.suffix);
        let entry = Entry {
            path: self.prev.clone(),
            kind: EntryKind::from_code(record.kind).ok_or_else(|| corrupt("entry kind"))?,
            size: record.size,
            mode: record.mode,
            uid: record.uid,
            gid: record.gid,
            mtime: record.mtime,
            link: record.link.map(<[u8]>::to_vec),
            hash: record.hash,
        };
        self.pos += used;
        self.left -= 1;
        if self.left == 0 && self.pos != self.raw.len() {
            return Err(corrupt("block count"));
        }
        Ok(Some(entry))
    }
}

impl Iterator for IndexReader {
    type Item = io::Result<Entry>;

    fn next(&mut self) -> Option<io::Result<Entry>> {
        match self.next_entry() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                self.left = 0;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
