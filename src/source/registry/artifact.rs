//! Artifacts in one registry repository, read and written by tag: the
//! shared cache's transport. The same client as image reads (auth, TLS,
//! token rules, `--timeout` on every wait, bodies capped by the bytes
//! received), plus what pushing needs from the distribution spec: HEAD,
//! a monolithic blob upload (POST, then PUT with `?digest=`), a manifest PUT.

use std::collections::BTreeSet;
use std::io::{self, Read};
use std::sync::Arc;

use futures_util::StreamExt;
use reqwest::header::{HeaderValue, ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};

use super::http::{classify, read_capped, Fail, Http, Target};
use super::retry::retry;
use super::{auth, speaks_plain_http, SourceOptions};
use crate::warnings::Warnings;

/// What an error answer's body may add to a failure, at most.
const ERROR_BODY: u64 = 64 << 10;
/// Tags asked about at once (`lack`).
const HEADS_AT_ONCE: usize = 16;

/// What kind of failure a request met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The registry could not be reached, or did not answer in time:
    /// asking again this run is pointless.
    Unreachable,
    /// Refused (401/403, or no token): no right to do this.
    Refused,
    /// 404: no such tag or blob.
    Missing,
    /// A body past its cap.
    TooLarge,
    /// Writing what was received on this machine failed.
    Local,
    Other,
}

/// Why a request to the repository failed, in strata's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    pub reason: String,
    pub problem: Problem,
}

impl Failed {
    pub fn new(problem: Problem, reason: impl Into<String>) -> Failed {
        Failed {
            reason: reason.into(),
            problem,
        }
    }
}

impl From<Fail> for Failed {
    fn from(fail: Fail) -> Failed {
        let base = match &fail {
            Fail::Retried(last, _) => last.as_ref(),
            other => other,
        };
        let problem = match base {
            Fail::Connect | Fail::Resolve { .. } | Fail::Timeout(_) | Fail::Broken(_) => {
                Problem::Unreachable
            }
            Fail::Status {
                code: 401 | 403, ..
            }
            | Fail::Auth(_) => Problem::Refused,
            Fail::Status { code: 404, .. } => Problem::Missing,
            Fail::TooLarge(_) => Problem::TooLarge,
            _ => Problem::Other,
        };
        Failed::new(problem, fail.to_string())
    }
}

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// One repository (`HOST/REPO`) of artifacts, used from blocking code.
pub struct Artifacts {
    http: Arc<Http>,
    runtime: tokio::runtime::Runtime,
    host: String,
    repository: String,
}

