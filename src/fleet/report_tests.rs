//! The report's arithmetic on records held in memory.

use super::*;
use crate::image::Compression;

fn layer(name: &str, size: u64) -> Layer {
    Layer {
        digest: Digest::sha256_of(name.as_bytes()),
        record: LayerRecord {
            size,
            compression: Compression::Gzip,
            diff_id: Raw(name.as_bytes().to_vec()),
            created_by: None,
        },
        summary: None,
    }
}

/// Regression: an image named by two repositories (one manifest under
/// `a:1` and `b:1`) was credited to `a` alone, so `b` showed one image
/// fewer and the layers it shares with `a` counted as unique to `a`.
#[test]
fn an_image_named_by_two_repositories_counts_in_both() {
    let rec = Recorded {
        repos: vec!["reg/a".into(), "reg/b".into()],
        tags_of: vec![1, 2],
        layers: vec![layer("base", 100), layer("app", 10)],
        images: vec![
            Img {
                repo: 0,
                tag: "1".into(),
                repos: vec![0, 1],
                layers: vec![0, 1],
            },
            Img {
                repo: 1,
                tag: "2".into(),
                repos: vec![1],
                layers: vec![0],
            },
        ],
        tags: 3,
    };
    let (totals, repos, users) = totals(&rec);
    assert_eq!(totals.images, 2);
    assert_eq!(totals.sum_total.compressed, Some(210));
    assert_eq!(totals.dedup_total.compressed, Some(110));
    let row = |name: &str| repos.iter().find(|r| r.name == name).unwrap();
    let (a, b) = (row("reg/a"), row("reg/b"));
    assert_eq!((a.images, b.images), (1, 2));
    assert_eq!(a.sum_total.compressed, Some(110));
    assert_eq!(b.sum_total.compressed, Some(210));
    assert_eq!(b.dedup_total.compressed, Some(110));
    // Every layer of `a` is `b`'s too: nothing is unique to either.
    assert_eq!(a.unique.compressed, Some(0));
    assert_eq!(b.unique.compressed, Some(0));
    assert_eq!(users.repos[1], vec![0, 1]);
}
