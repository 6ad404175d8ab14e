//! Berkeley DB hash files (rpm's `Packages` up to RHEL 8): the values of
//! every key/value pair, on the page or in overflow chains, either byte
//! order. Page numbers, offsets and chain lengths are checked against the
//! file; the values together never exceed the file's size.

use thiserror::Error;

use super::MAX_HEADERS;

const HASH_MAGIC: u32 = 0x0006_1561;
const HEADER: usize = 26;

mod page {
    pub const HASH_UNSORTED: u8 = 2;
    pub const OVERFLOW: u8 = 7;
    pub const HASH_META: u8 = 8;
    pub const HASH: u8 = 13;
}

mod item {
    pub const KEYDATA: u8 = 1;
    pub const OFFPAGE: u8 = 3;
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum BdbError {
    #[error("no Berkeley DB hash magic")]
    NotHash,
    #[error("encrypted")]
    Encrypted,
    #[error("page size {0} not a power of two from 512 to 65536")]
    PageSize(u32),
    #[error("the file ends before page {0}")]
    Truncated(u32),
    #[error("page {page}: {what}")]
    BadPage { page: u32, what: &'static str },
    #[error("more than {MAX_HEADERS} values")]
    TooMany,
    #[error("values larger than the file (shared overflow pages)")]
    TooLarge,
    #[error("more overflow pages read than the file holds (shared overflow pages)")]
    SharedOverflow,
}

struct Db<'a> {
    file: &'a [u8],
    big_endian: bool,
    page_size: usize,
    last: u32,
    /// Overflow pages read so far: each belongs to one item, so more than
    /// the file's pages means items share chains (quadratic work otherwise).
    visits: u32,
}

impl<'a> Db<'a> {
    /// The `width`-byte number at `at`, in the file's byte order.
    fn uint(&self, b: &[u8], at: usize, width: usize) -> Option<u64> {
        let raw = b.get(at..at.checked_add(width)?)?;
        let fold = |n: u64, x: &u8| n << 8 | u64::from(*x);
        Some(if self.big_endian {
            raw.iter().fold(0, fold)
        } else {
            raw.iter().rev().fold(0, fold)
        })
    }

    fn u16_at(&self, b: &[u8], at: usize) -> Option<u16> {
        self.uint(b, at, 2).map(|n| n as u16)
    }

    fn u32_at(&self, b: &[u8], at: usize) -> Option<u32> {
        self.uint(b, at, 4).map(|n| n as u32)
    }

    fn page(&self, n: u32) -> Result<&'a [u8], BdbError> {
        if n > self.last {
            return Err(BdbError::BadPage {
                page: n,
                what: "past the last page",
            });
        }
        let start = n as usize * self.page_size;
        self.file
            .get(start..start + self.page_size)
            .ok_or(BdbError::Truncated(n))
    }

