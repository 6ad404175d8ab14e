//! Read-only file access to an image store: a directory, or a tar file read in
//! place (headers indexed once, entries streamed by offset, nothing extracted).

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::image::Digest;

/// Small JSON documents (manifests, configs, indexes) are read whole up to this size.
const SMALL_LIMIT: u64 = 32 << 20;

pub trait Fs: Send + Sync {
    /// How errors name this store, e.g. `oci-archive:img.tar`.
    fn name(&self) -> &str;
    /// Streams one file; `None` if it is not there.
    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send>, u64)>>;
}

/// Reads a small file whole, checking its size and digest when they are known.
pub fn read_small(
    fs: &dyn Fs,
    path: &str,
    digest: Option<&Digest>,
    size: Option<u64>,
) -> Result<Vec<u8>> {
    let (mut r, len) = fs.open(path)?.ok_or_else(|| Error::BlobMissing {
        source_name: fs.name().to_owned(),
        what: path.to_owned(),
    })?;
    if len > SMALL_LIMIT {
        return Err(Error::malformed(
            format!("{}: {path}", fs.name()),
            format!("{len} bytes is too large for a JSON document"),
        ));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    r.read_to_end(&mut bytes)
        .map_err(|e| Error::io(format!("{}: {path}", fs.name()), e))?;
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
    root: PathBuf,
    name: String,
}

impl DirFs {
    pub fn new(root: &Path, name: String) -> Result<Self> {
        let meta = std::fs::metadata(root).map_err(|e| Error::io(root, e))?;
        if !meta.is_dir() {
            return Err(Error::malformed(name, "not a directory"));
        }
        Ok(DirFs {
            root: root.to_owned(),
            name,
        })
    }
}

impl Fs for DirFs {
    fn name(&self) -> &str {
        &self.name
    }

    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send>, u64)>> {
        let full = self.root.join(path);
        match File::open(&full) {
            Ok(f) => {
                let len = f.metadata().map_err(|e| Error::io(&full, e))?.len();
                Ok(Some((Box::new(f), len)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(full, e)),
        }
    }
}

#[derive(Debug, Clone)]
enum TarItem {
    File { offset: u64, size: u64 },
    Link(String),
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
        let bad =
            |e: std::io::Error| Error::malformed(name.clone(), format!("not a tar archive: {e}"));
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
                let target = if kind.is_symlink() {
                    resolve_relative(&path, &target)
                } else {
                    normalise(&target)
                };
                TarItem::Link(target)
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

    fn lookup(&self, path: &str) -> Option<(u64, u64)> {
        let mut path = normalise(path);
        for _ in 0..16 {
            match self.items.get(&path)? {
                TarItem::File { offset, size } => return Some((*offset, *size)),
                TarItem::Link(target) => path = target.clone(),
            }
        }
        None
    }
}

impl Fs for TarFs {
    fn name(&self) -> &str {
        &self.name
    }

    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send>, u64)>> {
        let Some((offset, size)) = self.lookup(path) else {
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

/// A symlink target inside the archive, resolved against the link's directory.
fn resolve_relative(link_path: &str, target: &str) -> String {
    if target.starts_with('/') {
        return normalise(target);
    }
    let mut parts: Vec<&str> = link_path.split('/').collect();
    parts.pop();
    for p in target.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_resolve_inside_the_archive() {
        assert_eq!(resolve_relative("abc/layer.tar", "../x.tar"), "x.tar");
        assert_eq!(resolve_relative("a/b", "c"), "a/c");
        assert_eq!(normalise("./blobs//sha256/x"), "blobs/sha256/x");
    }
}
