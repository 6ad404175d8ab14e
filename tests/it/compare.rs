//! `strata compare` on a builder-made pair of families (a fat base + 3
//! services; a lean base + the same 3 services): every figure is checked
//! against sums the test makes from the blobs it wrote.

use super::builder::{self, Compress, Layer, OciLayout};
use super::registry_server::Registry;
use super::*;

const SERVICES: [&str; 3] = ["nova", "glance", "keystone"];

pub struct Families {
    fat: PathBuf,
    lean: PathBuf,
    fat_base: Vec<Layer>,
    lean_base: Vec<Layer>,
    /// Per service: (fat layer, lean layer).
    services: Vec<(Layer, Layer)>,
}

fn service_layer(oci: &mut OciLayout, i: usize, flavour: u64) -> Layer {
    oci.layer(Compress::Gzip(6), |w| {
        w.dir("srv").file(
            "srv/bin",
            &builder::noise(7_000 + 3_001 * i, 50 + i as u64 + flavour),
        );
    })
}

fn families(r: &Run) -> Families {
    families_in(&r.path("fat"), &r.path("lean"))
}

/// fat: an OS layer and a libraries layer; lean: one small OS layer. Tags
/// carry a family prefix (fat-nova, lean-nova) so pairing must cut it.
/// Shipped in fixtures/compare for the README's example.
pub fn families_in(fat: &Path, lean: &Path) -> Families {
    let mut fat = OciLayout::new(fat);
    let os = fat.layer(Compress::Gzip(6), |w| {
        w.dir("usr").file("usr/os", &builder::noise(60_000, 1));
    });
    let libs = fat.layer(Compress::Gzip(6), |w| {
        w.dir("usr").file("usr/libs", &builder::noise(25_001, 2));
    });
    let mut lean = OciLayout::new(lean);
    let small = lean.layer(Compress::Gzip(6), |w| {
        w.dir("usr").file("usr/os", &builder::noise(9_000, 3));
    });
    let mut services = Vec::new();
    for (i, s) in SERVICES.iter().enumerate() {
        let f = service_layer(&mut fat, i, 0);
        let l = service_layer(&mut lean, i, 100);
        fat.image(&format!("fat-{s}"), &[&os, &libs, &f], "linux/amd64");
        lean.image(&format!("lean-{s}"), &[&small, &l], "linux/amd64");
        services.push((f, l));
    }
    Families {
        fat: fat.finish(),
        lean: lean.finish(),
        fat_base: vec![os, libs],
        lean_base: vec![small],
        services,
    }
}

fn compare_args<'a>(f: &'a [String; 2], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["compare", &f[0], "--vs", &f[1]];
    args.extend(["--left-name", "fat", "--right-name", "lean"]);
    args.extend(extra);
    args
}

fn refs(f: &Families) -> [String; 2] {
    [oci(&f.fat), oci(&f.lean)]
}

/// The fair split the README documents: b / n each, the b % n remainder
/// bytes one each to the first users.
fn fair(bytes: u64, n: u64, rank: u64) -> u64 {
    bytes / n + u64::from(rank < bytes % n)
}

