//! Sources: an image reference becomes images — manifest, config and verified
//! layer descriptors — plus a way to stream each layer's blob.

pub mod archive;
pub mod containerd;
pub mod engine;
pub mod foreign;
pub mod fs;
pub mod layout;
pub mod platform;
pub mod registry;

use std::collections::HashMap;

use oci_spec::image::{Descriptor, ImageConfiguration, ImageManifest};

use crate::error::{Error, Result};
use crate::image::{align_history, is_foreign, Compression, Declared, Digest, Foreign, History};
pub use crate::image::{BlobSource, Image, LayerDesc};
use crate::reference::Reference;
pub use platform::{Platform, PlatformChoice};

/// Where a source reports a stream it reads whole before any scan (an
/// engine's export, `docker-archive:-`), whose length is not known ahead.
pub trait Reading: Sync {
    fn begin(&self, what: &str);
    fn advance(&self, bytes: u64);
    fn end(&self);
    /// Where layers met in such a stream go as they arrive (None: they are
    /// spooled to an anonymous temp file until the stream says what they are).
    fn layers(&self) -> Option<&dyn LayerSink> {
        None
    }
}

/// Takes a layer a stream carries before the images that use it are known
/// (an engine's export writes layers first, manifest.json last): its bytes
/// are read through once, scanned and verified as they pass, and kept by
/// digest where later reads of the image find them.
pub trait LayerSink: Sync {
    /// Reads `blob` to its end; an error if it is not what `layer` declares.
    fn take(&self, layer: &LayerDesc, blob: &mut (dyn std::io::Read + Send)) -> Result<()>;
}

/// Reading reported nowhere.
pub struct NotShown;

impl Reading for NotShown {
    fn begin(&self, _: &str) {}
    fn advance(&self, _: u64) {}
    fn end(&self) {}
}

/// At most this many images per run (indexes with `--all-platforms`, globs,
/// references together): each costs a manifest and a config request, and
/// every view lists them all.
pub const MAX_IMAGES: usize = 1000;

#[derive(Debug, Clone)]
pub struct SourceOptions {
    pub platform: PlatformChoice,
    pub registry: registry::RegistryOptions,
    /// Manifests only: registry configs are not fetched (no blob requests).
    pub shallow: bool,
    /// Where registry configs are cached (None: --no-cache); the session
    /// hands in the store's.
    pub configs: Option<std::sync::Arc<dyn registry::ConfigCache>>,
    /// `--authfile`: registry credentials looked up there first.
    pub authfile: Option<std::path::PathBuf>,
    /// `--all`: an engine's `*` names its untagged (dangling) images too.
    pub all: bool,
    /// `--fetch-foreign`: foreign layers not at hand are read from their URLs.
    pub fetch_foreign: bool,
}

