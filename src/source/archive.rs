//! `docker-archive:FILE[:REF]` and `docker-archive:-` (stdin): `docker save`
//! output (legacy `<id>/layer.tar` and OCI-style `blobs/sha256/…`) and kaniko
//! tarballs (`<digest>.tar.gz`); also what an engine's image export is read as.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use oci_spec::image::Descriptor;
use serde::Deserialize;

use super::engine::stream::StreamFs;
use super::fs::{read_small, Fs, TarFs};
use super::{config_platform, history_of, parse_config, BlobSource, Image, LayerDesc, Reading};
use crate::error::{Error, Result};
use crate::image::{align_history, Declared, Digest, Foreign, ImageName, Transport};
use crate::reference::RegistryRef;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Item {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
    /// Foreign layers' descriptors, by diff_id (docker save leaves their
    /// blobs out).
    #[serde(default)]
    layer_sources: Option<HashMap<String, Descriptor>>,
}

pub fn load(path: &Path, wanted: Option<&str>, reading: &dyn Reading) -> Result<Vec<Image>> {
    let label = format!("docker-archive:{}", path.display());
    let source = ImageName::new(Transport::DockerArchive, path.display().to_string());
    if path.as_os_str() == "-" {
        let stdin = std::io::stdin();
        if std::io::IsTerminal::is_terminal(&stdin) {
            return Err(Error::malformed(
                label,
                "stdin is a terminal; pipe an archive in (docker save IMAGE | strata … docker-archive:-)",
            ));
        }
        let fs = StreamFs::read(stdin, label, reading)?;
        return load_fs(Arc::new(fs), source, wanted);
    }
    let fs = TarFs::new(path, label.clone())
        .map_err(|e| truncated_at(path).map_or(e, |n| truncated(&label, n)))?;
    if fs.open("manifest.json")?.is_none() {
        if let Some(n) = truncated_at(path) {
            return Err(truncated(&label, n));
        }
        return Err(Error::malformed(
            &label,
            "not a docker-archive (no manifest.json)",
        ));
    }
    load_fs(Arc::new(fs), source, wanted)
}

/// The images of a docker save archive read through `fs`; `source` names them.
pub fn load_fs(fs: Arc<dyn Fs>, source: ImageName, wanted: Option<&str>) -> Result<Vec<Image>> {
    let label = fs.name().to_owned();
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
                    || tags(item).iter().any(|t| same_tag(t, w))
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
        let source = source.clone();
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
            let source = item.layer_sources.as_ref().and_then(|s| s.get(diff_id));
            let diff_id = Digest::parse(diff_id, &config_what)?;
            let Some((_, size)) = fs.open(layer_path)? else {
                // A foreign layer docker save left out: its descriptor is all there is.
                let Some(desc) = source else {
                    return Err(Error::BlobMissing {
                        source_name: label.clone(),
                        what: layer_path.clone(),
                    });
                };
                let mut layer = super::layer_desc(desc, Some(diff_id.as_str()), &config_what)?;
                layer.history = layer_history;
                if let Some(f) = layer.foreign.as_mut() {
                    f.unread = true;
                }
                layers.push(layer);
                continue;
            };
            // Legacy `<id>/layer.tar` is the uncompressed tar: its digest is its diff_id.
            let digest = digest_from_name(layer_path).unwrap_or_else(|| diff_id.clone());
            paths.insert(digest.clone(), layer_path.clone());
            layers.push(LayerDesc {
                digest,
                size,
                diff_id: Some(diff_id),
                declared: Declared::Sniff,
                history: layer_history,
                foreign: source.map(|d| Foreign {
                    urls: d.urls().clone().unwrap_or_default(),
                    unread: false,
                }),
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

/// Whether a RepoTag names the image `wanted` names, as docker normalises
/// both (`app` = `app:latest` = `docker.io/library/app:latest`).
fn same_tag(tag: &str, wanted: &str) -> bool {
    if tag == wanted {
        return true;
    }
    let parts = |t: &str| RegistryRef { text: t.to_owned() }.parts().ok();
    match (parts(tag), parts(wanted)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Where a tar file ends early: the byte count, if its last entry (or
/// header) runs past the end of the file.
pub fn truncated_at(path: &Path) -> Option<u64> {
    // Never open what is not a regular file: a FIFO would block.
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut archive = tar::Archive::new(file);
    let mut end = 0u64;
    let mut entries = 0usize;
    // Raw: long names and PAX records are skipped, never read into memory.
    for entry in archive.entries_with_seek().ok()?.raw(true) {
        match entry {
            Ok(e) => {
                entries += 1;
                end = end.max(e.raw_file_position() + e.size());
            }
            // A header cut short after real entries; junk has none.
            Err(_) => return (entries > 0 && (len % 512 != 0 || end > len)).then_some(len),
        }
    }
    (end > len).then_some(len)
}

pub fn truncated(label: &str, len: u64) -> Error {
    Error::malformed(label, format!("archive ends after {len} bytes (truncated)"))
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
    fs: Arc<dyn Fs>,
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
