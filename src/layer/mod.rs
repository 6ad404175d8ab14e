//! The verified layer scan: blob stream -> decompress -> digest & diff_id ->
//! tar walk -> a layer index file (v2), written as the walk goes.

pub mod decode;
pub mod digest;
pub mod index;
mod pipe;
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
    .with_progress(opts.progress);
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
    let input = Prefixed {
        head,
        pos: 0,
        inner: hashing,
    };
    // An uncompressed blob is its tar stream: its digest is its diff_id.
    let diff_alg = (compression != Compression::None
        || expected_diff_id.algorithm() != layer.digest.algorithm())
    .then(|| expected_diff_id.algorithm());
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
    let diff_id = walked.diff_id.unwrap_or_else(|| blob_digest.clone());
    if diff_id != *expected_diff_id {
        return Err(Error::DiffIdMismatch {
            digest: digest.to_owned(),
            expected: expected_diff_id.to_string(),
            found: diff_id.to_string(),
        });
    }
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

/// Reads the first bytes of a blob, as many as the sniff needs or up to its
/// end, however the source splits its reads.
fn read_head<R: Read>(r: &mut R) -> io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(MAGIC_LEN);
    r.take(MAGIC_LEN as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// Hands out at most `left` bytes, then probes one byte further: a blob longer
/// than its descriptor is never read to its end (it may have none).
struct Bounded<R> {
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
mod tests {
    use super::*;
    use crate::image::{Algorithm, Compression};
    use std::io::Write;

    fn gzip_layer() -> (Vec<u8>, LayerDesc) {
        let mut tar = tar::Builder::new(Vec::new());
        for i in 0..300u32 {
            let content: Vec<u8> = (0..(i * 37 % 5000)).map(|b| (b * i) as u8).collect();
            let mut h = tar::Header::new_gnu();
            h.set_size(content.len() as u64);
            h.set_mode(0o644);
            tar.append_data(&mut h, format!("d/f{i}"), &content[..])
                .unwrap();
        }
        let tar = tar.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        let blob = gz.finish().unwrap();
        let desc = LayerDesc {
            digest: crate::image::Digest::sha256_of(&blob),
            size: blob.len() as u64,
            diff_id: Some(crate::image::Digest::sha256_of(&tar)),
            declared: Declared::MediaType(Compression::Gzip),
            history: None,
        };
        (blob, desc)
    }

    fn entries(scanned: &Scanned) -> Vec<Entry> {
        IndexReader::open(scanned.index.path())
            .unwrap()
            .collect::<io::Result<_>>()
            .unwrap()
    }

    fn opts(pipelined: bool) -> ScanOptions<'static> {
        ScanOptions {
            pipelined,
            progress: None,
        }
    }

    #[test]
    fn pipelined_and_one_thread_scans_agree() {
        let dir = tempfile::tempdir().unwrap();
        let (blob, desc) = gzip_layer();
        let one = scan(&blob[..], &desc, opts(false), dir.path()).unwrap();
        let piped = scan(&blob[..], &desc, opts(true), dir.path()).unwrap();
        assert_eq!(one.summary, piped.summary);
        assert_eq!(entries(&one), entries(&piped));
        assert_eq!(one.summary.entries, 300);
        let footer = IndexReader::footer(one.index.path()).unwrap();
        assert_eq!(footer.summary, Some(one.summary.clone()));
    }

    #[test]
    fn an_uncompressed_layer_is_hashed_once_and_verified() {
        let dir = tempfile::tempdir().unwrap();
        let (blob, mut desc) = gzip_layer();
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(&blob[..])
            .read_to_end(&mut tar)
            .unwrap();
        desc.digest = crate::image::Digest::sha256_of(&tar);
        desc.size = tar.len() as u64;
        desc.declared = Declared::MediaType(Compression::None);
        for pipelined in [false, true] {
            let s = scan(&tar[..], &desc, opts(pipelined), dir.path()).unwrap();
            assert_eq!(s.summary.diff_id, desc.digest);
            assert_eq!(s.summary.uncompressed, tar.len() as u64);
        }
        let mut wrong = desc.clone();
        wrong.diff_id = Some(crate::image::Digest::sha256_of(b"other"));
        let err = scan(&tar[..], &wrong, opts(true), dir.path()).unwrap_err();
        assert!(matches!(err, Error::DiffIdMismatch { .. }), "{err}");
    }

    /// A reader that hands out one byte per read call.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(1);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn the_compression_sniff_does_not_depend_on_read_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let (blob, desc) = gzip_layer();
        let s = scan(Trickle(&blob), &desc, opts(false), dir.path()).unwrap();
        assert_eq!(s.summary.entries, 300);
    }

    #[test]
    fn a_blob_longer_than_declared_stops_one_byte_past_it() {
        let dir = tempfile::tempdir().unwrap();
        let (blob, desc) = gzip_layer();
        let endless = (&blob[..]).chain(io::repeat(0));
        let err = scan(endless, &desc, opts(true), dir.path()).unwrap_err();
        assert!(
            matches!(err, Error::BlobTooLong { expected, .. } if expected == desc.size),
            "{err}"
        );
    }

    /// The tar of `gzip_layer` as a layer of `compression`, its diff_id
    /// hashed with `diff_alg` (sha512 makes the walk hash the stream even
    /// when the blob is the tar stream).
    fn layer_of(compression: Compression, diff_alg: Algorithm) -> (Vec<u8>, LayerDesc) {
        let (gz, mut desc) = gzip_layer();
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut tar)
            .unwrap();
        // Trailing zero blocks past the end-of-archive marker count too.
        tar.extend_from_slice(&[0u8; 4096]);
        let blob = match compression {
            Compression::None => tar.clone(),
            Compression::Gzip => {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(&tar).unwrap();
                e.finish().unwrap()
            }
            Compression::Zstd => zstd::encode_all(&tar[..], 1).unwrap(),
        };
        desc.digest = crate::image::Digest::sha256_of(&blob);
        desc.size = blob.len() as u64;
        desc.diff_id = Some(crate::image::Digest::compute(diff_alg, &tar));
        desc.declared = Declared::MediaType(compression);
        (blob, desc)
    }

    const COMPRESSIONS: [Compression; 3] =
        [Compression::None, Compression::Gzip, Compression::Zstd];

    /// Every byte of the blob and of the tar stream is hashed exactly once,
    /// in both modes, for each compression, whether the source hands out one
    /// byte a read or whole buffers (headers are read, data consumed in place).
    #[test]
    fn every_mode_hashes_each_byte_once_however_the_source_splits_reads() {
        let dir = tempfile::tempdir().unwrap();
        for compression in COMPRESSIONS {
            for diff_alg in [Algorithm::Sha256, Algorithm::Sha512] {
                let (blob, desc) = layer_of(compression, diff_alg);
                let mut tar_len = None;
                for pipelined in [false, true] {
                    let whole = scan(&blob[..], &desc, opts(pipelined), dir.path());
                    let trickled = scan(Trickle(&blob), &desc, opts(pipelined), dir.path());
                    let label = format!("{compression:?} {diff_alg:?} pipelined={pipelined}");
                    let whole = whole.unwrap_or_else(|e| panic!("{label}: {e}"));
                    let trickled = trickled.unwrap_or_else(|e| panic!("{label} trickled: {e}"));
                    assert_eq!(whole.summary, trickled.summary, "{label}");
                    assert_eq!(entries(&whole), entries(&trickled), "{label}");
                    assert_eq!(whole.summary.entries, 300, "{label}");
                    assert_eq!(Some(&whole.summary.diff_id), desc.diff_id.as_ref());
                    assert_eq!(whole.summary.compressed, blob.len() as u64);
                    let n = *tar_len.get_or_insert(whole.summary.uncompressed);
                    assert_eq!(whole.summary.uncompressed, n, "{label}");
                }
            }
        }
    }

    /// A source that fails after `ok` bytes (a connection reset mid-blob).
    struct Failing<'a> {
        data: &'a [u8],
        ok: usize,
    }
    impl Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.ok == 0 {
                return Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"));
            }
            let n = buf.len().min(self.ok).min(self.data.len()).min(7);
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.ok -= n;
            Ok(n)
        }
    }

    #[test]
    fn a_source_failing_mid_stream_is_reported_as_the_blob_read_in_every_mode() {
        let dir = tempfile::tempdir().unwrap();
        for compression in COMPRESSIONS {
            let (blob, desc) = layer_of(compression, Algorithm::Sha256);
            for at in [blob.len() / 3, blob.len() - 1] {
                for pipelined in [false, true] {
                    let source = Failing {
                        data: &blob,
                        ok: at,
                    };
                    let err = scan(source, &desc, opts(pipelined), dir.path()).unwrap_err();
                    assert!(
                        matches!(
                            &err,
                            Error::CorruptLayer { stage: "blob read", reason, .. }
                                if reason.contains("reset")
                        ),
                        "{compression:?} at {at} pipelined={pipelined}: {err:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_truncated_blob_is_an_error_in_every_mode_never_a_figure() {
        let dir = tempfile::tempdir().unwrap();
        for compression in COMPRESSIONS {
            let (blob, desc) = layer_of(compression, Algorithm::Sha256);
            for cut in [1, 700, blob.len() / 2, blob.len() - 1] {
                for pipelined in [false, true] {
                    let err = scan(Trickle(&blob[..cut]), &desc, opts(pipelined), dir.path())
                        .unwrap_err();
                    assert!(
                        matches!(
                            err,
                            Error::CorruptLayer { .. }
                                | Error::SizeMismatch { .. }
                                | Error::CompressionMismatch { .. }
                        ),
                        "{compression:?} cut at {cut} pipelined={pipelined}: {err:?}"
                    );
                }
            }
        }
    }

    /// A stage's own failure is named after it in both modes: a corrupt
    /// gzip or zstd header (its blob digest right), a bad tar header.
    #[test]
    fn a_failing_stage_is_named_in_both_modes() {
        let dir = tempfile::tempdir().unwrap();
        let (tar_blob, _) = layer_of(Compression::None, Algorithm::Sha256);
        let mut bad_tar = tar_blob.clone();
        bad_tar[100] ^= 0xff; // the first header's checksum no longer matches
        for (compression, stage) in [
            (Compression::Gzip, "gzip"),
            (Compression::Zstd, "zstd"),
            (Compression::None, "tar"),
        ] {
            let (mut blob, mut desc) = layer_of(compression, Algorithm::Sha256);
            match compression {
                Compression::None => blob = bad_tar.clone(),
                // Past the sniffed magic: an unknown method, a reserved bit.
                Compression::Gzip => blob[2] = 7,
                Compression::Zstd => blob[4] |= 0x08,
            }
            desc.digest = crate::image::Digest::sha256_of(&blob);
            for pipelined in [false, true] {
                let err = scan(Trickle(&blob), &desc, opts(pipelined), dir.path()).unwrap_err();
                assert!(
                    matches!(&err, Error::CorruptLayer { stage: s, .. } if *s == stage),
                    "{compression:?} pipelined={pipelined}: {err:?}"
                );
            }
        }
    }

    /// Counts the bytes the source handed out.
    struct Counted<'a, R> {
        inner: R,
        read: &'a std::sync::atomic::AtomicU64,
    }
    impl<R: Read> Read for Counted<'_, R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read.fetch_add(n as u64, Ordering::Relaxed);
            Ok(n)
        }
    }

    #[test]
    fn no_mode_reads_more_than_one_byte_past_the_declared_size() {
        let dir = tempfile::tempdir().unwrap();
        for compression in COMPRESSIONS {
            let (blob, desc) = layer_of(compression, Algorithm::Sha256);
            for pipelined in [false, true] {
                let read = std::sync::atomic::AtomicU64::new(0);
                let source = Counted {
                    inner: (&blob[..]).chain(io::repeat(7)),
                    read: &read,
                };
                let err = scan(source, &desc, opts(pipelined), dir.path()).unwrap_err();
                assert!(matches!(err, Error::BlobTooLong { .. }), "{err:?}");
                assert_eq!(
                    read.load(Ordering::Relaxed),
                    desc.size + 1,
                    "{compression:?} {pipelined}"
                );
            }
        }
    }

    #[test]
    fn both_modes_refuse_a_corrupt_blob() {
        let dir = tempfile::tempdir().unwrap();
        let (mut blob, desc) = gzip_layer();
        let mid = blob.len() / 2;
        blob[mid] ^= 0xff;
        for pipelined in [false, true] {
            let err = scan(&blob[..], &desc, opts(pipelined), dir.path())
                .err()
                .unwrap();
            assert!(
                matches!(
                    err,
                    Error::CorruptLayer { .. } | Error::DigestMismatch { .. }
                ),
                "{err}"
            );
        }
    }
}
