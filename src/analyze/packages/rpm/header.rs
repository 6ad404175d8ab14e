//! One rpm header as an rpm database stores it (no 8-byte magic prefix):
//! index count, data length, 16-byte index entries, then the data store.
//! Every count and offset is checked against the blob; nothing panics.

use thiserror::Error;

/// Index entries a header may declare (rpm's own limit is 0xffff).
pub const MAX_ENTRIES: u32 = 65_536;
/// Files one package may list (the largest real ones list tens of thousands).
pub const MAX_FILES: usize = 262_144;
/// Bytes of one path (Linux's PATH_MAX).
pub const MAX_PATH: usize = 4096;
/// Bytes of one package's paths together: directory names are shared, so a
/// small header can spell far more (the largest real ones need a few MB).
pub const MAX_PATH_BYTES: usize = 32 << 20;

const ENTRY: usize = 16;

mod tag {
    pub const NAME: u32 = 1000;
    pub const VERSION: u32 = 1001;
    pub const RELEASE: u32 = 1002;
    pub const EPOCH: u32 = 1003;
    pub const SIZE: u32 = 1009;
    pub const ARCH: u32 = 1022;
    pub const SOURCERPM: u32 = 1044;
    pub const PROVIDENAME: u32 = 1047;
    pub const REQUIRENAME: u32 = 1049;
    pub const FILESIZES: u32 = 1028;
    pub const FILEMODES: u32 = 1030;
    pub const DIRINDEXES: u32 = 1116;
    pub const BASENAMES: u32 = 1117;
    pub const DIRNAMES: u32 = 1118;
    pub const LONGFILESIZES: u32 = 5008;
    pub const LONGSIZE: u32 = 5009;
}

mod kind {
    pub const INT16: u32 = 3;
    pub const INT32: u32 = 4;
    pub const INT64: u32 = 5;
    pub const STRING: u32 = 6;
    pub const STRING_ARRAY: u32 = 8;
    pub const I18NSTRING: u32 = 9;
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum HeaderError {
    #[error("header shorter than its {0}")]
    Truncated(&'static str),
    #[error("header declares {0} index entries (at most {MAX_ENTRIES})")]
    TooManyEntries(u32),
    #[error("tag {tag}: {what}")]
    BadTag { tag: u32, what: &'static str },
    #[error("no {0}")]
    Missing(&'static str),
}

/// What strata takes from a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmPackage {
    pub name: String,
    /// `[epoch:]version-release`, as rpm and syft print it.
    pub version: String,
    pub arch: Option<String>,
    /// SIZE (LONGSIZE when present), else the sum of the file sizes.
    pub size: Option<u64>,
    /// SOURCERPM: the source package (a purl's `upstream`).
    pub source: Option<String>,
    /// REQUIRENAME and PROVIDENAME, at most `deps::MAX_REQUIRES` and
    /// `deps::MAX_PROVIDES` of each (the rest: `deps_cut`).
    pub requires: Vec<String>,
    pub provides: Vec<String>,
    pub deps_cut: bool,
}

struct Entry {
    tag: u32,
    kind: u32,
    offset: usize,
    count: usize,
}

/// A parsed index over a borrowed blob.
pub struct Header<'a> {
    entries: Vec<Entry>,
    data: &'a [u8],
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl<'a> Header<'a> {
    pub fn parse(blob: &'a [u8]) -> Result<Self, HeaderError> {
        let il = be32(blob, 0).ok_or(HeaderError::Truncated("index count"))?;
        let dl = be32(blob, 4).ok_or(HeaderError::Truncated("data length"))?;
        if il > MAX_ENTRIES {
            return Err(HeaderError::TooManyEntries(il));
        }
        let index_end = 8 + il as usize * ENTRY;
        let data_end = index_end
            .checked_add(dl as usize)
            .ok_or(HeaderError::Truncated("data store"))?;
        if blob.len() < index_end {
            return Err(HeaderError::Truncated("index"));
        }
        let data = blob
            .get(index_end..data_end)
            .ok_or(HeaderError::Truncated("data store"))?;
        let mut entries = Vec::with_capacity(il as usize);
        for raw in blob[8..index_end].chunks_exact(ENTRY) {
            let field = |i: usize| be32(raw, i * 4).unwrap_or_default();
            let (tag, kind, offset, count) = (field(0), field(1), field(2), field(3));
            // An entry pointing outside the store is dropped: its tag reads
            // as absent.
            if offset as usize >= data.len() || count == 0 {
                continue;
            }
            entries.push(Entry {
                tag,
                kind,
                offset: offset as usize,
                count: count as usize,
            });
        }
        Ok(Header { entries, data })
    }

    /// The last entry of `tag`: entries past the immutable region (rpm's
    /// "dribble" entries, added after install) replace the region's own.
    fn entry(&self, tag: u32) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.tag == tag)
    }

    /// The strings of a STRING, STRING_ARRAY or I18NSTRING tag (the first
    /// translation of an I18NSTRING), at most `keep` of them (each slice
    /// costs 16 bytes, so a count is never trusted to size the list); None
    /// when absent.
    fn strings(&self, tag: u32, keep: usize) -> Result<Option<Vec<&'a [u8]>>, HeaderError> {
        let Some(e) = self.entry(tag) else {
            return Ok(None);
        };
        let count = match e.kind {
            kind::STRING => 1,
            kind::I18NSTRING => 1,
            kind::STRING_ARRAY => e.count,
            _ => {
                return Err(HeaderError::BadTag {
                    tag,
                    what: "not a string",
                })
            }
        };
        // Each string takes at least its NUL byte.
        let mut rest = &self.data[e.offset..];
        if count > rest.len() {
            return Err(HeaderError::BadTag {
                tag,
                what: "count past the data store",
            });
        }
        let count = count.min(keep);
        let mut out = Vec::with_capacity(count.min(1024));
        for _ in 0..count {
            let nul = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or(HeaderError::BadTag {
                    tag,
                    what: "unterminated string",
                })?;
            out.push(&rest[..nul]);
            rest = &rest[nul + 1..];
        }
        Ok(Some(out))
    }

