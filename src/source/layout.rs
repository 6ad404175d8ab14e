//! OCI image layouts, as a directory (`oci:DIR[:REF]`) or inside a tar
//! (`oci-archive:FILE[:REF]`): index.json -> (index ->) manifest -> config.

use std::path::Path;
use std::sync::Arc;

use oci_client::manifest::IMAGE_MANIFEST_LIST_MEDIA_TYPE;
use oci_spec::image::{Descriptor, ImageIndex, MediaType};

use super::fs::{read_capped, read_small, DirFs, Fs, TarFs, MANIFEST_LIMIT, SMALL_LIMIT};
use super::platform::{reconcile, select};
use super::{config_platform, history_of, layers_of, parse_config, parse_manifest};
use super::{BlobSource, Image, LayerDesc, SourceOptions};
use crate::error::{Error, Result};
use crate::image::{Digest, ImageName, Transport};
use crate::warnings::Warnings;

const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// What a layout is read with: the run's source options and warnings sink.
pub struct With<'a> {
    pub opts: &'a SourceOptions,
    pub warnings: &'a Warnings,
}

pub fn load_dir(path: &Path, wanted: Option<&str>, with: &With<'_>) -> Result<Vec<Image>> {
    let label = format!("oci:{}", path.display());
    let fs = DirFs::new(path, label.clone())?;
    let name = ImageName::new(Transport::Oci, path.display().to_string());
    load(Arc::new(fs), &label, name, wanted, with)
}

pub fn load_archive(path: &Path, wanted: Option<&str>, with: &With<'_>) -> Result<Vec<Image>> {
    let label = format!("oci-archive:{}", path.display());
    let fs = TarFs::new(path, label.clone())?;
    let name = ImageName::new(Transport::OciArchive, path.display().to_string());
    load(Arc::new(fs), &label, name, wanted, with)
}

fn load(
    fs: Arc<dyn Fs>,
    label: &str,
    source: ImageName,
    wanted: Option<&str>,
    with: &With<'_>,
) -> Result<Vec<Image>> {
    if fs.open("oci-layout")?.is_none() {
        return Err(Error::malformed(
            label,
            "not an OCI image layout (no oci-layout file)",
        ));
    }
    let bytes = read_small(&*fs, "index.json", None, None)?;
    let what = format!("{label}: index.json");
    let index: ImageIndex = serde_json::from_slice(&bytes).map_err(|e| Error::json(&what, e))?;
    if index.manifests().is_empty() {
        return Err(Error::malformed(what, "lists no images"));
    }
    let named =
        |d: &Descriptor| -> Option<String> { d.annotations().as_ref()?.get(REF_NAME).cloned() };
    let chosen: Vec<&Descriptor> = match wanted {
        None => index.manifests().iter().collect(),
        Some(w) => index
            .manifests()
            .iter()
            .filter(|d| named(d).as_deref() == Some(w))
            .collect(),
    };
    if chosen.is_empty() {
        let mut available: Vec<String> = index.manifests().iter().filter_map(named).collect();
        available.dedup();
        return Err(Error::RefNotFound {
            source_name: label.to_owned(),
            wanted: wanted.unwrap_or_default().to_owned(),
            available: if available.is_empty() {
                "no named images".to_owned()
            } else {
                available.join(", ")
            },
        });
    }
    let mut images = Vec::new();
    for desc in chosen {
        let name = match named(desc) {
            Some(n) => source.clone().with_tag(n),
            None => source
                .clone()
                .with_digest(Digest::parse(desc.digest().as_ref(), label)?),
        };
        images.extend(images_of(&fs, desc, &name, with)?);
    }
    Ok(images)
}

/// The images one descriptor names in a store laid out by digest
/// (`blobs/ALG/HEX`): a manifest's image, or an index's images of the
/// chosen platforms. Their layers are read from `fs` too.
pub fn images_of(
    fs: &Arc<dyn Fs>,
    desc: &Descriptor,
    name: &ImageName,
    with: &With<'_>,
) -> Result<Vec<Image>> {
    let blobs: Arc<dyn BlobSource> = Arc::new(LayoutBlobs { fs: fs.clone() });
    if !is_index(desc.media_type()) {
        return Ok(vec![image(&**fs, desc, name, &blobs)?]);
    }
    let what = format!("{name}: index {}", desc.digest());
    let bytes = read_blob(&**fs, desc, &what, MANIFEST_LIMIT)?;
    let nested: ImageIndex = serde_json::from_slice(&bytes).map_err(|e| Error::json(&what, e))?;
    let mut images = Vec::new();
    for (d, listed) in select(&nested, &with.opts.platform, &name.to_string())? {
        let mut image = image(&**fs, d, name, &blobs)?;
        let what = format!("{name}: manifest {}", d.digest());
        image.platform = image
            .platform
            .map(|p| reconcile(listed.as_ref(), p, &what, with.warnings));
        images.push(image);
    }
    Ok(images)
}

pub fn is_index(media_type: &MediaType) -> bool {
    match media_type {
        MediaType::ImageIndex => true,
        MediaType::Other(t) => t == IMAGE_MANIFEST_LIST_MEDIA_TYPE,
        _ => false,
    }
}

fn image(
    fs: &dyn Fs,
    desc: &Descriptor,
    name: &ImageName,
    blobs: &Arc<dyn BlobSource>,
) -> Result<Image> {
    let what = format!("{name}: manifest {}", desc.digest());
    let manifest = parse_manifest(&read_blob(fs, desc, &what, MANIFEST_LIMIT)?, &what)?;
    let config_desc = manifest.config();
    let config_what = format!("{name}: config {}", config_desc.digest());
    let config = parse_config(
        &read_blob(fs, config_desc, &config_what, SMALL_LIMIT)?,
        &config_what,
    )?;
    let mut layers = layers_of(&manifest, &config, &what)?;
    // A layout may leave foreign layers out (they are not distributed).
    for layer in &mut layers {
        if let Some(foreign) = layer.foreign.as_mut() {
            foreign.unread = !fs.exists(&blob_path(&layer.digest))?;
        }
    }
    Ok(Image {
        name: name.clone(),
        platform: Some(config_platform(&config)),
        manifest_digest: Some(Digest::parse(desc.digest().as_ref(), &what)?),
        config_digest: Digest::parse(config_desc.digest().as_ref(), &config_what)?,
        layers,
        history: history_of(&config),
        blobs: blobs.clone(),
    })
}

/// Where a layout keeps a blob: `blobs/ALG/HEX`.
pub fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm().name(), digest.hex())
}

/// Reads a small blob named by a descriptor (at most `cap` bytes), verifying size and digest.
fn read_blob(fs: &dyn Fs, desc: &Descriptor, what: &str, cap: u64) -> Result<Vec<u8>> {
    let digest = Digest::parse(desc.digest().as_ref(), what)?;
    read_capped(
        fs,
        &blob_path(&digest),
        Some(&digest),
        Some(desc.size()),
        cap,
    )
}

struct LayoutBlobs {
    fs: Arc<dyn Fs>,
}

impl BlobSource for LayoutBlobs {
    fn open_blob(&self, layer: &LayerDesc) -> Result<Box<dyn std::io::Read + Send>> {
        match self.fs.open(&blob_path(&layer.digest))? {
            Some((r, _)) => Ok(r),
            None => Err(Error::BlobMissing {
                source_name: self.fs.name().to_owned(),
                what: layer.digest.to_string(),
            }),
        }
    }
}
