//! The layer index: what one layer holds — its entries sorted by path, its
//! verified figures and its package databases — and the order of paths that
//! every reader of indexes (the overlay, du, diff) relies on.

mod blocks;
mod format;
mod read;
mod sort;

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::image::{Compression, Digest};
pub use format::{Footer, IndexWriter, FORMAT_VERSION};
pub use read::{open_regular, IndexReader};
pub use sort::IndexBuilder;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    HardLink,
    CharDevice,
    BlockDevice,
    Fifo,
    /// `.wh.NAME`: deletes NAME (and what is below it) from the layers below; `path` is NAME.
    Whiteout,
    /// `.wh..wh..opq`: hides what lower layers hold below the directory; `path` is the directory.
    OpaqueDir,
    Other,
}

impl EntryKind {
    pub(crate) fn code(self) -> u8 {
        self as u8
    }

    pub(crate) fn from_code(code: u8) -> Option<EntryKind> {
        use EntryKind::*;
        [
            File,
            Dir,
            Symlink,
            HardLink,
            CharDevice,
            BlockDevice,
            Fifo,
            Whiteout,
            OpaqueDir,
            Other,
        ]
        .get(code as usize)
        .copied()
    }

    /// Whiteout and opaque markers sort before a real entry of the same path.
    pub fn rank(self) -> u8 {
        match self {
            EntryKind::Whiteout => 0,
            EntryKind::OpaqueDir => 1,
            _ => 2,
        }
    }

    /// A marker that changes lower layers rather than adding a file.
    pub fn is_marker(self) -> bool {
        self.rank() < 2
    }
}

/// One index entry. Paths are bytes as the tar holds them, relative to the
/// image root (no leading `./` or `/`, never `..`); the root itself is "".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: Vec<u8>,
    pub kind: EntryKind,
    /// Regular files: content bytes (a sparse file's logical size). Others,
    /// hard links included (their target counts): 0.
    pub size: u64,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    /// Symlink or hard-link target.
    pub link: Option<Vec<u8>>,
    /// xxh3-128 of a regular file's content.
    pub hash: Option<[u8; 16]>,
}

impl Entry {
    /// The path for people: lossy UTF-8.
    pub fn path_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.path)
    }

    /// A plain entry for tests: mode 0644, owned by root, no link or hash.
    #[cfg(test)]
    pub(crate) fn sample(path: &str, kind: EntryKind, size: u64) -> Entry {
        Entry {
            path: path.as_bytes().to_vec(),
            kind,
            size,
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: 0,
            link: None,
            hash: None,
        }
    }

    /// Bytes this entry adds to a "files" sum.
    pub fn file_bytes(&self) -> u64 {
        if self.kind == EntryKind::File {
            self.size
        } else {
            0
        }
    }
}

/// The order of an index: by path component (`a/b` right after `a`, before
/// `a.b`), then markers before the real entry of the same path. A
/// directory's whole subtree is contiguous and follows it.
pub fn entry_order(a: &Entry, b: &Entry) -> Ordering {
    path_order(&a.path, &b.path).then(a.kind.rank().cmp(&b.kind.rank()))
}

/// Byte order with `/` below every other byte.
pub fn path_order(a: &[u8], b: &[u8]) -> Ordering {
    let key = |c: u8| if c == b'/' { 0 } else { u16::from(c) + 1 };
    let i = common_prefix(a, b);
    match (a.get(i), b.get(i)) {
        (Some(&x), Some(&y)) => key(x).cmp(&key(y)),
        _ => a.len().cmp(&b.len()),
    }
}

