//! Fixture builder: writes real images in code — layers (tar, gzip, zstd),
//! OCI layouts, oci-archives and docker-archives — streaming, deterministic.
#![allow(dead_code)]

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
pub const TAR: &str = "application/vnd.oci.image.layer.v1.tar";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compress {
    None,
    Gzip(u32),
    Zstd,
}

impl Compress {
    pub fn media_type(self) -> &'static str {
        match self {
            Compress::None => TAR,
            Compress::Gzip(_) => GZIP,
            Compress::Zstd => ZSTD,
        }
    }
}

/// A finished layer blob on disk.
#[derive(Debug, Clone)]
pub struct Layer {
    pub path: PathBuf,
    pub digest: String,
    pub size: u64,
    pub diff_id: String,
    pub media_type: String,
    /// Sum of regular-file sizes written.
    pub files: u64,
}

impl Layer {
    /// Its descriptor in a manifest.
    pub fn descriptor(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.size})
    }
}

struct HashWriter<W> {
    inner: W,
    hasher: Sha256,
    n: u64,
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn hex_digest(h: Sha256) -> String {
    format!("sha256:{}", hex::encode(h.finalize()))
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

enum Enc {
    Plain(HashWriter<BufWriter<File>>),
    Gzip(flate2::write::GzEncoder<HashWriter<BufWriter<File>>>),
    Zstd(zstd::stream::write::Encoder<'static, HashWriter<BufWriter<File>>>),
}

impl Write for Enc {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Enc::Plain(w) => w.write(buf),
            Enc::Gzip(w) => w.write(buf),
            Enc::Zstd(w) => w.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Enc::Plain(w) => w.flush(),
            Enc::Gzip(w) => w.flush(),
            Enc::Zstd(w) => w.flush(),
        }
    }
}

/// Streams a layer's tar into a file, compressing and hashing as it goes.
pub struct LayerWriter {
    tar: tar::Builder<HashWriter<Enc>>,
    path: PathBuf,
    compress: Compress,
    files: u64,
}

impl LayerWriter {
    pub fn new(path: &Path, compress: Compress) -> LayerWriter {
        let file = HashWriter {
            inner: BufWriter::with_capacity(1 << 20, File::create(path).unwrap()),
            hasher: Sha256::new(),
            n: 0,
        };
        let enc = match compress {
            Compress::None => Enc::Plain(file),
            Compress::Gzip(level) => Enc::Gzip(flate2::write::GzEncoder::new(
                file,
                flate2::Compression::new(level),
            )),
            Compress::Zstd => Enc::Zstd(zstd::stream::write::Encoder::new(file, 3).unwrap()),
        };
        let mut tar = tar::Builder::new(HashWriter {
            inner: enc,
            hasher: Sha256::new(),
            n: 0,
        });
        tar.mode(tar::HeaderMode::Deterministic);
        LayerWriter {
            tar,
            path: path.to_owned(),
            compress,
            files: 0,
        }
    }

    fn header(kind: tar::EntryType, size: u64, mode: u32) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(mode);
        h.set_mtime(1_600_000_000);
        h.set_uid(0);
        h.set_gid(0);
        h
    }

    pub fn dir(&mut self, path: &str) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Directory, 0, 0o755);
        self.tar.append_data(&mut h, path, io::empty()).unwrap();
        self
    }

    pub fn file(&mut self, path: &str, content: &[u8]) -> &mut Self {
        self.file_from(path, content.len() as u64, content)
    }

    /// A regular file with a mode of its own (a later `chmod` copy).
    pub fn file_mode(&mut self, path: &str, content: &[u8], mode: u32) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Regular, content.len() as u64, mode);
        self.tar.append_data(&mut h, path, content).unwrap();
        self.files += content.len() as u64;
        self
    }

    /// A regular file whose content is streamed from `r` (`size` bytes).
    pub fn file_from(&mut self, path: &str, size: u64, r: impl io::Read) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Regular, size, 0o644);
        self.tar.append_data(&mut h, path, r).unwrap();
        self.files += size;
        self
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Symlink, 0, 0o777);
        self.tar.append_link(&mut h, path, target).unwrap();
        self
    }

    pub fn hardlink(&mut self, path: &str, target: &str) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Link, 0, 0o644);
        self.tar.append_link(&mut h, path, target).unwrap();
        self
    }

    pub fn whiteout(&mut self, path: &str) -> &mut Self {
        let (dir, base) = path.rsplit_once('/').unwrap_or(("", path));
        let wh = if dir.is_empty() {
            format!(".wh.{base}")
        } else {
            format!("{dir}/.wh.{base}")
        };
        self.file(&wh, b"");
        self
    }

    pub fn opaque(&mut self, dir: &str) -> &mut Self {
        self.file(&format!("{dir}/.wh..wh..opq"), b"");
        self
    }

    /// A regular file whose name is written as given, unchecked (`../x`, `/x`).
    pub fn raw_file(&mut self, name: &str, content: &[u8]) -> &mut Self {
        let mut h = Self::header(tar::EntryType::Regular, content.len() as u64, 0o644);
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_cksum();
        self.tar.append(&h, content).unwrap();
        self.files += content.len() as u64;
        self
    }

    pub fn finish(self) -> Layer {
        let tar_side = self.tar.into_inner().unwrap();
        let diff_id = hex_digest(tar_side.hasher);
        let mut file = match tar_side.inner {
            Enc::Plain(w) => w,
            Enc::Gzip(w) => w.finish().unwrap(),
            Enc::Zstd(w) => w.finish().unwrap(),
        };
        file.flush().unwrap();
        Layer {
            path: self.path,
            digest: hex_digest(file.hasher),
            size: file.n,
            diff_id,
            media_type: self.compress.media_type().to_owned(),
            files: self.files,
        }
    }
}

