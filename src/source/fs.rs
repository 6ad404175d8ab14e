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
    /// Whether a file is there (without reading it).
    fn exists(&self, path: &str) -> Result<bool> {
        Ok(self.open(path)?.is_some())
    }
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
        let meta = std::fs::metadata(file).map_err(|e| Error::io(file, e))?;
        if !meta.is_file() {
            return Err(Error::malformed(
                name,
                format!(
                    "not a regular file ({}); refused",
                    kind_of(meta.file_type())
                ),
            ));
        }
        let mut f = File::open(file).map_err(|e| Error::io(file, e))?;
        let mut items = HashMap::new();
        let indexed = walk_headers(&mut f, meta.len(), |h| {
            if items.len() >= MAX_ENTRIES {
                return Err(format!("more than {MAX_ENTRIES} entries; refused"));
            }
            if h.path.len() > MAX_NAME {
                return Ok(()); // no file strata reads has such a name
            }
            let path = normalise(&String::from_utf8_lossy(&h.path));
            let item = match h.kind {
                b'0' | b'\0' | b'7' => TarItem::File {
                    offset: h.data,
                    size: h.size,
                },
                b'1' | b'2' => {
                    let target = String::from_utf8_lossy(&h.link);
                    // A symlink is relative to its directory, a hard link to the root.
                    let resolved = if h.kind == b'2' {
                        resolve_inside(&path, &target)
                    } else {
                        resolve_inside("", target.trim_start_matches('/'))
                    };
                    resolved.map_or(TarItem::Escape, TarItem::Link)
                }
                _ => return Ok(()),
            };
            items.insert(path, item);
            Ok(())
        });
        // Reasons name the kind of damage, never the bytes of the input.
        indexed.map_err(|reason| {
            Error::malformed(
                name.clone(),
                format!("not a tar archive, or a corrupt one: {reason}"),
            )
        })?;
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

/// Archives of images hold hundreds of entries; an index is refused past this.
const MAX_ENTRIES: usize = 100_000;
/// GNU long names, long link names and PAX records longer than this are refused.
const MAX_EXTENSION: u64 = 64 << 10;
/// Entries with longer names cannot be a file strata reads; they are skipped.
const MAX_NAME: usize = 4096;

/// One archive entry's header, extensions applied.
struct Header {
    path: Vec<u8>,
    link: Vec<u8>,
    kind: u8,
    size: u64,
    /// Offset of the entry's contents in the archive.
    data: u64,
}

/// Walks a tar file's headers, seeking over contents: only GNU long names and
/// PAX records are read, each at most MAX_EXTENSION bytes (the tar crate
/// would buffer them whole, whatever their size).
fn walk_headers(
    f: &mut File,
    len: u64,
    mut each: impl FnMut(Header) -> Result<(), String>,
) -> Result<(), String> {
    let io = |e: std::io::Error| e.kind().to_string();
    let (mut long_name, mut long_link) = (None, None);
    let mut pax = Pax::default();
    let mut block = [0u8; 512];
    let mut pos = 0u64;
    while pos < len {
        if len - pos < 512 {
            return Err("a truncated header".into());
        }
        f.seek(SeekFrom::Start(pos)).map_err(io)?;
        f.read_exact(&mut block).map_err(io)?;
        if block.iter().all(|&b| b == 0) {
            return Ok(());
        }
        let stored = octal(&block[148..156]).ok_or("a bad header checksum")?;
        let sum: u64 = block
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    b as u64
                }
            })
            .sum();
        if sum != stored {
            return Err("a bad header checksum".into());
        }
        let kind = block[156];
        let mut size = number(&block[124..136]).ok_or("a bad size field")?;
        let data = pos + 512;
        match kind {
            b'L' | b'K' | b'x' => {
                if size > MAX_EXTENSION {
                    return Err(format!(
                        "a header extension of {size} bytes (more than 64 KiB); refused"
                    ));
                }
                let mut buf = vec![0u8; size as usize];
                f.read_exact(&mut buf).map_err(io)?;
                match kind {
                    b'L' => long_name = Some(until_nul(&buf).to_vec()),
                    b'K' => long_link = Some(until_nul(&buf).to_vec()),
                    _ => pax = Pax::parse(&buf).ok_or("a malformed PAX header")?,
                }
            }
            b'g' => {}
            _ => {
                size = pax.size.take().unwrap_or(size);
                let mut path = until_nul(&block[..100]).to_vec();
                let prefix = until_nul(&block[345..500]);
                if &block[257..263] == b"ustar\0" && !prefix.is_empty() {
                    path = [prefix, b"/", &path].concat();
                }
                let path = pax.path.take().or(long_name.take()).unwrap_or(path);
                let link = pax
                    .link
                    .take()
                    .or(long_link.take())
                    .unwrap_or_else(|| until_nul(&block[157..257]).to_vec());
                each(Header {
                    path,
                    link,
                    kind,
                    size,
                    data,
                })?;
            }
        }
        pos = size
            .div_ceil(512)
            .checked_mul(512)
            .and_then(|n| data.checked_add(n))
            .ok_or("a bad size field")?;
    }
    Ok(())
}

