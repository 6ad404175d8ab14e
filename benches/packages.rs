//! `strata packages` cold on a ~1 GB Debian image with a Python venv (an
//! oci-archive, gzip layers, built once from this host's real Debian system
//! and a real venv) against syft (`syft oci-archive:FILE -o json`) on the
//! same file, same run: every deb and python package syft lists is found by
//! strata with the same version (python names compared after PEP 503
//! normalisation), wall time <= 0.1x syft's, peak RSS <= 64 MiB. Exits 1 when
//! a version check or a target is missed.

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "support/data.rs"]
mod data;
#[path = "support/measure.rs"]
mod measure;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use measure::{best_of_to, peers, strata, venv_with, verdict};
use serde_json::Value;
use strata::analyze::packages::deps::pep503;

/// Bytes of host files in the Debian layer (the rest are skipped).
const HOST_CAP: u64 = 960_000_000;
/// What the image's venv holds beside pip: names that PEP 503 folds
/// (PyYAML, zope.interface, typing_extensions, MarkupSafe) and a recent
/// setuptools with `*.dist-info` vendored below its package.
const VENV: [&str; 7] = [
    "requests",
    "PyYAML",
    "zope.interface",
    "typing_extensions",
    "Jinja2",
    "setuptools",
    "wheel",
];

fn archive() -> PathBuf {
    let archive = data::dir().join("packages-1g.oci.tar");
    if !archive.exists() {
        let base = data::host_debian("host-debian", HOST_CAP);
        let venv = data::dir().join("app-venv");
        venv_with(&venv, &VENV, &["wheel"]);
        let app = data::tree("app-venv", &venv, "opt/venv");
        let layout = data::layout("packages-1g", &[&base, &app]);
        builder::oci_archive(&layout, &archive);
        let _ = std::fs::remove_dir_all(&layout);
    }
    archive
}

/// (ecosystem, matching name) -> versions, and the names spelt differently
/// from their matching form; from `items` of (ecosystem, name, version).
type Listing = BTreeMap<(String, String), BTreeSet<String>>;

fn listing<'a>(items: impl Iterator<Item = (&'a str, &'a str, &'a str)>) -> (Listing, usize) {
    let (mut out, mut folded) = (Listing::new(), 0);
    for (eco, name, version) in items {
        let key = match eco {
            "deb" => name.to_owned(),
            "python" => pep503(name),
            _ => continue,
        };
        folded += usize::from(key != name);
        out.entry((eco.to_owned(), key))
            .or_default()
            .insert(version.to_owned());
    }
    (out, folded)
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn items<'a>(
    doc: &'a Value,
    list: &str,
    eco: &str,
) -> impl Iterator<Item = (&'a str, &'a str, &'a str)> + 'a {
    let eco = eco.to_owned();
    doc[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list}[] in the JSON"))
        .iter()
        .map(move |p| {
            let s = |k: &str| p[k].as_str().unwrap_or_default();
            (s(&eco), s("name"), s("version"))
        })
}

fn main() {
    measure::serve();
    let archive = archive();
    let reference = format!("oci-archive:{}", archive.display());
    let out = tempfile::tempdir().unwrap();
    let (ours_json, theirs_json) = (out.path().join("strata.json"), out.path().join("syft.json"));
    let mut missed = Vec::new();
    let ours = best_of_to(3, &ours_json, || {
        let mut c = strata();
        c.args(["packages", "--format", "json", "--no-cache", &reference]);
        c
    });
    let syft = peers().join("syft");
    let theirs = best_of_to(2, &theirs_json, || {
        let mut c = Command::new(&syft);
        c.env("SYFT_CHECK_FOR_APP_UPDATE", "false")
            .args(["-q", &reference, "-o", "json"]);
        c
    });
    let (ours_doc, theirs_doc) = (json(&ours_json), json(&theirs_json));
    let (found, our_folded) = listing(items(&ours_doc, "packages", "ecosystem"));
    let (wanted, their_folded) = listing(items(&theirs_doc, "artifacts", "type"));
    let count = |l: &Listing, eco: &str| {
        l.iter()
            .filter(|((e, _), _)| e == eco)
            .map(|(_, v)| v.len())
            .sum::<usize>()
    };
    let mut mismatches = Vec::new();
    for ((eco, name), versions) in &wanted {
        let have = found.get(&(eco.clone(), name.clone()));
        for v in versions {
            if !have.is_some_and(|h| h.contains(v)) {
                let ours = have.map_or("not found".to_owned(), |h| {
                    format!(
                        "strata has {}",
                        h.iter().cloned().collect::<Vec<_>>().join(", ")
                    )
                });
                mismatches.push(format!("{eco} {name} {v}: {ours}"));
            }
        }
    }
    let extra = found.keys().filter(|k| !wanted.contains_key(*k)).count();
    println!(
        "archive {:.2} GB (oci-archive, 2 gzip layers: host Debian + venv)",
        std::fs::metadata(&archive).unwrap().len() as f64 / 1e9
    );
    println!(
        "strata packages --no-cache: {:.2} s, {:.2} s CPU, {:.1} MiB peak; deb {}, python {}",
        ours.wall.as_secs_f64(),
        ours.cpu.as_secs_f64(),
        ours.rss_mib(),
        count(&found, "deb"),
        count(&found, "python")
    );
    println!(
        "syft: {:.2} s, {:.2} s CPU, {:.1} MiB peak; deb {}, python {}",
        theirs.wall.as_secs_f64(),
        theirs.cpu.as_secs_f64(),
        theirs.rss_mib(),
        count(&wanted, "deb"),
        count(&wanted, "python")
    );
    println!(
        "python names matched after PEP 503 normalisation ({our_folded} of strata's, \
         {their_folded} of syft's spelt otherwise); names strata lists that syft does not: {extra}"
    );
    for m in &mismatches {
        println!("  MISMATCH {m}");
    }
    let ratio = ours.wall.as_secs_f64() / theirs.wall.as_secs_f64();
    println!(
        "syft's packages found with the same version: {} of {}: {}",
        count(&wanted, "deb") + count(&wanted, "python") - mismatches.len(),
        count(&wanted, "deb") + count(&wanted, "python"),
        verdict("versions", mismatches.is_empty(), &mut missed)
    );
    println!(
        "wall ratio {ratio:.3} (target <= 0.1): {}; peak RSS {:.1} MiB (target <= 64 MiB): {}",
        verdict("wall vs syft", ratio <= 0.1, &mut missed),
        ours.rss_mib(),
        verdict("peak RSS", ours.rss_mib() <= 64.0, &mut missed)
    );
    if !missed.is_empty() {
        eprintln!("targets missed: {}", missed.join(", "));
        std::process::exit(1);
    }
}
