//! Reading an index file back: its entries streamed one block at a time and
//! its footer, every length checked before it is trusted. A reader holds one
//! decompressed block; the zstd context and the compressed bytes are shared
//! by the readers of a thread, so a merge of many layers costs a block each.
//! A detached reader holds no open file between blocks (a merge of hundreds
//! of layers keeps within any limit on open files).

use std::cell::RefCell;
use std::cmp::Ordering;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::blocks::{Blocks, Tail, FIRST_BLOCK};
use super::format::{corrupt, Record, BLOCK_LIMIT, FOOTER_LIMIT, FORMAT_VERSION, MAGIC};
use super::{path_order, Entry, EntryKind, Footer};

/// Opens a regular file for reading without following a symbolic link in
/// its last component and without blocking on a FIFO planted in its place.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// Where the blocks come from.
enum Input {
    /// An open file.
    Held(File),
    /// A path reopened for each block; `id` (device, inode) makes sure it
    /// is still the file first opened.
    Detached { path: PathBuf, id: (u64, u64) },
}

impl Input {
    /// Calls `read` with the file open (a detached reader's only meanwhile).
    fn with_file<T>(&self, read: impl FnOnce(&File) -> io::Result<T>) -> io::Result<T> {
        match self {
            Input::Held(file) => read(file),
            Input::Detached { path, id } => {
                let file = open_regular(path)?;
                let meta = file.metadata()?;
                if (meta.dev(), meta.ino()) != *id {
                    return Err(corrupt("replaced while it was read"));
                }
                read(&file)
            }
        }
    }
}

/// What the readers of one thread share: one zstd context (~160 KiB) and the
/// compressed bytes of the block being read.
struct Shared {
    decompressor: Option<zstd::bulk::Decompressor<'static>>,
    packed: Vec<u8>,
}

thread_local! {
    static SHARED: RefCell<Shared> = const {
        RefCell::new(Shared {
            decompressor: None,
            packed: Vec::new(),
        })
    };
}

/// Streams the entries of an index file, one block in memory at a time,
/// from the start or from a path it seeks to.
pub struct IndexReader {
    input: Input,
    /// Where the next block's header is.
    at: u64,
    raw: Vec<u8>,
    pos: usize,
    left: u32,
    prev: Vec<u8>,
    done: bool,
    /// The block held: where it starts, its entry count and its first
    /// entry's ordinal.
    block: Option<(u64, u32, u64)>,
    /// The ordinal of the next entry decoded.
    ordinal: u64,
    /// The first entry at or after the path of the last seek, decoded
    /// already, and that path.
    pending: Option<Box<(Entry, Vec<u8>)>>,
    /// The block directory, read on the first seek.
    blocks: Option<Box<Blocks>>,
    blocks_read: u64,
}

