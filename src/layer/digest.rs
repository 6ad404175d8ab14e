//! Streaming SHA-256: readers that hash and count what passes through them.

use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

/// Passes bytes through unchanged while hashing and counting them, and
/// reports progress (bytes read) to an optional sink.
pub struct HashingReader<'p, R> {
    inner: R,
    hasher: Sha256,
    count: u64,
    progress: Option<&'p (dyn Fn(u64) + Sync)>,
}

impl<'p, R: Read> HashingReader<'p, R> {
    pub fn new(inner: R) -> Self {
        HashingReader {
            inner,
            hasher: Sha256::new(),
            count: 0,
            progress: None,
        }
    }

    pub fn with_progress(mut self, progress: Option<&'p (dyn Fn(u64) + Sync)>) -> Self {
        self.progress = progress;
        self
    }

    /// Reads the rest of the stream (so the digest covers every byte) and
    /// returns `("sha256:<hex>", byte count)`.
    pub fn finish(mut self) -> io::Result<(String, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((format_digest(self.hasher.finalize().as_slice()), self.count))
    }
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        if let Some(progress) = self.progress {
            progress(n as u64);
        }
        Ok(n)
    }
}

fn format_digest(raw: &[u8]) -> String {
    format!("sha256:{}", hex::encode(raw))
}

/// `sha256:<hex>` of a byte slice (manifests, configs and other small blobs).
pub fn sha256_digest(bytes: &[u8]) -> String {
    format_digest(Sha256::digest(bytes).as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_counts_everything_including_the_unread_tail() {
        let data = b"hello world, some bytes".repeat(1000);
        let mut r = HashingReader::new(&data[..]);
        let mut head = [0u8; 10];
        r.read_exact(&mut head).unwrap();
        let (digest, count) = r.finish().unwrap();
        assert_eq!(count, data.len() as u64);
        assert_eq!(digest, sha256_digest(&data));
    }

    #[test]
    fn known_vector() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
