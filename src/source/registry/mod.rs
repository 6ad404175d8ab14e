//! Registry images (docker://…): manifests and indexes, configs, and layer
//! blobs streamed into the same verified scan as local sources; every
//! document capped by the bytes received, every wait bounded by `--timeout`.

pub mod artifact;
mod auth;
mod blobs;
mod catalog;
mod config_cache;
mod errors;
mod http;
mod resolve;
mod retry;
mod token;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::try_join_all;
use oci_client::manifest::{
    IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_INDEX_MEDIA_TYPE,
    OCI_IMAGE_MEDIA_TYPE,
};
use oci_client::Reference as OciRef;
use oci_spec::image::ImageIndex;

pub use auth::Credentials;
use blobs::RegistryBlobs;
pub use config_cache::ConfigCache;
use errors::registry_error;
use http::{Fail, Http, Target};

use super::platform::{reconcile, select, Platform};
use super::{config_platform, history_of, layers_of, parse_config, parse_manifest, shallow_layers};
use super::{Image, SourceOptions};
use crate::error::{Error, Result};
use crate::image::{Digest, ImageName, Transport};
use crate::reference::RegistryRef;
use crate::warnings::Warnings;

const ACCEPT: &[&str] = &[
    OCI_IMAGE_MEDIA_TYPE,
    OCI_IMAGE_INDEX_MEDIA_TYPE,
    IMAGE_MANIFEST_MEDIA_TYPE,
    IMAGE_MANIFEST_LIST_MEDIA_TYPE,
];
/// Manifests and indexes are read whole up to this many bytes received.
pub const MANIFEST_LIMIT: u64 = 4 << 20;
/// Configs are read whole; anything larger is refused rather than buffered.
pub const CONFIG_LIMIT: u64 = 32 << 20;
/// How long strata waits on a registry unless `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct RegistryOptions {
    pub credentials: Option<Credentials>,
    /// HOST[:PORT]s spoken to over plain HTTP (loopback ones always are).
    pub insecure: Vec<String>,
    /// The longest wait to connect, for the next byte of any body, and for
    /// a whole manifest, config or listing including its retries.
    pub timeout: Duration,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            credentials: None,
            insecure: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// One run's connection to its registries.
struct Session {
    http: Arc<Http>,
    runtime: Arc<tokio::runtime::Runtime>,
    opts: SourceOptions,
    warnings: Warnings,
}

/// Resolves every registry reference, concurrently; one Vec of images per reference.
pub fn load_all(
    refs: &[&RegistryRef],
    opts: &SourceOptions,
    warnings: &Warnings,
) -> Result<Vec<Vec<Image>>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("tokio runtime", e))?;
    let mut plain_http = BTreeSet::new();
    for r in refs {
        let host = r.parts()?.registry;
        if speaks_plain_http(&host, &opts.registry) {
            plain_http.insert(host);
        }
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
    )
    .map_err(|e| Error::Registry {
        registry: "client".into(),
        reason: e.to_string(),
    })?;
    let session = Session {
        http: Arc::new(http),
        runtime: Arc::new(runtime),
        opts: opts.clone(),
        warnings: warnings.clone(),
    };
    let runtime = session.runtime.clone();
    runtime.block_on(try_join_all(refs.iter().map(|r| session.resolve(r))))
}

/// Loopback registries, and those named by --insecure-registry.
fn speaks_plain_http(host: &str, opts: &RegistryOptions) -> bool {
    is_loopback(host) || opts.insecure.iter().any(|h| h == host)
}

