//! Foreign (non-distributable) layers not at hand: said once, or with
//! `--fetch-foreign` read from the URLs their descriptors name (http and
//! https only, with the registry's deadlines; the scan caps and verifies
//! the bytes like any blob's). Nothing else ever requests those URLs.

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use tokio_util::bytes::{Buf, Bytes};

use crate::error::{clip, Error, Result};
use crate::image::{BlobSource, Digest, Image, LayerDesc};
use crate::units;

/// Layers named in the note before it says "and N more".
const NAMED: usize = 3;

/// The one note for foreign layers that were neither here nor fetched.
pub fn note(images: &[Image]) -> Option<String> {
    let mut seen = std::collections::HashSet::new();
    let unread: Vec<(&Image, &LayerDesc)> = images
        .iter()
        .flat_map(|i| i.layers.iter().map(move |l| (i, l)))
        .filter(|(_, l)| l.unread() && seen.insert(&l.digest))
        .collect();
    if unread.is_empty() {
        return None;
    }
    let mut named: Vec<String> = unread
        .iter()
        .take(NAMED)
        .map(|(i, l)| {
            format!(
                "{} ({}, declared {})",
                l.digest.short(),
                i.name,
                units::human(l.size)
            )
        })
        .collect();
    if unread.len() > NAMED {
        named.push(format!("{} more", unread.len() - NAMED));
    }
    Some(format!(
        "foreign layer{} not here and not fetched: {}; {} files are left out of every view and {} uncompressed and files sizes are unknown (--fetch-foreign reads them from their URLs)",
        if unread.len() == 1 { "" } else { "s" },
        named.join(", "),
        if unread.len() == 1 { "its" } else { "their" },
        if unread.len() == 1 { "its" } else { "their" },
    ))
}

/// `--fetch-foreign`: every foreign layer not at hand is read from its URLs.
pub fn fetch_from_urls(images: &mut [Image], timeout: Duration) -> Result<()> {
    let mut fetcher: Option<Arc<Fetcher>> = None;
    for image in images.iter_mut() {
        let urls: HashMap<Digest, Vec<String>> = image
            .layers
            .iter()
            .filter(|l| l.unread())
            .map(|l| {
                let urls = l
                    .foreign
                    .as_ref()
                    .map(|f| f.urls.clone())
                    .unwrap_or_default();
                (l.digest.clone(), urls)
            })
            .collect();
        if urls.is_empty() {
            continue;
        }
        let fetcher = match &fetcher {
            Some(f) => f.clone(),
            None => fetcher.insert(Arc::new(Fetcher::new(timeout)?)).clone(),
        };
        for foreign in image.layers.iter_mut().filter_map(|l| l.foreign.as_mut()) {
            foreign.unread = false;
        }
        image.blobs = Arc::new(UrlBlobs {
            inner: image.blobs.clone(),
            urls,
            fetcher,
        });
    }
    Ok(())
}

/// One HTTP client and runtime for every foreign layer of the run.
struct Fetcher {
    client: reqwest::Client,
    rt: tokio::runtime::Runtime,
    timeout: Duration,
}

impl Fetcher {
    fn new(timeout: Duration) -> Result<Fetcher> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| Error::io("tokio runtime", e))?;
        // The client's timers belong to this runtime.
        let _guard = rt.enter();
        let client = reqwest::Client::builder()
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::malformed("foreign layers", clip(&e.to_string())))?;
        drop(_guard);
        Ok(Fetcher {
            client,
            rt,
            timeout,
        })
    }

    /// The first of `urls` that answers 2xx, its head within the deadline.
    fn open(self: &Arc<Self>, layer: &LayerDesc, urls: &[String]) -> Result<Box<dyn Read + Send>> {
        let what = format!("foreign layer {}", layer.digest);
        let usable: Vec<&String> = urls
            .iter()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .collect();
        if usable.is_empty() {
            return Err(Error::malformed(
                what,
                "no http(s) URL to fetch it from in its descriptor",
            ));
        }
        let mut last = String::new();
        for url in usable {
            let host = reqwest::Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(clip))
                .unwrap_or_else(|| "?".to_owned());
            let answer = self.rt.block_on(async {
                let get = self.client.get(url.as_str()).send();
                tokio::time::timeout(self.timeout, get).await
            });
            match answer {
                Ok(Ok(res)) if res.status().is_success() => {
                    return Ok(Box::new(UrlReader {
                        fetcher: self.clone(),
                        stream: res.bytes_stream().boxed(),
                        chunk: Bytes::new(),
                    }))
                }
                Ok(Ok(res)) => last = format!("{host} answered {}", res.status().as_u16()),
                Ok(Err(e)) if e.is_timeout() => {
                    last = format!("{host}: no answer within {} s", self.timeout.as_secs())
                }
                Ok(Err(e)) if e.is_connect() => last = format!("{host}: cannot connect"),
                Ok(Err(_)) => last = format!("{host}: the request failed"),
                Err(_) => last = format!("{host}: no answer within {} s", self.timeout.as_secs()),
            }
        }
        Err(Error::malformed(
            what,
            format!("not fetched from its URLs ({last})"),
        ))
    }
}

/// The image's own blobs, and its foreign layers from their URLs.
struct UrlBlobs {
    inner: Arc<dyn BlobSource>,
    urls: HashMap<Digest, Vec<String>>,
    fetcher: Arc<Fetcher>,
}

impl BlobSource for UrlBlobs {
    fn open_blob(&self, layer: &LayerDesc) -> Result<Box<dyn Read + Send>> {
        match self.urls.get(&layer.digest) {
            Some(urls) => self.fetcher.open(layer, urls),
            None => self.inner.open_blob(layer),
        }
    }
}

/// A response body as a `Read`; each chunk awaited within the read timeout
/// the client carries (the scan stops one byte past the declared size).
struct UrlReader {
    fetcher: Arc<Fetcher>,
    stream: BoxStream<'static, reqwest::Result<Bytes>>,
    chunk: Bytes,
}

impl Read for UrlReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            match self.fetcher.rt.block_on(self.stream.next()) {
                Some(Ok(bytes)) => self.chunk = bytes,
                Some(Err(e)) if e.is_timeout() => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "foreign layer URL stalled for {} s",
                            self.fetcher.timeout.as_secs()
                        ),
                    ))
                }
                Some(Err(_)) => {
                    return Err(io::Error::other("foreign layer URL: the body broke off"))
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk[..n]);
        self.chunk.advance(n);
        Ok(n)
    }
}
