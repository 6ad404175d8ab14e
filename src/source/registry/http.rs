//! Raw registry requests: anonymous until a 401 challenge, deadlines on every
//! wait (connect, idle read, whole small documents) and bodies capped by the
//! bytes actually received.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{RequestBuilder, Response, StatusCode};

use super::auth::{self, Lookup};
use super::resolve::{Resolver, Unresolved};
use super::retry::retry;
use super::token;

/// Why one request failed; `Display` is the reason shown after what was asked.
#[derive(Debug)]
pub enum Fail {
    /// An answer other than success, after any challenge was met.
    Status {
        code: u16,
        body: Vec<u8>,
    },
    Connect,
    /// The host name did not resolve (`reserved`: a `.invalid` name).
    Resolve {
        host: String,
        reserved: bool,
    },
    /// No byte for `--timeout`, or a small document not whole within it.
    Timeout(Duration),
    /// The connection broke, or closed before the body was complete.
    Broken(String),
    /// The body went past the cap (bytes received, whatever was declared).
    TooLarge(u64),
    /// A registry token exchange failed.
    Auth(String),
    /// The last failure of several tries, and how many there were.
    Retried(Box<Fail>, u32),
}

impl Fail {
    /// Whether sending the request again may succeed.
    pub fn transient(&self) -> bool {
        match self {
            Fail::Status { code, body } => *code == 429 || *code >= 500 || too_many(body),
            Fail::Connect | Fail::Broken(_) => true,
            Fail::Resolve { reserved, .. } => !reserved,
            Fail::Timeout(_) | Fail::TooLarge(_) | Fail::Auth(_) | Fail::Retried(..) => false,
        }
    }
}

/// A 4xx that carries the OCI `TOOMANYREQUESTS` code.
fn too_many(body: &[u8]) -> bool {
    serde_json::from_slice::<oci_client::errors::OciEnvelope>(body).is_ok_and(|e| {
        e.errors
            .iter()
            .any(|e| e.code == oci_client::errors::OciErrorCode::Toomanyrequests)
    })
}

impl std::fmt::Display for Fail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fail::Status { code, body } => f.write_str(&super::errors::status_reason(*code, body)),
            Fail::Connect => f.write_str("cannot connect (registry down or unreachable)"),
            Fail::Resolve { host, .. } => {
                write!(f, "cannot resolve host {}", crate::error::clip(host))
            }
            Fail::Timeout(t) => write!(f, "timed out after {} (--timeout)", human(*t)),
            Fail::Broken(e) => write!(f, "connection broken: {e}"),
            Fail::TooLarge(cap) if cap % (1 << 20) == 0 => {
                write!(f, "the registry sent more than {} MiB; refused", cap >> 20)
            }
            Fail::TooLarge(cap) => write!(f, "the registry sent more than {cap} bytes; refused"),
            Fail::Auth(e) => write!(f, "authentication failed: {e}"),
            Fail::Retried(last, tries) => write!(f, "{last} (after {tries} tries)"),
        }
    }
}

fn human(t: Duration) -> String {
    if t.subsec_millis() != 0 || t.as_secs() == 0 {
        format!("{} ms", t.as_millis())
    } else {
        format!("{} s", t.as_secs())
    }
}

pub fn classify(e: reqwest::Error, timeout: Duration) -> Fail {
    if let Some(u) = unresolved(&e) {
        Fail::Resolve {
            host: u.host.clone(),
            reserved: u.reserved,
        }
    } else if e.is_timeout() {
        Fail::Timeout(timeout)
    } else if e.is_connect() {
        Fail::Connect
    } else if e.is_body() || e.is_decode() {
        Fail::Broken("the body ended early".to_owned())
    } else {
        Fail::Broken(e.without_url().to_string())
    }
}

/// The resolver's failure somewhere under a client error, if that is what it was.
fn unresolved<'e>(e: &'e (dyn std::error::Error + 'static)) -> Option<&'e Unresolved> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(u) = err.downcast_ref::<Unresolved>() {
            return Some(u);
        }
        cur = err.source();
    }
    None
}

/// One run's HTTP client for all registries.
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
    plain_http: BTreeSet<String>,
    /// `--insecure-registry`: the hosts the user allowed plain HTTP to.
    insecure: Vec<String>,
    lookup: Lookup,
    /// Authorization to send per (host, repository), once a challenge was met.
    granted: Mutex<HashMap<(String, String), HeaderValue>>,
}

/// Where a request goes: a host and (for token scopes) a repository.
pub struct Target<'a> {
    pub host: &'a str,
    pub repository: &'a str,
}

