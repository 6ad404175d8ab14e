//! The verified layer scan: blob stream -> decompress -> digest & diff_id ->
//! tar walk -> a layer index file (v2), written as the walk goes.

pub mod capture;
pub mod decode;
pub mod digest;
pub mod index;
mod pipe;
pub mod verified;
pub mod walk;

use std::io::{self, BufReader, BufWriter, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tempfile::NamedTempFile;

use crate::error::Error;
use crate::image::{Compression, Declared, LayerDesc};
use decode::{decoder, sniff, StageReader};
use digest::HashingReader;
pub use index::{Entry, EntryKind, Footer, IndexBuilder, IndexReader, IndexWriter, LayerSummary};
pub use index::{PackageDb, FORMAT_VERSION};

const INPUT_BUFFER: usize = 256 * 1024;
/// Bytes the compression sniff needs (zstd's magic is four).
const MAGIC_LEN: usize = 4;

#[derive(Clone, Copy, Default)]
pub struct ScanOptions<'a> {
    /// Decompress on a second thread while this one hashes and walks the tar.
    /// Worth it when there are fewer layers to scan than cores.
    pub pipelined: bool,
    /// Called with the number of compressed bytes read, as they are read.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

/// A verified layer: its figures, and its complete index in a temporary file
/// (in the directory the scan was given) for the caller to keep or drop.
#[derive(Debug)]
pub struct Scanned {
    pub summary: LayerSummary,
    pub index: NamedTempFile,
}

/// Scans one layer blob into an index file in `dir`. Nothing is buffered
/// whole; at most one byte past the declared size is read; digest, size and
/// diff_id are verified at EOF, and any mismatch is an error, never a figure.
pub fn scan<R: Read + Send>(
    blob: R,
    layer: &LayerDesc,
    opts: ScanOptions<'_>,
    dir: &Path,
) -> Result<Scanned, Error> {
    let digest = layer.digest.as_str();
    let Opened {
        input,
        compression,
        diff_alg,
        overflow,
    } = open_blob(blob, layer, opts.progress)?;
    let mut builder = IndexBuilder::new(dir);
    let (walked, blob_digest, blob_size) = if opts.pipelined {
        pipe::decode_and_walk(compression, input, digest, diff_alg, &mut builder)?
    } else {
        let mut input = BufReader::with_capacity(INPUT_BUFFER, input);
        let walked = if compression == Compression::None {
            // The blob is the tar stream: walk it in its own buffer.
            walk::walk(&mut input, digest, diff_alg, &mut builder)?
        } else {
            let dec = decoder(compression, &mut input).map_err(|e| walk::corrupt(digest, e))?;
            let dec = BufReader::with_capacity(INPUT_BUFFER, dec);
            walk::walk(dec, digest, diff_alg, &mut builder)?
        };
        let (d, n) = input
            .into_inner()
            .inner
            .finish()
            .map_err(|e| walk::corrupt(digest, e))?;
        (walked, d, n)
    };
    let diff_id = check_end(layer, &overflow, blob_digest, blob_size, walked.diff_id)?;
    let io_err = |e| Error::io(dir, e);
    let tmp = NamedTempFile::with_prefix_in(".idx-", dir).map_err(io_err)?;
    let file = BufWriter::with_capacity(64 * 1024, tmp.reopen().map_err(io_err)?);
    let mut w = IndexWriter::new(file, 3).map_err(io_err)?;
    let sorted = builder.finish(&mut w).map_err(io_err)?;
    let summary = LayerSummary {
        digest: layer.digest.clone(),
        diff_id,
        compression,
        compressed: blob_size,
        uncompressed: walked.uncompressed,
        files: sorted.files,
        entries: sorted.entries,
    };
    let footer = Footer {
        summary: Some(summary.clone()),
        package_dbs: walked.package_dbs,
        entries: sorted.entries,
    };
    w.finish(&footer).map_err(io_err)?;
    Ok(Scanned {
        summary,
        index: tmp,
    })
}

/// A layer blob opened for reading: bounded by its descriptor's size,
/// hashed as it is read, its compression sniffed (and checked against its
/// media type), the sniffed bytes handed out again first.
pub(crate) struct Opened<'p, R> {
    pub input: Prefixed<HashingReader<'p, StageReader<Bounded<R>>>>,
    pub compression: Compression,
    /// How the tar stream is hashed for its diff_id (None: the blob is the
    /// tar stream and its digest is the diff_id).
    pub diff_alg: Option<crate::image::Algorithm>,
    pub overflow: Arc<AtomicBool>,
}