/// Resolves references into the images they name, in order (an OCI layout
/// without a ref names all of its images; an index one per selected platform).
/// Registry references are resolved together, concurrently.
pub fn load_all(
    refs: &[Reference],
    opts: &SourceOptions,
    warnings: &crate::warnings::Warnings,
    reading: &dyn Reading,
) -> anyhow::Result<Vec<Image>> {
    use anyhow::Context;
    let remote: Vec<&crate::reference::RegistryRef> = refs
        .iter()
        .filter_map(|r| match r {
            Reference::Registry(r) => Some(r),
            _ => None,
        })
        .collect();
    let mut remote_images = if remote.is_empty() {
        Vec::new()
    } else {
        registry::load_all(&remote, opts, warnings)?
    }
    .into_iter();
    let mut images = Vec::new();
    let with = layout::With { opts, warnings };
    for r in refs {
        let loaded = match r {
            Reference::OciDir { path, name } => by_digest(name.as_deref(), |wanted| {
                layout::load_dir(path, wanted, &with)
            }),
            Reference::OciArchive { path, name } => by_digest(name.as_deref(), |wanted| {
                layout::load_archive(path, wanted, &with)
            })
            .map_err(|e| match archive::truncated_at(path) {
                Some(n) => archive::truncated(&r.to_string(), n),
                None => e,
            }),
            Reference::DockerArchive { path, name } => {
                archive::load(path, name.as_deref(), reading)
            }
            Reference::DockerDaemon { name } => engine::load_docker(name, opts.all, reading),
            Reference::ContainersStorage { name } => engine::load_podman(name, opts.all, reading),
            Reference::Containerd { text } => containerd::load(text, &with),
            Reference::Registry(_) => Ok(remote_images.next().unwrap_or_default()),
        };
        let loaded = loaded.and_then(|images| platform::check_named(images, opts));
        // Most errors already name the source; say "loading" only where they do not.
        let loaded = match loaded {
            Err(e) if e.to_string().starts_with(&r.to_string()) => Err(e.into()),
            other => other.with_context(|| format!("loading {r}")),
        };
        images.extend(loaded?);
        if images.len() > MAX_IMAGES {
            anyhow::bail!(
                "{} images named; strata reads at most {MAX_IMAGES} per run",
                images.len()
            );
        }
    }
    let (mut images, repeats) = dedup(images);
    for w in repeats {
        warnings.warn(w);
    }
    if opts.fetch_foreign && !opts.shallow {
        foreign::fetch_from_urls(&mut images, opts.registry.timeout)?;
    } else if let Some(note) = foreign::note(&images).filter(|_| !opts.shallow) {
        warnings.warn(note);
    }
    check_declared_sizes(&images)?;
    Ok(images)
}