impl Artifacts {
    /// The repository `host`/`repository`, with the run's registry options
    /// (credentials, authfile, `--insecure-registry`, `--timeout`).
    pub fn open(
        host: &str,
        repository: &str,
        opts: &SourceOptions,
        warnings: &Warnings,
    ) -> Result<Artifacts, Failed> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("strata-shared")
            .enable_all()
            .build()
            .map_err(|e| Failed::new(Problem::Other, format!("tokio runtime: {e}")))?;
        let mut plain_http = BTreeSet::new();
        if speaks_plain_http(host, &opts.registry) {
            plain_http.insert(host.to_owned());
        }
        let lookup = auth::Lookup::new(
            opts.registry.credentials.clone(),
            opts.authfile.clone(),
            warnings.clone(),
        );
        let http = Http::new(
            plain_http,
            opts.registry.insecure.clone(),
            lookup,
            opts.registry.timeout,
        )?;
        Ok(Artifacts {
            http: Arc::new(http),
            runtime,
            host: host.to_owned(),
            repository: repository.to_owned(),
        })
    }

    /// The repository with the default registry options: anonymous unless
    /// the auth files skopeo and docker read have credentials for `host`.
    pub fn with_defaults(host: &str, repository: &str) -> Result<Artifacts, Failed> {
        let opts = SourceOptions {
            platform: super::super::PlatformChoice::All,
            registry: super::RegistryOptions::default(),
            shallow: false,
            configs: None,
            authfile: None,
            all: false,
            fetch_foreign: false,
        };
        Artifacts::open(host, repository, &opts, &Warnings::new())
    }

    fn to(&self) -> Target<'_> {
        Target {
            host: &self.host,
            repository: &self.repository,
        }
    }

    fn url(&self, path: &str) -> String {
        self.http
            .url(&self.host, &format!("/v2/{}/{path}", self.repository))
    }

    /// The manifest tagged `tag` (at most `cap` bytes), or None when the tag is unknown.
    pub fn manifest(&self, tag: &str, accept: &str, cap: u64) -> Result<Option<Vec<u8>>, Failed> {
        let url = self.url(&format!("manifests/{tag}"));
        let got = self
            .runtime
            .block_on(self.http.get_small(&self.to(), &url, accept, cap));
        match got {
            Ok((_, bytes)) => Ok(Some(bytes)),
            Err(Fail::Status { code: 404, .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Which of `tags` the repository has a manifest under (HEAD requests,
    /// a few at once), in the order given.
    pub fn has_manifests(&self, tags: &[String], accept: &str) -> Vec<Result<bool, Failed>> {
        self.runtime.block_on(async {
            futures_util::stream::iter(tags.iter().map(|tag| async move {
                let url = self.url(&format!("manifests/{tag}"));
                self.exists(&url, accept).await
            }))
            .buffered(HEADS_AT_ONCE)
            .collect()
            .await
        })
    }

    /// Is the blob `digest` in the repository?
    pub fn has_blob(&self, digest: &str) -> Result<bool, Failed> {
        let url = self.url(&format!("blobs/{digest}"));
        self.runtime.block_on(self.exists(&url, "*/*"))
    }

    async fn exists(&self, url: &str, accept: &str) -> Result<bool, Failed> {
        let attempt = || async {
            let res = self
                .http
                .send(&self.to(), |c| c.head(url).header(ACCEPT, accept))
                .await?;
            match res.status() {
                s if s.is_success() => Ok(true),
                StatusCode::NOT_FOUND => Ok(false),
                s => Err(Fail::Status {
                    code: s.as_u16(),
                    body: Vec::new(),
                }),
            }
        };
        Ok(retry(self.http.timeout(), attempt).await?)
    }

    /// Streams the blob `digest` to `sink`, refusing it past `size` bytes
    /// received; each wait for the next bytes is bounded by `--timeout`.
    pub fn blob(
        &self,
        digest: &str,
        size: u64,
        sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
    ) -> Result<(), Failed> {
        let timeout = self.http.timeout();
        self.runtime.block_on(async {
            let res = self.http.get_blob(&self.to(), digest, 0).await?;
            let mut stream = res.bytes_stream();
            let mut got = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| classify(e, timeout))?;
                got += chunk.len() as u64;
                if got > size {
                    return Err(Fail::TooLarge(size).into());
                }
                sink(&chunk).map_err(|e| Failed::new(Problem::Local, e.to_string()))?;
            }
            Ok(())
        })
    }

    /// Uploads a blob of `size` bytes that `open` reads (opened again for
    /// each try), unless the repository has it already.
    pub fn push_blob(
        &self,
        digest: &str,
        size: u64,
        open: &(dyn Fn() -> io::Result<Box<dyn Read + Send>> + Sync),
    ) -> Result<(), Failed> {
        if self.has_blob(digest)? {
            return Ok(());
        }
        let timeout = self.http.timeout();
        let start = self.url("blobs/uploads/");
        self.runtime.block_on(async {
            let attempt = || async {
                let res = self
                    .http
                    .send(&self.to(), |c| {
                        c.post(&start).header(CONTENT_LENGTH, HeaderValue::from(0))
                    })
                    .await?;
                if res.status() != StatusCode::ACCEPTED {
                    return Err(status(res, timeout).await);
                }
                let location = res
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
                    .ok_or_else(|| Fail::Broken("an upload without a Location".into()))?;
                let url = self.upload_url(&location, digest);
                let res = self
                    .http
                    .send(&self.to(), |c| {
                        let body = match open() {
                            Ok(r) => reqwest::Body::wrap_stream(chunks(r)),
                            Err(_) => reqwest::Body::from(Vec::new()),
                        };
                        c.request(Method::PUT, &url)
                            .header(CONTENT_TYPE, "application/octet-stream")
                            .header(CONTENT_LENGTH, HeaderValue::from(size))
                            .body(body)
                    })
                    .await?;
                if res.status() != StatusCode::CREATED {
                    return Err(status(res, timeout).await);
                }
                Ok(())
            };
            Ok(retry(timeout, attempt).await?)
        })
    }

    /// Where the upload's bytes go: the Location the registry gave (a path
    /// or a URL on the same registry), with the blob's digest.
    fn upload_url(&self, location: &str, digest: &str) -> String {
        let base = if location.starts_with('/') {
            self.http.url(&self.host, location)
        } else {
            location.to_owned()
        };
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}digest={digest}")
    }

    /// Puts `bytes` (of `media_type`) under `tag`, replacing what the tag named.
    pub fn put_manifest(&self, tag: &str, media_type: &str, bytes: &[u8]) -> Result<(), Failed> {
        let url = self.url(&format!("manifests/{tag}"));
        let timeout = self.http.timeout();
        self.runtime.block_on(async {
            let attempt = || async {
                let res = self
                    .http
                    .send(&self.to(), |c| {
                        c.put(&url)
                            .header(CONTENT_TYPE, media_type)
                            .body(bytes.to_vec())
                    })
                    .await?;
                if res.status() != StatusCode::CREATED {
                    return Err(status(res, timeout).await);
                }
                Ok(())
            };
            Ok(retry(timeout, attempt).await?)
        })
    }
}

/// An answer other than the one asked for, with what its body says.
async fn status(res: reqwest::Response, timeout: std::time::Duration) -> Fail {
    let code = res.status().as_u16();
    match read_capped(res, ERROR_BODY, timeout).await {
        Err(fail) => fail,
        Ok(body) => Fail::Status { code, body },
    }
}

/// A reader as a stream of 64 KiB chunks (a small local file: its reads
/// do not wait on the network).
fn chunks(
    r: Box<dyn Read + Send>,
) -> impl futures_util::Stream<Item = io::Result<Vec<u8>>> + Send + 'static {
    futures_util::stream::unfold(Some(r), |r| async move {
        let mut r = r?;
        let mut buf = vec![0u8; 64 * 1024];
        match r.read(&mut buf) {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(buf), Some(r)))
            }
            Err(e) => Some((Err(e), None)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_say_whether_the_registry_was_reached_or_refused() {
        let f: Failed = Fail::Connect.into();
        assert_eq!(f.problem, Problem::Unreachable);
        let f: Failed = Fail::Retried(Box::new(Fail::Connect), 3).into();
        assert_eq!(f.problem, Problem::Unreachable);
        assert!(f.reason.ends_with("(after 3 tries)"));
        let status = |code| Fail::Status {
            code,
            body: Vec::new(),
        };
        assert_eq!(Failed::from(status(403)).problem, Problem::Refused);
        assert_eq!(Failed::from(status(401)).problem, Problem::Refused);
        assert_eq!(Failed::from(status(404)).problem, Problem::Missing);
        assert_eq!(Failed::from(status(500)).problem, Problem::Other);
        assert_eq!(Failed::from(Fail::TooLarge(10)).problem, Problem::TooLarge);
    }
}
