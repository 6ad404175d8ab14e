//! A registry filled in bulk for the fleet tests and bench: many
//! repositories x 5 tags on shared bases, images the fixture builder wrote
//! into an OCI layout, published by writing the registry's storage directory
//! in CNCF distribution's filesystem layout (blobs, then each repository's
//! layer, revision and tag links) instead of a push per image — hundreds of
//! repositories in a second.
#![allow(dead_code)]

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::builder::{self, Compress, Layer, OciLayout};
use super::registry_server::Registry;

/// Tags per repository: `1`…`4`, and `latest`, the same image as `4`.
pub const TAGS: [&str; 5] = ["1", "2", "3", "4", "latest"];

/// A registry of `repos` repositories x 5 tags on four shared bases (one of
/// them also stored recompressed: the same content under another digest).
pub struct Fleet {
    pub reg: Registry,
    /// Every distinct layer digest.
    pub layers: BTreeSet<String>,
    /// A repository's own layer (under all its tags), by repository.
    pub repo_layers: Vec<Layer>,
}

pub fn repo_name(i: usize) -> String {
    format!("team{}/app{i:03}", i % 3)
}

pub fn fleet(dir: &Path, repos: usize) -> Fleet {
    let reg = Registry::start(false);
    let mut oci = OciLayout::new(dir);
    let mut layers = BTreeSet::new();
    let base_fill = |k: u64| {
        move |w: &mut builder::LayerWriter| {
            w.dir("etc")
                .file("etc/os-release", format!("ID=base{k}\n").as_bytes());
            w.dir("usr/lib")
                .file("usr/lib/libbase.so", &builder::noise(20_000, 100 + k));
            w.dir("var/cache/apt").file(
                "var/cache/apt/pkgcache.bin",
                &builder::noise(3_000, 200 + k),
            );
        }
    };
    let bases: Vec<Layer> = (0..4)
        .map(|k| oci.layer(Compress::Gzip(6), base_fill(k)))
        .collect();
    let recompressed = oci.layer(Compress::Gzip(1), base_fill(0));
    assert_eq!(recompressed.diff_id, bases[0].diff_id);
    let mut repo_layers = Vec::new();
    let mut names = Vec::new();
    for r in 0..repos {
        let base = if r % 10 == 7 {
            &recompressed
        } else {
            &bases[r % 4]
        };
        let own = oci.layer(Compress::Gzip(6), |w| {
            w.dir("app")
                .file("app/server", &builder::noise(4_000, 1_000 + r as u64))
                .file("app/cache.bin", &builder::noise(2_000, 5_000 + r as u64));
        });
        for (t, tag) in TAGS.iter().enumerate().take(4) {
            let top = oci.layer(Compress::Gzip(6), |w| {
                w.dir("app")
                    .file("app/version", format!("{r}.{tag}\n").as_bytes());
                if t == 1 {
                    w.whiteout("app/cache.bin");
                }
            });
            let name = format!("r{r}-{tag}");
            oci.image(&name, &[base, &own, &top], "linux/amd64");
            layers.insert(top.digest.clone());
            names.push((name.clone(), r, tag.to_string()));
            if t == 3 {
                names.push((name, r, "latest".into()));
            }
        }
        layers.insert(own.digest.clone());
        layers.insert(base.digest.clone());
        repo_layers.push(own);
    }
    let layout = oci.finish();
    let publisher = Publisher::new(&reg.storage(), &layout);
    for (name, r, tag) in &names {
        publisher.publish(name, &repo_name(*r), tag);
    }
    Fleet {
        reg,
        layers,
        repo_layers,
    }
}

/// Where distribution keeps everything under its root directory.
fn v2(storage: &Path) -> PathBuf {
    storage.join("docker/registry/v2")
}

fn hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").expect("a sha256 digest")
}

fn blob_data(storage: &Path, digest: &str) -> PathBuf {
    let h = hex(digest);
    v2(storage).join(format!("blobs/sha256/{}/{h}/data", &h[..2]))
}

fn write_link(path: PathBuf, digest: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, digest).unwrap();
}

/// A layout's blobs and its images by ref name, published into a registry's storage.
pub struct Publisher {
    storage: PathBuf,
    layout: PathBuf,
    by_name: HashMap<String, String>,
}

impl Publisher {
    pub fn new(storage: &Path, layout: &Path) -> Publisher {
        let index: Value =
            serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
        let by_name = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["annotations"]["org.opencontainers.image.ref.name"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                    m["digest"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        Publisher {
            storage: storage.to_owned(),
            layout: layout.to_owned(),
            by_name,
        }
    }

    fn blob(&self, digest: &str) -> PathBuf {
        let data = blob_data(&self.storage, digest);
        if !data.exists() {
            fs::create_dir_all(data.parent().unwrap()).unwrap();
            let from = self.layout.join("blobs/sha256").join(hex(digest));
            fs::hard_link(&from, &data)
                .or_else(|_| fs::copy(&from, &data).map(|_| ()))
                .unwrap();
        }
        data
    }

    /// Publishes the layout's image `name` as `repo:tag` (an index with its manifests).
    pub fn publish(&self, name: &str, repo: &str, tag: &str) {
        let digest = &self.by_name[name];
        let repo_dir = v2(&self.storage).join("repositories").join(repo);
        self.manifest(&repo_dir, digest);
        let tags = repo_dir.join("_manifests/tags").join(tag);
        write_link(tags.join("current/link"), digest);
        write_link(
            tags.join(format!("index/sha256/{}/link", hex(digest))),
            digest,
        );
    }

    fn manifest(&self, repo_dir: &Path, digest: &str) {
        let data = self.blob(digest);
        write_link(
            repo_dir.join(format!("_manifests/revisions/sha256/{}/link", hex(digest))),
            digest,
        );
        let doc: Value = serde_json::from_slice(&fs::read(data).unwrap()).unwrap();
        if let Some(children) = doc["manifests"].as_array() {
            for child in children {
                self.manifest(repo_dir, child["digest"].as_str().unwrap());
            }
            return;
        }
        let blobs = std::iter::once(&doc["config"]).chain(doc["layers"].as_array().unwrap());
        for b in blobs {
            let d = b["digest"].as_str().unwrap();
            self.blob(d);
            write_link(repo_dir.join(format!("_layers/sha256/{}/link", hex(d))), d);
        }
    }
}

/// Replaces the stored blob `digest` by its bytes with one flipped: the
/// registry serves it as it is, and it no longer hashes to its digest.
pub fn poison(storage: &Path, digest: &str) {
    let data = blob_data(storage, digest);
    let mut bytes = fs::read(&data).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::remove_file(&data).unwrap();
    fs::write(&data, bytes).unwrap();
}
