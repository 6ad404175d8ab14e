//! Compare: two image families side by side — each family's totals and common
//! base, per-image totals, marginals and fair shares paired by name, and what
//! deploying a named subset costs from each family.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::footprint::{fair_shares, LayerFigures};
use super::sizes::{Lacking, Measure, Sizes};
use crate::image::{Digest, Image};

pub mod common;
mod pairing;
pub use pairing::strip_common_prefix;
use pairing::{keys_of, pair_up, Keys};

/// One family as the command hands it over.
pub struct FamilyInput<'a> {
    pub name: &'a str,
    pub images: &'a [Image],
    /// `--left-base` / `--right-base`: the base is this image's layers
    /// instead of the family's common layer prefix.
    pub base: Option<&'a Image>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Compare {
    /// Figures from manifests alone: uncompressed and files are unknown (null).
    pub shallow: bool,
    /// The measure the table shows (JSON has all three).
    pub measure: Measure,
    pub left: Family,
    pub right: Family,
    /// Left images in order, then right images no left image pairs with.
    pub pairs: Vec<Pair>,
    pub deploy: Option<Deploy>,
    /// `--common`: file contents both families hold.
    pub common: Option<common::Common>,
    /// Images without the measure the tables would show (tables only).
    #[serde(skip)]
    pub lacking: Lacking,
}

#[derive(Debug, Clone, Serialize)]
pub struct Family {
    pub name: String,
    pub images: usize,
    pub distinct_layers: usize,
    /// Sum of per-image totals.
    pub sum_total: Sizes,
    /// Each distinct layer of the family once.
    pub dedup_total: Sizes,
    pub base: Base,
}

#[derive(Debug, Clone, Serialize)]
pub struct Base {
    /// The image given with `--left-base`/`--right-base`; None: the longest
    /// layer prefix (by digest) that every image of the family starts with.
    pub image: Option<String>,
    pub layers: Vec<Digest>,
    /// Each distinct base layer once.
    pub size: Sizes,
}

/// One image's figures within its family.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub image: String,
    /// The name it is paired by (repository basename or tag, minus a common
    /// family prefix when that is what pairs it).
    pub key: String,
    pub total: Sizes,
    /// Bytes of its distinct layers that the family's base lacks.
    pub marginal: Sizes,
    /// Its fair share of its family's dedup total.
    pub fair_share: Sizes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PairedBy {
    /// The same repository basename (or oci: tag).
    Name,
    /// The same name once each family's common prefix is cut.
    Suffix,
    /// `--pair A=B`.
    Hand,
    /// Unpaired: one side only.
    None,
}

#[derive(Debug, Clone, Serialize)]
pub struct Pair {
    pub name: String,
    pub paired_by: PairedBy,
    pub left: Option<Member>,
    pub right: Option<Member>,
    /// right - left; None when unpaired.
    pub difference: Option<Differences>,
    /// right / left; None when unpaired.
    pub ratio: Option<Ratios>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Differences {
    pub total: Signed,
    pub marginal: Signed,
    pub fair_share: Signed,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ratios {
    pub total: Ratio,
    pub marginal: Ratio,
    pub fair_share: Ratio,
}

/// right - left per measure (None when either is unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Signed {
    pub compressed: Option<i64>,
    pub uncompressed: Option<i64>,
    pub files: Option<i64>,
}

/// right / left per measure (None when either is unknown or left is 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ratio {
    pub compressed: Option<f64>,
    pub uncompressed: Option<f64>,
    pub files: Option<f64>,
}

impl Signed {
    pub fn of(left: Sizes, right: Sizes) -> Signed {
        let d = |l: Option<u64>, r: Option<u64>| Some(r? as i64 - l? as i64);
        Signed {
            compressed: d(left.compressed, right.compressed),
            uncompressed: d(left.uncompressed, right.uncompressed),
            files: d(left.files, right.files),
        }
    }

    pub fn get(&self, m: Measure) -> Option<i64> {
        match m {
            Measure::Compressed => self.compressed,
            Measure::Uncompressed => self.uncompressed,
            Measure::Files => self.files,
        }
    }
}

impl Ratio {
    pub fn of(left: Sizes, right: Sizes) -> Ratio {
        let q = |l: Option<u64>, r: Option<u64>| match (l?, r?) {
            (0, _) => None,
            (l, r) => Some(r as f64 / l as f64),
        };
        Ratio {
            compressed: q(left.compressed, right.compressed),
            uncompressed: q(left.uncompressed, right.uncompressed),
            files: q(left.files, right.files),
        }
    }

    pub fn get(&self, m: Measure) -> Option<f64> {
        match m {
            Measure::Compressed => self.compressed,
            Measure::Uncompressed => self.uncompressed,
            Measure::Files => self.files,
        }
    }
}

/// `--deploy`: what a node pulls and stores to run exactly these images.
#[derive(Debug, Clone, Serialize)]
pub struct Deploy {
    pub names: Vec<String>,
    /// Dedup total of the named images of the left family.
    pub left: Sizes,
    pub right: Sizes,
    /// Names with no image in that family.
    pub left_missing: Vec<String>,
    pub right_missing: Vec<String>,
    pub difference: Signed,
    pub ratio: Ratio,
}

