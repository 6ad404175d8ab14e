//! Pairing two families' images by name: repository basename (or oci: tag),
//! then that name minus the family's common prefix, with `--pair` first.

use super::PairedBy;
use crate::image::Image;

/// Strips a prefix common to every key, cut after its last separator
/// (`-`, `_`, `.`, `/`), when the family has two or more images and no key
/// would be left empty: `fat-nova`, `fat-keystone` -> `nova`, `keystone`.
pub fn strip_common_prefix(keys: &[String]) -> Vec<String> {
    if keys.len() < 2 {
        return keys.to_vec();
    }
    let first = keys[0].as_bytes();
    let common = keys[1..].iter().fold(first.len(), |n, k| {
        first[..n]
            .iter()
            .zip(k.as_bytes())
            .take_while(|(a, b)| a == b)
            .count()
    });
    let cut = first[..common]
        .iter()
        .rposition(|b| matches!(b, b'-' | b'_' | b'.' | b'/'))
        .map_or(0, |i| i + 1);
    if cut == 0 || keys.iter().any(|k| k.len() <= cut) {
        return keys.to_vec();
    }
    keys.iter().map(|k| k[cut..].to_owned()).collect()
}

pub struct Keys {
    pub full: String,
    pub name: String,
    pub suffix: String,
}

pub fn keys_of(images: &[Image]) -> Vec<Keys> {
    let names: Vec<String> = images
        .iter()
        .map(|i| i.name.basename().to_owned())
        .collect();
    let suffixes = strip_common_prefix(&names);
    images
        .iter()
        .zip(names)
        .zip(suffixes)
        .map(|((i, name), suffix)| Keys {
            full: i.name.to_string(),
            name,
            suffix,
        })
        .collect()
}

impl Keys {
    pub fn matches(&self, text: &str) -> bool {
        self.full == text || self.name == text || self.suffix == text
    }
}

/// Pairs left and right images: by hand first, then by name, then by the
/// name minus the family's common prefix. Returns (left, right, how) in left
/// order, then the right images left over.
pub fn pair_up(
    left: &[Keys],
    right: &[Keys],
    by_hand: &[(String, String)],
) -> Vec<(Option<usize>, Option<usize>, PairedBy)> {
    let mut right_of: Vec<Option<(usize, PairedBy)>> = vec![None; left.len()];
    let mut taken = vec![false; right.len()];
    for (a, b) in by_hand {
        let l = (0..left.len()).find(|&i| right_of[i].is_none() && left[i].matches(a));
        let r = (0..right.len()).find(|&j| !taken[j] && right[j].matches(b));
        if let (Some(i), Some(j)) = (l, r) {
            right_of[i] = Some((j, PairedBy::Hand));
            taken[j] = true;
        }
    }
    type KeyFn = fn(&Keys) -> &str;
    let rules: [(KeyFn, PairedBy); 2] = [
        (|k| &k.name, PairedBy::Name),
        (|k| &k.suffix, PairedBy::Suffix),
    ];
    for (key, how) in rules {
        for i in 0..left.len() {
            if right_of[i].is_some() {
                continue;
            }
            if let Some(j) =
                (0..right.len()).find(|&j| !taken[j] && key(&right[j]) == key(&left[i]))
            {
                right_of[i] = Some((j, how));
                taken[j] = true;
            }
        }
    }
    let mut pairs: Vec<_> = right_of
        .into_iter()
        .enumerate()
        .map(|(i, r)| match r {
            Some((j, how)) => (Some(i), Some(j), how),
            None => (Some(i), None, PairedBy::None),
        })
        .collect();
    pairs.extend(
        (0..right.len())
            .filter(|&j| !taken[j])
            .map(|j| (None, Some(j), PairedBy::None)),
    );
    pairs
}
