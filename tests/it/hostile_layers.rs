//! Hostile layers: every length a tar declares is capped before it is read,
//! sparse files never expand, odd archives are refused as Go's reader
//! refuses them, and valid oddities get the figures extraction would give.

use std::time::{Duration, Instant};

use super::builder::OciLayout;
use super::*;

const BLOCK: usize = 512;

fn header(name: &str, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(1_600_000_000);
    h.set_path(name).unwrap();
    h.set_cksum();
    h
}

/// A member with `data` (padded to a block).
fn member(out: &mut Vec<u8>, h: &tar::Header, data: &[u8]) {
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
}

fn end(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0u8; 2 * BLOCK]);
}

/// An image of one raw layer; returns its reference.
fn image_of(r: &Run, tar: &[u8]) -> String {
    let mut lay = OciLayout::new(&r.path("hostile"));
    let layer = lay.raw_layer(tar);
    lay.image("h", &[&layer], "linux/amd64");
    format!("{}:h", oci(&lay.finish()))
}

fn quick_failure(r: &Run, reference: &str) -> String {
    let start = Instant::now();
    let line = r.fails(&["footprint", reference]);
    assert!(start.elapsed() < Duration::from_secs(5), "{line}");
    assert!(line.contains("layer sha256:"), "names the layer: {line}");
    line
}

#[test]
fn a_gigabyte_gnu_long_name_is_refused_before_it_is_read() {
    let r = Run::new();
    let mut tar = Vec::new();
    member(
        &mut tar,
        &header("././@LongLink", tar::EntryType::GNULongName, 1 << 30),
        &[b'a'; 4096],
    );
    let line = quick_failure(&r, &image_of(&r, &tar));
    assert!(
        line.contains("GNU long name of 1073741824 bytes (limit 65536)"),
        "{line}"
    );
}

#[test]
fn a_huge_pax_header_is_refused_before_it_is_read() {
    let r = Run::new();
    let mut tar = Vec::new();
    member(
        &mut tar,
        &header("PaxHeaders/x", tar::EntryType::XHeader, 128 << 20),
        &[b'9'; 4096],
    );
    let line = quick_failure(&r, &image_of(&r, &tar));
    assert!(line.contains("PAX header of 134217728 bytes"), "{line}");
}

#[test]
fn a_sparse_file_of_an_exabyte_is_sized_by_its_map_at_once() {
    let r = Run::new();
    let mut h = header("holes", tar::EntryType::GNUSparse, 4);
    {
        let gnu = h.as_gnu_mut().unwrap();
        gnu.set_real_size(1 << 60);
        gnu.sparse[0].set_offset(1 << 59);
        gnu.sparse[0].set_length(4);
    }
    h.set_cksum();
    let mut tar = Vec::new();
    member(&mut tar, &h, b"data");
    end(&mut tar);
    let reference = image_of(&r, &tar);
    let start = Instant::now();
    let v = r.json(&["footprint", &reference]);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(
        v["images"][0]["total"]["files"],
        1u64 << 60,
        "the logical size"
    );
}

#[test]
fn members_after_a_lone_zero_block_are_refused_as_go_does() {
    let r = Run::new();
    let mut tar = Vec::new();
    member(&mut tar, &header("a", tar::EntryType::Regular, 1), b"1");
    tar.extend_from_slice(&[0u8; BLOCK]);
    member(
        &mut tar,
        &header("hidden", tar::EntryType::Regular, 1),
        b"2",
    );
    end(&mut tar);
    let line = quick_failure(&r, &image_of(&r, &tar));
    assert!(line.contains("a member after a lone zero block"), "{line}");
}