    /// The `index`th item of a hash page with `n` items, checked to lie
    /// between the offset table and the page end.
    fn item(&self, p: &'a [u8], pgno: u32, n: usize, index: usize) -> Result<&'a [u8], BdbError> {
        let bad = |what| BdbError::BadPage { page: pgno, what };
        let offset = |i: usize| self.u16_at(p, HEADER + 2 * i).map(usize::from);
        let start = offset(index).ok_or(bad("offset table past the page"))?;
        let end = match index {
            0 => self.page_size,
            i => offset(i - 1).ok_or(bad("offset table past the page"))?,
        };
        if start < HEADER + 2 * n || start >= end || end > self.page_size {
            return Err(bad("item offset out of order"));
        }
        Ok(&p[start..end])
    }

    /// The bytes of an overflow chain that starts at `first` and holds `len`.
    fn overflow(&mut self, first: u32, len: usize) -> Result<Vec<u8>, BdbError> {
        if len > self.file.len() {
            return Err(BdbError::TooLarge);
        }
        let mut out = Vec::with_capacity(len);
        let mut next = first;
        // A chain visits each page at most once, so it has at most `last` links.
        for _ in 0..=self.last {
            if next == 0 {
                break;
            }
            if self.visits > self.last {
                return Err(BdbError::SharedOverflow);
            }
            self.visits += 1;
            let p = self.page(next)?;
            let bad = |what| BdbError::BadPage { page: next, what };
            if p[25] != page::OVERFLOW {
                return Err(bad("not an overflow page"));
            }
            let used = usize::from(self.u16_at(p, 22).unwrap_or_default());
            let chunk = p
                .get(HEADER..HEADER + used)
                .ok_or(bad("overflow length past the page"))?;
            if out.len() + chunk.len() > len {
                return Err(bad("overflow chain longer than its item"));
            }
            out.extend_from_slice(chunk);
            next = self.u32_at(p, 16).unwrap_or_default();
        }
        if next != 0 {
            return Err(BdbError::BadPage {
                page: first,
                what: "overflow chain loops",
            });
        }
        if out.len() != len {
            return Err(BdbError::BadPage {
                page: first,
                what: "overflow chain shorter than its item",
            });
        }
        Ok(out)
    }
}

/// The values of a hash database whose keys are not all zero bytes (rpm's
/// record 0 is a counter, not a header), in page order.
pub fn values(file: &[u8]) -> Result<Vec<Vec<u8>>, BdbError> {
    let magic = file.get(12..16).ok_or(BdbError::NotHash)?;
    let big_endian = match magic {
        m if m == HASH_MAGIC.to_le_bytes() => false,
        m if m == HASH_MAGIC.to_be_bytes() => true,
        _ => return Err(BdbError::NotHash),
    };
    let mut db = Db {
        file,
        big_endian,
        page_size: 512,
        last: 0,
        visits: 0,
    };
    let page_size = db.u32_at(file, 20).ok_or(BdbError::NotHash)?;
    if !(512..=65_536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(BdbError::PageSize(page_size));
    }
    if file.get(25) != Some(&page::HASH_META) {
        return Err(BdbError::NotHash);
    }
    if file.get(24) != Some(&0) {
        return Err(BdbError::Encrypted);
    }
    db.page_size = page_size as usize;
    db.last = db.u32_at(file, 32).ok_or(BdbError::NotHash)?;
    if (u64::from(db.last) + 1).saturating_mul(page_size.into()) > file.len() as u64 {
        return Err(BdbError::Truncated(db.last));
    }
    let (mut out, mut total) = (Vec::new(), 0usize);
    for pgno in 1..=db.last {
        let p = db.page(pgno)?;
        if p[25] != page::HASH && p[25] != page::HASH_UNSORTED {
            continue;
        }
        let n = usize::from(db.u16_at(p, 20).unwrap_or_default());
        if n % 2 != 0 || HEADER + 2 * n > db.page_size {
            return Err(BdbError::BadPage {
                page: pgno,
                what: "bad item count",
            });
        }
        for pair in 0..n / 2 {
            let key = db.item(p, pgno, n, 2 * pair)?;
            if key[0] == item::KEYDATA && key[1..].iter().all(|&b| b == 0) {
                continue;
            }
            let value = db.item(p, pgno, n, 2 * pair + 1)?;
            let bytes = match value[0] {
                item::KEYDATA => value[1..].to_vec(),
                item::OFFPAGE if value.len() >= 12 => {
                    let first = db.u32_at(value, 4).unwrap_or_default();
                    let len = db.u32_at(value, 8).unwrap_or_default() as usize;
                    db.overflow(first, len)?
                }
                _ => {
                    return Err(BdbError::BadPage {
                        page: pgno,
                        what: "unsupported item type",
                    })
                }
            };
            total += bytes.len();
            if total > file.len() {
                return Err(BdbError::TooLarge);
            }
            if out.len() == MAX_HEADERS {
                return Err(BdbError::TooMany);
            }
            out.push(bytes);
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "bdb_tests.rs"]
mod tests;
