//! The layer index: what one layer holds — its entries sorted by path, its
//! verified figures and its package databases — and the order of paths that
//! every reader of indexes (the overlay, du, diff) relies on.

mod format;
mod sort;

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::image::{Compression, Digest};
pub use format::{Footer, IndexReader, IndexWriter, FORMAT_VERSION};
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
/// never need the blob again (dpkg `status`, `info/*.list`, apk `installed`,
/// Python `METADATA`/`RECORD`, npm `package.json`, gemspecs, rpm databases).
/// A file over the capture budget is still listed, `skipped` and empty, so a
/// reader can say which database it could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageDb {
    pub path: String,
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

/// rpm's databases: sqlite (Fedora, RHEL/UBI 9) and Berkeley DB (RHEL/UBI 8, CentOS 7).
const RPM_DATABASES: [&[u8]; 3] = [
    b"var/lib/rpm/rpmdb.sqlite",
    b"usr/lib/sysimage/rpm/rpmdb.sqlite",
    b"var/lib/rpm/Packages",
];

/// Paths whose content is kept in the index as a package database.
pub fn is_package_db(path: &[u8]) -> bool {
    if path == b"var/lib/dpkg/status"
        || path == b"lib/apk/db/installed"
        || RPM_DATABASES.contains(&path)
    {
        return true;
    }
    // The base name and up to three parents, without allocating (a hot path).
    let mut up = path.rsplit(|&b| b == b'/');
    let base = up.next().unwrap_or_default();
    let parents = [up.next(), up.next(), up.next()];
    let parent = |i: usize| parents[i - 1];
    if let Some(rest) = path.strip_prefix(b"var/lib/dpkg/") {
        return match rest.split(|&b| b == b'/').collect::<Vec<_>>()[..] {
            [b"status.d", name] => !name.is_empty(),
            [b"info", name] => name.len() > 5 && name.ends_with(b".list"),
            _ => false,
        };
    }
    // Python metadata wherever it is, as syft finds it: not only in
    // site-packages but vendored (`setuptools/_vendor/*.dist-info`) or on a
    // program's own path (`google_appengine/lib/…/*.egg-info`).
    let python = |suffix: &[u8], files: [&[u8]; 2]| {
        files.contains(&base)
            && parent(1).is_some_and(|d| d.len() > suffix.len() && d.ends_with(suffix))
    };
    if python(b".dist-info", [b"METADATA", b"RECORD"])
        || python(b".egg-info", [b"PKG-INFO", b"installed-files.txt"])
    {
        return true;
    }
    // distutils: `NAME-VERSION.egg-info` as a single PKG-INFO file.
    if base.len() > 9 && base.ends_with(b".egg-info") && parent(1).is_some() {
        return true;
    }
    if base == b"package.json" {
        let name = parent(1).filter(|d| !d.is_empty() && !d.starts_with(b"."));
        return match (name, parent(2), parent(3)) {
            (Some(_), Some(b"node_modules"), _) => true,
            (Some(_), Some(scope), Some(b"node_modules")) => scope.starts_with(b"@"),
            _ => false,
        };
    }
    base.len() > 8 && base.ends_with(b".gemspec") && parent(1) == Some(b"specifications")
}

/// Package database files larger than this are not captured (recorded as
/// skipped); rpm databases excepted (their budget is their limit).
pub const PACKAGE_DB_LIMIT: u64 = 16 << 20;

/// Which budget a captured file draws on. Each has its own, so Python, npm
/// or gem metadata earlier in the tar can never push the system's own
/// package database over budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureBudget {
    /// dpkg (`status`, `status.d/*`, `info/*.list`) and apk.
    System = 0,
    /// An rpm database (one file holds every package's header, and a
    /// Berkeley DB `Packages` of a large RHEL 8 image passes 16 MiB).
    Rpm = 1,
    /// Language ecosystems: Python, npm, RubyGems.
    Language = 2,
}

impl CaptureBudget {
    /// Bytes of one layer's captured files drawing on each budget (the rest: skipped).
    pub const LIMITS: [u64; 3] = [32 << 20, 64 << 20, 48 << 20];

    pub fn of(path: &[u8]) -> CaptureBudget {
        match path {
            p if RPM_DATABASES.contains(&p) => CaptureBudget::Rpm,
            b"lib/apk/db/installed" => CaptureBudget::System,
            p if p.starts_with(b"var/lib/dpkg/") => CaptureBudget::System,
            _ => CaptureBudget::Language,
        }
    }

    pub fn limit(self) -> u64 {
        Self::LIMITS[self as usize]
    }
}

/// The listing of one layer's package database files, captured or skipped:
/// each costs its path and its record. A layer of millions of empty
/// `*.egg-info` or `package.json` files with 64 KiB names would otherwise
/// hold gigabytes (and a footer nobody can read back). Past it, files are
/// hashed but not listed; the inventory names them as over the budget.
pub const PACKAGE_DB_LIST_LIMIT: u64 = 8 << 20;
/// What one listed file costs besides its path.
pub const PACKAGE_DB_RECORD_COST: u64 = std::mem::size_of::<PackageDb>() as u64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_db_paths() {
        assert!(is_package_db(b"var/lib/dpkg/status"));
        assert!(is_package_db(b"lib/apk/db/installed"));
        assert!(is_package_db(b"var/lib/dpkg/status.d/base"));
        assert!(!is_package_db(b"var/lib/dpkg/status.d/"));
        assert!(!is_package_db(b"var/lib/dpkg/status-old"));
        for yes in [
            "var/lib/dpkg/info/libc6:amd64.list",
            "usr/lib/sysimage/rpm/rpmdb.sqlite",
            "var/lib/rpm/Packages",
            "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
            "opt/venv/lib/python3.12/site-packages/requests-2.31.0.dist-info/RECORD",
            "usr/lib/python3/dist-packages/foo.egg-info/PKG-INFO",
            "usr/lib/python3/dist-packages/foo.egg-info/installed-files.txt",
            "usr/lib/python3/dist-packages/python_apt-2.6.0.egg-info",
            // Vendored or on a program's own path: syft lists these too.
            "srv/six-1.16.0.dist-info/METADATA",
            "opt/venv/lib/python3.12/site-packages/setuptools/_vendor/zipp-3.19.2.dist-info/METADATA",
            "usr/lib/google-cloud-sdk/platform/google_appengine/lib/antlr3/antlr_python_runtime.egg-info/PKG-INFO",
            "app/node_modules/left-pad/package.json",
            "app/node_modules/@babel/core/package.json",
            "app/node_modules/a/node_modules/b/package.json",
            "usr/local/bundle/specifications/rake-13.0.6.gemspec",
        ] {
            assert!(is_package_db(yes.as_bytes()), "{yes}");
        }
        for no in [
            "var/lib/dpkg/info/libc6.md5sums",
            "var/lib/dpkg/info/x/y.list",
            "usr/lib/python3/dist-packages/six.dist-info/WHEEL",
            "six-1.16.0.egg-info",
            "srv/.dist-info/METADATA",
            "app/package.json",
            "app/node_modules/a/lib/package.json",
            "app/node_modules/.bin/package.json",
            "app/node_modules/scope/core/package.json",
            "gems/rake/rake.gemspec",
            "package.json",
        ] {
            assert!(!is_package_db(no.as_bytes()), "{no}");
        }
    }

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
