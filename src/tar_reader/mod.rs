//! A bounded tar reader. Headers are parsed with the tar crate's header types,
//! but framed here, because the crate reads GNU long names and PAX headers of
//! any declared length into memory and expands sparse holes byte by byte:
//! every length an archive declares is capped before it is read, sparse
//! files are accounted by their map, and (like Go's archive/tar) entries
//! after a lone zero block are refused. It reads layer tar streams and the
//! docker save streams of engines and stdin alike.

use std::io::{self, BufRead, Read};

use tar::{EntryType, GnuExtSparseHeader, Header};

mod pax;

use pax::Pax;

const BLOCK: u64 = 512;
/// Longest path or link name accepted (GNU long name, PAX path/linkpath).
pub const NAME_LIMIT: usize = 64 * 1024;
/// Largest PAX extended header accepted (all its records together).
pub const PAX_LIMIT: u64 = 1 << 20;
/// Most extension blocks a GNU sparse map may take (21 chunks each).
const SPARSE_EXT_LIMIT: usize = 4096;

/// One archive member, its extension headers applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TarEntry {
    pub path: Vec<u8>,
    pub link: Option<Vec<u8>>,
    pub kind: EntryType,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    /// The file's logical size (a sparse file's apparent size).
    pub size: u64,
    /// Data bytes stored in the archive for this member.
    pub stored: u64,
    /// A sparse file's map of stored chunks, `(offset, length)`.
    pub sparse: Option<Vec<(u64, u64)>>,
    /// A device's major and minor numbers (0 for other members).
    pub device: (u32, u32),
}

pub struct TarReader<R> {
    inner: R,
    /// Unread data of the current member, then its padding.
    remaining: u64,
    padding: u64,
    done: bool,
}

fn bad(reason: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, reason.into())
}

