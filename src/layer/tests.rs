//! The scan's tests: verified figures, both modes, every stage's errors.

use super::*;
use crate::image::{Algorithm, Compression};
use std::io::Write;

fn gzip_layer() -> (Vec<u8>, LayerDesc) {
    gzip_layer_of(
        (0..300u32)
            .map(|i| {
                let content: Vec<u8> = (0..(i * 37 % 5000)).map(|b| (b * i) as u8).collect();
                (format!("d/f{i}"), content)
            })
            .collect(),
    )
}

/// A gzip layer of these regular files, and its descriptor.
pub(crate) fn gzip_layer_of(files: Vec<(String, Vec<u8>)>) -> (Vec<u8>, LayerDesc) {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, path, &content[..]).unwrap();
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
        foreign: None,
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

const COMPRESSIONS: [Compression; 3] = [Compression::None, Compression::Gzip, Compression::Zstd];

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
                let err =
                    scan(Trickle(&blob[..cut]), &desc, opts(pipelined), dir.path()).unwrap_err();
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
