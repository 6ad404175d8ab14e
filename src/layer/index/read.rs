//! Reading an index file back: its entries streamed one block at a time and
//! its footer, every length checked before it is trusted. A reader holds one
//! decompressed block; the zstd context and the compressed bytes are shared
//! by the readers of a thread, so a merge of many layers costs a block each.
//! A detached reader holds no open file between blocks (a merge of hundreds
//! of layers keeps within any limit on open files).

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::format::{corrupt, Record, BLOCK_LIMIT, FOOTER_LIMIT, FORMAT_VERSION, MAGIC};
use super::{Entry, EntryKind, Footer};

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

/// Where the next block comes from.
enum Input {
    /// An open file, read in order.
    Held(File),
    /// A path reopened for each block at `at`; `id` (device, inode) makes
    /// sure it is still the file first opened.
    Detached {
        path: PathBuf,
        at: u64,
        id: (u64, u64),
    },
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

/// Streams the entries of an index file, one block in memory at a time.
pub struct IndexReader {
    input: Input,
    raw: Vec<u8>,
    pos: usize,
    left: u32,
    prev: Vec<u8>,
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
        let mut file = open_regular(path)?;
        check_head(&mut file)?;
        Ok(IndexReader::with(Input::Held(file)))
    }

    /// A reader that opens the file only while it reads a block.
    pub fn open_detached(path: &Path) -> io::Result<IndexReader> {
        let mut file = open_regular(path)?;
        check_head(&mut file)?;
        let meta = file.metadata()?;
        Ok(IndexReader::with(Input::Detached {
            path: path.to_owned(),
            at: 12,
            id: (meta.dev(), meta.ino()),
        }))
    }

    fn with(input: Input) -> IndexReader {
        IndexReader {
            input,
            raw: Vec::new(),
            pos: 0,
            left: 0,
            prev: Vec::new(),
            done: false,
        }
    }

    /// The footer of an index file, read from its end.
    pub fn footer(path: &Path) -> io::Result<Footer> {
        let mut f = open_regular(path)?;
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

    /// Reads the next block's header and compressed bytes into `packed`:
    /// its raw length and entry count, or None at the end of the entries.
    fn read_block(&mut self, packed: &mut Vec<u8>) -> io::Result<Option<(usize, u32)>> {
        match &mut self.input {
            Input::Held(file) => read_frame(|buf| file.read_exact(buf), packed),
            Input::Detached { path, at, id } => {
                let file = open_regular(path)?;
                let meta = file.metadata()?;
                if (meta.dev(), meta.ino()) != *id {
                    return Err(corrupt("replaced while it was read"));
                }
                let mut pos = *at;
                let found = read_frame(
                    |buf| {
                        file.read_exact_at(buf, pos)?;
                        pos += buf.len() as u64;
                        Ok(())
                    },
                    packed,
                );
                *at = pos;
                found
            }
        }
    }

    fn next_block(&mut self) -> io::Result<bool> {
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