fn check_head(file: &File) -> io::Result<()> {
    let mut head = [0u8; 12];
    file.read_exact_at(&mut head, 0)
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
        let file = open_regular(path)?;
        check_head(&file)?;
        Ok(IndexReader::with(Input::Held(file)))
    }

    /// A reader that opens the file only while it reads a block.
    pub fn open_detached(path: &Path) -> io::Result<IndexReader> {
        let file = open_regular(path)?;
        check_head(&file)?;
        let meta = file.metadata()?;
        Ok(IndexReader::with(Input::Detached {
            path: path.to_owned(),
            id: (meta.dev(), meta.ino()),
        }))
    }

    fn with(input: Input) -> IndexReader {
        IndexReader {
            input,
            at: FIRST_BLOCK,
            raw: Vec::new(),
            pos: 0,
            left: 0,
            prev: Vec::new(),
            done: false,
            block: None,
            ordinal: 0,
            pending: None,
            blocks: None,
            blocks_read: 0,
        }
    }

    /// The footer of an index file, read from its end.
    pub fn footer(path: &Path) -> io::Result<Footer> {
        let f = open_regular(path)?;
        check_head(&f)?;
        let tail = Tail::read(&f)?;
        let mut packed = vec![0u8; tail.footer_len as usize];
        f.read_exact_at(&mut packed, tail.footer_at())?;
        // The footer never inflates past its limit, whatever its frame claims.
        let mut bytes = Vec::new();
        zstd::stream::read::Decoder::new(&packed[..])?
            .take(FOOTER_LIMIT + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| corrupt("footer does not decompress"))?;
        if bytes.len() as u64 > FOOTER_LIMIT {
            return Err(corrupt("footer length"));
        }
        postcard::from_bytes(&bytes).map_err(|_| corrupt("footer"))
    }

    /// The block directory, read and checked on first use.
    pub fn blocks(&mut self) -> io::Result<&Blocks> {
        if self.blocks.is_none() {
            let blocks = self.input.with_file(Blocks::read)?;
            self.blocks = Some(Box::new(blocks));
        }
        Ok(self.blocks.get_or_insert_with(Box::default))
    }

    /// Blocks decoded so far (what a seek saves is counted here).
    pub fn blocks_read(&self) -> u64 {
        self.blocks_read
    }

    /// The ordinal in the index of the entry `next` returns.
    pub fn ordinal(&self) -> u64 {
        match &self.pending {
            Some(_) => self.ordinal - 1,
            None => self.ordinal,
        }
    }

    /// Moves to the first entry whose path sorts at or after `path` (its
    /// markers first): only the blocks from the one that may hold it on are
    /// decoded. Going on in the block held when it is on the way.
    pub fn seek(&mut self, path: &[u8]) -> io::Result<()> {
        let found = self.seek_to(path);
        if found.is_err() {
            self.fail();
        }
        found
    }

    fn seek_to(&mut self, path: &[u8]) -> io::Result<()> {
        let mark = self.blocks()?.find(path).clone();
        if let Some(held) = self.pending.take() {
            let (entry, since) = *held;
            // Every entry before it sorts before `since`.
            if path_order(&entry.path, path) != Ordering::Less
                && path_order(since.as_slice(), path) != Ordering::Greater
            {
                self.pending = Some(Box::new((entry, path.to_vec())));
                return Ok(());
            }
            if path_order(&entry.path, path) == Ordering::Less && !self.done {
                return self.skip_to(path);
            }
        }
        let held = self.block.filter(|_| !self.done);
        let behind = self.pos > 0 && path_order(&self.prev, path) == Ordering::Less;
        match held {
            // Going on in order passes through `mark`'s block or is already past it.
            Some((at, _, _)) if at >= mark.offset && behind => {}
            // The block held: decoded again from its start, nothing read.
            Some((at, count, first)) if at == mark.offset => {
                self.pos = 0;
                self.left = count;
                self.prev.clear();
                self.ordinal = first;
            }
            _ => {
                self.at = mark.offset;
                self.done = false;
                self.left = 0;
                self.ordinal = mark.first;
                if !self.next_block()? {
                    return Err(corrupt("block directory"));
                }
                let Some(head) = self.next_entry()? else {
                    return Err(corrupt("block directory"));
                };
                if !head.path.starts_with(&mark.key) {
                    return Err(corrupt("block directory"));
                }
                if path_order(&head.path, path) != Ordering::Less {
                    self.pending = Some(Box::new((head, path.to_vec())));
                    return Ok(());
                }
            }
        }
        self.skip_to(path)
    }

    /// Decodes forward to the first entry at or after `path`.
    fn skip_to(&mut self, path: &[u8]) -> io::Result<()> {
        while let Some(entry) = self.next_entry()? {
            if path_order(&entry.path, path) != Ordering::Less {
                self.pending = Some(Box::new((entry, path.to_vec())));
                break;
            }
        }
        Ok(())
    }

    /// Reads a whole index as a file from elsewhere is checked: entries in
    /// index order, and each mark of its block directory at a block's start,
    /// with that block's first ordinal and a key between the path before
    /// and the block's first path. Returns the number of entries, or what
    /// is wrong.
    pub fn verify(path: &Path) -> Result<u64, &'static str> {
        let undecoded = |_| "index does not decode";
        let mut r = IndexReader::open(path).map_err(undecoded)?;
        let marks = r
            .blocks()
            .map_err(|_| "index block directory")?
            .marks
            .clone();
        let mut marks = marks.iter().peekable();
        let mut prev: Option<Entry> = None;
        let mut held = None;
        while let Some(entry) = r.next_entry().map_err(undecoded)? {
            if prev
                .as_ref()
                .is_some_and(|p| super::entry_order(p, &entry) != Ordering::Less)
            {
                return Err("index out of order");
            }
            if r.block != held {
                held = r.block;
                let (offset, _, first) = held.unwrap_or_default();
                if let Some(m) = marks.next_if(|m| m.offset == offset) {
                    let after = prev
                        .as_ref()
                        .is_none_or(|p| path_order(&p.path, &m.key) != Ordering::Greater);
                    if m.first != first || !entry.path.starts_with(&m.key) || !after {
                        return Err("index block directory");
                    }
                }
            }
            prev = Some(entry);
        }
        if marks.next().is_some() {
            return Err("index block directory");
        }
        Ok(r.ordinal)
    }

    fn fail(&mut self) {
        self.done = true;
        self.left = 0;
        self.pending = None;
    }

    /// Reads the next block's header and compressed bytes into `packed`:
    /// its raw length and entry count, or None at the end of the entries.
    fn read_block(&mut self, packed: &mut Vec<u8>) -> io::Result<Option<(usize, u32)>> {
        let mut pos = self.at;
        let found = self.input.with_file(|file| {
            read_frame(
                |buf| {
                    file.read_exact_at(buf, pos)?;
                    pos += buf.len() as u64;
                    Ok(())
                },
                packed,
            )
        });
        if matches!(found, Ok(Some(_))) {
            self.at = pos;
        }
        found
    }

    fn next_block(&mut self) -> io::Result<bool> {
        let start = self.at;
        SHARED.with(|shared| {
            let mut shared = shared.borrow_mut();
            let Shared {
                decompressor,
                packed,
            } = &mut *shared;
            let Some((raw_len, count)) = self.read_block(packed)? else {
                return Ok(false);
            };
            let decompressor = match decompressor {
                Some(d) => d,
                None => decompressor.insert(zstd::bulk::Decompressor::new()?),
            };
            self.raw.clear();
            self.raw.reserve(raw_len);
            let n = decompressor
                .decompress_to_buffer(&packed[..], &mut self.raw)
                .map_err(|_| corrupt("block does not decompress"))?;
            if n != raw_len {
                return Err(corrupt("block length"));
            }
            self.pos = 0;
            self.left = count;
            self.prev.clear();
            self.block = Some((start, count, self.ordinal));
            self.blocks_read += 1;
            Ok(true)
        })
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
        self.ordinal += 1;
        if self.left == 0 && self.pos != self.raw.len() {
            return Err(corrupt("block count"));
        }
        Ok(Some(entry))
    }
}

