//! Layer blobs from a registry as a blocking byte stream for the scan threads:
//! reads fill the caller's buffer, never pass the descriptor's size, and a
//! body that breaks off is resumed where it stopped (bounded, like retries).

use std::io::{self, Read};
use std::sync::Arc;

use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use tokio_util::bytes::{Buf, Bytes};

use super::errors::registry_error;
use super::http::{Fail, Http, Target};
use super::retry::{ATTEMPTS, FIRST_DELAY};
use crate::error::Result;
use crate::source::{BlobSource, LayerDesc};

pub struct RegistryBlobs {
    http: Arc<Http>,
    runtime: Arc<tokio::runtime::Runtime>,
    host: String,
    repository: String,
}

impl RegistryBlobs {
    pub fn new(
        http: Arc<Http>,
        runtime: Arc<tokio::runtime::Runtime>,
        host: String,
        repository: String,
    ) -> Self {
        RegistryBlobs {
            http,
            runtime,
            host,
            repository,
        }
    }

    fn get(&self, digest: &str, offset: u64) -> Result<reqwest::Response, Fail> {
        let to = Target {
            host: &self.host,
            repository: &self.repository,
        };
        self.runtime
            .block_on(self.http.get_blob(&to, digest, offset))
    }
}

impl BlobSource for RegistryBlobs {
    fn open_blob(&self, layer: &LayerDesc) -> Result<Box<dyn Read + Send>> {
        let digest = layer.digest.to_string();
        let res = self
            .get(&digest, 0)
            .map_err(|f| registry_error(&self.host, &format!("blob {digest}"), f))?;
        Ok(Box::new(BlobReader {
            blobs: RegistryBlobs {
                http: self.http.clone(),
                runtime: self.runtime.clone(),
                host: self.host.clone(),
                repository: self.repository.clone(),
            },
            digest,
            size: layer.size,
            stream: res.bytes_stream().boxed(),
            chunk: Bytes::new(),
            skip: 0,
            delivered: 0,
            resumes: 0,
        }))
    }
}

struct BlobReader {
    blobs: RegistryBlobs,
    digest: String,
    size: u64,
    stream: BoxStream<'static, reqwest::Result<Bytes>>,
    chunk: Bytes,
    /// Bytes of a fresh whole body to drop (already handed out before a break).
    skip: u64,
    delivered: u64,
    resumes: u32,
}

impl BlobReader {
    fn fail(&self, fail: Fail) -> io::Error {
        io::Error::other(format!("registry {}: {fail}", self.blobs.host))
    }

    /// Opens the body again from `offset`: a 206 continues there, a 200
    /// starts over and the bytes already handed out are skipped.
    fn resume(&mut self, offset: u64, why: Fail) -> io::Result<()> {
        if !why.transient() {
            return Err(self.fail(why));
        }
        if self.resumes + 1 >= ATTEMPTS {
            return Err(self.fail(Fail::Retried(Box::new(why), ATTEMPTS)));
        }
        std::thread::sleep(FIRST_DELAY * 2u32.pow(self.resumes));
        self.resumes += 1;
        let res = self
            .blobs
            .get(&self.digest, offset)
            .map_err(|f| self.fail(f))?;
        self.skip = if res.status() == reqwest::StatusCode::PARTIAL_CONTENT {
            let range = res
                .headers()
                .get(reqwest::header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !range.starts_with(&format!("bytes {offset}-")) {
                return Err(self.fail(Fail::Broken(
                    "the registry resumed the blob at another offset".into(),
                )));
            }
            0
        } else {
            offset
        };
        self.stream = res.bytes_stream().boxed();
        self.chunk = Bytes::new();
        Ok(())
    }
}

impl Read for BlobReader {
    /// Fills `buf` (short only at the end of the blob), so the first read
    /// holds every byte a format check needs whatever the TCP segments were.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            if !self.chunk.is_empty() {
                if self.skip > 0 {
                    let k = self.skip.min(self.chunk.len() as u64);
                    self.chunk.advance(k as usize);
                    self.skip -= k;
                    continue;
                }
                let left = self.size - self.delivered - n as u64;
                if left == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "the registry sent more than the descriptor's {} bytes",
                            self.size
                        ),
                    ));
                }
                let take = (buf.len() - n).min(self.chunk.len()).min(left as usize);
                buf[n..n + take].copy_from_slice(&self.chunk[..take]);
                self.chunk.advance(take);
                n += take;
                continue;
            }
            let timeout = self.blobs.http.timeout();
            match self.blobs.runtime.block_on(self.stream.next()) {
                Some(Ok(bytes)) => self.chunk = bytes,
                None => break,
                Some(Err(e)) => {
                    let why = super::http::classify(e, timeout);
                    self.resume(self.delivered + n as u64, why)?;
                }
            }
        }
        self.delivered += n as u64;
        Ok(n)
    }
}
