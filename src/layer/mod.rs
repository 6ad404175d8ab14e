//! The verified layer scan: blob stream -> decompress -> digest & diff_id -> tar walk -> LayerIndex.

pub mod decode;
pub mod digest;
pub mod index;
mod pipe;
pub mod walk;

use std::io::{BufRead, BufReader, Read};

use crate::error::Error;
use crate::image::{Declared, LayerDesc};
use decode::{decoder, sniff, StageReader};
use digest::HashingReader;
pub use index::{Entry, EntryKind, LayerIndex, LayerSummary, PackageDb, INDEX_VERSION};

const INPUT_BUFFER: usize = 256 * 1024;

#[derive(Clone, Copy, Default)]
pub struct ScanOptions<'a> {
    /// Decompress on a second thread while this one hashes and walks the tar.
    /// Worth it when there are fewer layers to scan than cores.
    pub pipelined: bool,
    /// Called with the number of compressed bytes read, as they are read.
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

/// Scans one layer blob. Nothing is buffered whole and nothing touches the
/// disk; digest, size and diff_id are verified at EOF, and any mismatch is
/// an error, never a figure.
pub fn scan<R: Read + Send>(
    blob: R,
    layer: &LayerDesc,
    opts: ScanOptions<'_>,
) -> Result<LayerIndex, Error> {
    let digest = layer.digest.as_str();
    let Some(expected_diff_id) = layer.diff_id.as_ref() else {
        return Err(Error::malformed(
            format!("layer {digest}"),
            "no diff_id to verify against (the image config was not read)",
        ));
    };
    let compressed = HashingReader::new(
        StageReader::new(blob, "blob read"),
        layer.digest.algorithm(),
    )
    .with_progress(opts.progress);
    let mut input = BufReader::with_capacity(INPUT_BUFFER, compressed);
    let head = input.fill_buf().map_err(|e| walk::corrupt(digest, e))?;
    let found = sniff(head);
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

    let (walked, blob_digest, blob_size) = if opts.pipelined {
        pipe::decode_and_walk(compression, input, digest, expected_diff_id.algorithm())?
    } else {
        let dec = decoder(compression, &mut input).map_err(|e| walk::corrupt(digest, e))?;
        let walked = walk::walk(dec, digest, expected_diff_id.algorithm())?;
        let (d, n) = input
            .into_inner()
            .finish()
            .map_err(|e| walk::corrupt(digest, e))?;
        (walked, d, n)
    };

    if blob_size != layer.size {
        return Err(Error::SizeMismatch {
            digest: digest.to_owned(),
            expected: layer.size,
            found: blob_size,
        });
    }
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
    Ok(LayerIndex {
        version: INDEX_VERSION,
        summary: LayerSummary {
            digest: layer.digest.clone(),
            diff_id,
            compression,
            compressed: blob_size,
            uncompressed: walked.uncompressed,
            files: walked.files,
            entries: walked.entries.len() as u64,
        },
        entries: walked.entries,
        package_dbs: walked.package_dbs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Compression;
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

    #[test]
    fn pipelined_and_one_thread_scans_agree() {
        let (blob, desc) = gzip_layer();
        let one = scan(&blob[..], &desc, ScanOptions::default()).unwrap();
        let piped = scan(
            &blob[..],
            &desc,
            ScanOptions {
                pipelined: true,
                progress: None,
            },
        )
        .unwrap();
        assert_eq!(one, piped);
        assert_eq!(one.summary.entries, 300);
    }

    #[test]
    fn both_modes_refuse_a_corrupt_blob() {
        let (mut blob, desc) = gzip_layer();
        let mid = blob.len() / 2;
        blob[mid] ^= 0xff;
        for pipelined in [false, true] {
            let err = scan(
                &blob[..],
                &desc,
                ScanOptions {
                    pipelined,
                    progress: None,
                },
            )
            .unwrap_err();
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
