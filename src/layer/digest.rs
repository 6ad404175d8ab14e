//! Streaming digests: readers that hash and count what passes through them.

use std::io::{self, BufRead, Read};

use crate::image::{Algorithm, Digest, Hasher};

/// Passes bytes through unchanged while hashing and counting them, and
/// reports progress (bytes read) to an optional sink.
pub struct HashingReader<'p, R> {
    inner: R,
    hasher: Option<Hasher>,
    count: u64,
    progress: Option<&'p (dyn Fn(u64) + Sync)>,
}

impl<'p, R: Read> HashingReader<'p, R> {
    pub fn new(inner: R, alg: Algorithm) -> Self {
        Self::maybe(inner, Some(alg))
    }

    /// Hashes with `alg`, or only counts when there is none.
    pub fn maybe(inner: R, alg: Option<Algorithm>) -> Self {
        HashingReader {
            inner,
            hasher: alg.map(Hasher::new),
            count: 0,
            progress: None,
        }
    }

    pub fn with_progress(mut self, progress: Option<&'p (dyn Fn(u64) + Sync)>) -> Self {
        self.progress = progress;
        self
    }

    /// Reads the rest of the stream (so the digest covers every byte) and
    /// returns the digest (None when only counting) and the byte count.
    pub fn finish(mut self) -> io::Result<(Option<Digest>, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((self.hasher.map(Hasher::finish), self.count))
    }
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = self.hasher.as_mut() {
            h.update(&buf[..n]);
        }
        self.count += n as u64;
        if let Some(progress) = self.progress {
            progress(n as u64);
        }
        Ok(n)
    }
}

/// Hashes bytes as they are consumed, so a caller can read them in place.
impl<R: BufRead> BufRead for HashingReader<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        // The bytes being consumed are still buffered: fill_buf returns them
        // without reading.
        if let Ok(buffered) = self.inner.fill_buf() {
            let n = n.min(buffered.len());
            if let Some(h) = self.hasher.as_mut() {
                h.update(&buffered[..n]);
            }
            self.count += n as u64;
            if let Some(progress) = self.progress {
                progress(n as u64);
            }
            self.inner.consume(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_and_counts_everything_including_the_unread_tail() {
        let data = b"hello world, some bytes".repeat(1000);
        let mut r = HashingReader::new(&data[..], Algorithm::Sha256);
        let mut head = [0u8; 10];
        r.read_exact(&mut head).unwrap();
        let (digest, count) = r.finish().unwrap();
        assert_eq!(count, data.len() as u64);
        assert_eq!(digest, Some(Digest::sha256_of(&data)));
    }

    #[test]
    fn bytes_consumed_in_place_are_hashed_once_each() {
        let data = b"0123456789abcdef".repeat(5000);
        let inner = io::BufReader::with_capacity(1000, &data[..]);
        let mut r = HashingReader::new(inner, Algorithm::Sha256);
        let mut head = [0u8; 7];
        r.read_exact(&mut head).unwrap();
        // Mixed: a partial consume of a buffer, a re-fill, then plain reads.
        let n = r.fill_buf().unwrap().len();
        r.consume(n / 2);
        r.fill_buf().unwrap();
        r.consume(0);
        let n = r.fill_buf().unwrap().len();
        r.consume(n);
        let (digest, count) = r.finish().unwrap();
        assert_eq!(count, data.len() as u64);
        assert_eq!(digest, Some(Digest::sha256_of(&data)));
    }

    /// A consume after EOF, or of nothing, hashes nothing; a source that
    /// hands out one byte a fill still hashes each byte once.
    #[test]
    fn consumes_at_eof_and_one_byte_buffers_hash_each_byte_once() {
        let data = b"abcdefghij".repeat(300);
        let inner = io::BufReader::with_capacity(1, &data[..]);
        let mut r = HashingReader::new(inner, Algorithm::Sha256);
        let mut header = [0u8; 3];
        loop {
            // Alternate plain reads and in-place consumes, as the tar walk does.
            if r.read(&mut header).unwrap() == 0 {
                break;
            }
            let buf = r.fill_buf().unwrap();
            if buf.is_empty() {
                break;
            }
            assert_eq!(buf.len(), 1);
            r.consume(1);
        }
        r.consume(5);
        r.consume(0);
        assert!(r.fill_buf().unwrap().is_empty());
        let (digest, count) = r.finish().unwrap();
        assert_eq!(count, data.len() as u64);
        assert_eq!(digest, Some(Digest::sha256_of(&data)));
    }
}
