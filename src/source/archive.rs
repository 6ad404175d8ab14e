//! `docker-archive:FILE[:REF]`: `docker save` output (legacy `<id>/layer.tar`
//! and OCI-style `blobs/sha256/…`) and kaniko tarballs (`<digest>.tar.gz`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;

use super::fs::{read_small, Fs, TarFs};
use super::{config_platform, history_of, parse_config, BlobSource, Image, LayerDesc};
use crate::error::{Error, Result};
use crate::image::{align_history, Declared, Digest, ImageName, Transport};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Item {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

pub fn load(path: &Path, wanted: Option<&str>) -> Result<Vec<Image>> {
    let label = format!("docker-archive:{}", path.display());
    let fs = Arc::new(TarFs::new(path, label.clone())?);
    if fs.open("manifest.json")?.is_none() {
        return Err(Error::malformed(
            &label,
            "not a docker-archive (no manifest.json)",
        ));
    }
    let what = format!("{label}: manifest.json");
    let items: Vec<Item> = serde_json::from_slice(&read_small(&*fs, "manifest.json", None, None)?)
        .map_err(|e| Error::json(&what, e))?;
    if items.is_empty() {
        return Err(Error::malformed(what, "lists no images"));
    }
    let tags = |item: &Item| item.repo_tags.clone().unwrap_or_default();
    let chosen: Vec<(usize, &Item)> = match wanted {
        None => items.iter().enumerate().collect(),
        Some(w) => items
            .iter()
            .enumerate()
            .filter(|(i, item)| {
                w.strip_prefix('@') == Some(&i.to_string())
                    || tags(item)
                        .iter()
                        .any(|t| t == w || *t == format!("{w}:latest"))
            })
            .collect(),
    };
    if chosen.is_empty() {
        let available: Vec<String> = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                tags(item)
                    .first()
                    .cloned()
                    .unwrap_or_else(|| format!("@{i}"))
            })
            .collect();
        return Err(Error::RefNotFound {
            source_name: label,
            wanted: wanted.unwrap_or_default().to_owned(),
            available: available.join(", "),
        });
    }

    let mut paths = HashMap::new();
    let mut images = Vec::new();
    for (i, item) in chosen {
        let source = ImageName::new(Transport::DockerArchive, path.display().to_string());
        let name = match tags(item).first() {
            Some(tag) => match tag.rsplit_once(':') {
                Some((repo, t)) if !t.contains('/') => source.with_repository(repo).with_tag(t),
                _ => source.with_tag(tag.clone()),
            },
            None => ImageName {
                position: Some(i),
                ..source
            },
        };
        let config_what = format!("{name}: config {}", item.config);
        let named_digest = digest_from_name(&item.config);
        let bytes = read_small(&*fs, &item.config, named_digest.as_ref(), None)?;
        let config = parse_config(&bytes, &config_what)?;
        let diff_ids = config.rootfs().diff_ids();
        if diff_ids.len() != item.layers.len() {
            return Err(Error::malformed(
                name.to_string(),
                format!(
                    "manifest.json lists {} layers but the config has {} diff_ids",
                    item.layers.len(),
                    diff_ids.len()
                ),
            ));
        }
        let history = history_of(&config);
        let aligned = align_history(&history, diff_ids.len());
        let mut layers = Vec::new();
        for ((layer_path, diff_id), layer_history) in item.layers.iter().zip(diff_ids).zip(aligned)
        {
            let diff_id = Digest::parse(diff_id, &config_what)?;
            // Legacy `<id>/layer.tar` is the uncompressed tar: its digest is its diff_id.
            let digest = digest_from_name(layer_path).unwrap_or_else(|| diff_id.clone());
            let (_, size) = fs.open(layer_path)?.ok_or_else(|| Error::BlobMissing {
                source_name: label.clone(),
                what: layer_path.clone(),
            })?;
            paths.insert(digest.clone(), layer_path.clone());
            layers.push(LayerDesc {
                digest,
                size,
                diff_id: Some(diff_id),
                declared: Declared::Sniff,
                history: layer_history,
            });
        }
        images.push((
            name,
            config_platform(&config),
            named_digest.unwrap_or_else(|| Digest::sha256_of(&bytes)),
            layers,
            history,
        ));
    }
    let blobs: Arc<dyn BlobSource> = Arc::new(ArchiveBlobs { fs, paths });
    Ok(images
        .into_iter()
        .map(|(name, platform, config_digest, layers, history)| Image {
            name,
            platform: Some(platform),
            manifest_digest: None,
            config_digest,
            layers,
            history,
            blobs: blobs.clone(),
        })
        .collect())
}

/// The digest a file name carries: `blobs/sha256/<hex>`, `sha256:<hex>`,
/// `<hex>.json`, `<hex>.tar`, `<hex>.tar.gz`. None for `<id>/layer.tar`.
fn digest_from_name(path: &str) -> Option<Digest> {
    let hex = if let Some(rest) = path.strip_prefix("blobs/sha256/") {
        rest
    } else if let Some(rest) = path.strip_prefix("sha256:") {
        rest
    } else {
        let base = path.rsplit('/').next().unwrap_or(path);
        [".tar.gz", ".tar", ".json"]
            .iter()
            .find_map(|ext| base.strip_suffix(ext))?
    };
    Digest::parse(&format!("sha256:{hex}"), path).ok()
}

struct ArchiveBlobs {
    fs: Arc<TarFs>,
    paths: HashMap<Digest, String>,
}

impl BlobSource for ArchiveBlobs {
    fn open_blob(&self, layer: &LayerDesc) -> Result<Box<dyn std::io::Read + Send>> {
        let missing = || Error::BlobMissing {
            source_name: self.fs.name().to_owned(),
            what: layer.digest.to_string(),
        };
        let path = self.paths.get(&layer.digest).ok_or_else(missing)?;
        Ok(self.fs.open(path)?.ok_or_else(missing)?.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_come_from_file_names_where_they_are() {
        let hex = "a".repeat(64);
        let d = Some(Digest::parse(&format!("sha256:{hex}"), "t").unwrap());
        assert_eq!(digest_from_name(&format!("blobs/sha256/{hex}")), d);
        assert_eq!(digest_from_name(&format!("{hex}.tar.gz")), d);
        assert_eq!(digest_from_name(&format!("{hex}.json")), d);
        assert_eq!(digest_from_name(&format!("sha256:{hex}")), d);
        assert_eq!(digest_from_name(&format!("{hex}/layer.tar")), None);
    }
}