#[test]
fn family_figures_match_sums_of_the_blobs() {
    let r = Run::new();
    let f = families(&r);
    let v = r.json(&compare_args(&refs(&f), &["--deploy", "nova,glance"]));
    let c = |layers: &[&Layer]| layers.iter().map(|l| l.size).sum::<u64>();
    let fat_base = c(&f.fat_base.iter().collect::<Vec<_>>());
    let lean_base = c(&f.lean_base.iter().collect::<Vec<_>>());
    let fat_svc: Vec<u64> = f.services.iter().map(|s| s.0.size).collect();
    let lean_svc: Vec<u64> = f.services.iter().map(|s| s.1.size).collect();

    let (left, right) = (&v["left"], &v["right"]);
    assert_eq!(left["name"], "fat");
    assert_eq!(left["images"], 3);
    assert_eq!(left["base"]["layers"].as_array().unwrap().len(), 2);
    assert_eq!(left["base"]["layers"][0], f.fat_base[0].digest.as_str());
    assert_eq!(left["base"]["size"]["compressed"], fat_base);
    assert_eq!(right["base"]["size"]["compressed"], lean_base);
    assert_eq!(
        left["sum_total"]["compressed"],
        3 * fat_base + fat_svc.iter().sum::<u64>()
    );
    assert_eq!(
        left["dedup_total"]["compressed"],
        fat_base + fat_svc.iter().sum::<u64>()
    );
    assert_eq!(
        right["dedup_total"]["compressed"],
        lean_base + lean_svc.iter().sum::<u64>()
    );
    let base_files: u64 = f.fat_base.iter().map(|l| l.files).sum();
    assert_eq!(left["base"]["size"]["files"], base_files);

    let pairs = v["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 3);
    for (i, s) in SERVICES.iter().enumerate() {
        let p = &pairs[i];
        assert_eq!(p["name"], *s);
        assert_eq!(p["paired_by"], "suffix");
        let (l, rt) = (&p["left"], &p["right"]);
        assert_eq!(l["total"]["compressed"], fat_base + fat_svc[i]);
        assert_eq!(rt["total"]["compressed"], lean_base + lean_svc[i]);
        assert_eq!(l["marginal"]["compressed"], fat_svc[i]);
        assert_eq!(rt["marginal"]["compressed"], lean_svc[i]);
        assert_eq!(l["marginal"]["files"], f.services[i].0.files);
        let fat_fair: u64 = f
            .fat_base
            .iter()
            .map(|b| fair(b.size, 3, i as u64))
            .sum::<u64>()
            + fat_svc[i];
        assert_eq!(l["fair_share"]["compressed"], fat_fair);
        assert_eq!(
            rt["fair_share"]["compressed"],
            fair(lean_base, 3, i as u64) + lean_svc[i]
        );
        assert_eq!(
            p["difference"]["total"]["compressed"],
            (lean_base + lean_svc[i]) as i64 - (fat_base + fat_svc[i]) as i64
        );
        let ratio = p["ratio"]["marginal"]["compressed"].as_f64().unwrap();
        assert!((ratio - lean_svc[i] as f64 / fat_svc[i] as f64).abs() < 1e-9);
    }
    let d = &v["deploy"];
    assert_eq!(d["left"]["compressed"], fat_base + fat_svc[0] + fat_svc[1]);
    assert_eq!(
        d["right"]["compressed"],
        lean_base + lean_svc[0] + lean_svc[1]
    );
    assert_eq!(d["left_missing"].as_array().unwrap().len(), 0);
}

#[test]
fn fair_shares_add_up_to_each_familys_dedup_total_in_every_measure() {
    let r = Run::new();
    let f = families(&r);
    let v = r.json(&compare_args(&refs(&f), &[]));
    for side in ["left", "right"] {
        for k in ["compressed", "uncompressed", "files"] {
            let sum: u64 = v["pairs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p[side]["fair_share"][k].as_u64().unwrap())
                .sum();
            assert_eq!(
                sum,
                v[side]["dedup_total"][k].as_u64().unwrap(),
                "{side} {k}"
            );
        }
    }
}

#[test]
fn a_given_base_replaces_the_common_prefix() {
    let r = Run::new();
    let f = families(&r);
    // fat's base taken as just its first image: marginals over it are 0 for nova.
    let fat_nova = format!("{}:fat-nova", oci(&f.fat));
    let v = r.json(&compare_args(&refs(&f), &["--left-base", &fat_nova]));
    assert_eq!(v["left"]["base"]["image"], fat_nova.as_str());
    assert_eq!(v["left"]["base"]["layers"].as_array().unwrap().len(), 3);
    assert_eq!(v["pairs"][0]["left"]["marginal"]["compressed"], 0);
    assert_eq!(
        v["pairs"][1]["left"]["marginal"]["compressed"],
        f.services[1].0.size
    );
}

#[test]
fn unpaired_images_are_listed_never_dropped() {
    let r = Run::new();
    let f = families(&r);
    let mut extra = OciLayout::new(&r.path("extra"));
    let l = extra.layer(Compress::Gzip(6), |w| {
        w.file("x", &builder::noise(3_000, 77));
    });
    extra.image("lean-horizon", &[&l], "linux/amd64");
    let extra = oci(&extra.finish());
    let [left, right] = refs(&f);
    let v = r.json(&[
        "compare", &left, "--vs", &right, &extra, "--deploy", "horizon",
    ]);
    let pairs = v["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 4);
    assert_eq!(pairs[3]["name"], "horizon");
    assert_eq!(pairs[3]["paired_by"], "none");
    assert!(pairs[3]["left"].is_null() && pairs[3]["difference"].is_null());
    assert_eq!(v["deploy"]["left_missing"][0], "horizon");
    assert_eq!(v["deploy"]["left"]["compressed"], 0);
    assert_eq!(v["deploy"]["right"]["compressed"], l.size);
    let out = r.run(&["compare", &left, "--vs", &right, &extra]);
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("unpaired: ") && table.contains("lean-horizon (right) has no left match"),
        "{table}"
    );
}

#[test]
fn pairs_can_be_given_by_hand() {
    let r = Run::new();
    let f = families(&r);
    let v = r.json(&compare_args(&refs(&f), &["--pair", "nova=lean-glance"]));
    let p = &v["pairs"][0];
    assert_eq!(p["paired_by"], "hand");
    assert!(p["right"]["image"]
        .as_str()
        .unwrap()
        .ends_with(":lean-glance"));
    assert_eq!(
        v["pairs"].as_array().unwrap().len(),
        4,
        "lean-nova left over"
    );
}

#[test]
fn bad_compare_arguments_are_one_line_and_exit_2() {
    let r = Run::new();
    let f = families(&r);
    for extra in [
        &["--pair", "nova"][..],
        &["--deploy", "nothing-like-it"],
        &["--shallow", "--measure", "files"],
    ] {
        let line = r.fails(&compare_args(&refs(&f), extra));
        assert!(!line.is_empty(), "{extra:?}");
    }
    let [left, right] = refs(&f);
    let line = r.fails(&["compare", &left, "--vs", &right, "--left-name", "right"]);
    assert!(line.contains("different names"), "{line}");
}

#[test]
fn registry_globs_pair_by_repository_basename() {
    let reg = Registry::start(false);
    let r = Run::new();
    let f = families(&r);
    for s in SERVICES {
        reg.push(&f.fat, &format!("fat-{s}"), &format!("fat/{s}:1"), false);
        reg.push(&f.lean, &format!("lean-{s}"), &format!("lean/{s}:1"), false);
    }
    let (left, right) = (
        format!("docker://{}/fat/*:1", reg.host),
        format!("docker://{}/lean/*:1", reg.host),
    );
    let before = reg.blob_gets();
    let v = r.json(&["compare", "--shallow", &left, "--vs", &right]);
    assert_eq!(reg.blob_gets(), before, "--shallow fetched a blob");
    let pairs = v["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 3);
    for p in pairs {
        assert_eq!(p["paired_by"], "name");
        let i = SERVICES
            .iter()
            .position(|s| p["name"] == *s)
            .expect("a service name");
        assert_eq!(p["left"]["marginal"]["compressed"], f.services[i].0.size);
        assert_eq!(p["right"]["marginal"]["compressed"], f.services[i].1.size);
        assert!(p["left"]["total"]["files"].is_null());
    }
    let deep = r.json(&["compare", &left, "--vs", &right]);
    assert_eq!(
        deep["left"]["dedup_total"]["compressed"],
        v["left"]["dedup_total"]["compressed"]
    );
}

fn stable(text: &str, r: &Run) -> String {
    text.replace(&r.tmp.path().display().to_string(), "[TMP]")
}

fn snapshot_of(format: &str) -> String {
    let r = Run::new();
    let f = families(&r);
    let out = r.run(&compare_args(
        &refs(&f),
        &["--format", format, "--deploy", "nova,keystone"],
    ));
    assert!(out.status.success());
    stable(&String::from_utf8(out.stdout).unwrap(), &r)
}

#[test]
fn compare_table_snapshot() {
    insta::assert_snapshot!(snapshot_of("table"));
}

#[test]
fn compare_markdown_snapshot() {
    insta::assert_snapshot!(snapshot_of("markdown"));
}

#[test]
fn compare_json_snapshot() {
    insta::assert_snapshot!(snapshot_of("json"));
}

#[test]
fn common_content_counts_each_shared_file_content_once() {
    let r = Run::new();
    let f = families(&r);
    let [fat, lean] = refs(&f);
    let none = r.json(&["compare", &fat, "--vs", &lean, "--common"]);
    assert_eq!(none["common"]["files"], 0);
    let same = r.json(&["compare", &fat, "--vs", &fat, "--common"]);
    let c = &same["common"];
    assert_eq!(c["files"], 5, "os, libs and three service binaries");
    assert_eq!(c["bytes"], same["left"]["dedup_total"]["files"]);
    assert_eq!(c["top_directories"][0]["path"], "/usr");
    assert_eq!(c["top_directories"][0]["bytes"], 60_000 + 25_001);
    assert!(r.json(&["compare", &fat, "--vs", &lean])["common"].is_null());
    let line = r.fails(&["compare", &fat, "--vs", &lean, "--common", "--shallow"]);
    assert!(line.contains("--shallow"), "{line}");
}

/// Issue 19.3, for compare: an engine family has no compressed size, so by
/// default both families are shown in uncompressed bytes, with one note;
/// no cell of the tables is `-` beside a figure of the same measure.
#[test]
fn an_engine_family_is_compared_in_uncompressed_bytes_with_one_note() {
    let Some(podman) = super::footprint::podman_with(&[
        ("app", "localhost/fam/app:1"),
        ("worker", "localhost/fam/worker:1"),
    ]) else {
        return;
    };
    let family = std::path::Path::new(super::engine::FAMILY);
    let r = Run::new();
    let layout = |n: &str| format!("oci:{}:{n}", family.display());
    let (app, worker) = (layout("app"), layout("worker"));
    let args = [
        "compare",
        "docker-daemon:localhost/fam/app:1",
        "docker-daemon:localhost/fam/worker:1",
        "--vs",
        &app,
        &worker,
        "--pair",
        "docker-daemon:localhost/fam/app:1=app",
        "--pair",
        "docker-daemon:localhost/fam/worker:1=worker",
    ];
    let run = |extra: &[&str]| {
        let mut all = args.to_vec();
        all.extend(extra);
        super::footprint::engine_stdout(&r, &podman, &all)
    };
    let table = run(&[]);
    let notes: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("no compressed size"))
        .collect();
    assert_eq!(
        notes,
        ["no compressed size for docker-daemon:localhost/fam/app:1, docker-daemon:localhost/fam/worker:1 (an engine keeps its layers uncompressed): the tables show uncompressed bytes (--measure picks another)"],
        "{table}"
    );
    assert!(
        table.contains("uncompressed bytes; DIFF = right - left"),
        "{table}"
    );
    // The same layers on both sides: every total, difference and ratio is known.
    let section = table
        .split("Total per image\n")
        .nth(1)
        .and_then(|s| s.split("\n\n").next())
        .unwrap();
    for row in section.lines().skip(1) {
        assert!(!row.split_whitespace().any(|c| c == "-"), "{row}: {table}");
        assert!(row.ends_with("+0B  1.00x"), "{row}: {table}");
    }
    let v: Value = {
        let out = run(&["--format", "json"]);
        serde_json::from_str(&out).unwrap()
    };
    assert_eq!(v["measure"], "uncompressed");
    // Asked for compressed: the engine side is `-`, and the note says why.
    let table = run(&["--measure", "compressed"]);
    assert!(table.contains("compressed figures show `-`"), "{table}");
}