/// One digest is one blob: every descriptor naming it must declare the same
/// size, or one of them lies (and a shallow listing would print the lie).
fn check_declared_sizes(images: &[Image]) -> Result<()> {
    let mut first: HashMap<&Digest, (u64, &Image)> = HashMap::new();
    for image in images {
        for layer in &image.layers {
            let (size, by) = *first.entry(&layer.digest).or_insert((layer.size, image));
            if size != layer.size {
                return Err(Error::malformed(
                    format!("layer {}", layer.digest),
                    format!(
                        "{} declares {} bytes but {} declares {}",
                        by.name, size, image.name, layer.size
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The same image named twice — the same manifest digest (or, without a
/// manifest, the same config and layer digests) — is kept once, in
/// first-named order; returns the warnings that say so.
fn dedup(images: Vec<Image>) -> (Vec<Image>, Vec<String>) {
    let mut seen: HashMap<Vec<Digest>, usize> = HashMap::new();
    let mut kept: Vec<Image> = Vec::new();
    let mut warnings = Vec::new();
    for image in images {
        let id: Vec<Digest> = match &image.manifest_digest {
            Some(d) => vec![d.clone()],
            None => std::iter::once(&image.config_digest)
                .chain(image.layers.iter().map(|l| &l.digest))
                .cloned()
                .collect(),
        };
        match seen.get(&id) {
            Some(&i) => {
                let first = &kept[i].name;
                warnings.push(if *first == image.name {
                    format!("{first} is named twice; analysed once")
                } else {
                    format!(
                        "{} is the same image as {first} ({}); analysed once",
                        image.name,
                        id[0].short()
                    )
                })
            }
            None => {
                seen.insert(id, kept.len());
                kept.push(image);
            }
        }
    }
    (kept, warnings)
}

/// `oci:DIR@sha256:…` (how strata names an untagged image): the layout's
/// images whose name carries that digest.
fn by_digest(
    wanted: Option<&str>,
    load: impl FnOnce(Option<&str>) -> Result<Vec<Image>>,
) -> Result<Vec<Image>> {
    let Some(digest) = wanted
        .and_then(|w| w.strip_prefix('@'))
        .filter(|d| d.contains(':'))
    else {
        return load(wanted);
    };
    let all = load(None)?;
    let picked: Vec<Image> = all
        .iter()
        .filter(|i| {
            i.name.digest.as_ref().is_some_and(|d| d == digest)
                || i.manifest_digest.as_ref().is_some_and(|d| d == digest)
        })
        .cloned()
        .collect();
    if picked.is_empty() {
        let source_name = all
            .first()
            .map(|i| format!("{}{}", i.name.transport.prefix(), i.name.location))
            .unwrap_or_default();
        return Err(Error::RefNotFound {
            source_name,
            wanted: format!("@{digest}"),
            available: all
                .iter()
                .map(|i| i.name.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(picked)
}

/// Parses an image manifest, refusing Docker schema 1 and indexes in its place.
pub fn parse_manifest(bytes: &[u8], what: &str) -> Result<ImageManifest> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| Error::json(what, e))?;
    if value.get("schemaVersion").and_then(|v| v.as_u64()) == Some(1) {
        return Err(Error::Unsupported(format!(
            "{what}: Docker schema 1 manifest (deprecated; re-push the image with a current client)"
        )));
    }
    if value.get("manifests").is_some() {
        return Err(Error::malformed(
            what,
            "an image index where a manifest was expected",
        ));
    }
    serde_json::from_value(value).map_err(|e| Error::json(what, e))
}

pub fn parse_config(bytes: &[u8], what: &str) -> Result<ImageConfiguration> {
    serde_json::from_slice(bytes).map_err(|e| Error::json(what, e))
}

/// os/arch[/variant] of a config.
pub fn config_platform(config: &ImageConfiguration) -> String {
    let mut p = format!("{}/{}", config.os(), config.architecture());
    if let Some(v) = config.variant() {
        p.push('/');
        p.push_str(v);
    }
    p
}

/// The config's history entries, in order.
pub fn history_of(config: &ImageConfiguration) -> Vec<History> {
    config
        .history()
        .iter()
        .flatten()
        .map(|h| History {
            created_by: h.created_by().clone(),
            created: h.created().clone(),
            comment: h.comment().clone(),
            empty_layer: h.empty_layer().unwrap_or(false),
        })
        .collect()
}

/// Pairs a manifest's layer descriptors with the config's diff_ids and history.
pub fn layers_of(
    manifest: &ImageManifest,
    config: &ImageConfiguration,
    what: &str,
) -> Result<Vec<LayerDesc>> {
    let diff_ids = config.rootfs().diff_ids();
    if diff_ids.len() != manifest.layers().len() {
        return Err(Error::malformed(
            what,
            format!(
                "manifest lists {} layers but the config has {} diff_ids",
                manifest.layers().len(),
                diff_ids.len()
            ),
        ));
    }
    let history = align_history(&history_of(config), diff_ids.len());
    manifest
        .layers()
        .iter()
        .zip(diff_ids)
        .zip(history)
        .map(|((desc, diff_id), history)| {
            let mut layer = layer_desc(desc, Some(diff_id), what)?;
            layer.history = history;
            Ok(layer)
        })
        .collect()
}

/// A manifest's layers without their diff_ids (for shallow listings).
pub fn shallow_layers(manifest: &ImageManifest, what: &str) -> Result<Vec<LayerDesc>> {
    manifest
        .layers()
        .iter()
        .map(|desc| layer_desc(desc, None, what))
        .collect()
}

pub(crate) fn layer_desc(
    desc: &Descriptor,
    diff_id: Option<&str>,
    what: &str,
) -> Result<LayerDesc> {
    let digest = Digest::parse(desc.digest().as_ref(), what)?;
    let diff_id = diff_id.map(|d| Digest::parse(d, what)).transpose()?;
    let compression = Compression::from_media_type(desc.media_type()).ok_or_else(|| {
        Error::UnsupportedMediaType {
            digest: digest.to_string(),
            media_type: crate::error::clip(desc.media_type().as_ref()),
        }
    })?;
    let foreign = is_foreign(desc.media_type()).then(|| Foreign {
        urls: desc.urls().clone().unwrap_or_default(),
        unread: false,
    });
    Ok(LayerDesc {
        digest,
        size: desc.size(),
        diff_id,
        declared: Declared::MediaType(compression),
        history: None,
        foreign,
    })
}
