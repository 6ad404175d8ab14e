//! Bad input: one clear line on stderr, exit 2, no panic, no report.

use std::fs;

use serde_json::json;

use super::builder::{self, Compress, OciLayout};
use super::*;

fn one_image(
    r: &Run,
    compress: Compress,
    fill: impl FnOnce(&mut builder::LayerWriter),
) -> (OciLayout, builder::Layer) {
    let mut lay = OciLayout::new(&r.path("bad"));
    let layer = lay.layer(compress, fill);
    lay.image("img", &[&layer], "linux/amd64");
    lay.finish();
    (lay, layer)
}

fn small(w: &mut builder::LayerWriter) {
    w.dir("etc")
        .file("etc/hostname", b"strata\n")
        .file("etc/big", &[9u8; 30_000]);
}

#[test]
fn unknown_transport() {
    let line = Run::new().fails(&["footprint", "dir:/tmp/x"]);
    assert!(line.contains("unknown transport \"dir\""), "{line}");
    let line = Run::new().fails(&["footprint", "ftp://host/x"]);
    assert!(line.contains("unknown transport \"ftp\""), "{line}");
}

#[test]
fn missing_file() {
    let r = Run::new();
    for t in ["oci", "oci-archive", "docker-archive"] {
        let line = r.fails(&["footprint", &format!("{t}:{}", r.path("nope").display())]);
        assert!(line.contains("No such file"), "{line}");
    }
}

#[test]
fn missing_ref_in_a_layout_with_several_images() {
    let r = Run::new();
    let fam = builder::family(&r.path("layout"), Compress::Gzip(6));
    let line = r.fails(&["footprint", &format!("{}:nope", oci(&fam.layout))]);
    assert!(line.contains("no image named \"nope\""), "{line}");
    assert!(line.contains("app, app-dev, worker, rebuilt"), "{line}");
}

#[test]
fn truncated_gzip() {
    let r = Run::new();
    let (lay, layer) = one_image(&r, Compress::Gzip(6), small);
    let bytes = fs::read(&layer.path).unwrap();
    fs::write(&layer.path, &bytes[..bytes.len() / 2]).unwrap();
    let line = r.fails(&["footprint", &oci(&lay.dir)]);
    assert!(line.contains("corrupt gzip stream"), "{line}");
}

#[test]
fn truncated_uncompressed_blob() {
    let r = Run::new();
    let (lay, layer) = one_image(&r, Compress::None, small);
    let bytes = fs::read(&layer.path).unwrap();
    fs::write(&layer.path, &bytes[..bytes.len() - 2048]).unwrap();
    let line = r.fails(&["footprint", &oci(&lay.dir)]);
    assert!(line.contains(&layer.digest), "{line}");
}

#[test]
fn blob_bytes_that_do_not_match_their_digest() {
    let r = Run::new();
    let (lay, layer) = one_image(&r, Compress::Gzip(6), small);
    // Same size, same tar content, other bytes: recompress at another level.
    let mut other = builder::LayerWriter::new(&r.path("other.gz"), Compress::Gzip(1));
    small(&mut other);
    let other = other.finish();
    assert_eq!(other.diff_id, layer.diff_id);
    let mut bytes = fs::read(&layer.path).unwrap();
    bytes[4] ^= 0xff; // gzip MTIME field: still valid gzip, other digest
    fs::write(&layer.path, &bytes).unwrap();
    let line = r.fails(&["footprint", &oci(&lay.dir)]);
    assert!(line.contains("blob digest mismatch"), "{line}");
    assert!(line.contains(&layer.digest), "{line}");
}

#[test]
fn diff_id_mismatch() {
    let r = Run::new();
    let mut lay = OciLayout::new(&r.path("bad"));
    let layer = lay.layer(Compress::Gzip(6), small);
    let mut config = OciLayout::config_for(&[&layer], "linux/amd64");
    config["rootfs"]["diff_ids"] = json!([format!("sha256:{}", "0".repeat(64))]);
    let mut desc = lay.manifest_with_config(&[&layer], &serde_json::to_vec(&config).unwrap());
    desc["annotations"] = json!({"org.opencontainers.image.ref.name": "img"});
    fs::write(
        lay.dir.join("index.json"),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [desc]})).unwrap(),
    )
    .unwrap();
    let line = r.fails(&["footprint", &oci(&lay.dir)]);
    assert!(line.contains("diff_id mismatch"), "{line}");
}