    fn string(&self, tag: u32) -> Result<Option<String>, HeaderError> {
        Ok(self
            .strings(tag, 1)?
            .and_then(|s| s.first().map(|s| String::from_utf8_lossy(s).into_owned())))
    }

    /// The numbers of an INT16, INT32 or INT64 tag, widened as they are
    /// read (a count never sizes an allocation); None when absent.
    fn numbers(
        &self,
        tag: u32,
    ) -> Result<Option<impl ExactSizeIterator<Item = u64> + 'a>, HeaderError> {
        let Some(e) = self.entry(tag) else {
            return Ok(None);
        };
        let width = match e.kind {
            kind::INT16 => 2,
            kind::INT32 => 4,
            kind::INT64 => 8,
            _ => {
                return Err(HeaderError::BadTag {
                    tag,
                    what: "not a number",
                })
            }
        };
        let bytes = e
            .count
            .checked_mul(width)
            .and_then(|n| self.data.get(e.offset..e.offset.checked_add(n)?))
            .ok_or(HeaderError::BadTag {
                tag,
                what: "count past the data store",
            })?;
        Ok(Some(bytes.chunks_exact(width).map(|c| {
            c.iter().fold(0u64, |n, &b| n << 8 | u64::from(b))
        })))
    }

    fn number(&self, tag: u32) -> Result<Option<u64>, HeaderError> {
        Ok(self.numbers(tag)?.and_then(|mut n| n.next()))
    }

    /// Each non-directory file path from BASENAMES, DIRNAMES and DIRINDEXES
    /// (relative, no leading `/`), handed to `each` as it is spelled: one
    /// path in memory at a time. An error stops the walk (paths already
    /// handed out then belong to no package).
    pub fn each_file(&self, mut each: impl FnMut(&[u8])) -> Result<(), HeaderError> {
        let Some(e) = self.entry(tag::BASENAMES) else {
            return Ok(());
        };
        if e.count > MAX_FILES {
            return Err(HeaderError::BadTag {
                tag: tag::BASENAMES,
                what: "more files than strata reads in one package",
            });
        }
        let bases = self.strings(tag::BASENAMES, MAX_FILES)?.unwrap_or_default();
        // A package has no more directories than files; a longer DIRNAMES
        // is read only as far as an index can reach.
        let dirs = self
            .strings(tag::DIRNAMES, bases.len())?
            .unwrap_or_default();
        let index: Vec<u64> = match self.numbers(tag::DIRINDEXES)? {
            Some(n) if n.len() == bases.len() => n.collect(),
            None if bases.is_empty() => Vec::new(),
            _ => {
                return Err(HeaderError::BadTag {
                    tag: tag::DIRINDEXES,
                    what: "count differs from BASENAMES",
                })
            }
        };
        let modes: Vec<u64> = self
            .numbers(tag::FILEMODES)?
            .map(|n| n.take(bases.len()).collect())
            .unwrap_or_default();
        let (mut path, mut bytes) = (Vec::new(), 0usize);
        for (i, (base, &dir)) in bases.iter().zip(&index).enumerate() {
            if modes.get(i).is_some_and(|m| m & 0o170_000 == 0o040_000) {
                continue;
            }
            let dir =
                usize::try_from(dir)
                    .ok()
                    .and_then(|d| dirs.get(d))
                    .ok_or(HeaderError::BadTag {
                        tag: tag::DIRINDEXES,
                        what: "index past DIRNAMES",
                    })?;
            let bad = |what| HeaderError::BadTag {
                tag: tag::BASENAMES,
                what,
            };
            let len = dir.len() + base.len();
            if len > MAX_PATH {
                return Err(bad("a path longer than PATH_MAX"));
            }
            bytes += len;
            if bytes > MAX_PATH_BYTES {
                return Err(bad("more path bytes than strata reads in one package"));
            }
            path.clear();
            path.extend_from_slice(dir);
            path.extend_from_slice(base);
            let lead = path.iter().take_while(|&&b| b == b'/').count();
            if lead < path.len() {
                each(&path[lead..]);
            }
        }
        Ok(())
    }

    /// The package this header describes.
    pub fn package(&self) -> Result<RpmPackage, HeaderError> {
        let name = self
            .string(tag::NAME)?
            .ok_or(HeaderError::Missing("NAME"))?;
        let version = self
            .string(tag::VERSION)?
            .ok_or(HeaderError::Missing("VERSION"))?;
        let mut evr = match self.number(tag::EPOCH)? {
            Some(epoch) => format!("{epoch}:{version}"),
            None => version,
        };
        if let Some(release) = self.string(tag::RELEASE)? {
            evr = format!("{evr}-{release}");
        }
        let declared = match self.number(tag::LONGSIZE)? {
            Some(s) => Some(s),
            None => self.number(tag::SIZE)?,
        };
        let size = match declared {
            Some(s) => Some(s),
            None => match self.numbers(tag::LONGFILESIZES)? {
                Some(s) => Some(s.fold(0u64, u64::saturating_add)),
                None => self
                    .numbers(tag::FILESIZES)?
                    .map(|s| s.fold(0u64, u64::saturating_add)),
            },
        };
        use crate::analyze::packages::deps::{MAX_PROVIDES, MAX_REQUIRES};
        let mut deps_cut = false;
        let mut names = |tag: u32, keep: usize| -> Result<Vec<String>, HeaderError> {
            let all = self.strings(tag, keep + 1)?.unwrap_or_default();
            deps_cut |= all.len() > keep;
            Ok(all
                .iter()
                .take(keep)
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect())
        };
        let requires = names(tag::REQUIRENAME, MAX_REQUIRES)?;
        let provides = names(tag::PROVIDENAME, MAX_PROVIDES)?;
        Ok(RpmPackage {
            name,
            version: evr,
            arch: self.string(tag::ARCH)?,
            size,
            source: self.string(tag::SOURCERPM)?,
            requires,
            provides,
            deps_cut,
        })
    }
}

#[cfg(test)]
#[path = "header_tests.rs"]
mod tests;
