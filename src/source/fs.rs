//! Read-only file access to an image store: a directory, or a tar file read in
//! place (headers indexed once, entries streamed by offset, nothing extracted).
//! Only regular files inside the store are read (no symlink out of it, no
//! device or FIFO), and small documents are capped by the bytes read.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::image::Digest;

/// Small JSON documents (configs, index.json, manifest.json) are read whole up to this size.
pub const SMALL_LIMIT: u64 = 32 << 20;
/// Manifests and nested indexes are read whole up to this size.
pub const MANIFEST_LIMIT: u64 = 4 << 20;

pub trait Fs: Send + Sync {
    /// How errors name this store, e.g. `oci-archive:img.tar`.
    fn name(&self) -> &str;
    /// Streams one file; `None` if it is not there.
    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send>, u64)>>;
}

/// Reads a small file whole (at most SMALL_LIMIT bytes), checking its size
/// and digest when they are known.
pub fn read_small(
    fs: &dyn Fs,
    path: &str,
    digest: Option<&Digest>,
    size: Option<u64>,
) -> Result<Vec<u8>> {
    read_capped(fs, path, digest, size, SMALL_LIMIT)
}

/// `read_small` with its own cap: reading stops one byte past `cap`,
/// whatever length the file or its descriptor declares.
pub fn read_capped(
    fs: &dyn Fs,
    path: &str,
    digest: Option<&Digest>,
    size: Option<u64>,
    cap: u64,
) -> Result<Vec<u8>> {
    let (r, len) = fs.open(path)?.ok_or_else(|| Error::BlobMissing {
        source_name: fs.name().to_owned(),
        what: path.to_owned(),
    })?;
    let too_large = || {
        Error::malformed(
            format!("{}: {path}", fs.name()),
            format!("more than {} MiB; refused as a JSON document", cap >> 20),
        )
    };
    if len > cap {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(len as usize);
    r.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(format!("{}: {path}", fs.name()), e))?;
    if bytes.len() as u64 > cap {
        return Err(too_large());
    }
    if let Some(size) = size {
        if bytes.len() as u64 != size {
            return Err(Error::SizeMismatch {
                digest: digest.map_or_else(|| path.to_owned(), Digest::to_string),
                expected: size,
                found: bytes.len() as u64,
            });
        }
    }
    if let Some(expected) = digest {
        let found = Digest::compute(expected.algorithm(), &bytes);
        if found != *expected {
            return Err(Error::DigestMismatch {
                expected: expected.to_string(),
                found: found.to_string(),
            });
        }
    }
    Ok(bytes)
}

pub struct DirFs {
    /// Canonical: every file read must resolve to a path under it.
    root: PathBuf,
    name: String,
}

impl DirFs {
    pub fn new(root: &Path, name: String) -> Result<Self> {
        let meta = std::fs::metadata(root).map_err(|e| Error::io(root, e))?;
        if !meta.is_dir() {
            return Err(Error::malformed(name, "not a directory"));
        }
        let root = std::fs::canonicalize(root).map_err(|e| Error::io(root, e))?;
        Ok(DirFs { root, name })
    }

    fn refuse(&self, path: &str, reason: &str) -> Error {
        Error::malformed(format!("{}: {path}", self.name), reason)
    }
}

/// What a non-regular file is, for the error that refuses it.
fn kind_of(t: std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

impl Fs for DirFs {
    fn name(&self) -> &str {
        &self.name
    }

    /// Symlinks are followed only while they stay inside the layout, and
    /// the file type is checked before opening (a FIFO would block).
    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send>, u64)>> {
        let full = self.root.join(path);
        let real = match std::fs::canonicalize(&full) {
            Ok(real) => real,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(full, e)),
        };
        if !real.starts_with(&self.root) {
            return Err(self.refuse(path, "a symlink to a file outside the layout; not followed"));
        }
        let regular = |meta: &std::fs::Metadata| -> Result<()> {
            if meta.is_file() {
                Ok(())
            } else {
                Err(self.refuse(
                    path,
                    &format!(
                        "not a regular file ({}); refused",
                        kind_of(meta.file_type())
                    ),
                ))
            }
        };
        regular(&std::fs::metadata(&real).map_err(|e| Error::io(&full, e))?)?;
        let f = File::open(&real).map_err(|e| Error::io(&full, e))?;
        let meta = f.metadata().map_err(|e| Error::io(&full, e))?;
        regular(&meta)?;
        Ok(Some((Box::new(f), meta.len())))
    }
}