#[test]
fn malformed_index_manifest_and_config_json() {
    let r = Run::new();
    let (lay, _) = one_image(&r, Compress::Gzip(6), small);
    let index_path = lay.dir.join("index.json");
    let index: Value = serde_json::from_slice(&fs::read(&index_path).unwrap()).unwrap();
    let manifest_digest = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    let manifest_path = lay.blob_path(&manifest_digest);
    let manifest: Value = serde_json::from_slice(&fs::read(&manifest_path).unwrap()).unwrap();
    let config_path = lay.blob_path(manifest["config"]["digest"].as_str().unwrap());

    // config: valid digest and size for broken JSON
    let broken = b"{\"architecture\": \"amd64\", \"os\":";
    let (cd, cs) = lay.put_blob(broken);
    let mut m2 = manifest.clone();
    m2["config"]["digest"] = json!(cd);
    m2["config"]["size"] = json!(cs);
    let (md, ms) = lay.put_blob(&serde_json::to_vec(&m2).unwrap());
    let mut i2 = index.clone();
    i2["manifests"][0]["digest"] = json!(md);
    i2["manifests"][0]["size"] = json!(ms);
    fs::write(&index_path, serde_json::to_vec(&i2).unwrap()).unwrap();
    let line = r.fails(&["footprint", &oci(&lay.dir)]);
    assert!(
        line.contains("config") && line.contains("malformed JSON"),
        "{line}"
    );

    // manifest: broken JSON under a correct digest
    let (md, ms) = lay.put_blob(b"{\"schemaVersion\": 2, \"layers\": [");
    i2["manifests"][0]["digest"] = json!(md);
    i2["manifests"][0]["size"] = json!(ms);
    fs::write(&index_path, serde_json::to_vec(&i2).unwrap()).unwrap();
    let line = r.fails(&["footprint", &oci(&lay.dir)]);
    assert!(
        line.contains("manifest") && line.contains("malformed JSON"),
        "{line}"
    );

    // index.json itself
    fs::write(&index_path, b"{\"schemaVersion\": 2, \"manifests\": [").unwrap();
    let line = r.fails(&["footprint", &oci(&lay.dir)]);
    assert!(line.contains("index.json: malformed JSON"), "{line}");
    let _ = (config_path, manifest_path);
}

#[test]
fn a_manifest_whose_bytes_do_not_match_its_digest() {
    let r = Run::new();
    let (lay, _) = one_image(&r, Compress::Gzip(6), small);
    let index: Value =
        serde_json::from_slice(&fs::read(lay.dir.join("index.json")).unwrap()).unwrap();
    let path = lay.blob_path(index["manifests"][0]["digest"].as_str().unwrap());
    let mut bytes = fs::read(&path).unwrap();
    let n = bytes.len();
    bytes[n - 1] = b' ';
    fs::write(&path, bytes).unwrap();
    let line = r.fails(&["footprint", &oci(&lay.dir)]);
    assert!(line.contains("blob digest mismatch"), "{line}");
}

#[test]
fn entry_path_with_dot_dot_is_reported_not_followed() {
    let r = Run::new();
    let (lay, _) = one_image(&r, Compress::Gzip(6), |w| {
        w.file("ok", b"fine").raw_file("../../etc/evil", b"boo");
    });
    let line = r.fails(&["footprint", &oci(&lay.dir)]);
    assert!(
        line.contains("hostile tar entry path \"../../etc/evil\""),
        "{line}"
    );
    assert!(!std::path::Path::new("/etc/evil").exists());
}

#[test]
fn absolute_entry_path_is_reported_not_followed() {
    let r = Run::new();
    let (lay, _) = one_image(&r, Compress::None, |w| {
        w.raw_file("/tmp/strata-evil", b"boo");
    });
    let line = r.fails(&["footprint", &oci(&lay.dir)]);
    assert!(
        line.contains("hostile tar entry path \"/tmp/strata-evil\" (absolute path)"),
        "{line}"
    );
}

