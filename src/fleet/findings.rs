//! The waste and advise findings of a whole registry, for `fleet report`:
//! each distinct layer stack (images with the same layers have the same
//! files) merged once from the indexes the shared cache holds — audit's
//! waste and advise's findings in one pass — keeping the top N of each.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::report::{NoBlobs, Recorded};
use crate::analyze::advise::{AdviseBuilder, Kind, Settings};
use crate::analyze::layers::ChangesBuilder;
use crate::analyze::merged::{feed, index_error};
use crate::image::{Digest, Image, ImageName, Transport};
use crate::session::Session;
use crate::store::MAX_MERGED_LAYERS;

/// Images merged per call to the store.
const CHUNK: usize = 256;
/// A single file from this size on is a finding (advise's default).
const BIG: u64 = 100_000_000;
/// Paths kept per finding.
const PATHS: usize = 3;

#[derive(Debug, Clone, Serialize)]
pub struct WasteRow {
    pub image: String,
    /// Other images with the same layers (not merged again).
    pub same_layers: usize,
    pub wasted_bytes: u64,
    pub efficiency: f64,
    /// The path wasting the most, if any.
    pub top_path: Option<String>,
}

/// One finding of one layer, however many images carry it (a leftover in
/// a base is one row, not one per image).
#[derive(Debug, Clone, Serialize)]
pub struct FindingRow {
    pub kind: Kind,
    /// What the fix saves in one image (the most over the images).
    pub bytes: u64,
    pub files: u64,
    /// The layer to blame.
    pub digest: Digest,
    pub created_by: Option<String>,
    pub fix: &'static str,
    /// Images it is found in.
    pub images: usize,
    /// The first of them, and the 1-based position of the layer in it.
    pub image: String,
    pub layer: usize,
    /// The first few paths involved.
    pub paths: Vec<String>,
}

/// The `top` images wasting the most and the `top` biggest findings, over
/// every distinct stack whose layers all have entries.
pub(super) fn across(
    session: &Session,
    rec: &Recorded,
    top: usize,
) -> anyhow::Result<(Vec<WasteRow>, Vec<FindingRow>)> {
    let mut stacks: Vec<(usize, usize)> = Vec::new();
    let mut index: HashMap<&[u32], usize> = HashMap::new();
    for (i, image) in rec.images.iter().enumerate() {
        let scanned = image
            .layers
            .iter()
            .all(|&l| rec.layers[l as usize].summary.is_some());
        if !scanned || image.layers.is_empty() || image.layers.len() > MAX_MERGED_LAYERS {
            continue;
        }
        match index.get(image.layers.as_slice()) {
            Some(&s) => stacks[s].1 += 1,
            None => {
                index.insert(&image.layers, stacks.len());
                stacks.push((i, 0));
            }
        }
    }
    let store = session.store()?;
    let mut waste: Vec<WasteRow> = Vec::new();
    let mut findings: HashMap<(Kind, u32), FindingRow> = HashMap::new();
    let settings = Settings::new(BIG, &[], PATHS, &[], &[])
        .map_err(|e| anyhow::anyhow!("advise rules: {e}"))?;
    let progress = session.progress();
    progress.counting("fleet report: merging images", Some(stacks.len() as u64));
    for chunk in stacks.chunks(CHUNK) {
        let images: Vec<Image> = chunk.iter().map(|&(i, _)| image(rec, i)).collect();
        let indexes = store.indexes(&images, &crate::store::NoProgress)?;
        for ((i, same), image) in chunk.iter().zip(&images) {
            let layers = &rec.images[*i].layers;
            let files: Vec<u64> = layers
                .iter()
                .map(|&l| {
                    rec.layers[l as usize]
                        .summary
                        .as_ref()
                        .map_or(0, |s| s.files)
                })
                .collect();
            let mut changes = ChangesBuilder::new(files, 1);
            let mut advice = AdviseBuilder::new(&settings).map_err(index_error)?;
            feed(&indexes, image, &mut [&mut changes, &mut advice])?;
            let audit = changes.finish();
            let found = advice.finish().map_err(index_error)?.findings;
            let name = image.name.to_string();
            if audit.waste.wasted_bytes > 0 {
                waste.push(WasteRow {
                    image: name.clone(),
                    same_layers: *same,
                    wasted_bytes: audit.waste.wasted_bytes,
                    efficiency: audit.waste.efficiency,
                    top_path: audit.waste.top.first().map(|w| w.path.clone()),
                });
            }
            for f in found {
                let id = layers[f.layer - 1];
                let layer = &rec.layers[id as usize];
                let row = findings.entry((f.kind, id)).or_insert_with(|| FindingRow {
                    kind: f.kind,
                    bytes: 0,
                    files: 0,
                    digest: layer.digest.clone(),
                    created_by: layer.record.created_by.clone(),
                    fix: f.kind.fix(),
                    images: 0,
                    image: name.clone(),
                    layer: f.layer,
                    paths: Vec::new(),
                });
                row.images += 1 + same;
                if f.bytes > row.bytes {
                    (row.bytes, row.files, row.paths) = (
                        f.bytes,
                        f.files,
                        f.paths.into_iter().map(|p| p.path).collect(),
                    );
                }
            }
            progress.advance(1);
        }
        waste.sort_by_key(|w| std::cmp::Reverse(w.wasted_bytes));
        waste.truncate(top);
    }
    progress.finish();
    // Findings are few per layer (a kind each): kept whole until here.
    let mut findings: Vec<FindingRow> = findings.into_values().collect();
    findings.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(b.images.cmp(&a.images))
            .then(a.kind.cmp(&b.kind))
            .then(a.digest.cmp(&b.digest))
    });
    findings.truncate(top);
    Ok((waste, findings))
}

/// Image `i` of the records, as views name it; its blobs are never read.
fn image(rec: &Recorded, i: usize) -> Image {
    let img = &rec.images[i];
    let repo = &rec.repos[img.repo];
    let (host, path) = repo.split_once('/').unwrap_or((repo.as_str(), ""));
    let layers = img
        .layers
        .iter()
        .filter_map(|&l| rec.layers[l as usize].desc())
        .collect();
    Image {
        name: ImageName::new(Transport::Docker, host)
            .with_repository(path)
            .with_tag(img.tag.clone()),
        platform: None,
        manifest_digest: None,
        config_digest: rec.layers[img.layers[0] as usize].digest.clone(),
        layers,
        created: None,
        history: Vec::new(),
        blobs: Arc::new(NoBlobs),
    }
}