#[derive(Debug, Clone)]
enum TarItem {
    File {
        offset: u64,
        size: u64,
    },
    Link(String),
    /// A link whose target is outside the archive (absolute, or `..` past its root).
    Escape,
}

pub struct TarFs {
    file: PathBuf,
    name: String,
    items: HashMap<String, TarItem>,
}

impl TarFs {
    /// Indexes the archive's headers (seeking over contents).
    pub fn new(file: &Path, name: String) -> Result<Self> {
        let f = File::open(file).map_err(|e| Error::io(file, e))?;
        // The tar crate's messages can quote header bytes: say what kind of
        // failure it was, never what the input holds.
        let bad = |e: std::io::Error| {
            Error::malformed(
                name.clone(),
                format!("not a tar archive, or a corrupt one ({})", e.kind()),
            )
        };
        let mut archive = tar::Archive::new(f);
        let mut items = HashMap::new();
        for entry in archive.entries_with_seek().map_err(bad)? {
            let entry = entry.map_err(bad)?;
            let path = normalise(&String::from_utf8_lossy(&entry.path_bytes()));
            let kind = entry.header().entry_type();
            let item = if kind.is_file() {
                TarItem::File {
                    offset: entry.raw_file_position(),
                    size: entry.size(),
                }
            } else if kind.is_symlink() || kind.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned())
                    .unwrap_or_default();
                // A symlink is relative to its directory, a hard link to the root.
                let (base, target) = if kind.is_symlink() {
                    (path.as_str(), target.as_str())
                } else {
                    ("", target.trim_start_matches('/'))
                };
                match resolve_inside(base, target) {
                    Some(target) => TarItem::Link(target),
                    None => TarItem::Escape,
                }
            } else {
                continue;
            };
            items.insert(path, item);
        }
        if items.is_empty() {
            return Err(Error::malformed(name, "empty or not a tar archive"));
        }
        Ok(TarFs {
            file: file.to_owned(),
            name,
            items,
        })
    }

    fn lookup(&self, wanted: &str) -> Result<Option<(u64, u64)>> {
        let mut path = normalise(wanted);
        for _ in 0..16 {
            match self.items.get(&path) {
                None => return Ok(None),
                Some(TarItem::File { offset, size }) => return Ok(Some((*offset, *size))),
                Some(TarItem::Link(target)) => path = target.clone(),
                Some(TarItem::Escape) => {
                    return Err(Error::malformed(
                        format!("{}: {wanted}", self.name),
                        "a link that leaves the archive; not followed",
                    ))
                }
            }
        }
        Ok(None)
    }
}

impl Fs for TarFs {
    fn name(&self) -> &str {
        &self.name
    }

    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send>, u64)>> {
        let Some((offset, size)) = self.lookup(path)? else {
            return Ok(None);
        };
        let mut f = File::open(&self.file).map_err(|e| Error::io(&self.file, e))?;
        f.seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io(&self.file, e))?;
        Ok(Some((Box::new(f.take(size)), size)))
    }
}

fn normalise(path: &str) -> String {
    path.split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect::<Vec<_>>()
        .join("/")
}

/// A link target resolved against the directory of `link_path` (empty: the
/// archive root); None when it is absolute or climbs out of the archive.
fn resolve_inside(link_path: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = link_path.split('/').filter(|p| !p.is_empty()).collect();
    parts.pop();
    for p in target.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_inside_the_archive_or_not_at_all() {
        let r = |l, t| resolve_inside(l, t);
        assert_eq!(r("abc/layer.tar", "../x.tar").as_deref(), Some("x.tar"));
        assert_eq!(r("a/b", "c").as_deref(), Some("a/c"));
        assert_eq!(r("", "blobs/x").as_deref(), Some("blobs/x"));
        assert_eq!(r("a/b", "../../etc/passwd"), None);
        assert_eq!(r("a/b", "/etc/passwd"), None);
        assert_eq!(normalise("./blobs//sha256/x"), "blobs/sha256/x");
    }
}
