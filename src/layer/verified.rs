//! A layer's tar stream for a reader that wants its bytes (`cat`, `export`):
//! the blob bounded, hashed and decompressed as a scan reads it, the tar
//! stream hashed for its diff_id, and size, digest and diff_id checked at
//! the end — however much of the stream the reader took.

use std::io::{self, BufRead, BufReader};

use super::decode::decoder;
use super::digest::HashingReader;
use super::{check_end, open_blob, walk, Opened, INPUT_BUFFER};
use crate::image::LayerDesc;

/// Hands `read` the layer's tar stream, then reads what it left and checks
/// the blob: `read`'s value is returned only when every check holds. An
/// error of `read` is returned at once (the rest is not read).
pub fn read_verified<R: io::Read + Send, T>(
    blob: R,
    layer: &LayerDesc,
    read: impl FnOnce(&mut dyn BufRead) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let digest = layer.digest.as_str();
    let corrupt = |e| walk::corrupt(digest, e);
    let Opened {
        input,
        compression,
        diff_alg,
        overflow,
    } = open_blob(blob, layer, None)?;
    let mut input = BufReader::with_capacity(INPUT_BUFFER, input);
    let (value, diff_id) = {
        let dec = decoder(compression, &mut input).map_err(corrupt)?;
        let mut tar = HashingReader::maybe(BufReader::with_capacity(INPUT_BUFFER, dec), diff_alg);
        let value = read(&mut tar)?;
        let (diff_id, _) = tar.finish().map_err(corrupt)?;
        (value, diff_id)
    };
    let (blob_digest, blob_size) = input.into_inner().inner.finish().map_err(corrupt)?;
    check_end(layer, &overflow, blob_digest, blob_size, diff_id)?;
    Ok(value)
}