/// Writes an OCI image layout directory.
pub struct OciLayout {
    pub dir: PathBuf,
    index: Vec<Value>,
    tmp: u32,
}

impl OciLayout {
    pub fn new(dir: &Path) -> OciLayout {
        fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        OciLayout {
            dir: dir.to_owned(),
            index: Vec::new(),
            tmp: 0,
        }
    }

    pub fn blob_path(&self, digest: &str) -> PathBuf {
        self.dir.join("blobs").join(digest.replacen(':', "/", 1))
    }

    /// A new layer written straight into the blob store.
    pub fn layer(&mut self, compress: Compress, fill: impl FnOnce(&mut LayerWriter)) -> Layer {
        self.tmp += 1;
        let tmp = self.dir.join(format!("blobs/tmp-{}", self.tmp));
        let mut w = LayerWriter::new(&tmp, compress);
        fill(&mut w);
        let mut layer = w.finish();
        let dest = self.blob_path(&layer.digest);
        fs::rename(&tmp, &dest).unwrap();
        layer.path = dest;
        layer
    }

    /// An uncompressed layer whose tar bytes are given as they are (hostile
    /// input): its digest is its diff_id.
    pub fn raw_layer(&mut self, tar: &[u8]) -> Layer {
        let (digest, size) = self.put_blob(tar);
        Layer {
            path: self.blob_path(&digest),
            diff_id: digest.clone(),
            digest,
            size,
            media_type: TAR.to_owned(),
            files: 0,
        }
    }

    pub fn put_blob(&self, bytes: &[u8]) -> (String, u64) {
        let digest = sha256(bytes);
        fs::write(self.blob_path(&digest), bytes).unwrap();
        (digest, bytes.len() as u64)
    }

    pub fn config_for(layers: &[&Layer], platform: &str) -> Value {
        let mut parts = platform.split('/');
        let (os, arch) = (parts.next().unwrap(), parts.next().unwrap());
        let mut config = json!({
            "architecture": arch,
            "os": os,
            "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
            "config": {},
            "history": layers.iter().map(|_| json!({"created_by": "strata fixture builder"})).collect::<Vec<_>>(),
        });
        if let Some(v) = parts.next() {
            config["variant"] = json!(v);
        }
        config
    }

    /// Writes config + manifest; returns the manifest descriptor.
    pub fn manifest(&mut self, layers: &[&Layer], platform: &str) -> Value {
        let config = serde_json::to_vec(&Self::config_for(layers, platform)).unwrap();
        self.manifest_with_config(layers, &config)
    }

