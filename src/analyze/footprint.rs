//! Footprint: what a set of images costs together and each on its own —
//! per-image totals split into shared and unique, set sum vs dedup totals.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::sizes::{Lacking, Measure, Percents, Sizes};
use crate::image::{Digest, Image, LayerDesc};
use crate::layer::LayerSummary;

#[derive(Debug, Clone, Serialize)]
pub struct Footprint {
    /// Figures from manifests alone: uncompressed and files are unknown (null).
    pub shallow: bool,
    /// The measure the table's shared/unique/saved columns show (JSON has all three).
    pub measure: Measure,
    pub images: Vec<ImageFootprint>,
    pub set: SetFootprint,
    pub same_content: Vec<SameContent>,
    pub layers: Vec<LayerUse>,
    /// Images without the measure the tables would show (tables only).
    #[serde(skip)]
    pub lacking: Lacking,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImageFootprint {
    pub name: String,
    pub platform: Option<String>,
    pub manifest_digest: Option<Digest>,
    pub config_digest: Digest,
    /// Layers as the manifest lists them (repeats included).
    pub layers: usize,
    /// Distinct layer digests in this image; totals count each once.
    pub distinct_layers: usize,
    pub total: Sizes,
    /// Layers (by digest) that another image of the set also uses.
    pub shared: Sizes,
    /// Layers no other image of the set uses. shared + unique = total.
    pub unique: Sizes,
    /// unique plus, for each shared layer, its bytes split evenly among the
    /// images using it (remainder bytes one each to its first users in set
    /// order): fair shares add up exactly to the set's dedup total.
    pub fair_share: Sizes,
}

#[derive(Debug, Clone, Serialize)]
pub struct SetFootprint {
    pub images: usize,
    pub distinct_layers: usize,
    /// Sum of per-image totals (what adding up `image list` gives).
    pub sum_total: Sizes,
    /// Each distinct layer once (what a registry or a node really holds).
    pub dedup_total: Sizes,
    /// sum_total - dedup_total.
    pub saved: Sizes,
    /// saved / sum_total, in percent.
    pub saved_percent: Percents,
}

/// Distinct digests with one diff_id: the same tar stored more than once.
#[derive(Debug, Clone, Serialize)]
pub struct SameContent {
    pub diff_id: Digest,
    pub digests: Vec<Digest>,
    pub uncompressed: Option<u64>,
    /// Compressed bytes of all copies but the smallest: what storing it once
    /// would save (None when a copy's compressed size is unknown).
    pub extra_compressed: Option<u64>,
}

/// One distinct layer of the set and how many images use it.
#[derive(Debug, Clone, Serialize)]
pub struct LayerUse {
    pub digest: Digest,
    pub diff_id: Option<Digest>,
    pub compressed: Option<u64>,
    pub uncompressed: Option<u64>,
    pub files: Option<u64>,
    pub entries: Option<u64>,
    pub used_by: usize,
    /// A non-distributable layer (its blob lives at URLs, not in registries).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub foreign: bool,
}

/// What is known of one distinct layer: everything once scanned, the blob
/// size alone from a manifest.
#[derive(Debug, Clone)]
pub struct LayerFigures {
    pub diff_id: Option<Digest>,
    pub sizes: Sizes,
    pub entries: Option<u64>,
    pub foreign: bool,
}

impl LayerFigures {
    pub fn scanned(s: &LayerSummary) -> LayerFigures {
        LayerFigures {
            diff_id: Some(s.diff_id.clone()),
            sizes: Sizes::of(s),
            entries: Some(s.entries),
            foreign: false,
        }
    }

    /// A layer as an engine exports it: an uncompressed tar is no
    /// compressed size (the engine keeps none), never the tar's size as a guess.
    pub fn without_compressed(&mut self) {
        self.sizes.compressed = None;
    }

