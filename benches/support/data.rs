//! Bench inputs, generated once into target/bench-data by the fixture builder:
//! gzip layers with a realistic mix of many small files and a few large ones.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use crate::builder::{self, Compress, Layer, LayerWriter};

pub fn dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Pseudo-text over a 4,096-word vocabulary, one run in sixteen binary-like
/// (noise between zero runs): about 2:1 under gzip, between text-heavy and
/// binary-heavy real layers.
fn text(len: usize, seed: u64) -> Vec<u8> {
    let vocab: Vec<Vec<u8>> = (0..4096u64)
        .map(|i| {
            let mut x = (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            (0..3 + i % 7)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    b'a' + (x % 26) as u8
                })
                .collect()
        })
        .collect();
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 64);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if x.is_multiple_of(16) {
            out.extend_from_slice(&builder::noise(24, x));
            out.extend_from_slice(&[0u8; 12]);
        } else {
            out.extend_from_slice(&vocab[(x >> 8) as usize % vocab.len()]);
            out.push(if x & 0xf00 == 0 { b'\n' } else { b' ' });
        }
    }
    out.truncate(len);
    out
}

/// Fills a layer: `small` files of 0.5-12 KiB of text, plus `large` files of
/// 8 MiB, half text and half incompressible (binaries).
pub fn fill(w: &mut LayerWriter, small: usize, large: usize, seed: u64) {
    let corpus = text(4 << 20, seed);
    let mut x = seed.wrapping_mul(31) | 1;
    for i in 0..small {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = 512 + (x % (12 * 1024 - 512)) as usize;
        let start = (x >> 20) as usize % (corpus.len() - len);
        if i % 200 == 0 {
            w.dir(&format!("usr/share/pkg{}", i / 200));
        }
        w.file(
            &format!("usr/share/pkg{}/file{i}.txt", i / 200),
            &corpus[start..start + len],
        );
    }
    for i in 0..large {
        let content = if i % 2 == 0 {
            text(8 << 20, seed + i as u64)
        } else {
            builder::noise(8 << 20, seed + i as u64)
        };
        w.file(&format!("opt/big/blob{i}.bin"), &content);
    }
}

/// A gzip layer of about 230 MB uncompressed (24,000 small files, 8 large), cached on disk.
pub fn layer(name: &str, seed: u64) -> Layer {
    layer_with(name, seed, 24_000, 8)
}

pub fn layer_with(name: &str, seed: u64, small: usize, large: usize) -> Layer {
    cached(name, |w| fill(w, small, large, seed))
}

/// A gzip layer named `name` in target/bench-data, written by `build` the
/// first time and read back from its metadata after that.
fn cached(name: &str, build: impl FnOnce(&mut LayerWriter)) -> Layer {
    let path = dir().join(format!("{name}.tar.gz"));
    let meta = dir().join(format!("{name}.json"));
    if let (Ok(_), Ok(m)) = (std::fs::metadata(&path), std::fs::read(&meta)) {
        let v: serde_json::Value = serde_json::from_slice(&m).unwrap();
        return Layer {
            path,
            digest: v["digest"].as_str().unwrap().into(),
            size: v["size"].as_u64().unwrap(),
            diff_id: v["diff_id"].as_str().unwrap().into(),
            media_type: builder::GZIP.into(),
            files: v["files"].as_u64().unwrap(),
        };
    }
    let mut w = LayerWriter::new(&path, Compress::Gzip(6));
    build(&mut w);
    let layer = w.finish();
    let v = serde_json::json!({"digest": layer.digest, "size": layer.size, "diff_id": layer.diff_id, "files": layer.files});
    std::fs::write(meta, serde_json::to_vec(&v).unwrap()).unwrap();
    layer
}

/// A gzip layer of `count` small text files (100-500 bytes, 1,000 to a
/// directory): the shape of node_modules or a Python venv. About 1 KiB of tar
/// per file (header + one data block). Cached on disk.
pub fn many_files(name: &str, count: usize) -> Layer {
    cached(name, |w| {
        let corpus = text(1 << 20, 77);
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for i in 0..count {
            if i % 1000 == 0 {
                w.dir(&format!("app/node_modules/pkg{:04}", i / 1000));
            }
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = 100 + (x % 400) as usize;
            let start = (x >> 20) as usize % (corpus.len() - len);
            w.file(
                &format!("app/node_modules/pkg{:04}/lib/file{i}.js", i / 1000),
                &corpus[start..start + len],
            );
        }
    })
}