/// An image's layer digests, each once, in manifest order.
fn distinct_of(image: &Image) -> Vec<&Digest> {
    super::sizes::distinct_layers([image])
        .into_iter()
        .map(|(_, d)| d)
        .collect()
}

fn dedup<'a>(
    digests: impl IntoIterator<Item = &'a Digest>,
    layers: &HashMap<Digest, LayerFigures>,
) -> Sizes {
    let mut seen = HashSet::new();
    digests
        .into_iter()
        .filter(|d| seen.insert(*d))
        .map(|d| layers[d].sizes)
        .sum()
}

/// The longest layer prefix (by digest) every image starts with.
pub fn common_prefix(images: &[Image]) -> Vec<Digest> {
    let Some(first) = images.first() else {
        return Vec::new();
    };
    let mut n = first.layers.len();
    for image in &images[1..] {
        n = first
            .layers
            .iter()
            .zip(&image.layers)
            .take(n)
            .take_while(|(a, b)| a.digest == b.digest)
            .count();
    }
    first.layers[..n].iter().map(|l| l.digest.clone()).collect()
}

fn family(
    input: &FamilyInput,
    layers: &HashMap<Digest, LayerFigures>,
    keys: &[Keys],
    suffix_keys: &[bool],
) -> (Family, Vec<Member>) {
    let base_layers: Vec<Digest> = match input.base {
        Some(b) => distinct_of(b).into_iter().cloned().collect(),
        None => common_prefix(input.images),
    };
    let in_base: HashSet<&Digest> = base_layers.iter().collect();
    let fair = fair_shares(input.images, layers);
    let members: Vec<Member> = input
        .images
        .iter()
        .zip(fair)
        .zip(keys.iter().zip(suffix_keys))
        .map(|((image, fair_share), (k, &by_suffix))| {
            let digests = distinct_of(image);
            Member {
                image: k.full.clone(),
                key: if by_suffix { &k.suffix } else { &k.name }.clone(),
                total: dedup(digests.iter().copied(), layers),
                marginal: dedup(digests.into_iter().filter(|d| !in_base.contains(d)), layers),
                fair_share,
            }
        })
        .collect();
    let family = Family {
        name: input.name.to_owned(),
        images: input.images.len(),
        distinct_layers: input
            .images
            .iter()
            .flat_map(|i| &i.layers)
            .map(|l| &l.digest)
            .collect::<HashSet<_>>()
            .len(),
        sum_total: members.iter().map(|m| m.total).sum(),
        dedup_total: dedup(
            input
                .images
                .iter()
                .flat_map(|i| &i.layers)
                .map(|l| &l.digest),
            layers,
        ),
        base: Base {
            image: input.base.map(|b| b.name.to_string()),
            size: dedup(&base_layers, layers),
            layers: base_layers,
        },
    };
    (family, members)
}