impl<R: BufRead> TarReader<R> {
    pub fn new(inner: R) -> Self {
        TarReader {
            inner,
            remaining: 0,
            padding: 0,
            done: false,
        }
    }

    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The current member's stored data (read it, or `next` skips it).
    pub fn data(&mut self) -> DataReader<'_, R> {
        DataReader { tar: self }
    }

    /// The next member, or None at the end of the archive.
    pub fn next_entry(&mut self) -> io::Result<Option<TarEntry>> {
        if self.done {
            return Ok(None);
        }
        let mut long_name: Option<Vec<u8>> = None;
        let mut long_link: Option<Vec<u8>> = None;
        let mut pax: Option<Pax> = None;
        loop {
            self.skip_rest()?;
            let Some(header) = self.header()? else {
                if long_name.is_some() || long_link.is_some() || pax.is_some() {
                    return Err(bad("extension header without a member after it"));
                }
                self.done = true;
                return Ok(None);
            };
            let kind = header.entry_type();
            let declared = header
                .entry_size()
                .map_err(|_| bad("malformed size field"))?;
            match kind {
                EntryType::GNULongName | EntryType::GNULongLink => {
                    if declared > NAME_LIMIT as u64 {
                        return Err(bad(format!(
                            "GNU long name of {declared} bytes (limit {NAME_LIMIT})"
                        )));
                    }
                    let mut name = self.read_member(declared)?;
                    while name.last() == Some(&0) {
                        name.pop();
                    }
                    let slot = if kind == EntryType::GNULongName {
                        &mut long_name
                    } else {
                        &mut long_link
                    };
                    if slot.replace(name).is_some() {
                        return Err(bad("two GNU long names for one member"));
                    }
                }
                EntryType::XHeader | EntryType::XGlobalHeader => {
                    if declared > PAX_LIMIT {
                        return Err(bad(format!(
                            "PAX header of {declared} bytes (limit {PAX_LIMIT})"
                        )));
                    }
                    let data = self.read_member(declared)?;
                    let parsed = Pax::parse(&data)?;
                    if kind == EntryType::XHeader && pax.replace(parsed).is_some() {
                        return Err(bad("two PAX headers for one member"));
                    }
                }
                _ => {
                    return self
                        .member(&header, declared, long_name, long_link, pax)
                        .map(Some)
                }
            }
        }
    }

    fn member(
        &mut self,
        header: &Header,
        declared: u64,
        long_name: Option<Vec<u8>>,
        long_link: Option<Vec<u8>>,
        pax: Option<Pax>,
    ) -> io::Result<TarEntry> {
        let pax = pax.unwrap_or_default();
        let mut entry = TarEntry {
            path: pax
                .path
                .or(long_name)
                .unwrap_or_else(|| header.path_bytes().into_owned()),
            link: pax
                .link
                .or(long_link)
                .or_else(|| header.link_name_bytes().map(|l| l.into_owned())),
            kind: header.entry_type(),
            // Ownership and mode fields are often left blank: 0, as tar reads them.
            mode: header.mode().unwrap_or(0),
            uid: pax.uid.unwrap_or_else(|| header.uid().unwrap_or(0)),
            gid: pax.gid.unwrap_or_else(|| header.gid().unwrap_or(0)),
            mtime: pax.mtime.unwrap_or_else(|| header.mtime().unwrap_or(0)),
            size: 0,
            stored: pax.size.unwrap_or(declared),
            sparse: None,
            device: (
                header.device_major().ok().flatten().unwrap_or(0),
                header.device_minor().ok().flatten().unwrap_or(0),
            ),
        };
        if entry.path.len() > NAME_LIMIT
            || entry.link.as_ref().is_some_and(|l| l.len() > NAME_LIMIT)
        {
            return Err(bad(format!("name longer than {NAME_LIMIT} bytes")));
        }
        entry.size = entry.stored;
        if let Some(real) = pax.sparse_size {
            // PAX sparse formats: the stored data is the map and the chunks.
            entry.size = real;
            if let Some(name) = pax.sparse_name {
                entry.path = name;
            }
            entry.sparse = Some(Vec::new());
        }
        if entry.kind == EntryType::GNUSparse {
            let (map, real) = self.gnu_sparse_map(header, entry.stored)?;
            entry.size = real;
            entry.sparse = Some(map);
        }
        self.remaining = entry.stored;
        self.padding = pad(entry.stored);
        Ok(entry)
    }

    /// The old GNU sparse map (in the header, then extension blocks), checked:
    /// chunks in order, inside the file, adding up to the stored bytes.
    fn gnu_sparse_map(
        &mut self,
        header: &Header,
        stored: u64,
    ) -> io::Result<(Vec<(u64, u64)>, u64)> {
        let gnu = header
            .as_gnu()
            .ok_or_else(|| bad("sparse member without a GNU header"))?;
        let real = gnu.real_size().map_err(|_| bad("malformed sparse size"))?;
        let mut map = Vec::new();
        let mut push = |offset: u64, length: u64| -> io::Result<()> {
            let end = offset
                .checked_add(length)
                .ok_or_else(|| bad("sparse chunk overflows"))?;
            let after_last = map.last().map_or(0, |&(o, l): &(u64, u64)| o + l);
            if offset < after_last || end > real {
                return Err(bad("sparse chunks out of order or past the file's size"));
            }
            map.push((offset, length));
            Ok(())
        };
        let chunk = |s: &tar::GnuSparseHeader| -> io::Result<Option<(u64, u64)>> {
            if s.is_empty() {
                return Ok(None);
            }
            let o = s.offset().map_err(|_| bad("malformed sparse offset"))?;
            let l = s.length().map_err(|_| bad("malformed sparse length"))?;
            Ok(Some((o, l)))
        };
        for s in &gnu.sparse {
            if let Some((o, l)) = chunk(s)? {
                push(o, l)?;
            }
        }
        let mut extended = gnu.is_extended();
        let mut blocks = 0;
        while extended {
            blocks += 1;
            if blocks > SPARSE_EXT_LIMIT {
                return Err(bad("sparse map too long"));
            }
            let mut ext = GnuExtSparseHeader::new();
            self.inner
                .read_exact(ext.as_mut_bytes())
                .map_err(truncated)?;
            for s in &ext.sparse {
                if let Some((o, l)) = chunk(s)? {
                    push(o, l)?;
                }
            }
            extended = ext.is_extended();
        }
        let total: u64 = map.iter().map(|(_, l)| l).sum();
        if total != stored {
            return Err(bad("sparse map does not add up to the stored data"));
        }
        Ok((map, real))
    }

    /// Reads one 512-byte header; None at the end of the archive.
    fn header(&mut self) -> io::Result<Option<Header>> {
        let mut header = Header::new_old();
        if !read_block(&mut self.inner, header.as_mut_bytes())? {
            return Ok(None);
        }
        if header.as_bytes().iter().all(|&b| b == 0) {
            // The end is two zero blocks (or one, then the end of the stream);
            // a member after a lone zero block is refused, as Go's archive/tar does.
            let mut next = [0u8; BLOCK as usize];
            if read_block(&mut self.inner, &mut next)? && next.iter().any(|&b| b != 0) {
                return Err(bad("a member after a lone zero block"));
            }
            return Ok(None);
        }
        let bytes = header.as_bytes();
        let unsigned: u32 = bytes[..148]
            .iter()
            .chain(&bytes[156..])
            .map(|&b| u32::from(b))
            .sum::<u32>()
            + 8 * 32;
        let signed: i64 = bytes[..148]
            .iter()
            .chain(&bytes[156..])
            .map(|&b| i64::from(b as i8))
            .sum::<i64>()
            + 8 * 32;
        let cksum = header
            .cksum()
            .map_err(|_| bad("malformed header checksum"))?;
        if cksum != unsigned && i64::from(cksum) != signed {
            return Err(bad("header checksum mismatch"));
        }
        Ok(Some(header))
    }

    /// Reads a small member whole (its size already capped), with its padding.
    fn read_member(&mut self, size: u64) -> io::Result<Vec<u8>> {
        let mut data = Vec::with_capacity(size as usize);
        (&mut self.inner).take(size).read_to_end(&mut data)?;
        if (data.len() as u64) < size {
            return Err(truncated(io::ErrorKind::UnexpectedEof.into()));
        }
        self.remaining = 0;
        self.padding = pad(size);
        Ok(data)
    }

    /// Hands the rest of the current member's data to `f` in the reader's
    /// own buffers, without copying it (the hot path: hashing file content).
    pub fn each_data_chunk(&mut self, mut f: impl FnMut(&[u8])) -> io::Result<()> {
        while self.remaining > 0 {
            let available = self.inner.fill_buf()?;
            if available.is_empty() {
                return Err(truncated(io::ErrorKind::UnexpectedEof.into()));
            }
            let n = available
                .len()
                .min(self.remaining.min(usize::MAX as u64) as usize);
            f(&available[..n]);
            self.inner.consume(n);
            self.remaining -= n as u64;
        }
        Ok(())
    }

    /// Skips what is left of the current member and its padding.
    fn skip_rest(&mut self) -> io::Result<()> {
        let mut n = self.remaining + self.padding;
        while n > 0 {
            let available = self.inner.fill_buf()?.len();
            if available == 0 {
                return Err(truncated(io::ErrorKind::UnexpectedEof.into()));
            }
            let step = available.min(n.min(usize::MAX as u64) as usize);
            self.inner.consume(step);
            n -= step as u64;
        }
        self.remaining = 0;
        self.padding = 0;
        Ok(())
    }
}

fn pad(size: u64) -> u64 {
    (BLOCK - size % BLOCK) % BLOCK
}

fn truncated(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        bad("archive ends in the middle of a member")
    } else {
        e
    }
}

/// Fills a block; false at a clean end of stream, an error on a partial block.
fn read_block<R: Read>(r: &mut R, block: &mut [u8]) -> io::Result<bool> {
    let mut filled = 0;
    while filled < block.len() {
        match r.read(&mut block[filled..]) {
            Ok(0) if filled == 0 => return Ok(false),
            Ok(0) => return Err(bad("archive ends in the middle of a header")),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// The current member's data.
pub struct DataReader<'a, R> {
    tar: &'a mut TarReader<R>,
}

impl<R: BufRead> Read for DataReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = buf
            .len()
            .min(self.tar.remaining.min(usize::MAX as u64) as usize);
        if want == 0 {
            return Ok(0);
        }
        let n = self.tar.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(truncated(io::ErrorKind::UnexpectedEof.into()));
        }
        self.tar.remaining -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