    pub fn manifest_with_config(&mut self, layers: &[&Layer], config: &[u8]) -> Value {
        let (cd, cs) = self.put_blob(config);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
            "layers": layers.iter().map(|l| l.descriptor()).collect::<Vec<_>>(),
        });
        let (md, ms) = self.put_blob(&serde_json::to_vec(&manifest).unwrap());
        json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms})
    }

    /// Adds a single-platform image named `name` to index.json.
    pub fn image(&mut self, name: &str, layers: &[&Layer], platform: &str) -> Value {
        let mut desc = self.manifest(layers, platform);
        desc["annotations"] = json!({"org.opencontainers.image.ref.name": name});
        self.index.push(desc.clone());
        desc
    }

    /// Adds an image whose layer descriptors are given whole (a foreign
    /// layer's media type and `urls`, …); `layers` give the config's diff_ids.
    pub fn image_from(
        &mut self,
        name: &str,
        layers: &[&Layer],
        descriptors: Vec<Value>,
        platform: &str,
    ) -> Value {
        let config = serde_json::to_vec(&Self::config_for(layers, platform)).unwrap();
        let (cd, cs) = self.put_blob(&config);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
            "layers": descriptors,
        });
        let (md, ms) = self.put_blob(&serde_json::to_vec(&manifest).unwrap());
        let desc = json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
            "annotations": {"org.opencontainers.image.ref.name": name}
        });
        self.index.push(desc.clone());
        desc
    }

    /// Adds a multi-platform image: an index of one manifest per platform.
    pub fn multi_platform(&mut self, name: &str, per_platform: &[(&str, Vec<&Layer>)]) {
        let manifests: Vec<Value> = per_platform
            .iter()
            .map(|(platform, layers)| {
                let mut d = self.manifest(layers, platform);
                let mut parts = platform.split('/');
                d["platform"] = json!({"os": parts.next(), "architecture": parts.next()});
                if let Some(v) = parts.next() {
                    d["platform"]["variant"] = json!(v);
                }
                d
            })
            .collect();
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
        let (d, s) = self.put_blob(&serde_json::to_vec(&index).unwrap());
        self.index.push(json!({
            "mediaType": "application/vnd.oci.image.index.v1+json", "digest": d, "size": s,
            "annotations": {"org.opencontainers.image.ref.name": name}
        }));
    }

    /// Writes index.json; returns the layout directory.
    pub fn finish(&self) -> PathBuf {
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": self.index});
        fs::write(
            self.dir.join("index.json"),
            serde_json::to_vec_pretty(&index).unwrap(),
        )
        .unwrap();
        self.dir.clone()
    }
}

/// A blob of an OCI layout directory, by digest.
pub fn blob_in(layout: &Path, digest: &str) -> PathBuf {
    layout.join("blobs").join(digest.replacen(':', "/", 1))
}

/// The manifest and config of the `n`-th image of a layout's index.json.
pub fn manifest_and_config(layout: &Path, n: usize) -> (Value, Value) {
    let read = |p: PathBuf| -> Value { serde_json::from_slice(&fs::read(p).unwrap()).unwrap() };
    let index = read(layout.join("index.json"));
    let manifest = read(blob_in(
        layout,
        index["manifests"][n]["digest"].as_str().unwrap(),
    ));
    let config = read(blob_in(
        layout,
        manifest["config"]["digest"].as_str().unwrap(),
    ));
    (manifest, config)
}

/// Tars a directory (an OCI layout) into an oci-archive, its entries named
/// as skopeo names them (`index.json`, `blobs/sha256/…`: no `./` entry,
/// which syft refuses as a path traversal).
pub fn oci_archive(layout: &Path, out: &Path) {
    let mut b = tar::Builder::new(File::create(out).unwrap());
    b.mode(tar::HeaderMode::Deterministic);
    let mut top: Vec<_> = fs::read_dir(layout)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    top.sort();
    for path in top {
        let name = path.file_name().unwrap();
        if path.is_dir() {
            b.append_dir_all(name, &path).unwrap();
        } else {
            b.append_path_with_name(&path, name).unwrap();
        }
    }
    b.finish().unwrap();
}

/// Writes a docker-archive (`docker save` OCI-style: manifest.json naming
/// `blobs/sha256/…`) holding the named images of an OCI layout, same blobs.
pub fn docker_archive(layout: &Path, names: &[&str], out: &Path) {
    let index: Value =
        serde_json::from_slice(&fs::read(layout.join("index.json")).unwrap()).unwrap();
    let blob = |d: &str| layout.join("blobs").join(d.replacen(':', "/", 1));
    let mut b = tar::Builder::new(File::create(out).unwrap());
    b.mode(tar::HeaderMode::Deterministic);
    let mut items = Vec::new();
    let mut added = std::collections::HashSet::new();
    let mut add = |b: &mut tar::Builder<File>, d: &str| {
        let name = format!("blobs/{}", d.replacen(':', "/", 1));
        if added.insert(name.clone()) {
            b.append_path_with_name(blob(d), &name).unwrap();
        }
        name
    };
    for name in names {
        let desc = index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == *name)
            .unwrap();
        let manifest: Value =
            serde_json::from_slice(&fs::read(blob(desc["digest"].as_str().unwrap())).unwrap())
                .unwrap();
        let config = add(&mut b, manifest["config"]["digest"].as_str().unwrap());
        let layers: Vec<String> = manifest["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| add(&mut b, l["digest"].as_str().unwrap()))
            .collect();
        items.push(
            json!({"Config": config, "RepoTags": [format!("{name}:latest")], "Layers": layers}),
        );
    }
    let manifest = serde_json::to_vec(&items).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(manifest.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "manifest.json", &manifest[..])
        .unwrap();
    b.finish().unwrap();
}

