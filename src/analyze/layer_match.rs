//! Which layers of a target image its base already holds, by content: a
//! layer is shared when a base layer has its digest or its diff_id (the
//! same tar, however it was compressed or whichever transport gave it: an
//! engine's layer and a registry's gzip blob of one tar are one layer).

use std::collections::HashSet;

use super::sizes::distinct_layers;
use crate::image::{Digest, Image};

/// The target's distinct layers split by whether the base holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerMatch<'a> {
    /// Target layers the base holds by neither digest nor diff_id, in order.
    pub added: Vec<&'a Digest>,
    /// Distinct target layers the base holds (same digest or same diff_id).
    pub shared: usize,
    /// Each distinct layer of both once, by content: the base's, then the added.
    pub both: Vec<&'a Digest>,
}

/// Matches `target`'s layers against `base`'s; `diff_id` gives a layer's
/// diff_id by digest, when known (a layer of no known diff_id is its digest).
pub fn match_layers<'a>(
    base: &'a Image,
    target: &'a Image,
    diff_id: impl Fn(&Digest) -> Option<&'a Digest>,
) -> LayerMatch<'a> {
    let diff_id = |d: &'a Digest| diff_id(d).unwrap_or(d);
    let base_layers = distinct_layers([base]);
    let digests: HashSet<&Digest> = base_layers.iter().map(|(_, d)| *d).collect();
    let contents: HashSet<&Digest> = base_layers.iter().map(|(_, d)| diff_id(d)).collect();
    let mut added = Vec::new();
    let mut shared = 0;
    let mut seen: HashSet<&Digest> = HashSet::new();
    for (_, d) in distinct_layers([target]) {
        if digests.contains(d) || contents.contains(diff_id(d)) {
            shared += 1;
        } else if seen.insert(diff_id(d)) {
            added.push(d);
        } else {
            // A second copy of an added tar in the target (recompressed): pulled
            // again, but no new content.
            shared += 1;
        }
    }
    let both = base_layers
        .iter()
        .map(|(_, d)| *d)
        .chain(added.iter().copied())
        .collect();
    LayerMatch {
        added,
        shared,
        both,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::footprint::tests::{digest, image};

    #[test]
    fn a_recompressed_or_engine_copy_of_a_base_layer_is_shared() {
        // 1, 2: the base's gzip blobs; 3: the engine's copy of 2's tar; 4: new.
        let (base, target) = (image("a", &[1, 2]), image("b", &[1, 3, 4]));
        let ids = [(1, 11), (2, 12), (3, 12), (4, 14)].map(|(d, i)| (digest(d), digest(i)));
        let m = match_layers(&base, &target, |d| {
            ids.iter().find(|(x, _)| x == d).map(|(_, i)| i)
        });
        assert_eq!(m.added, [&digest(4)]);
        assert_eq!(m.shared, 2);
        assert_eq!(m.both, [&digest(1), &digest(2), &digest(4)]);
    }
}