/// The keys of a PAX extended header that matter for an index.
#[derive(Default)]
struct Pax {
    path: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
    size: Option<u64>,
}

impl Pax {
    /// Records `LEN KEY=VALUE\n`.
    fn parse(mut buf: &[u8]) -> Option<Pax> {
        let mut pax = Pax::default();
        while !buf.is_empty() {
            let space = buf.iter().position(|&b| b == b' ')?;
            let n: usize = std::str::from_utf8(&buf[..space]).ok()?.parse().ok()?;
            let record = buf.get(space + 1..n)?.strip_suffix(b"\n")?;
            let eq = record.iter().position(|&b| b == b'=')?;
            let (key, value) = (&record[..eq], &record[eq + 1..]);
            match key {
                b"path" => pax.path = Some(value.to_vec()),
                b"linkpath" => pax.link = Some(value.to_vec()),
                b"size" => pax.size = Some(std::str::from_utf8(value).ok()?.parse().ok()?),
                _ => {}
            }
            buf = &buf[n..];
        }
        Some(pax)
    }
}

fn until_nul(field: &[u8]) -> &[u8] {
    field.split(|&b| b == 0).next().unwrap_or_default()
}

/// An octal field (NUL- or space-padded).
fn octal(field: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(until_nul(field)).ok()?.trim();
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

/// A numeric field: octal, or GNU base-256 (high bit set) for large sizes.
fn number(field: &[u8]) -> Option<u64> {
    match field[0] {
        0x80 => field[1..]
            .iter()
            .try_fold(0u64, |n, &b| n.checked_mul(256).map(|n| n | b as u64)),
        b if b & 0x80 != 0 => None,
        _ => octal(field),
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

    fn archive(build: impl FnOnce(&mut tar::Builder<File>)) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.tar");
        let mut b = tar::Builder::new(File::create(&path).unwrap());
        build(&mut b);
        b.finish().unwrap();
        (dir, path)
    }

    fn add(b: &mut tar::Builder<File>, name: &str, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, data).unwrap();
    }

    #[test]
    fn long_names_index_and_oversized_extensions_are_refused() {
        let long = format!("{}/file", "d".repeat(300));
        let (_dir, path) = archive(|b| {
            add(b, "short", b"abc");
            add(b, &long, b"hello");
        });
        let fs = TarFs::new(&path, "t".into()).unwrap();
        let (mut r, n) = fs.open(&long).unwrap().unwrap();
        let mut text = String::new();
        r.read_to_string(&mut text).unwrap();
        assert_eq!((text.as_str(), n), ("hello", 5));
        assert!(fs.open("short").unwrap().is_some());

        let huge = "x".repeat(70 << 10);
        let (_dir, path) = archive(|b| add(b, &huge, b"x"));
        let e = TarFs::new(&path, "t".into()).err().unwrap().to_string();
        assert!(e.contains("more than 64 KiB"), "{e}");
        assert!(!e.contains("xxx"), "{e}");
    }
}