    pub fn declared(l: &LayerDesc) -> LayerFigures {
        LayerFigures {
            diff_id: l.diff_id.clone(),
            sizes: Sizes::compressed_only(l.size),
            entries: None,
            foreign: l.foreign.is_some(),
        }
    }
}

/// What the manifests say of every layer of `images`; nothing is read from
/// any layer blob.
pub fn declared_figures(images: &[Image]) -> HashMap<Digest, LayerFigures> {
    images
        .iter()
        .flat_map(|i| &i.layers)
        .map(|l| (l.digest.clone(), LayerFigures::declared(l)))
        .collect()
}

/// The scanned figures of every layer of `images`. Layers an engine
/// exported as uncompressed tars have no compressed size.
pub fn scanned_figures(
    images: &[Image],
    summaries: &HashMap<Digest, LayerSummary>,
) -> HashMap<Digest, LayerFigures> {
    let engine_tars: std::collections::HashSet<&Digest> = images
        .iter()
        .filter(|i| !i.name.transport.keeps_compressed())
        .flat_map(|i| &i.layers)
        .map(|l| &l.digest)
        .collect();
    let mut figures = known_figures(images, summaries);
    for (d, f) in figures.iter_mut() {
        let uncompressed =
            summaries.get(d).map(|s| s.compression) == Some(crate::image::Compression::None);
        if uncompressed && engine_tars.contains(d) {
            f.without_compressed();
        }
    }
    figures
}

/// What is known of every layer of `images` as its bytes say: the scan's
/// figures, or for a foreign layer not at hand (never scanned) its
/// descriptor's alone, uncompressed and files unknown.
pub fn known_figures(
    images: &[Image],
    summaries: &HashMap<Digest, LayerSummary>,
) -> HashMap<Digest, LayerFigures> {
    let mut figures = HashMap::new();
    for l in images.iter().flat_map(|i| &i.layers) {
        let f = match summaries.get(&l.digest) {
            Some(s) => LayerFigures {
                foreign: l.foreign.is_some(),
                ..LayerFigures::scanned(s)
            },
            None => LayerFigures::declared(l),
        };
        figures.insert(l.digest.clone(), f);
    }
    figures
}

/// An image's layer digests, each once, in manifest order.
fn distinct_of(image: &Image) -> Vec<&Digest> {
    super::sizes::distinct_layers([image])
        .into_iter()
        .map(|(_, d)| d)
        .collect()
}

/// Each image's fair share of the set's dedup total, in `images` order.
///
/// A layer of `b` bytes used by `n` images of the set gives each of them
/// `b / n`; the `b % n` remainder bytes go one each to its first `b % n`
/// users in set order. So the shares add up exactly to the dedup total in
/// every measure (an unknown measure stays unknown). `layers` must hold
/// figures for every layer digest of `images`.
pub fn fair_shares(images: &[Image], layers: &HashMap<Digest, LayerFigures>) -> Vec<Sizes> {
    let mut users: HashMap<&Digest, Vec<usize>> = HashMap::new();
    for (i, image) in images.iter().enumerate() {
        for d in distinct_of(image) {
            users.entry(d).or_default().push(i);
        }
    }
    let split = |bytes: Option<u64>, rank: usize, n: usize| {
        bytes.map(|b| {
            let n = n as u64;
            b / n + u64::from((rank as u64) < b % n)
        })
    };
    images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            distinct_of(image)
                .into_iter()
                .map(|d| {
                    let us = &users[d];
                    let rank = us.iter().position(|&u| u == i).unwrap_or(0);
                    let s = layers[d].sizes;
                    Sizes {
                        compressed: split(s.compressed, rank, us.len()),
                        uncompressed: split(s.uncompressed, rank, us.len()),
                        files: split(s.files, rank, us.len()),
                    }
                })
                .sum()
        })
        .collect()
}

