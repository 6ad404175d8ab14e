//! `fleet report`: the registry's footprint from what plan recorded in Redis
//! and the shared cache alone — no layer blob is read. Totals are
//! footprint's (each distinct image once, each distinct layer once for the
//! dedup total), per repository (tags, sum, dedup, unique to it), the most
//! shared layers, the same content stored under different digests, and the
//! biggest waste and advise findings (findings.rs). Layers with no entry yet
//! (jobs pending or dead) count by their blob size alone and the report says
//! it is incomplete.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

use super::findings::{self, FindingRow, WasteRow};
use super::queue::Queue;
use super::record::{LayerRecord, Raw, TagRecord};
use super::QueueOptions;
use crate::analyze::sizes::{Percents, Sizes};
use crate::error::Error;
use crate::image::{BlobSource, Digest, Image, ImageName, LayerDesc, Transport};
use crate::layer::LayerSummary;
use crate::session::Session;

#[derive(Debug, Serialize)]
pub struct FleetReport {
    pub queue: String,
    pub fleet: String,
    pub shared_cache: String,
    /// False while some layers have no entry in the shared cache: their
    /// uncompressed and file bytes are unknown (null), and so are the totals'.
    pub complete: bool,
    /// Distinct layers without an entry (jobs pending, in flight or dead).
    pub unscanned_layers: usize,
    /// Tags the last plan could not read (not in the figures).
    pub skipped_tags: u64,
    pub registry: Totals,
    /// Every repository, the most deduplicated bytes first.
    pub repositories: Vec<Repository>,
    /// The layers the most repositories use.
    pub shared_layers: Vec<SharedLayer>,
    /// Distinct digests with one diff_id: the same tar stored more than once.
    pub same_content: Vec<SameContent>,
    /// Images with the most wasted bytes (written, then overwritten or deleted).
    pub waste: Vec<WasteRow>,
    /// The biggest advise findings across the registry.
    pub findings: Vec<FindingRow>,
    /// Rows the tables show per section (JSON has them all but findings and waste).
    #[serde(skip)]
    pub top: usize,
}

#[derive(Debug, Default, Serialize)]
pub struct Totals {
    pub repositories: usize,
    pub tags: usize,
    /// Distinct images (by manifest digest): one under several tags or
    /// repositories counts once here, and once in each repository's row.
    pub images: usize,
    pub distinct_layers: usize,
    pub sum_total: Sizes,
    pub dedup_total: Sizes,
    pub saved: Sizes,
    pub saved_percent: Percents,
}

#[derive(Debug, Serialize)]
pub struct Repository {
    pub name: String,
    pub tags: usize,
    pub images: usize,
    pub distinct_layers: usize,
    pub sum_total: Sizes,
    pub dedup_total: Sizes,
    /// Layers no other repository uses.
    pub unique: Sizes,
}

#[derive(Debug, Serialize)]
pub struct SharedLayer {
    pub digest: Digest,
    pub sizes: Sizes,
    pub repositories: usize,
    pub images: usize,
    pub created_by: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct SameContent {
    pub diff_id: Digest,
    pub copies: Vec<Copy>,
    pub uncompressed: Option<u64>,
    /// Compressed bytes of all copies but the smallest.
    pub extra_compressed: u64,
}

#[derive(Debug, Serialize)]
pub struct Copy {
    pub digest: Digest,
    pub compressed: u64,
    /// Repositories using this copy (the first few by name; `repository_count` all).
    pub repositories: Vec<String>,
    pub repository_count: usize,
}

/// Repositories named per copy of the same content.
const NAMED: usize = 5;

/// One distinct layer of the registry.
pub(super) struct Layer {
    pub digest: Digest,
    pub record: LayerRecord,
    pub summary: Option<LayerSummary>,
}

impl Layer {
    pub fn sizes(&self) -> Sizes {
        match &self.summary {
            Some(s) => Sizes::of(s),
            None => Sizes::compressed_only(self.record.size),
        }
    }

