//! Layer compression as the bytes show it: magic-byte sniffing and the
//! streaming decoder for each compression.

use std::fmt;
use std::io::{self, BufRead, Read};

pub use crate::image::{Compression, Declared};

/// What the first bytes of a blob say. Anything that is neither gzip nor
/// zstd is taken as a plain tar stream (the tar walk then validates it).
pub fn sniff(head: &[u8]) -> Compression {
    match head {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        _ => Compression::None,
    }
}

/// Marks an io::Error with the pipeline stage it came from, so the scan can
/// say "corrupt gzip stream" rather than "corrupt tar stream".
#[derive(Debug)]
pub struct StageError {
    pub stage: &'static str,
    pub message: String,
}

impl fmt::Display for StageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StageError {}

/// Reader adapter that tags every error it passes on with a stage name
/// (errors already tagged further down keep their stage).
pub struct StageReader<R> {
    inner: R,
    stage: &'static str,
}

impl<R> StageReader<R> {
    pub fn new(inner: R, stage: &'static str) -> Self {
        StageReader { inner, stage }
    }
}

impl<R: Read> Read for StageReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| tag(e, self.stage))
    }
}

pub fn tag(e: io::Error, stage: &'static str) -> io::Error {
    if stage_of(&e).is_some() {
        return e;
    }
    let message = e.to_string();
    io::Error::new(e.kind(), StageError { stage, message })
}

pub fn stage_of(e: &io::Error) -> Option<&StageError> {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<StageError>())
}

/// Wraps a buffered compressed stream in the decoder for `compression`.
/// Gzip is multi-member (eStargz is a chain of gzip members plus a TOC
/// member); zstd decodes every frame and skips skippable ones (zstd:chunked).
pub fn decoder<'a, R: BufRead + Send + 'a>(
    compression: Compression,
    input: R,
) -> io::Result<Box<dyn Read + Send + 'a>> {
    Ok(match compression {
        Compression::None => Box::new(input),
        Compression::Gzip => Box::new(StageReader::new(
            flate2::bufread::MultiGzDecoder::new(input),
            "gzip",
        )),
        Compression::Zstd => Box::new(StageReader::new(
            zstd::stream::read::Decoder::with_buffer(input).map_err(|e| tag(e, "zstd"))?,
            "zstd",
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_client::manifest::IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE;
    use oci_spec::image::MediaType;

    #[test]
    fn media_types_map_to_compression() {
        let gz = MediaType::from("application/vnd.oci.image.layer.v1.tar+gzip");
        assert_eq!(Compression::from_media_type(&gz), Some(Compression::Gzip));
        let docker = MediaType::from(IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE);
        assert_eq!(
            Compression::from_media_type(&docker),
            Some(Compression::Gzip)
        );
        let zst = MediaType::from("application/vnd.oci.image.layer.v1.tar+zstd");
        assert_eq!(Compression::from_media_type(&zst), Some(Compression::Zstd));
        let odd = MediaType::from("application/vnd.oci.image.layer.v1.tar+bzip2");
        assert_eq!(Compression::from_media_type(&odd), None);
    }

    #[test]
    fn magic_bytes_are_sniffed() {
        assert_eq!(sniff(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(sniff(&[0x28, 0xb5, 0x2f, 0xfd]), Compression::Zstd);
        assert_eq!(sniff(b"etc/"), Compression::None);
        assert_eq!(sniff(&[]), Compression::None);
    }
}