/// `layers` must hold figures for every layer digest of `images`.
pub fn footprint(
    images: &[Image],
    layers: &HashMap<Digest, LayerFigures>,
    measure: Measure,
    shallow: bool,
) -> Footprint {
    // How many images use each digest, in first-seen order.
    let mut order: Vec<&Digest> = Vec::new();
    let mut used_by: HashMap<&Digest, usize> = HashMap::new();
    for image in images {
        for d in distinct_of(image) {
            let n = used_by.entry(d).or_insert(0);
            if *n == 0 {
                order.push(d);
            }
            *n += 1;
        }
    }
    let sizes = |d: &Digest| layers[d].sizes;
    let fair = fair_shares(images, layers);

    let rows: Vec<ImageFootprint> = images
        .iter()
        .zip(fair)
        .map(|(image, fair_share)| {
            let digests = distinct_of(image);
            let (mut shared, mut unique) = (Sizes::default(), Sizes::default());
            for d in &digests {
                if used_by[d] > 1 {
                    shared += sizes(d);
                } else {
                    unique += sizes(d);
                }
            }
            ImageFootprint {
                name: image.name.to_string(),
                platform: image.platform.clone(),
                manifest_digest: image.manifest_digest.clone(),
                config_digest: image.config_digest.clone(),
                layers: image.layers.len(),
                distinct_layers: digests.len(),
                total: shared + unique,
                shared,
                unique,
                fair_share,
            }
        })
        .collect();

    let sum_total: Sizes = rows.iter().map(|r| r.total).sum();
    let dedup_total: Sizes = order.iter().map(|d| sizes(d)).sum();
    let saved = sum_total - dedup_total;

    let mut by_diff_id: BTreeMap<&Digest, Vec<&Digest>> = BTreeMap::new();
    for d in &order {
        if let Some(diff_id) = layers[*d].diff_id.as_ref() {
            by_diff_id.entry(diff_id).or_default().push(d);
        }
    }
    let same_content = by_diff_id
        .into_iter()
        .filter(|(_, ds)| ds.len() > 1)
        .map(|(diff_id, ds)| {
            let compressed: Option<Vec<u64>> =
                ds.iter().map(|d| layers[*d].sizes.compressed).collect();
            SameContent {
                diff_id: diff_id.clone(),
                digests: ds.iter().map(|d| (*d).clone()).collect(),
                uncompressed: layers[ds[0]].sizes.uncompressed,
                extra_compressed: compressed
                    .map(|c| c.iter().sum::<u64>() - c.iter().min().copied().unwrap_or(0)),
            }
        })
        .collect();

    let layer_uses = order
        .iter()
        .map(|d| {
            let f = &layers[*d];
            LayerUse {
                digest: (*d).clone(),
                diff_id: f.diff_id.clone(),
                compressed: f.sizes.compressed,
                uncompressed: f.sizes.uncompressed,
                files: f.sizes.files,
                entries: f.entries,
                used_by: used_by[d],
                foreign: f.foreign,
            }
        })
        .collect();

    Footprint {
        shallow,
        measure,
        set: SetFootprint {
            images: rows.len(),
            distinct_layers: order.len(),
            sum_total,
            dedup_total,
            saved,
            saved_percent: sum_total.percent(saved),
        },
        images: rows,
        same_content,
        layers: layer_uses,
        lacking: Lacking::default(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::image::{BlobSource, Declared, ImageName, Transport};

    struct NoBlobs;
    impl BlobSource for NoBlobs {
        fn open_blob(&self, _: &LayerDesc) -> crate::error::Result<Box<dyn std::io::Read + Send>> {
            unreachable!("figures only")
        }
    }

    pub(crate) fn digest(n: u8) -> Digest {
        Digest::parse(&format!("sha256:{}", format!("{n:02x}").repeat(32)), "test").unwrap()
    }

    pub(crate) fn image(name: &str, layers: &[u8]) -> Image {
        Image {
            name: ImageName::new(Transport::Oci, name),
            platform: None,
            manifest_digest: None,
            config_digest: digest(0xff),
            layers: layers
                .iter()
                .map(|&n| LayerDesc {
                    digest: digest(n),
                    size: 0,
                    diff_id: None,
                    declared: Declared::Sniff,
                    history: None,
                    foreign: None,
                })
                .collect(),
            history: Vec::new(),
            blobs: std::sync::Arc::new(NoBlobs),
        }
    }

    #[test]
    fn fair_shares_add_up_to_the_dedup_total_with_the_remainder_to_first_users() {
        let images = [
            image("a", &[1, 2, 2]),
            image("b", &[1, 3]),
            image("c", &[1, 2]),
        ];
        let fig = |c: u64, u: Option<u64>| LayerFigures {
            diff_id: None,
            sizes: Sizes {
                compressed: Some(c),
                uncompressed: u,
                files: Some(c * 2),
            },
            entries: None,
            foreign: false,
        };
        let layers: HashMap<Digest, LayerFigures> = [
            (digest(1), fig(10, Some(100))),
            (digest(2), fig(7, Some(50))),
            (digest(3), fig(5, None)),
        ]
        .into_iter()
        .collect();
        let shares = fair_shares(&images, &layers);
        // Layer 1: 10 over 3 = 4, 3, 3; layer 2: 7 over a and c = 4, 3; layer 3: b alone.
        assert_eq!(shares[0].compressed, Some(4 + 4));
        assert_eq!(shares[1].compressed, Some(3 + 5));
        assert_eq!(shares[2].compressed, Some(3 + 3));
        assert_eq!(
            shares[1].uncompressed, None,
            "an unknown part stays unknown"
        );
        assert_eq!(shares[0].uncompressed, Some(34 + 25));
        let fp = footprint(&images, &layers, Measure::Compressed, false);
        let sum: Sizes = shares.iter().copied().sum();
        assert_eq!(sum, fp.set.dedup_total);
        assert_eq!(fp.set.dedup_total.compressed, Some(22));
        assert_eq!(fp.set.dedup_total.files, Some(44));
    }
}