#[test]
fn a_path_written_three_times_counts_what_extraction_leaves() {
    let r = Run::new();
    let mut tar = Vec::new();
    for size in [100usize, 200, 300] {
        member(
            &mut tar,
            &header("etc/conf", tar::EntryType::Regular, size as u64),
            &vec![b'x'; size],
        );
    }
    end(&mut tar);
    let reference = image_of(&r, &tar);
    let v = r.json(&["footprint", &reference]);
    assert_eq!(v["images"][0]["total"]["files"], 300);
    assert_eq!(v["layers"][0]["entries"], 1);
    let du = r.json(&["du", &reference]);
    assert_eq!(du["tree"]["bytes"], 300);
    // cat and export take the last version too, once.
    let cat = r.run(&["cat", &reference, "/etc/conf"]);
    assert_eq!(cat.stdout, vec![b'x'; 300]);
    let out = r.run(&["export", &reference, "-o", "-"]);
    assert!(out.status.success());
    let mut archive = tar::Archive::new(&out.stdout[..]);
    let sizes: Vec<u64> = archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().header().size().unwrap())
        .collect();
    assert_eq!(sizes, [300]);
}

#[test]
fn names_that_are_not_utf8_keep_their_bytes_and_never_collide() {
    let r = Run::new();
    let mut tar = Vec::new();
    // b"caf\xe9" would read as "caf\u{fffd}" if converted: another real name.
    for (name, size) in [(&b"caf\xe9"[..], 10u64), ("caf\u{fffd}".as_bytes(), 20)] {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(size);
        h.set_mode(0o644);
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
        h.set_cksum();
        member(&mut tar, &h, &vec![b'y'; size as usize]);
    }
    end(&mut tar);
    let reference = image_of(&r, &tar);
    let v = r.json(&["footprint", &reference]);
    assert_eq!(v["images"][0]["total"]["files"], 30);
    assert_eq!(v["layers"][0]["entries"], 2, "two names, two entries");
    let du = r.json(&["du", &reference]);
    assert_eq!(
        (du["tree"]["bytes"].as_u64(), du["tree"]["files"].as_u64()),
        (Some(30), Some(2))
    );
}

#[test]
fn a_second_manifest_that_lies_about_a_layers_size_is_refused_cached_or_not() {
    let r = Run::new();
    let mut lay = OciLayout::new(&r.path("liar"));
    let mut tar = Vec::new();
    member(&mut tar, &header("f", tar::EntryType::Regular, 5), b"12345");
    end(&mut tar);
    let layer = lay.raw_layer(&tar);
    lay.image("honest", &[&layer], "linux/amd64");
    let dir = lay.finish();
    // Warm the cache with the honest image, then add a liar beside it.
    r.json(&["footprint", &format!("{}:honest", oci(&dir))]);
    let mut liar = layer.clone();
    liar.size += 1;
    let mut lay2 = OciLayout::new(&r.path("liar"));
    lay2.image("honest", &[&layer], "linux/amd64");
    lay2.image("liar", &[&liar], "linux/amd64");
    let dir = lay2.finish();
    for args in [&["footprint"][..], &["footprint", "--no-cache"]] {
        let mut a = args.to_vec();
        let reference = oci(&dir);
        a.push(&reference);
        let line = r.fails(&a);
        assert!(
            line.contains("declares 2048 bytes but") && line.contains("declares 2049"),
            "{line}"
        );
    }
    // Alone, the liar's blob does not match its descriptor.
    let line = r.fails(&["footprint", &format!("{}:liar", oci(&dir))]);
    assert!(line.contains("2049"), "{line}");
}

#[test]
fn control_characters_in_file_names_never_reach_the_terminal_raw() {
    let r = Run::new();
    let mut tar = Vec::new();
    member(
        &mut tar,
        &header("evil\x1b]0;pwned\x07", tar::EntryType::Regular, 3),
        b"abc",
    );
    end(&mut tar);
    let reference = image_of(&r, &tar);
    for format in ["table", "markdown"] {
        let out = r.run(&["du", &reference, "--format", format]);
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{format}: {text:?}"
        );
        assert!(text.contains("evil\\x1b]0;pwned\\x07"), "{format}: {text}");
    }
}