/// 127.0.0.0/8, localhost and ::1 (with or without a port) speak plain HTTP, as with docker.
pub fn is_loopback(host: &str) -> bool {
    let bare = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        host.rsplit_once(':').map_or(host, |(h, p)| {
            if p.bytes().all(|b| b.is_ascii_digit()) && !h.contains(':') {
                h
            } else {
                host
            }
        })
    };
    bare == "localhost"
        || bare == "::1"
        || bare
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Session {
    async fn resolve(&self, r: &RegistryRef) -> Result<Vec<Image>> {
        let targets = if r.is_glob() {
            catalog::expand(&self.http, &r.text).await?
        } else {
            vec![to_oci(r)?]
        };
        let per_target = try_join_all(targets.iter().map(|t| self.resolve_one(t))).await?;
        Ok(per_target.into_iter().flatten().collect())
    }

    async fn resolve_one(&self, reference: &OciRef) -> Result<Vec<Image>> {
        let mut name = ImageName::new(Transport::Docker, reference.registry())
            .with_repository(reference.repository());
        name.tag = reference.tag().map(str::to_owned);
        if let Some(d) = reference.digest() {
            name.digest = Some(Digest::parse(d, "reference")?);
        }
        let (bytes, digest) = self.manifest(reference, &name.to_string()).await?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| Error::json(format!("{name}: manifest"), e))?;
        if value.get("manifests").is_none() {
            return Ok(vec![
                self.image(reference, &name, &bytes, digest, None).await?,
            ]);
        }
        let what = format!("{name}: index {digest}");
        let index: ImageIndex = serde_json::from_value(value).map_err(|e| Error::json(&what, e))?;
        let chosen = select(&index, &self.opts.platform, &name.to_string())?;
        let name = &name;
        let images = chosen.into_iter().map(|(desc, platform)| async move {
            let child = reference.clone_with_digest(desc.digest().to_string());
            let (bytes, digest) = self.manifest(&child, &name.to_string()).await?;
            self.image(&child, name, &bytes, digest, platform).await
        });
        try_join_all(images).await
    }

    /// Fetches a manifest (at most MANIFEST_LIMIT bytes received) and checks
    /// it against the digest it was asked by.
    async fn manifest(&self, reference: &OciRef, name: &str) -> Result<(Vec<u8>, Digest)> {
        let host = reference.resolve_registry();
        let repository = reference.repository();
        let tag_or_digest = reference.digest().or(reference.tag()).unwrap_or("latest");
        let url = self
            .http
            .url(host, &format!("/v2/{repository}/manifests/{tag_or_digest}"));
        let to = Target { host, repository };
        let bytes = match self
            .http
            .get_small(&to, &url, &ACCEPT.join(", "), MANIFEST_LIMIT)
            .await
        {
            Ok((_, bytes)) => bytes,
            Err(Fail::TooLarge(cap)) => {
                return Err(Error::Registry {
                    registry: host.to_owned(),
                    reason: format!("{name}: a manifest of more than {} MiB; refused", cap >> 20),
                })
            }
            Err(e @ Fail::Status { code: 404, .. }) if reference.digest().is_none() => {
                return Err(self.missing_tag(host, repository, name, e).await)
            }
            Err(e) => return Err(registry_error(host, name, e)),
        };
        let digest = match reference.digest() {
            Some(expected) => {
                let expected = Digest::parse(expected, name)?;
                let found = Digest::compute(expected.algorithm(), &bytes);
                if expected != found {
                    return Err(Error::DigestMismatch {
                        expected: expected.to_string(),
                        found: found.to_string(),
                    });
                }
                found
            }
            None => Digest::sha256_of(&bytes),
        };
        Ok((bytes, digest))
    }

    /// A tag the registry does not know: the error lists up to ten tags the
    /// repository has (when it can be listed at all).
    async fn missing_tag(&self, host: &str, repository: &str, name: &str, fail: Fail) -> Error {
        let mut reason = format!("{name}: {fail}");
        if let Ok(mut tags) = catalog::tags(&self.http, host, repository).await {
            tags.sort();
            reason.push_str(&if tags.is_empty() {
                "; the repository has no tags".to_owned()
            } else {
                format!("; tags there: {}", catalog::some(&tags))
            });
        }
        Error::Registry {
            registry: host.to_owned(),
            reason,
        }
    }

    async fn image(
        &self,
        reference: &OciRef,
        name: &ImageName,
        bytes: &[u8],
        digest: Digest,
        platform: Option<Platform>,
    ) -> Result<Image> {
        let what = format!("{name}: manifest {digest}");
        let manifest = parse_manifest(bytes, &what)?;
        let config_desc = manifest.config();
        let host = reference.resolve_registry();
        let repository = reference.repository();
        let blobs = Arc::new(RegistryBlobs::new(
            self.http.clone(),
            self.runtime.clone(),
            host.to_owned(),
            repository.to_owned(),
        ));
        if self.opts.shallow {
            return Ok(Image {
                name: name.clone(),
                platform: platform.map(|p| p.to_string()),
                manifest_digest: Some(digest),
                config_digest: Digest::parse(config_desc.digest().as_ref(), &what)?,
                layers: shallow_layers(&manifest, &what)?,
                history: Vec::new(),
                blobs,
            });
        }
        let config_what = format!("{name}: config {}", config_desc.digest());
        let config_digest = Digest::parse(config_desc.digest().as_ref(), &config_what)?;
        if config_desc.size() > CONFIG_LIMIT {
            return Err(Error::malformed(config_what, "config blob too large"));
        }
        let cache = self.opts.configs.as_deref();
        let config_bytes = match cache.and_then(|c| c.get(&config_digest, CONFIG_LIMIT)) {
            Some(bytes) => bytes,
            None => {
                let url = self
                    .http
                    .url(host, &format!("/v2/{repository}/blobs/{config_digest}"));
                let to = Target { host, repository };
                // Reading stops one byte past the declared size.
                let bytes = match self
                    .http
                    .get_small(&to, &url, "*/*", config_desc.size())
                    .await
                {
                    Ok((_, bytes)) => bytes,
                    Err(Fail::TooLarge(size)) => {
                        return Err(Error::Registry {
                            registry: host.to_owned(),
                            reason: format!(
                                "{config_what}: the registry sent more than the descriptor's {size} bytes"
                            ),
                        })
                    }
                    Err(e) => return Err(registry_error(host, &config_what, e)),
                };
                let found = Digest::compute(config_digest.algorithm(), &bytes);
                if bytes.len() as u64 != config_desc.size() || found != config_digest {
                    return Err(Error::DigestMismatch {
                        expected: config_digest.to_string(),
                        found: found.to_string(),
                    });
                }
                if let Some(c) = cache {
                    c.put(&config_digest, &bytes);
                }
                bytes
            }
        };
        let config = parse_config(&config_bytes, &config_what)?;
        let shown = reconcile(
            platform.as_ref(),
            config_platform(&config),
            &what,
            &self.warnings,
        );
        Ok(Image {
            name: name.clone(),
            platform: Some(shown),
            manifest_digest: Some(digest),
            config_digest,
            layers: unread_foreign(layers_of(&manifest, &config, &what)?),
            history: history_of(&config),
            blobs,
        })
    }
}

/// Registries do not distribute foreign layers: never asked for one (only
/// `--fetch-foreign` reads them, from their URLs).
fn unread_foreign(mut layers: Vec<crate::image::LayerDesc>) -> Vec<crate::image::LayerDesc> {
    for foreign in layers.iter_mut().filter_map(|l| l.foreign.as_mut()) {
        foreign.unread = true;
    }
    layers
}

fn to_oci(r: &RegistryRef) -> Result<OciRef> {
    let p = r.parts()?;
    Ok(match (p.tag, p.digest) {
        (Some(t), Some(d)) => OciRef::with_tag_and_digest(p.registry, p.repository, t, d),
        (None, Some(d)) => OciRef::with_digest(p.registry, p.repository, d),
        (t, None) => OciRef::with_tag(
            p.registry,
            p.repository,
            t.unwrap_or_else(|| "latest".into()),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_speak_plain_http() {
        for h in [
            "127.0.0.1:5000",
            "127.1.2.3",
            "localhost",
            "localhost:80",
            "[::1]:5000",
            "::1",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "10.0.0.1:5000",
            "registry.example",
            "localhost.example:5000",
            "[::2]:1",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }
}
