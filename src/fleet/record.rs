//! What `fleet plan` records in Redis of each tag and each distinct layer,
//! compactly: digests as raw bytes (32 for sha256, 64 for sha512), sizes as
//! varints (postcard), `created_by` clipped. A record that does not decode
//! is refused, never guessed at.

use serde::{Deserialize, Serialize};

use crate::image::{Compression, Declared, Digest, Image, LayerDesc};

/// The longest `created_by` kept for a layer (bytes, cut at a character).
pub const CREATED_BY_LIMIT: usize = 200;
/// The most images one tag may record (platforms of an index).
const PLATFORMS_LIMIT: usize = 64;

/// A digest as raw bytes: its length tells the algorithm.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Raw(#[serde(with = "serde_bytes")] pub Vec<u8>);

impl Raw {
    pub fn of(d: &Digest) -> Raw {
        Raw(hex::decode(d.hex()).unwrap_or_default())
    }

    pub fn digest(&self) -> Option<Digest> {
        let alg = match self.0.len() {
            32 => "sha256",
            64 => "sha512",
            _ => return None,
        };
        Digest::parse(&format!("{alg}:{}", hex::encode(&self.0)), "record").ok()
    }
}

/// One image of a tag (one per platform of an index).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageRecord {
    pub manifest: Raw,
    pub config: Raw,
    pub platform: Option<String>,
    /// Layer digests, bottom first (their descriptors are layer records).
    pub layers: Vec<Raw>,
}

/// What a tag names: the value of `images` under `HOST/REPO:TAG`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagRecord {
    pub images: Vec<ImageRecord>,
}

/// A distinct layer's descriptor: the value of `layers` under its raw digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRecord {
    pub size: u64,
    pub compression: Compression,
    pub diff_id: Raw,
    pub created_by: Option<String>,
}

impl TagRecord {
    pub fn of(images: &[Image]) -> TagRecord {
        TagRecord {
            images: images
                .iter()
                .map(|i| ImageRecord {
                    manifest: i.manifest_digest.as_ref().map_or(Raw(Vec::new()), Raw::of),
                    config: Raw::of(&i.config_digest),
                    platform: i.platform.clone(),
                    layers: i.layers.iter().map(|l| Raw::of(&l.digest)).collect(),
                })
                .collect(),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Option<TagRecord> {
        let r: TagRecord = postcard::from_bytes(bytes).ok()?;
        let digests_ok = r.images.iter().all(|i| {
            i.config.digest().is_some()
                && i.manifest.digest().is_some()
                && i.layers.iter().all(|l| l.digest().is_some())
        });
        (digests_ok && r.images.len() <= PLATFORMS_LIMIT).then_some(r)
    }
}

impl LayerRecord {
    /// The record of a layer as an image declares it; None without a
    /// diff_id or a media type strata reads (nothing to verify a scan by).
    pub fn of(layer: &LayerDesc) -> Option<LayerRecord> {
        let Declared::MediaType(compression) = layer.declared else {
            return None;
        };
        let created_by = layer
            .history
            .as_ref()
            .and_then(|h| h.created_by.as_deref())
            .map(clip_created_by);
        Some(LayerRecord {
            size: layer.size,
            compression,
            diff_id: Raw::of(layer.diff_id.as_ref()?),
            created_by,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).unwrap_or_default()
    }

    pub fn decode(bytes: &[u8]) -> Option<LayerRecord> {
        let r: LayerRecord = postcard::from_bytes(bytes).ok()?;
        let fits = r
            .created_by
            .as_ref()
            .is_none_or(|c| c.len() <= CREATED_BY_LIMIT);
        (r.diff_id.digest().is_some() && fits).then_some(r)
    }

    /// The descriptor a scan of `digest` is checked against.
    pub fn desc(&self, digest: Digest) -> Option<LayerDesc> {
        Some(LayerDesc {
            digest,
            size: self.size,
            diff_id: Some(self.diff_id.digest()?),
            declared: Declared::MediaType(self.compression),
            history: None,
            foreign: None,
        })
    }
}

/// `created_by` cut to CREATED_BY_LIMIT bytes at a character boundary.
fn clip_created_by(text: &str) -> String {
    if text.len() <= CREATED_BY_LIMIT {
        return text.to_owned();
    }
    let mut end = CREATED_BY_LIMIT - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::History;

    fn d(c: &str) -> Digest {
        Digest::parse(&format!("sha256:{}", c.repeat(64)), "t").unwrap()
    }

    #[test]
    fn a_layer_record_reads_back_and_is_compact() {
        let layer = LayerDesc {
            digest: d("a"),
            size: 1234,
            diff_id: Some(d("b")),
            declared: Declared::MediaType(Compression::Gzip),
            history: Some(History {
                created_by: Some("RUN apt-get install -y curl".into()),
                ..History::default()
            }),
            foreign: None,
        };
        let r = LayerRecord::of(&layer).unwrap();
        let bytes = r.encode();
        assert!(bytes.len() < 70, "{} bytes", bytes.len());
        let back = LayerRecord::decode(&bytes).unwrap();
        assert_eq!(back, r);
        assert_eq!(
            back.desc(d("a")).unwrap(),
            LayerDesc {
                history: None,
                ..layer
            }
        );
        assert_eq!(LayerRecord::decode(&bytes[..bytes.len() - 3]), None);
        assert_eq!(LayerRecord::decode(b"\x05junk"), None);
    }

    #[test]
    fn a_long_created_by_is_cut_at_a_character() {
        let long = "é".repeat(300);
        let cut = clip_created_by(&long);
        assert!(cut.len() <= CREATED_BY_LIMIT && cut.ends_with('…'));
        assert_eq!(clip_created_by("RUN x"), "RUN x");
    }

    #[test]
    fn raw_digests_keep_their_algorithm_and_refuse_other_lengths() {
        let s = Digest::parse(&format!("sha512:{}", "c".repeat(128)), "t").unwrap();
        assert_eq!(Raw::of(&s).digest(), Some(s.clone()));
        assert_eq!(Raw::of(&d("e")).0.len(), 32);
        assert_eq!(Raw(vec![1; 31]).digest(), None);
    }
}