/// Deterministic incompressible bytes (xorshift), like real binaries.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The standard test family: three images on one base, plus a copy of the
/// base layer recompressed (same diff_id, other digest) in a fourth image.
pub struct Family {
    pub layout: PathBuf,
    pub base: Layer,
    pub recompressed: Layer,
}

pub fn family(dir: &Path, compress: Compress) -> Family {
    let mut oci = OciLayout::new(dir);
    let fill_base = |w: &mut LayerWriter| {
        w.dir("etc").file("etc/os-release", b"ID=strata-test\n");
        w.dir("bin")
            .file("bin/sh", &noise(40_000, 7))
            .hardlink("bin/ash", "bin/sh");
        w.symlink("bin/bash", "sh");
        w.dir("var/lib/dpkg").file(
            "var/lib/dpkg/status",
            b"Package: base-files\nVersion: 1\n\n",
        );
    };
    let base = oci.layer(compress, fill_base);
    let libs = oci.layer(compress, |w| {
        w.dir("usr/lib")
            .file("usr/lib/libbig.so", &noise(120_000, 1));
    });
    let app = oci.layer(compress, |w| {
        w.dir("app")
            .file("app/server", &noise(30_000, 2))
            .file("app/config.yaml", b"port: 8080\n");
    });
    let dev = oci.layer(compress, |w| {
        w.dir("usr/include")
            .file("usr/include/big.h", &noise(50_000, 3));
        w.whiteout("app/config.yaml").opaque("usr/lib");
    });
    let worker = oci.layer(compress, |w| {
        w.dir("worker").file("worker/run", &noise(10_000, 4));
    });
    let recompressed = oci.layer(
        match compress {
            Compress::Gzip(level) => Compress::Gzip(if level == 9 { 1 } else { 9 }),
            Compress::Zstd => Compress::Gzip(6),
            Compress::None => Compress::Gzip(6),
        },
        fill_base,
    );
    assert_eq!(recompressed.diff_id, base.diff_id);
    oci.image("app", &[&base, &libs, &app], "linux/amd64");
    oci.image("app-dev", &[&base, &libs, &app, &dev], "linux/amd64");
    oci.image("worker", &[&base, &worker], "linux/amd64");
    oci.image("rebuilt", &[&recompressed, &worker], "linux/amd64");
    Family {
        layout: oci.finish(),
        base,
        recompressed,
    }
}

/// Hostile trees (issue 18): `count` files of one byte in one directory.
pub fn flat_files(w: &mut LayerWriter, count: usize) {
    w.dir("d");
    for i in 0..count {
        w.file(&format!("d/f{i:07}"), &[b'a' + (i % 7) as u8]);
    }
}

/// `count` files whose names are `name_len` bytes, in one directory, one byte each.
pub fn long_names(w: &mut LayerWriter, count: usize, name_len: usize) {
    w.dir("d");
    let stem = "n".repeat(name_len - 8);
    for i in 0..count {
        w.file(&format!("d/{stem}{i:08}"), b"x");
    }
}

/// One file `depth` components deep (no directory entries above it).
pub fn deep_file(w: &mut LayerWriter, depth: usize, content: &[u8]) {
    let path = "d/".repeat(depth - 1) + "f";
    w.file(&path, content);
}

/// `depth` directories, each inside the one before, and a file at the
/// bottom holding `bottom` if given.
pub fn nested_dirs(w: &mut LayerWriter, depth: usize, bottom: Option<&[u8]>) {
    let mut path = String::with_capacity(2 * depth);
    for i in 0..depth {
        if i > 0 {
            path.push('/');
        }
        path.push('d');
        w.dir(&path);
    }
    if let Some(content) = bottom {
        w.file(&format!("{path}/f"), content);
    }
}

/// An OCI layout at `dir` of one image `name` with one layer filled by
/// `fill`; returns its reference (`oci:DIR:name`).
pub fn one_layer_image(
    dir: &Path,
    name: &str,
    compress: Compress,
    fill: impl FnOnce(&mut LayerWriter),
) -> String {
    let mut lay = OciLayout::new(dir);
    let layer = lay.layer(compress, fill);
    lay.image(name, &[&layer], "linux/amd64");
    format!("oci:{}:{name}", lay.finish().display())
}

/// A layout holding `tall`, an image of `n` layers of one small file each.
pub fn tall(dir: &Path, n: usize) -> PathBuf {
    let mut lay = OciLayout::new(dir);
    let layers: Vec<Layer> = (0..n)
        .map(|i| {
            lay.layer(Compress::Gzip(1), |w| {
                w.file(&format!("l/{i:05}"), &noise(10, i as u64));
            })
        })
        .collect();
    lay.image("tall", &layers.iter().collect::<Vec<_>>(), "linux/amd64");
    lay.finish()
}