/// An OCI layout in target/bench-data holding one image of `layers` (blobs hard-linked).
pub fn layout(name: &str, layers: &[&Layer]) -> PathBuf {
    let layout = dir().join(name);
    let _ = std::fs::remove_dir_all(&layout);
    let mut oci = builder::OciLayout::new(&layout);
    for l in layers {
        let dest = oci.blob_path(&l.digest);
        std::fs::hard_link(&l.path, &dest)
            .or_else(|_| std::fs::copy(&l.path, &dest).map(|_| ()))
            .unwrap();
    }
    oci.image(name, layers, "linux/amd64");
    oci.finish()
}

/// A gzip layer of this host's Debian system, so the package data is real:
/// the top-level merged-/usr links, `var/lib/dpkg/status` with every
/// `info/*.list`, and the files those lists name: directories and symlinks
/// as they are, regular files smallest package first up to `cap` bytes in
/// all (the largest packages lose their payload), Python metadata
/// directories whole whatever the cap; unreadable files are skipped.
/// Cached on disk.
pub fn host_debian(name: &str, cap: u64) -> Layer {
    cached(name, |w| {
        let root = Path::new("/");
        for link in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
            if let Ok(target) = std::fs::read_link(root.join(link)) {
                w.symlink(link, &target.to_string_lossy());
            }
        }
        w.dir("var/lib/dpkg").dir("var/lib/dpkg/info");
        let status = std::fs::read(root.join("var/lib/dpkg/status")).unwrap();
        w.file("var/lib/dpkg/status", &status);
        // Each list with the real paths it names (through the merged-/usr
        // links), their metadata and the bytes of its regular files.
        let mut seen = std::collections::HashSet::new();
        let mut lists = Vec::new();
        for e in std::fs::read_dir(root.join("var/lib/dpkg/info")).unwrap() {
            let list = e.unwrap().path();
            if list.extension().is_none_or(|x| x != "list") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&list) else {
                continue;
            };
            let mut paths = Vec::new();
            let mut bytes = 0;
            for line in text.lines().filter(|l| l.len() > 1).map(Path::new) {
                let (Some(parent), Some(base)) = (line.parent(), line.file_name()) else {
                    continue;
                };
                let Ok(real) = std::fs::canonicalize(parent).map(|p| p.join(base)) else {
                    continue;
                };
                let Ok(meta) = std::fs::symlink_metadata(&real) else {
                    continue;
                };
                if seen.insert(real.clone()) {
                    bytes += if meta.is_file() { meta.len() } else { 0 };
                    paths.push((real, meta));
                }
            }
            lists.push((bytes, list, text, paths));
        }
        lists.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        // `*.dist-info/*`, `*.egg-info/*` and single-file `*.egg-info`.
        let python_meta = |p: &Path| {
            let ends = |p: Option<&std::ffi::OsStr>, s: &str| {
                p.is_some_and(|n| n.to_string_lossy().ends_with(s))
            };
            ends(p.parent().and_then(Path::file_name), "-info") || ends(p.file_name(), ".egg-info")
        };
        let mut bytes = 0u64;
        for (_, list, text, paths) in lists {
            w.file(
                &list.strip_prefix(root).unwrap().to_string_lossy(),
                text.as_bytes(),
            );
            for (real, meta) in paths {
                let rel = real.strip_prefix(root).unwrap().to_string_lossy();
                if meta.is_dir() {
                    w.dir(&rel);
                } else if meta.is_symlink() {
                    if let Ok(target) = std::fs::read_link(&real) {
                        w.symlink(&rel, &target.to_string_lossy());
                    }
                } else if meta.is_file() && (bytes + meta.len() <= cap || python_meta(&real)) {
                    if let Ok(f) = std::fs::File::open(&real) {
                        w.file_from(&rel, meta.len(), f);
                        bytes += meta.len();
                    }
                }
            }
        }
    })
}

/// A gzip layer holding the directory tree `src` (a Python venv, say) at
/// `dest`: directories, regular files and symlinks as they are. Cached on disk.
pub fn tree(name: &str, src: &Path, dest: &str) -> Layer {
    fn walk(w: &mut LayerWriter, dir: &Path, rel: &str) {
        w.dir(rel);
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let rel = format!("{rel}/{}", e.file_name().to_string_lossy());
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                walk(w, &path, &rel);
            } else if meta.is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                w.symlink(&rel, &target.to_string_lossy());
            } else if meta.is_file() {
                if let Ok(f) = std::fs::File::open(&path) {
                    w.file_from(&rel, meta.len(), f);
                }
            }
        }
    }
    cached(name, |w| walk(w, src, dest.trim_end_matches('/')))
}