pub(crate) fn open_blob<'p, R: Read>(
    blob: R,
    layer: &LayerDesc,
    progress: Option<&'p (dyn Fn(u64) + Sync)>,
) -> Result<Opened<'p, R>, Error> {
    let digest = layer.digest.as_str();
    let Some(expected_diff_id) = layer.diff_id.as_ref() else {
        return Err(Error::malformed(
            format!("layer {digest}"),
            "no diff_id to verify against (the image config was not read)",
        ));
    };
    let overflow = Arc::new(AtomicBool::new(false));
    let bounded = Bounded {
        inner: blob,
        left: layer.size,
        overflow: overflow.clone(),
    };
    let mut hashing = HashingReader::new(
        StageReader::new(bounded, "blob read"),
        layer.digest.algorithm(),
    )
    .with_progress(progress);
    let head = read_head(&mut hashing).map_err(|e| walk::corrupt(digest, e))?;
    let found = sniff(&head);
    let compression = match layer.declared {
        Declared::Sniff => found,
        Declared::MediaType(declared) if declared == found => declared,
        Declared::MediaType(declared) => {
            return Err(Error::CompressionMismatch {
                digest: digest.to_owned(),
                declared: declared.name(),
                found: if head.is_empty() {
                    "an empty blob"
                } else {
                    found.name()
                },
            })
        }
    };
    // An uncompressed blob is its tar stream: its digest is its diff_id.
    let diff_alg = (compression != Compression::None
        || expected_diff_id.algorithm() != layer.digest.algorithm())
    .then(|| expected_diff_id.algorithm());
    Ok(Opened {
        input: Prefixed {
            head,
            pos: 0,
            inner: hashing,
        },
        compression,
        diff_alg,
        overflow,
    })
}

/// The checks at a blob's end: no byte past its size, its size and digest
/// as its descriptor says, its tar stream's digest (`diff_id`; None: the
/// blob's own) as its config says. Returns the verified diff_id.
pub(crate) fn check_end(
    layer: &LayerDesc,
    overflow: &AtomicBool,
    blob_digest: Option<crate::image::Digest>,
    blob_size: u64,
    diff_id: Option<crate::image::Digest>,
) -> Result<crate::image::Digest, Error> {
    let digest = layer.digest.as_str();
    if overflow.load(Ordering::Relaxed) {
        return Err(Error::BlobTooLong {
            digest: digest.to_owned(),
            expected: layer.size,
        });
    }
    if blob_size != layer.size {
        return Err(Error::SizeMismatch {
            digest: digest.to_owned(),
            expected: layer.size,
            found: blob_size,
        });
    }
    let blob_digest = blob_digest.ok_or_else(|| Error::malformed(digest, "blob not hashed"))?;
    if blob_digest != layer.digest {
        return Err(Error::DigestMismatch {
            expected: layer.digest.to_string(),
            found: blob_digest.to_string(),
        });
    }
    let diff_id = diff_id.unwrap_or_else(|| blob_digest.clone());
    let expected = layer.diff_id.as_ref();
    if expected != Some(&diff_id) {
        return Err(Error::DiffIdMismatch {
            digest: digest.to_owned(),
            expected: expected.map_or_else(String::new, ToString::to_string),
            found: diff_id.to_string(),
        });
    }
    Ok(diff_id)
}

/// Reads the first bytes of a blob, as many as the sniff needs or up to its
/// end, however the source splits its reads.
fn read_head<R: Read>(r: &mut R) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(MAGIC_LEN);
    r.take(MAGIC_LEN as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Hands out at most `left` bytes, then probes one byte further: a blob longer
/// than its descriptor is never read to its end (it may have none).
pub(crate) struct Bounded<R> {
    inner: R,
    left: u64,
    overflow: Arc<AtomicBool>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            if !self.overflow.load(Ordering::Relaxed) {
                let mut probe = [0u8; 1];
                if self.inner.read(&mut probe)? > 0 {
                    self.overflow.store(true, Ordering::Relaxed);
                }
            }
            return Ok(0);
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// The sniffed head, then the rest of the hashing reader.
pub struct Prefixed<R> {
    head: Vec<u8>,
    pos: usize,
    pub inner: R,
}

impl<R: Read> Read for Prefixed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos < self.head.len() {
            let n = buf.len().min(self.head.len() - self.pos);
            buf[..n].copy_from_slice(&self.head[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

#[cfg(test)]
pub(crate) mod tests;
