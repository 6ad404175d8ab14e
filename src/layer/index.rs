//! LayerIndex: what one layer holds — every entry, its totals, and its package databases.

use serde::{Deserialize, Serialize};

use crate::image::{Compression, Digest};

/// Bump when the shape of a cached index changes; old cache entries are ignored.
pub const INDEX_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    File,
    Dir,
    Symlink,
    HardLink,
    CharDevice,
    BlockDevice,
    Fifo,
    /// `.wh.NAME`: deletes NAME from the layers below; `path` is NAME.
    Whiteout,
    /// `.wh..wh..opq`: hides everything below the directory in lower layers; `path` is the directory.
    OpaqueDir,
    Other,
}

/// One tar entry. Paths are relative to the image root, without a leading
/// `./` or `/`, and never contain `..` (the walk rejects such layers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub path: String,
    pub kind: EntryKind,
    /// Regular files: content bytes. Hard links: the size of the file they
    /// link to (not counted again in the layer's `files`). Others: 0.
    #[serde(default)]
    pub size: u64,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
    /// Symlink or hard-link target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// xxh3-128 of a regular file's content, 32 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// A package database file captured whole during the scan, so package views
/// never need the blob again (dpkg `status`, `status.d/*`, apk `installed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageDb {
    pub path: String,
    pub content: String,
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
    /// Sum of regular-file sizes, hard links counted once.
    pub files: u64,
    /// Every tar entry, whiteouts and directories included.
    pub entries: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerIndex {
    pub version: u32,
    pub summary: LayerSummary,
    pub entries: Vec<Entry>,
    #[serde(default)]
    pub package_dbs: Vec<PackageDb>,
}

/// Paths whose content is kept in the index as a package database.
pub fn is_package_db(path: &str) -> bool {
    path == "var/lib/dpkg/status"
        || path == "lib/apk/db/installed"
        || path
            .strip_prefix("var/lib/dpkg/status.d/")
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
}

/// Package databases larger than this are not captured (their entry still is).
pub const PACKAGE_DB_LIMIT: u64 = 16 << 20;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_db_paths() {
        assert!(is_package_db("var/lib/dpkg/status"));
        assert!(is_package_db("lib/apk/db/installed"));
        assert!(is_package_db("var/lib/dpkg/status.d/base"));
        assert!(!is_package_db("var/lib/dpkg/status.d/"));
        assert!(!is_package_db("var/lib/dpkg/status-old"));
    }
}