    pub fn desc(&self) -> Option<LayerDesc> {
        self.record.desc(self.digest.clone())
    }
}

/// One distinct image: where it was first found and its layers (ids).
pub(super) struct Img {
    /// The first repository naming it (by name), and its tag there.
    pub repo: usize,
    pub tag: String,
    /// Every repository naming it, the first one first.
    pub repos: Vec<usize>,
    pub layers: Vec<u32>,
}

/// What Redis holds of the registry, interned: layers by id, images by manifest.
pub(super) struct Recorded {
    pub repos: Vec<String>,
    pub tags_of: Vec<usize>,
    pub layers: Vec<Layer>,
    pub images: Vec<Img>,
    pub tags: usize,
}

pub fn report(session: &Session, queue: &QueueOptions, top: usize) -> anyhow::Result<FleetReport> {
    let store = session.store()?;
    let shared = store.shared().ok_or_else(|| Error::BadArgument {
        flag: "--shared-cache",
        reason: "strata fleet report reads the layers' entries from the shared cache (--shared-cache or STRATA_SHARED_CACHE)".into(),
    })?;
    let mut q = Queue::connect(queue)?;
    let mut rec = read(&mut q)?;
    let done = done_set(&mut q)?;
    let skipped_tags: Option<u64> = q.query(
        redis::cmd("HGET")
            .arg(q.keys().key("meta"))
            .arg("skipped_tags"),
    )?;
    // Every layer with an entry, as one image: its summaries from the local
    // cache or the shared one; a blob is never read.
    let wanted: Vec<LayerDesc> = rec
        .layers
        .iter()
        .filter(|l| done.contains(&Raw::of(&l.digest).0))
        .filter_map(Layer::desc)
        .collect();
    if !wanted.is_empty() {
        let all = Image {
            name: ImageName::new(Transport::Docker, "fleet"),
            platform: None,
            manifest_digest: None,
            config_digest: wanted[0].digest.clone(),
            layers: wanted,
            created: None,
            history: Vec::new(),
            blobs: Arc::new(NoBlobs),
        };
        let (summaries, _) = store.summaries(std::slice::from_ref(&all), session.progress())?;
        for l in &mut rec.layers {
            l.summary = summaries.get(&l.digest).cloned();
        }
    }
    let unscanned = rec.layers.iter().filter(|l| l.summary.is_none()).count();
    let (registry, repositories, users) = totals(&rec);
    let mut report = FleetReport {
        queue: q.shown().to_owned(),
        fleet: queue.name.clone(),
        shared_cache: shared.location().to_string(),
        complete: unscanned == 0,
        unscanned_layers: unscanned,
        skipped_tags: skipped_tags.unwrap_or(0),
        registry,
        repositories,
        shared_layers: shared_layers(&rec, &users, top),
        same_content: same_content(&rec, &users),
        waste: Vec::new(),
        findings: Vec::new(),
        top,
    };
    (report.waste, report.findings) = findings::across(session, &rec, top)?;
    Ok(report)
}

/// The registry's records, interned.
fn read(q: &mut Queue) -> anyhow::Result<Recorded> {
    let mut layers = Vec::new();
    let mut ids: HashMap<Vec<u8>, u32> = HashMap::new();
    let mut bad = 0usize;
    q.scan_hash("layers", |k, v| {
        match (Raw(k.clone()).digest(), LayerRecord::decode(&v)) {
            (Some(digest), Some(record)) => {
                ids.insert(k, layers.len() as u32);
                layers.push(Layer {
                    digest,
                    record,
                    summary: None,
                });
            }
            _ => bad += 1,
        }
    })?;
    let mut rec = Recorded {
        repos: Vec::new(),
        tags_of: Vec::new(),
        layers,
        images: Vec::new(),
        tags: 0,
    };
    let mut repo_ids: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_manifest: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut tags: Vec<(String, String, TagRecord)> = Vec::new();
    q.scan_hash("images", |k, v| {
        let field = String::from_utf8_lossy(&k).into_owned();
        match (field.rsplit_once(':'), TagRecord::decode(&v)) {
            (Some((repo, tag)), Some(t)) => tags.push((repo.to_owned(), tag.to_owned(), t)),
            _ => bad += 1,
        }
    })?;
    if bad > 0 {
        return Err(Error::malformed(
            format!("queue: fleet {}", q.keys().prefix()),
            format!("{bad} records strata did not write (or of another version); run `strata fleet clear` and plan again"),
        )
        .into());
    }
    // In name order, so each image is credited to the first tag naming it.
    tags.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    for (repo, tag, t) in tags {
        let next = repo_ids.len();
        let r = *repo_ids.entry(repo.clone()).or_insert(next);
        if r == rec.repos.len() {
            rec.repos.push(repo);
            rec.tags_of.push(0);
        }
        rec.tags_of[r] += 1;
        rec.tags += 1;
        for image in t.images {
            let layer_ids: Option<Vec<u32>> = image
                .layers
                .iter()
                .map(|l| ids.get(&l.0).copied())
                .collect();
            let Some(layer_ids) = layer_ids else {
                return Err(Error::malformed(
                    format!(
                        "queue: tag {}",
                        crate::error::clip(&format!("{}:{tag}", rec.repos[r]))
                    ),
                    "names a layer plan did not record; plan again",
                )
                .into());
            };
            match by_manifest.get(&image.manifest.0) {
                // Named again: by another repository, it is one of its images too.
                Some(&i) => {
                    let repos = &mut rec.images[i].repos;
                    if !repos.contains(&r) {
                        repos.push(r);
                    }
                }
                None => {
                    by_manifest.insert(image.manifest.0.clone(), rec.images.len());
                    rec.images.push(Img {
                        repo: r,
                        tag: tag.clone(),
                        repos: vec![r],
                        layers: layer_ids,
                    });
                }
            }
        }
    }
    Ok(rec)
}

fn done_set(q: &mut Queue) -> anyhow::Result<HashSet<Vec<u8>>> {
    let mut done = HashSet::new();
    q.scan_set("done", |d| {
        done.insert(d);
    })?;
    Ok(done)
}

/// Each image's distinct layers, in manifest order.
fn distinct(layers: &[u32]) -> Vec<u32> {
    let mut seen = HashSet::new();
    layers.iter().copied().filter(|l| seen.insert(*l)).collect()
}

/// Who uses each layer: repositories (ids, sorted) and images.
pub(super) struct Users {
    pub repos: Vec<Vec<usize>>,
    pub images: Vec<usize>,
}

fn totals(rec: &Recorded) -> (Totals, Vec<Repository>, Users) {
    let n = rec.layers.len();
    let mut users = Users {
        repos: vec![Vec::new(); n],
        images: vec![0; n],
    };
    let mut sum_total = Sizes::default();
    let mut per_repo: Vec<(usize, Sizes, HashSet<u32>)> =
        vec![(0, Sizes::default(), HashSet::new()); rec.repos.len()];
    let mut used = vec![false; n];
    for image in &rec.images {
        let layers = distinct(&image.layers);
        let total: Sizes = layers.iter().map(|&l| rec.layers[l as usize].sizes()).sum();
        sum_total += total;
        for &r in &image.repos {
            let repo = &mut per_repo[r];
            repo.0 += 1;
            repo.1 += total;
            repo.2.extend(layers.iter().copied());
        }
        for l in layers {
            used[l as usize] = true;
            users.images[l as usize] += 1;
        }
    }
    for (r, (_, _, layers)) in per_repo.iter().enumerate() {
        for &l in layers {
            users.repos[l as usize].push(r);
        }
    }
    let dedup_total: Sizes = (0..n)
        .filter(|&l| used[l])
        .map(|l| rec.layers[l].sizes())
        .sum();
    let saved = sum_total - dedup_total;
    let mut repositories: Vec<Repository> = per_repo
        .into_iter()
        .enumerate()
        .map(|(r, (images, sum, layers))| {
            let sizes = |only: bool| -> Sizes {
                layers
                    .iter()
                    .filter(|&&l| !only || users.repos[l as usize].len() == 1)
                    .map(|&l| rec.layers[l as usize].sizes())
                    .sum()
            };
            Repository {
                name: rec.repos[r].clone(),
                tags: rec.tags_of[r],
                images,
                distinct_layers: layers.len(),
                sum_total: sum,
                dedup_total: sizes(false),
                unique: sizes(true),
            }
        })
        .collect();
    repositories.sort_by(|a, b| {
        b.dedup_total
            .compressed
            .cmp(&a.dedup_total.compressed)
            .then_with(|| a.name.cmp(&b.name))
    });
    let totals = Totals {
        repositories: rec.repos.len(),
        tags: rec.tags,
        images: rec.images.len(),
        distinct_layers: used.iter().filter(|u| **u).count(),
        sum_total,
        dedup_total,
        saved,
        saved_percent: sum_total.percent(saved),
    };
    (totals, repositories, users)
}

fn shared_layers(rec: &Recorded, users: &Users, top: usize) -> Vec<SharedLayer> {
    let mut order: Vec<usize> = (0..rec.layers.len())
        .filter(|&l| users.repos[l].len() > 1)
        .collect();
    order.sort_by(|&a, &b| {
        users.repos[b]
            .len()
            .cmp(&users.repos[a].len())
            .then(rec.layers[b].record.size.cmp(&rec.layers[a].record.size))
            .then(rec.layers[a].digest.cmp(&rec.layers[b].digest))
    });
    order
        .into_iter()
        .take(top)
        .map(|l| SharedLayer {
            digest: rec.layers[l].digest.clone(),
            sizes: rec.layers[l].sizes(),
            repositories: users.repos[l].len(),
            images: users.images[l],
            created_by: rec.layers[l].record.created_by.clone(),
        })
        .collect()
}

fn same_content(rec: &Recorded, users: &Users) -> Vec<SameContent> {
    let mut by_diff_id: BTreeMap<&[u8], Vec<usize>> = BTreeMap::new();
    for (l, layer) in rec.layers.iter().enumerate() {
        if users.images[l] > 0 {
            by_diff_id
                .entry(&layer.record.diff_id.0)
                .or_default()
                .push(l);
        }
    }
    let mut groups: Vec<SameContent> = by_diff_id
        .into_values()
        .filter(|ls| ls.len() > 1)
        .filter_map(|ls| {
            let sizes: Vec<u64> = ls.iter().map(|&l| rec.layers[l].record.size).collect();
            let mut copies: Vec<Copy> = ls
                .iter()
                .map(|&l| Copy {
                    digest: rec.layers[l].digest.clone(),
                    compressed: rec.layers[l].record.size,
                    repositories: users.repos[l]
                        .iter()
                        .take(NAMED)
                        .map(|&r| rec.repos[r].clone())
                        .collect(),
                    repository_count: users.repos[l].len(),
                })
                .collect();
            copies.sort_by(|a, b| a.digest.cmp(&b.digest));
            Some(SameContent {
                diff_id: rec.layers[ls[0]].record.diff_id.digest()?,
                uncompressed: ls
                    .iter()
                    .find_map(|&l| rec.layers[l].summary.as_ref().map(|s| s.uncompressed)),
                extra_compressed: sizes.iter().sum::<u64>()
                    - sizes.iter().copied().min().unwrap_or(0),
                copies,
            })
        })
        .collect();
    groups.sort_by(|a, b| {
        b.extra_compressed
            .cmp(&a.extra_compressed)
            .then_with(|| a.diff_id.cmp(&b.diff_id))
    });
    groups
}

/// The images of a report: their blobs are never read.
pub(super) struct NoBlobs;

impl BlobSource for NoBlobs {
    fn open_blob(&self, layer: &LayerDesc) -> crate::error::Result<Box<dyn std::io::Read + Send>> {
        Err(Error::malformed(
            format!("layer {}", layer.digest),
            "fleet recorded it as done, but the shared cache has no entry for it (expired?); fleet report reads no layer blob: run `strata fleet clear`, then plan again (only what the shared cache lacks is queued)",
        ))
    }
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