/// Reads one block header and its compressed frame through `read`: the
/// raw length and entry count, or None at the end marker.
fn read_frame(
    mut read: impl FnMut(&mut [u8]) -> io::Result<()>,
    packed: &mut Vec<u8>,
) -> io::Result<Option<(usize, u32)>> {
    let mut head = [0u8; 12];
    read(&mut head).map_err(|_| corrupt("ends inside its entries"))?;
    let word = |i: usize| u32::from_le_bytes(head[i..i + 4].try_into().unwrap_or_default());
    let (raw_len, packed_len, count) = (word(0) as usize, word(4) as usize, word(8));
    if raw_len == 0 && packed_len == 0 && count == 0 {
        return Ok(None);
    }
    if raw_len > BLOCK_LIMIT || packed_len > BLOCK_LIMIT * 2 || count == 0 {
        return Err(corrupt("block header"));
    }
    packed.resize(packed_len, 0);
    read(packed).map_err(|_| corrupt("ends inside a block"))?;
    Ok(Some((raw_len, count)))
}

impl Iterator for IndexReader {
    type Item = io::Result<Entry>;

    fn next(&mut self) -> Option<io::Result<Entry>> {
        if let Some(held) = self.pending.take() {
            return Some(Ok(held.0));
        }
        match self.next_entry() {
            Ok(Some(e)) => Some(Ok(e)),
            Ok(None) => None,
            Err(e) => {
                self.fail();
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::format::IndexWriter;
    use super::*;

    fn write(path: &Path, n: usize) -> Vec<Entry> {
        let entries: Vec<Entry> = (0..n)
            .map(|i| Entry::sample(&format!("d/f{i:06}"), EntryKind::File, i as u64))
            .collect();
        let mut w = IndexWriter::new(File::create(path).unwrap(), 3).unwrap();
        for e in &entries {
            w.push(e).unwrap();
        }
        w.finish(&Footer::default()).unwrap();
        entries
    }

    /// Open files of this process on `path`.
    fn open_on(path: &Path) -> usize {
        std::fs::read_dir("/proc/self/fd")
            .unwrap()
            .flatten()
            .filter(|fd| std::fs::read_link(fd.path()).is_ok_and(|p| p == path))
            .count()
    }

    #[test]
    fn a_detached_reader_reads_the_same_entries_and_holds_no_file_between_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.idx");
        let entries = write(&path, 20_000);
        let mut readers: Vec<IndexReader> = (0..50)
            .map(|_| IndexReader::open_detached(&path).unwrap())
            .collect();
        let firsts: Vec<Entry> = readers
            .iter_mut()
            .map(|r| r.next().unwrap().unwrap())
            .collect();
        assert!(firsts.iter().all(|e| *e == entries[0]));
        assert_eq!(open_on(&path), 0, "detached readers hold no file");
        let held = IndexReader::open(&path).unwrap();
        assert_eq!(open_on(&path), 1, "the count sees a held reader");
        drop(held);
        let back: Vec<Entry> = IndexReader::open_detached(&path)
            .unwrap()
            .collect::<io::Result<_>>()
            .unwrap();
        assert_eq!(back, entries);
    }

    #[test]
    fn a_detached_reader_refuses_a_file_replaced_under_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.idx");
        write(&path, 20_000);
        let mut r = IndexReader::open_detached(&path).unwrap();
        r.next().unwrap().unwrap();
        let other = dir.path().join("y.idx");
        write(&other, 20_000);
        std::fs::rename(&other, &path).unwrap();
        let result: io::Result<Vec<Entry>> = r.collect();
        let e = result.unwrap_err().to_string();
        assert!(e.contains("replaced while it was read"), "{e}");
    }

    #[test]
    fn a_symlink_or_a_fifo_in_place_of_an_index_is_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.idx");
        write(&real, 3);
        let link = dir.path().join("link.idx");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(IndexReader::open(&link).is_err());
        assert!(IndexReader::footer(&link).is_err());
        let fifo = dir.path().join("fifo.idx");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(IndexReader::open(&fifo).is_err(), "no wait on a FIFO");
    }
}