/// `layers` must hold figures for every layer digest of both families and
/// their bases. `deploy` names are matched against pair names and each
/// image's full reference, name and suffix; a name matching nothing is Err.
pub fn compare(
    left: &FamilyInput,
    right: &FamilyInput,
    layers: &HashMap<Digest, LayerFigures>,
    by_hand: &[(String, String)],
    deploy: &[String],
    measure: Measure,
    shallow: bool,
) -> Result<Compare, String> {
    let (lk, rk) = (keys_of(left.images), keys_of(right.images));
    let matched = pair_up(&lk, &rk, by_hand);
    // Paired by suffix or unpaired: the key is the name minus the family prefix.
    let mut l_suffix = vec![true; lk.len()];
    let mut r_suffix = vec![true; rk.len()];
    for &(l, r, how) in &matched {
        if matches!(how, PairedBy::Name | PairedBy::Hand) {
            if let (Some(l), Some(r)) = (l, r) {
                l_suffix[l] = false;
                r_suffix[r] = false;
            }
        }
    }
    let (lf, lm) = family(left, layers, &lk, &l_suffix);
    let (rf, rm) = family(right, layers, &rk, &r_suffix);
    let pairs: Vec<Pair> = matched
        .iter()
        .map(|&(l, r, how)| {
            let (l, r) = (l.map(|i| lm[i].clone()), r.map(|j| rm[j].clone()));
            let name = match (&l, &r) {
                (Some(l), _) => l.key.clone(),
                (None, Some(r)) => r.key.clone(),
                (None, None) => String::new(),
            };
            let (difference, ratio) = match (&l, &r) {
                (Some(l), Some(r)) => (
                    Some(Differences {
                        total: Signed::of(l.total, r.total),
                        marginal: Signed::of(l.marginal, r.marginal),
                        fair_share: Signed::of(l.fair_share, r.fair_share),
                    }),
                    Some(Ratios {
                        total: Ratio::of(l.total, r.total),
                        marginal: Ratio::of(l.marginal, r.marginal),
                        fair_share: Ratio::of(l.fair_share, r.fair_share),
                    }),
                ),
                _ => (None, None),
            };
            Pair {
                name,
                paired_by: how,
                left: l,
                right: r,
                difference,
                ratio,
            }
        })
        .collect();

    let deploy = if deploy.is_empty() {
        None
    } else {
        let (mut li, mut ri) = (Vec::new(), Vec::new());
        let (mut left_missing, mut right_missing) = (Vec::new(), Vec::new());
        for name in deploy {
            let hits: Vec<&(Option<usize>, Option<usize>, PairedBy)> = matched
                .iter()
                .zip(&pairs)
                .filter(|(&(l, r, _), p)| {
                    p.name == *name
                        || l.is_some_and(|i| lk[i].matches(name))
                        || r.is_some_and(|j| rk[j].matches(name))
                })
                .map(|(m, _)| m)
                .collect();
            if hits.is_empty() {
                return Err(format!(
                    "{}: no image of either family has this name",
                    crate::error::clip(name)
                ));
            }
            let (before_l, before_r) = (li.len(), ri.len());
            for &&(l, r, _) in &hits {
                li.extend(l);
                ri.extend(r);
            }
            if li.len() == before_l {
                left_missing.push(name.clone());
            }
            if ri.len() == before_r {
                right_missing.push(name.clone());
            }
        }
        let cost = |images: &[Image], idx: &[usize]| {
            dedup(
                idx.iter()
                    .flat_map(|&i| &images[i].layers)
                    .map(|l| &l.digest),
                layers,
            )
        };
        let (l, r) = (cost(left.images, &li), cost(right.images, &ri));
        Some(Deploy {
            names: deploy.to_vec(),
            left: l,
            right: r,
            left_missing,
            right_missing,
            difference: Signed::of(l, r),
            ratio: Ratio::of(l, r),
        })
    };

    Ok(Compare {
        shallow,
        measure,
        left: lf,
        right: rf,
        pairs,
        deploy,
        common: None,
        lacking: Lacking::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::footprint::tests::{digest, image};

    fn figures(sizes: &[(u8, u64)]) -> HashMap<Digest, LayerFigures> {
        sizes
            .iter()
            .map(|&(n, c)| {
                (
                    digest(n),
                    LayerFigures {
                        diff_id: None,
                        sizes: Sizes::compressed_only(c),
                        entries: None,
                        foreign: false,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn a_common_prefix_is_cut_after_its_last_separator() {
        let k = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            strip_common_prefix(&k(&["fat-nova", "fat-keystone"])),
            k(&["nova", "keystone"])
        );
        assert_eq!(strip_common_prefix(&k(&["api", "app"])), k(&["api", "app"]));
        assert_eq!(strip_common_prefix(&k(&["x-a", "x-"])), k(&["x-a", "x-"]));
        assert_eq!(strip_common_prefix(&k(&["fat-a"])), k(&["fat-a"]));
    }

    #[test]
    fn families_pair_by_suffix_and_keep_the_unpaired() {
        let left = [
            image("fat-nova", &[1, 2, 3]),
            image("fat-glance", &[1, 2, 4]),
            image("fat-only", &[1, 2]),
        ];
        let right = [image("lean-glance", &[9, 4]), image("lean-nova", &[9, 3])];
        let layers = figures(&[(1, 100), (2, 50), (3, 7), (4, 11), (9, 20)]);
        let l = FamilyInput {
            name: "fat",
            images: &left,
            base: None,
        };
        let r = FamilyInput {
            name: "lean",
            images: &right,
            base: None,
        };
        let c = compare(
            &l,
            &r,
            &layers,
            &[],
            &["nova".into(), "only".into()],
            Measure::Compressed,
            true,
        )
        .unwrap();
        assert_eq!(c.left.base.layers, vec![digest(1), digest(2)]);
        assert_eq!(c.left.base.size.compressed, Some(150));
        assert_eq!(c.right.base.size.compressed, Some(20));
        assert_eq!(c.left.dedup_total.compressed, Some(168));
        assert_eq!(c.left.sum_total.compressed, Some(157 + 161 + 150));
        let names: Vec<&str> = c.pairs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["nova", "glance", "only"]);
        let nova = &c.pairs[0];
        assert_eq!(nova.paired_by, PairedBy::Suffix);
        assert_eq!(nova.left.as_ref().unwrap().marginal.compressed, Some(7));
        assert_eq!(nova.right.as_ref().unwrap().total.compressed, Some(27));
        assert_eq!(
            nova.difference.unwrap().total.compressed,
            Some(27 - 157),
            "right - left"
        );
        assert!(c.pairs[2].right.is_none());
        let d = c.deploy.unwrap();
        assert_eq!(d.left.compressed, Some(157));
        assert_eq!(d.right.compressed, Some(27));
        assert_eq!(d.right_missing, vec!["only".to_owned()]);
        let fair: u64 = c
            .pairs
            .iter()
            .filter_map(|p| p.left.as_ref())
            .map(|m| m.fair_share.compressed.unwrap())
            .sum();
        assert_eq!(fair, 168);
    }
}
