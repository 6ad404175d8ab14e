//! The store's tests: hits, damaged entries as misses, refused and
//! unwritable caches, and the handle that alone opens indexes.

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::image::{ImageName, Transport};

/// Blobs in memory, counting how often each is opened (a scan).
struct Blobs {
    blobs: HashMap<Digest, Vec<u8>>,
    opened: AtomicUsize,
}

impl BlobSource for Blobs {
    fn open_blob(&self, layer: &LayerDesc) -> Result<Box<dyn Read + Send>> {
        self.opened.fetch_add(1, Ordering::Relaxed);
        Ok(Box::new(io::Cursor::new(self.blobs[&layer.digest].clone())))
    }
}

fn layer(seed: u32) -> (Vec<u8>, LayerDesc) {
    crate::layer::tests::gzip_layer_of(
        (0..(50 + seed))
            .map(|i| {
                let content = format!("file {i} of layer {seed}").repeat(20);
                (format!("d{seed}/f{i}"), content.into_bytes())
            })
            .collect(),
    )
}

fn image(layers: u32) -> (Image, Arc<Blobs>) {
    let made: Vec<(Vec<u8>, LayerDesc)> = (0..layers).map(layer).collect();
    let blobs = Arc::new(Blobs {
        blobs: made
            .iter()
            .map(|(b, d)| (d.digest.clone(), b.clone()))
            .collect(),
        opened: AtomicUsize::new(0),
    });
    let image = Image {
        name: ImageName::new(Transport::Oci, "test"),
        platform: None,
        manifest_digest: None,
        config_digest: Digest::sha256_of(b"{}"),
        layers: made.into_iter().map(|(_, d)| d).collect(),
        history: Vec::new(),
        created: None,
        blobs: blobs.clone(),
    };
    (image, blobs)
}

fn entries(store: &Store, image: &Image) -> Vec<crate::layer::Entry> {
    let indexes = store
        .indexes(std::slice::from_ref(image), &NoProgress)
        .unwrap();
    let mut all = Vec::new();
    for r in indexes.open_layers(image).unwrap() {
        all.extend(r.map(|e| e.unwrap()));
    }
    all
}

#[test]
fn a_flipped_byte_in_a_cached_index_is_a_miss_said_once_and_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let (img, blobs) = image(2);
    let want = entries(&Store::open(Some(dir.clone())).unwrap(), &img);
    assert_eq!(blobs.opened.load(Ordering::Relaxed), 2);
    let idx = dir
        .join("layers")
        .join(local::version_name())
        .join("sha256")
        .join(format!("{}.idx", img.layers[1].digest.hex()));
    let mut bytes = std::fs::read(&idx).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&idx, &bytes).unwrap();

    let store = Store::open(Some(dir.clone())).unwrap();
    assert_eq!(entries(&store, &img), want, "the figures of a clean run");
    assert_eq!(
        blobs.opened.load(Ordering::Relaxed),
        3,
        "one layer rescanned"
    );
    let warnings = store.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains(img.layers[1].digest.short())
            && warnings[0].contains("index checksum"),
        "{warnings:?}"
    );
    // Asked again in the same run: checked once, no second warning.
    entries(&store, &img);
    assert_eq!(store.warnings().len(), 1);

    let store = Store::open(Some(dir)).unwrap();
    assert_eq!(entries(&store, &img), want);
    assert_eq!(blobs.opened.load(Ordering::Relaxed), 3, "replaced: a hit");
    assert!(store.warnings().is_empty());
}

#[test]
fn a_cache_strata_may_not_use_gives_the_same_figures_from_a_private_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
    let (img, _) = image(2);
    let want = entries(&Store::open(None).unwrap(), &img);
    let store = Store::open(Some(link)).unwrap();
    assert_eq!(entries(&store, &img), want);
    let warnings = store.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("symbolic link"), "{warnings:?}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

#[test]
fn a_cache_that_stops_taking_writes_sends_new_scans_to_the_private_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("cache");
    let (img, _) = image(1);
    let store = Store::open(Some(dir.clone())).unwrap();
    store.cache.as_ref().unwrap().stop_writing();
    let (summaries, stats) = store
        .summaries(std::slice::from_ref(&img), &NoProgress)
        .unwrap();
    assert_eq!((stats.scanned, summaries.len()), (1, 1));
    assert_eq!(entries(&store, &img).len(), 50);
    let kept = usage::list(&dir).unwrap();
    assert!(kept.entries.is_empty(), "nothing written to the cache");
}

#[test]
fn only_indexes_made_sure_of_open_and_a_merge_has_a_layer_cap() {
    let (img, _) = image(1);
    let store = Store::open(None).unwrap();
    let indexes = store.indexes(&[], &NoProgress).unwrap();
    let Err(e) = indexes.open(&img.layers[0].digest) else {
        panic!("an index nobody made sure of was opened")
    };
    let e = e.to_string();
    assert!(e.contains("not made sure of"), "{e}");
    let mut wide = img.clone();
    wide.layers = vec![img.layers[0].clone(); MAX_MERGED_LAYERS + 1];
    let Err(Error::TooManyLayers { layers, .. }) = indexes.open_layers(&wide) else {
        panic!("a merge past the cap")
    };
    assert_eq!(layers, MAX_MERGED_LAYERS + 1);
}

#[test]
fn a_wide_image_merges_with_few_open_files() {
    let (mut img, _) = image(1);
    let store = Store::open(None).unwrap();
    let indexes = store
        .indexes(std::slice::from_ref(&img), &NoProgress)
        .unwrap();
    img.layers = vec![img.layers[0].clone(); 300];
    let readers = indexes.open_layers(&img).unwrap();
    let path = &indexes.files[&img.layers[0].digest];
    let open = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter(|fd| std::fs::read_link(fd.path()).is_ok_and(|p| p == *path))
        .count();
    assert_eq!(open, 0, "300 readers, no file held");
    let mut n = 0;
    for r in readers {
        n += r.count();
    }
    assert_eq!(n, 300 * 50);
}