#[test]
fn a_layer_media_type_strata_cannot_decode() {
    let r = Run::new();
    let mut lay = OciLayout::new(&r.path("bad"));
    let mut layer = lay.layer(Compress::Gzip(6), small);
    layer.media_type = "application/vnd.oci.image.layer.v1.tar+bzip2".into();
    lay.image("img", &[&layer], "linux/amd64");
    let line = r.fails(&["footprint", &oci(&lay.finish())]);
    assert!(
        line.contains(
            "unsupported layer media type \"application/vnd.oci.image.layer.v1.tar+bzip2\""
        ),
        "{line}"
    );
}

#[test]
fn a_media_type_that_lies_about_compression() {
    let r = Run::new();
    let mut lay = OciLayout::new(&r.path("bad"));
    let mut layer = lay.layer(Compress::Zstd, small);
    layer.media_type = builder::GZIP.into();
    lay.image("img", &[&layer], "linux/amd64");
    let line = r.fails(&["footprint", &oci(&lay.finish())]);
    assert!(
        line.contains("media type says gzip but the blob starts like zstd"),
        "{line}"
    );
}

#[test]
fn not_an_archive_at_all() {
    let r = Run::new();
    fs::write(r.path("junk.tar"), b"this is not a tar file").unwrap();
    let line = r.fails(&[
        "footprint",
        &format!("docker-archive:{}", r.path("junk.tar").display()),
    ]);
    assert!(line.contains("junk.tar"), "{line}");
    let line = r.fails(&[
        "footprint",
        &format!("oci-archive:{}", dive("test-docker-image.tar")),
    ]);
    assert!(line.contains("not an OCI image layout"), "{line}");
}

#[test]
fn malformed_flags() {
    let r = Run::new();
    let layout = dive("test-oci-gzip-image.tar");
    let line = r.fails(&[
        "footprint",
        "--creds",
        "no-colon",
        &format!("oci-archive:{layout}"),
    ]);
    assert!(line.contains("--creds: expected USER:PASS"), "{line}");
    let line = r.fails(&[
        "footprint",
        "--platform",
        "linux",
        &format!("oci-archive:{layout}"),
    ]);
    assert!(line.contains("--platform"), "{line}");
    let line = r.fails(&[
        "footprint",
        "--shallow",
        "--measure",
        "files",
        &format!("oci-archive:{layout}"),
    ]);
    assert!(
        line.contains("--shallow knows compressed sizes only"),
        "{line}"
    );
}

#[test]
fn an_index_of_15001_platforms_with_all_platforms_is_refused_not_read() {
    let r = Run::new();
    let mut lay = OciLayout::new(&r.path("fan"));
    let layer = lay.layer(Compress::Gzip(6), small);
    let one = lay.manifest(&[&layer], "linux/amd64");
    let manifests: Vec<serde_json::Value> = (0..15_001)
        .map(|i| {
            let mut d = one.clone();
            d["platform"] = json!({"os": "linux", "architecture": format!("arch{i}")});
            d
        })
        .collect();
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
    let (digest, size) = lay.put_blob(&serde_json::to_vec(&index).unwrap());
    let dir = lay.finish();
    let top = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": size,
        "annotations": {"org.opencontainers.image.ref.name": "fan"}
    }]});
    fs::write(dir.join("index.json"), serde_json::to_vec(&top).unwrap()).unwrap();
    let line = r.fails(&["footprint", "--all-platforms", &oci(&dir)]);
    assert!(
        line.contains("the index lists 15001 platforms; strata reads at most 1000 images per run"),
        "{line}"
    );
    // One of them is still there for the asking (its config says amd64:
    // the index's word is what selects it, and a warning says they differ).
    let out = r.run(&[
        "footprint",
        "--format=json",
        "--platform",
        "linux/arch15000",
        &oci(&dir),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["images"][0]["platform"], "linux/arch15000");
    assert!(
        stderr.contains("the index lists it as linux/arch15000 but its config says linux/amd64"),
        "{stderr}"
    );
}
