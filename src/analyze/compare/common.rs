//! Common content (`compare --common`): bytes of regular files whose content
//! hash appears in both families, each content counted once, and the
//! directories holding them — what the two could share if built on one base.

use std::collections::{HashMap, HashSet};
use std::io;

use serde::Serialize;

use crate::image::Digest;
use crate::layer::index::{Entry, EntryKind};

/// Directories listed, biggest first.
pub const TOP_DIRECTORIES: usize = 10;

#[derive(Debug, Clone, Serialize)]
pub struct Common {
    /// Distinct non-empty file contents found in both families.
    pub files: u64,
    /// Their bytes, each content once.
    pub bytes: u64,
    /// Where the right family holds them: the first two path components.
    pub top_directories: Vec<CommonDir>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommonDir {
    pub path: String,
    pub bytes: u64,
}

fn top_dir(path: &[u8]) -> String {
    let mut parts = path.split(|&b| b == b'/');
    let parts: Vec<&[u8]> = match (parts.next(), parts.next(), parts.next()) {
        (Some(a), Some(b), Some(_)) => vec![a, b],
        (Some(a), Some(_), None) => vec![a],
        _ => vec![],
    };
    format!("/{}", String::from_utf8_lossy(&parts.join(&b'/')))
}

fn content(e: &Entry) -> Option<([u8; 16], u64)> {
    match (e.kind, e.hash) {
        (EntryKind::File, Some(h)) if e.size > 0 => Some((h, e.size)),
        _ => None,
    }
}

/// `left` and `right`: each family's distinct layer digests; `open` streams a
/// layer's index entries. Holds one hash per distinct left file content.
pub fn common_content<I>(
    left: &[&Digest],
    right: &[&Digest],
    open: impl Fn(&Digest) -> anyhow::Result<I>,
) -> anyhow::Result<Common>
where
    I: Iterator<Item = io::Result<Entry>>,
{
    let mut in_left: HashSet<[u8; 16]> = HashSet::new();
    for d in left {
        for e in open(d)? {
            if let Some((h, _)) = content(&e?) {
                in_left.insert(h);
            }
        }
    }
    let mut counted: HashSet<[u8; 16]> = HashSet::new();
    let (mut files, mut bytes) = (0, 0);
    let mut dirs: HashMap<String, u64> = HashMap::new();
    for d in right {
        for e in open(d)? {
            let e = e?;
            if let Some((h, size)) = content(&e) {
                if in_left.contains(&h) && counted.insert(h) {
                    files += 1;
                    bytes += size;
                    *dirs.entry(top_dir(&e.path)).or_default() += size;
                }
            }
        }
    }
    let mut top: Vec<CommonDir> = dirs
        .into_iter()
        .map(|(path, bytes)| CommonDir { path, bytes })
        .collect();
    top.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.path.cmp(&b.path)));
    top.truncate(TOP_DIRECTORIES);
    Ok(Common {
        files,
        bytes,
        top_directories: top,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_directories_are_two_components_deep() {
        assert_eq!(top_dir(b"usr/lib/x.so"), "/usr/lib");
        assert_eq!(top_dir(b"usr/lib/a/b"), "/usr/lib");
        assert_eq!(top_dir(b"etc/passwd"), "/etc");
        assert_eq!(top_dir(b"README"), "/");
    }
}
