//! containerd's content store as a store laid out by digest
//! (`blobs/ALG/HEX`, as containerd keeps it on disk): each blob streamed
//! through the Content service's Read, chunk by chunk, nothing held whole.

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;

use tonic::Streaming;

use super::api::{Client, Failure, ReadContentResponse};
use crate::error::{Error, Result};
use crate::image::Digest;
use crate::source::fs::Fs;

/// One connection to containerd, and the runtime its calls run on (blobs
/// are read from the scan's threads, which block on it).
pub struct Conn {
    rt: tokio::runtime::Runtime,
    pub client: Client,
    pub socket: PathBuf,
}

impl Conn {
    pub fn new(socket: PathBuf) -> Result<Arc<Conn>> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| Error::io("tokio runtime", e))?;
        let client = {
            let _guard = rt.enter();
            Client::new(&socket)
        };
        Ok(Arc::new(Conn { rt, client, socket }))
    }

    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// A failure as the one error line: `containerd unix://…: reason`.
    pub fn error(&self, failure: Failure) -> Error {
        Error::Containerd {
            address: format!("unix://{}", self.socket.display()),
            reason: failure.reason(),
        }
    }
}

/// The blobs of one namespace.
pub struct ContentStore {
    pub conn: Arc<Conn>,
    pub namespace: String,
    /// `containerd:NAMESPACE`, how errors name the store.
    name: String,
}

impl ContentStore {
    pub fn new(conn: Arc<Conn>, namespace: &str) -> ContentStore {
        ContentStore {
            conn,
            namespace: namespace.to_owned(),
            name: format!("containerd:{namespace}"),
        }
    }

    /// The blob's size, or None when the store does not hold it.
    pub fn size(&self, digest: &Digest) -> Result<Option<u64>> {
        match self
            .conn
            .block_on(self.conn.client.info(&self.namespace, digest.as_str()))
        {
            Ok(info) => u64::try_from(info.size).map(Some).map_err(|_| {
                Error::malformed(format!("{}: blob {digest}", self.name), "a negative size")
            }),
            Err(Failure::NotFound) => Ok(None),
            Err(f) => Err(self.conn.error(f)),
        }
    }
}

/// `blobs/ALG/HEX` back to its digest.
fn digest_of(path: &str) -> Option<Digest> {
    let rest = path.strip_prefix("blobs/")?;
    let (alg, hex) = rest.split_once('/')?;
    Digest::parse(&format!("{alg}:{hex}"), path).ok()
}

impl Fs for ContentStore {
    fn name(&self) -> &str {
        &self.name
    }

    fn exists(&self, path: &str) -> Result<bool> {
        match digest_of(path) {
            Some(digest) => Ok(self.size(&digest)?.is_some()),
            None => Ok(false),
        }
    }

    fn open(&self, path: &str) -> Result<Option<(Box<dyn Read + Send>, u64)>> {
        let Some(digest) = digest_of(path) else {
            return Ok(None);
        };
        let Some(size) = self.size(&digest)? else {
            return Ok(None);
        };
        let read = self
            .conn
            .block_on(self.conn.client.read(&self.namespace, digest.as_str()));
        let stream = match read {
            Ok(s) => s,
            Err(Failure::NotFound) => return Ok(None),
            Err(f) => return Err(self.conn.error(f)),
        };
        Ok(Some((
            Box::new(BlobReader {
                conn: self.conn.clone(),
                stream,
                chunk: bytes::Bytes::new(),
                offset: 0,
                done: false,
            }),
            size,
        )))
    }
}

/// A blob's chunks as a `Read`; each chunk must start where the last ended.
struct BlobReader {
    conn: Arc<Conn>,
    stream: Streaming<ReadContentResponse>,
    chunk: bytes::Bytes,
    /// Bytes handed out so far (where the next chunk must start).
    offset: u64,
    done: bool,
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() && !self.done {
            match self.conn.block_on(Client::next_chunk(&mut self.stream)) {
                Ok(Some(c)) => {
                    if u64::try_from(c.offset).ok() != Some(self.offset) {
                        return Err(io::Error::other(format!(
                            "containerd sent a chunk at offset {} where {} was due",
                            c.offset, self.offset
                        )));
                    }
                    self.offset += c.data.len() as u64;
                    self.chunk = c.data;
                }
                Ok(None) => self.done = true,
                Err(f) => return Err(io::Error::other(format!("containerd: {}", f.reason()))),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        bytes::Buf::advance(&mut self.chunk, n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_paths_name_their_digest() {
        let hex = "a".repeat(64);
        assert_eq!(
            digest_of(&format!("blobs/sha256/{hex}")).map(|d| d.to_string()),
            Some(format!("sha256:{hex}"))
        );
        for bad in [
            "index.json",
            "oci-layout",
            "blobs/sha256/zz",
            "blobs/md5/00",
        ] {
            assert!(digest_of(bad).is_none(), "{bad}");
        }
    }
}