impl Http {
    pub fn new(
        plain_http: BTreeSet<String>,
        insecure: Vec<String>,
        lookup: Lookup,
        timeout: Duration,
    ) -> Result<Http, Fail> {
        let client = reqwest::Client::builder()
            .dns_resolver(std::sync::Arc::new(Resolver))
            .connect_timeout(timeout)
            .read_timeout(timeout)
            .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Fail::Broken(e.to_string()))?;
        Ok(Http {
            client,
            timeout,
            plain_http,
            insecure,
            lookup,
            granted: Mutex::new(HashMap::new()),
        })
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `http(s)://HOST` + path.
    pub fn url(&self, host: &str, path: &str) -> String {
        let scheme = if self.plain_http.contains(host) {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{host}{path}")
    }

    /// A small document (manifest, config, listing) whole: at most `cap`
    /// bytes, within `--timeout` including retries. Returns its headers too.
    pub async fn get_small(
        &self,
        to: &Target<'_>,
        url: &str,
        accept: &str,
        cap: u64,
    ) -> Result<(HeaderMap, Vec<u8>), Fail> {
        let attempt = || async {
            let res = self
                .send(to, |c| c.get(url).header(reqwest::header::ACCEPT, accept))
                .await?;
            let headers = res.headers().clone();
            Ok((headers, read_capped(res, cap, self.timeout).await?))
        };
        retry(self.timeout, attempt).await
    }

    /// A blob's response from byte `offset` on (a Range request when > 0):
    /// its head within `--timeout` including retries; the body is read later,
    /// each read bounded by the idle timeout.
    pub async fn get_blob(
        &self,
        to: &Target<'_>,
        digest: &str,
        offset: u64,
    ) -> Result<Response, Fail> {
        let url = self.url(to.host, &format!("/v2/{}/blobs/{digest}", to.repository));
        let attempt = || async {
            let res = self
                .send(to, |c| {
                    let req = c.get(&url);
                    if offset > 0 {
                        req.header(reqwest::header::RANGE, format!("bytes={offset}-"))
                    } else {
                        req
                    }
                })
                .await?;
            let status = res.status();
            if status.is_success() {
                Ok(res)
            } else {
                let code = status.as_u16();
                Err(Fail::Status {
                    code,
                    body: read_capped(res, 64 << 10, self.timeout)
                        .await
                        .unwrap_or_default(),
                })
            }
        };
        retry(self.timeout, attempt).await
    }

    /// Sends anonymously (or with what an earlier challenge granted); on a
    /// 401 that carries a challenge, meets it once and sends again.
    pub(super) async fn send(
        &self,
        to: &Target<'_>,
        build: impl Fn(&reqwest::Client) -> RequestBuilder,
    ) -> Result<Response, Fail> {
        let key = (to.host.to_owned(), to.repository.to_owned());
        let granted = self.granted.lock().ok().and_then(|g| g.get(&key).cloned());
        let mut req = build(&self.client);
        if let Some(h) = &granted {
            req = req.header(AUTHORIZATION, h.clone());
        }
        let res = req.send().await.map_err(|e| classify(e, self.timeout))?;
        if res.status() != StatusCode::UNAUTHORIZED {
            return Ok(res);
        }
        let Some(challenge) = res.headers().get(WWW_AUTHENTICATE).cloned() else {
            return Ok(res);
        };
        let Some(header) = self.meet(to, &challenge).await? else {
            return Ok(res);
        };
        if let Ok(mut g) = self.granted.lock() {
            g.insert(key, header.clone());
        }
        build(&self.client)
            .header(AUTHORIZATION, header)
            .send()
            .await
            .map_err(|e| classify(e, self.timeout))
    }

    /// The Authorization a challenge asks for, if strata has credentials
    /// for it (a Bearer challenge may grant an anonymous token).
    async fn meet(
        &self,
        to: &Target<'_>,
        challenge: &HeaderValue,
    ) -> Result<Option<HeaderValue>, Fail> {
        let auth = self.lookup.for_host(to.host);
        let (scheme, params) = token::parse_challenge(challenge.to_str().unwrap_or_default());
        let value = match (scheme.as_str(), auth::basic_pair(&auth)) {
            ("basic", Some((u, p))) => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
            )),
            ("bearer", _) => {
                let asked = token::Asked {
                    registry: to.host,
                    repository: to.repository,
                    insecure: &self.insecure,
                };
                let withheld = |origin: &str| {
                    self.lookup.warn(format!(
                        "registry {}: credentials withheld from its token service {origin} (plain HTTP to another host); the token was asked for anonymously",
                        to.host
                    ))
                };
                let token =
                    token::fetch(&self.client, self.timeout, &params, &asked, &auth, withheld)
                        .await?;
                Some(format!("Bearer {token}"))
            }
            _ => None,
        };
        Ok(value
            .and_then(|v| HeaderValue::from_str(&v).ok())
            .map(|mut v| {
                v.set_sensitive(true);
                v
            }))
    }
}

/// Reads a response body whole, refusing it as soon as more than `cap`
/// bytes have arrived; a non-success status becomes `Fail::Status`.
pub async fn read_capped(res: Response, cap: u64, timeout: Duration) -> Result<Vec<u8>, Fail> {
    let status = res.status();
    if res.content_length().is_some_and(|n| n > cap) && status.is_success() {
        return Err(Fail::TooLarge(cap));
    }
    let mut body = Vec::new();
    let mut stream = res.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| classify(e, timeout))?;
        if (body.len() + chunk.len()) as u64 > cap {
            if status.is_success() {
                return Err(Fail::TooLarge(cap));
            }
            break;
        }
        body.extend_from_slice(&chunk);
    }
    if status.is_success() {
        Ok(body)
    } else {
        Err(Fail::Status {
            code: status.as_u16(),
            body,
        })
    }
}