/// The length of the longest common prefix of `a` and `b`. Paths of one
/// subtree share long prefixes (64 KiB in a deep tree), so this compares
/// blocks (memcmp), then words, never byte by byte.
pub fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 256;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut i = 0;
    while i + BLOCK <= n && a[i..i + BLOCK] == b[i..i + BLOCK] {
        i += BLOCK;
    }
    let word = |s: &[u8]| u64::from_le_bytes(s.try_into().unwrap_or_default());
    while i + 8 <= n {
        let x = word(&a[i..i + 8]) ^ word(&b[i..i + 8]);
        if x != 0 {
            return i + (x.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// Bytes `0x80` where a byte of `w` is `/`, `0` elsewhere (exact, no carries).
fn slashes(w: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = w ^ (0x0101_0101_0101_0101 * u64::from(b'/'));
    !(((x & LOW7) + LOW7) | x | LOW7)
}

fn word(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().unwrap_or_default())
}

/// The first `/`, eight bytes at a time (names reach 64 KiB).
pub fn find_slash(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i + 8 <= bytes.len() {
        let hits = slashes(word(&bytes[i..i + 8]));
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes[i..].iter().position(|&b| b == b'/').map(|p| i + p)
}

/// The last `/`, eight bytes at a time.
pub fn rfind_slash(bytes: &[u8]) -> Option<usize> {
    let mut end = bytes.len();
    while end >= 8 {
        let hits = slashes(word(&bytes[end - 8..end]));
        if hits != 0 {
            return Some(end - 8 + 7 - (hits.leading_zeros() / 8) as usize);
        }
        end -= 8;
    }
    bytes[..end].iter().rposition(|&b| b == b'/')
}

/// Is `path` strictly inside directory `dir` ("" is the root)?
pub fn is_below(path: &[u8], dir: &[u8]) -> bool {
    if dir.is_empty() {
        return !path.is_empty();
    }
    path.len() > dir.len() && path.starts_with(dir) && path[dir.len()] == b'/'
}

/// A package database file captured whole during the scan, so package views
/// never need the blob again (what `layer::capture`'s catalogs match).
/// A file over the capture budget is still listed, `skipped` and empty, so a
/// reader can say which database it could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageDb {
    pub path: String,
    /// As bytes (postcard: the same encoding as a sequence of u8, read and
    /// written whole rather than byte by byte).
    #[serde(with = "serde_bytes")]
    pub content: Vec<u8>,
    /// The file's size in the layer.
    pub size: u64,
    /// Over the per-file or per-layer budget: `content` is empty.
    pub skipped: bool,
}

/// The verified figures of one layer (see DESIGN.md's size vocabulary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerSummary {
    pub digest: Digest,
    pub diff_id: Digest,
    pub compression: Compression,
    /// Blob bytes (digest-verified).
    pub compressed: u64,
    /// Tar stream bytes (diff_id-verified).
    pub uncompressed: u64,
    /// Sum of regular-file sizes, hard links counted once; a path written
    /// twice in one layer counts once (what extraction leaves).
    pub files: u64,
    /// Index entries: each path once, whiteouts and directories included.
    pub entries: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subtree_follows_its_directory() {
        let mut paths: Vec<&[u8]> = vec![b"a.b", b"a/z", b"a", b"a-b", b"a/b/c", b"", b"b"];
        paths.sort_by(|x, y| path_order(x, y));
        assert_eq!(
            paths,
            vec![&b""[..], b"a", b"a/b/c", b"a/z", b"a-b", b"a.b", b"b"]
        );
        assert!(is_below(b"a/b", b"a") && !is_below(b"ab", b"a") && !is_below(b"a", b"a"));
        assert!(is_below(b"a", b""));
    }

    /// Captured content is written as bytes: the same encoding as the
    /// sequence of u8 earlier indexes hold.
    #[test]
    fn package_db_content_encodes_as_a_sequence_of_bytes_did() {
        #[derive(Serialize)]
        struct Plain {
            path: String,
            content: Vec<u8>,
            size: u64,
            skipped: bool,
        }
        let content: Vec<u8> = (0..=255u8).chain(0..=255u8).collect();
        let db = PackageDb {
            path: "var/lib/dpkg/status".into(),
            content: content.clone(),
            size: 512,
            skipped: false,
        };
        let plain = Plain {
            path: db.path.clone(),
            content,
            size: 512,
            skipped: false,
        };
        let bytes = postcard::to_stdvec(&db).unwrap();
        assert_eq!(bytes, postcard::to_stdvec(&plain).unwrap());
        assert_eq!(postcard::from_bytes::<PackageDb>(&bytes).unwrap(), db);
    }

    #[test]
    fn common_prefixes_of_every_length_and_alignment() {
        let base: Vec<u8> = (0..700u32).map(|i| (i % 251) as u8).collect();
        for cut in [0, 1, 7, 8, 9, 255, 256, 257, 511, 600, 699] {
            let mut other = base.clone();
            other[cut] ^= 0x80;
            assert_eq!(common_prefix(&base, &other), cut);
            assert_eq!(common_prefix(&base[..cut], &base), cut);
            let naive = |a: &[u8], b: &[u8]| match a.iter().zip(b).position(|(x, y)| x != y) {
                Some(i) => i,
                None => a.len().min(b.len()),
            };
            assert_eq!(
                common_prefix(&other, &base[..650]),
                naive(&other, &base[..650])
            );
        }
        assert_eq!(path_order(b"a/b", b"a-b"), Ordering::Less);
        assert_eq!(path_order(b"a", b"a/b"), Ordering::Less);
    }

    #[test]
    fn slashes_are_found_word_by_word_as_byte_by_byte() {
        let mut path = Vec::new();
        for i in 0..300u32 {
            path.push(if i % 13 == 5 || i % 29 == 0 {
                b'/'
            } else {
                b'a' + (i % 26) as u8
            });
            path.push(0xff);
        }
        for start in 0..path.len() {
            let tail = &path[start..];
            assert_eq!(find_slash(tail), tail.iter().position(|&b| b == b'/'));
            let head = &path[..start];
            assert_eq!(rfind_slash(head), head.iter().rposition(|&b| b == b'/'));
        }
    }

    #[test]
    fn kinds_round_trip_through_their_codes() {
        for code in 0..10u8 {
            assert_eq!(EntryKind::from_code(code).unwrap().code(), code);
        }
        assert_eq!(EntryKind::from_code(10), None);
    }
}
