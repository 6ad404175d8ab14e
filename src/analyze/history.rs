//! An image's size over its tags: each tag's sizes (the three measures, or
//! compressed alone from manifests), ordered by when the image was made,
//! with the change from the tag before and the layers that changed.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::compare::Signed;
use super::footprint::LayerFigures;
use super::sizes::{distinct_layers, Sizes};
use crate::image::{Digest, Image};

/// One tag (one image) of the history.
#[derive(Debug, Clone, Serialize)]
pub struct TagSize {
    /// The image as strata names it.
    pub image: String,
    pub tag: Option<String>,
    /// When it was made (RFC 3339), as its config or manifest says.
    pub created: Option<String>,
    pub manifest_digest: Option<Digest>,
    pub layers: usize,
    /// Each distinct layer once.
    pub size: Sizes,
    /// `size` minus the previous tag's (None for the first).
    pub delta: Option<Signed>,
    /// Layers (by digest) the previous tag lacks, and those it had that this one lacks.
    pub layers_added: Vec<Digest>,
    pub layers_removed: Vec<Digest>,
}

/// How the tags were ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// By creation time, every tag's known.
    Created,
    /// By creation time where known; those without one last, as named.
    CreatedThenNamed,
}

/// A creation time strata can order by.
pub fn parse_created(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text.trim()).ok()
}

/// The sizes of `images` (in the order named) ordered by creation time,
/// each against the one before.
pub fn history(images: &[Image], figures: &HashMap<Digest, LayerFigures>) -> (Vec<TagSize>, Order) {
    let mut order: Vec<(usize, Option<DateTime<FixedOffset>>)> = images
        .iter()
        .enumerate()
        .map(|(i, img)| (i, img.created.as_deref().and_then(parse_created)))
        .collect();
    let all_known = order.iter().all(|(_, t)| t.is_some());
    // Known times first, oldest first; ties and unknowns keep the named order.
    order.sort_by(|a, b| match (a.1, b.1) {
        (Some(x), Some(y)) => x.cmp(&y).then(a.0.cmp(&b.0)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.0.cmp(&b.0),
    });
    let mut out: Vec<TagSize> = Vec::with_capacity(images.len());
    let mut before: Option<(Sizes, HashSet<&Digest>, Vec<&Digest>)> = None;
    for (i, _) in order {
        let img = &images[i];
        let digests: Vec<&Digest> = distinct_layers([img]).into_iter().map(|(_, d)| d).collect();
        let size: Sizes = digests
            .iter()
            .map(|d| {
                figures.get(*d).map_or(
                    Sizes {
                        compressed: None,
                        uncompressed: None,
                        files: None,
                    },
                    |f| f.sizes,
                )
            })
            .sum();
        let set: HashSet<&Digest> = digests.iter().copied().collect();
        let (delta, added, removed) = match &before {
            None => (None, Vec::new(), Vec::new()),
            Some((prev, prev_set, prev_list)) => (
                Some(Signed::of(*prev, size)),
                digests
                    .iter()
                    .filter(|d| !prev_set.contains(*d))
                    .map(|d| (*d).clone())
                    .collect(),
                prev_list
                    .iter()
                    .filter(|d| !set.contains(*d))
                    .map(|d| (*d).clone())
                    .collect(),
            ),
        };
        out.push(TagSize {
            image: img.name.to_string(),
            tag: img.name.tag.clone(),
            created: img.created.clone(),
            manifest_digest: img.manifest_digest.clone(),
            layers: img.layers.len(),
            size,
            delta,
            layers_added: added,
            layers_removed: removed,
        });
        before = Some((size, set, digests));
    }
    let order = if all_known {
        Order::Created
    } else {
        Order::CreatedThenNamed
    };
    (out, order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::footprint::tests::{digest, image};

    fn figures(layers: &[(u8, u64)]) -> HashMap<Digest, LayerFigures> {
        layers
            .iter()
            .map(|&(n, c)| {
                (
                    digest(n),
                    LayerFigures {
                        diff_id: None,
                        sizes: Sizes {
                            compressed: Some(c),
                            uncompressed: Some(c * 2),
                            files: Some(c * 2),
                        },
                        entries: None,
                        foreign: false,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn tags_are_ordered_by_creation_time_whatever_the_named_order() {
        let mut a = image("2.0", &[1, 2, 4]);
        a.created = Some("2024-03-01T10:00:00+02:00".into());
        let mut b = image("1.0", &[1, 2]);
        b.created = Some("2024-01-01T00:00:00Z".into());
        let mut c = image("1.1", &[1, 3]);
        // Earlier than 2.0 in UTC, later as text.
        c.created = Some("2024-03-01T09:00:00.5+05:00".into());
        let (rows, order) = history(&[a, b, c], &figures(&[(1, 100), (2, 50), (3, 10), (4, 70)]));
        let names: Vec<&str> = rows.iter().map(|r| r.image.as_str()).collect();
        assert_eq!(names, ["oci:1.0", "oci:1.1", "oci:2.0"]);
        assert_eq!(order, Order::Created);
        assert_eq!(rows[0].size.compressed, Some(150));
        assert!(rows[0].delta.is_none());
        assert_eq!(rows[1].delta.unwrap().compressed, Some(-40));
        assert_eq!(
            (rows[1].layers_added.len(), rows[1].layers_removed.len()),
            (1, 1)
        );
        assert_eq!(rows[2].delta.unwrap().files, Some(2 * 110));
        assert_eq!(rows[2].layers_added, [digest(2), digest(4)]);
        assert_eq!(rows[2].layers_removed, [digest(3)]);
    }

    #[test]
    fn tags_without_a_creation_time_come_last_as_named() {
        let mut a = image("b", &[1]);
        a.created = None;
        let mut b = image("a", &[1]);
        b.created = Some("not a time".into());
        let mut c = image("c", &[1]);
        c.created = Some("2020-01-01T00:00:00Z".into());
        let (rows, order) = history(&[a, b, c], &figures(&[(1, 1)]));
        let names: Vec<&str> = rows.iter().map(|r| r.image.as_str()).collect();
        assert_eq!(names, ["oci:c", "oci:b", "oci:a"]);
        assert_eq!(order, Order::CreatedThenNamed);
        assert_eq!(rows[1].delta.unwrap().compressed, Some(0));
    }
}
