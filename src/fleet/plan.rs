//! `fleet plan`: walk the registry (catalog and tag lists, paginated),
//! resolve every tag a bounded number at once, record each tag's images and
//! each distinct layer's descriptor in Redis, and queue one job per layer
//! that no plan has seen and the shared cache lacks. Running it again adds
//! only layers it has not seen.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::queue::{Job, Queue};
use super::record::{LayerRecord, Raw, TagRecord};
use super::{Glob, QueueOptions};
use crate::error::Error;
use crate::image::{Declared, Digest, Image};
use crate::session::Session;
use crate::source::registry::walk::{repo_matches, tag_matches, Walker};
use crate::store::shared::SharedCache;

/// Tag listings at once.
const LISTINGS_AT_ONCE: usize = 8;
/// Tags resolved at once (a manifest, and a config unless cached).
const RESOLVES_AT_ONCE: usize = 32;
/// Tags resolved between two writes to Redis.
const CHUNK: usize = 512;
/// New layers asked of the shared cache at once (a registry cache then
/// answers with one listing of its tags rather than a HEAD each); their jobs
/// are queued after the answer.
const LACKS_BATCH: usize = 4096;
/// Problems shown by name in the warning about skipped tags.
const SHOWN: usize = 3;

/// What a plan did.
#[derive(Debug, Default, Serialize)]
pub struct Planned {
    pub queue: String,
    pub fleet: String,
    pub shared_cache: String,
    pub repositories: usize,
    pub tags: usize,
    /// Images recorded (one per platform of an index).
    pub images: usize,
    /// Tags that could not be read (see the warning); not recorded.
    pub skipped_tags: usize,
    /// Distinct layers of the images walked.
    pub layers: usize,
    /// Of those, layers no plan had seen.
    pub new_layers: usize,
    /// Of the new layers, those the shared cache already had.
    pub present: usize,
    pub jobs_added: usize,
    pub record_bytes: RecordBytes,
}

/// Bytes of what this plan recorded (values as stored, before Redis' own overhead).
#[derive(Debug, Default, Serialize)]
pub struct RecordBytes {
    pub images: u64,
    pub per_image: u64,
    pub layers: u64,
    pub per_layer: u64,
}

/// The layers of the current chunk not yet handled this run.
#[derive(Default)]
struct Pending {
    tags: Vec<(Vec<u8>, Vec<u8>)>,
    layers: Vec<(Vec<u8>, Vec<u8>)>,
    /// New this run: digest, record, repository holding it.
    fresh: Vec<(Digest, LayerRecord, String)>,
}

pub fn plan(session: &Session, queue: &QueueOptions, globs: &[Glob]) -> anyhow::Result<Planned> {
    let store = session.store()?;
    let shared = store.shared().ok_or_else(|| Error::BadArgument {
        flag: "--shared-cache",
        reason: "strata fleet plan needs the shared cache the workers fill (--shared-cache or STRATA_SHARED_CACHE)".into(),
    })?;
    let mut q = Queue::connect(queue)?;
    let mut opts = session.source_options().clone();
    opts.configs = store.configs();
    let mut planned = Planned {
        queue: q.shown().to_owned(),
        fleet: queue.name.clone(),
        shared_cache: shared.location().to_string(),
        ..Planned::default()
    };
    let mut hosts: BTreeMap<&str, Vec<&Glob>> = BTreeMap::new();
    for g in globs {
        hosts.entry(g.host.as_str()).or_default().push(g);
    }
    let mut seen: HashSet<Digest> = HashSet::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut waiting: Vec<(Digest, LayerRecord, String)> = Vec::new();
    for (host, globs) in hosts {
        let walker = Walker::connect(host, &opts, session.warnings())?;
        let refs = listed(&walker, &globs, &mut planned, &mut skipped, session)?;
        planned.tags += refs.len();
        let progress = session.progress();
        progress.counting(&format!("fleet plan: {host}"), Some(refs.len() as u64));
        for chunk in refs.chunks(CHUNK) {
            let mut pending = Pending::default();
            walker.resolve(chunk, RESOLVES_AT_ONCE, |i, images| {
                progress.advance(1);
                let (repo, tag) = &chunk[i];
                match images.and_then(|images| usable(&images, repo, tag).map(|()| images)) {
                    Ok(images) => record(
                        &images,
                        host,
                        repo,
                        tag,
                        &mut seen,
                        &mut pending,
                        &mut planned,
                    ),
                    Err(e) => skipped.push(format!("{repo}:{tag} ({e})")),
                }
            });
            waiting.extend(flush(&mut q, pending, &mut planned)?);
            if waiting.len() >= LACKS_BATCH {
                queue_lacking(&mut q, shared, &mut waiting, &mut planned)?;
            }
        }
        progress.finish();
    }
    queue_lacking(&mut q, shared, &mut waiting, &mut planned)?;
    planned.skipped_tags += skipped.len();
    if !skipped.is_empty() {
        let more = match skipped.len() {
            n if n > SHOWN => format!(" and {} more", n - SHOWN),
            _ => String::new(),
        };
        let shown: Vec<&str> = skipped.iter().take(SHOWN).map(String::as_str).collect();
        session.warn(format!(
            "fleet plan: {} not recorded: {}{more}",
            crate::units::count(skipped.len() as u64, "tag", "tags"),
            shown.join("; ")
        ));
    }
    planned.layers = seen.len();
    let per = |total: u64, n: usize| total.checked_div(n as u64).unwrap_or(0);
    planned.record_bytes.per_image = per(planned.record_bytes.images, planned.images);
    planned.record_bytes.per_layer = per(planned.record_bytes.layers, planned.new_layers);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let meta: Vec<(Vec<u8>, Vec<u8>)> = [
        ("shared_cache", planned.shared_cache.clone()),
        ("planned_at", now.to_string()),
        ("tags", planned.tags.to_string()),
        ("skipped_tags", planned.skipped_tags.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.as_bytes().to_vec(), v.into_bytes()))
    .collect();
    q.record("meta", &meta)?;
    Ok(planned)
}

/// The `(repository, tag)` pairs the globs of one host name, sorted.
fn listed(
    walker: &Walker,
    globs: &[&Glob],
    planned: &mut Planned,
    skipped: &mut Vec<String>,
    session: &Session,
) -> anyhow::Result<Vec<(String, String)>> {
    let repos: Vec<String> = walker
        .catalog()?
        .into_iter()
        .filter(|r| globs.iter().any(|g| repo_matches(&g.repositories, r)))
        .collect();
    planned.repositories += repos.len();
    session.progress().counting(
        &format!("fleet plan: listing tags of {}", walker.host()),
        Some(repos.len() as u64),
    );
    let mut refs = Vec::new();
    walker.tags(&repos, LISTINGS_AT_ONCE, |repo, tags| {
        session.progress().advance(1);
        match tags {
            Ok(tags) => {
                for t in tags {
                    let wanted = globs
                        .iter()
                        .any(|g| repo_matches(&g.repositories, repo) && tag_matches(&g.tags, &t));
                    if wanted {
                        refs.push((repo.to_owned(), t));
                    }
                }
            }
            Err(e) => skipped.push(format!("{repo}: every tag ({e})")),
        }
    });
    session.progress().finish();
    refs.sort();
    refs.dedup();
    Ok(refs)
}

/// Every layer of a tag's images can be planned: a media type strata reads,
/// a diff_id to check the scan by, and a blob the registry serves (not a
/// foreign, non-distributable one).
fn usable(images: &[Image], repo: &str, tag: &str) -> crate::error::Result<()> {
    for image in images {
        for l in &image.layers {
            if l.foreign.is_some() {
                return Err(Error::malformed(
                    format!("{repo}:{tag}"),
                    format!(
                        "layer {} is foreign (non-distributable): not planned",
                        l.digest.short()
                    ),
                ));
            }
            if !matches!(l.declared, Declared::MediaType(_)) || l.diff_id.is_none() {
                return Err(Error::malformed(
                    format!("{repo}:{tag}"),
                    format!("layer {} has no media type or diff_id", l.digest.short()),
                ));
            }
        }
    }
    Ok(())
}

/// Adds a tag's images (and their layers new to this run) to the chunk's writes.
fn record(
    images: &[Image],
    host: &str,
    repo: &str,
    tag: &str,
    seen: &mut HashSet<Digest>,
    pending: &mut Pending,
    planned: &mut Planned,
) {
    let value = TagRecord::of(images).encode();
    planned.record_bytes.images += value.len() as u64;
    planned.images += images.len();
    pending
        .tags
        .push((format!("{host}/{repo}:{tag}").into_bytes(), value));
    for layer in images.iter().flat_map(|i| &i.layers) {
        if !seen.insert(layer.digest.clone()) {
            continue;
        }
        if let Some(rec) = LayerRecord::of(layer) {
            pending
                .fresh
                .push((layer.digest.clone(), rec, format!("{host}/{repo}")));
        }
    }
}

/// Writes a chunk: its tags, and the records of its layers no plan has
/// seen, which it returns.
fn flush(
    q: &mut Queue,
    mut pending: Pending,
    planned: &mut Planned,
) -> anyhow::Result<Vec<(Digest, LayerRecord, String)>> {
    q.record("images", &pending.tags)?;
    let raws: Vec<Vec<u8>> = pending.fresh.iter().map(|(d, _, _)| Raw::of(d).0).collect();
    let before = q.planned(&raws)?;
    let mut new = Vec::new();
    for ((digest, rec, repo), was) in pending.fresh.drain(..).zip(before) {
        if !was {
            let value = rec.encode();
            planned.record_bytes.layers += value.len() as u64;
            pending.layers.push((Raw::of(&digest).0, value));
            new.push((digest, rec, repo));
        }
    }
    // Descriptors first: a job's layer always has its record.
    q.record("layers", &pending.layers)?;
    planned.new_layers += new.len();
    Ok(new)
}

/// Asks the shared cache which of the `waiting` layers it lacks: a job for
/// each of those, the others marked done.
fn queue_lacking(
    q: &mut Queue,
    shared: &SharedCache,
    waiting: &mut Vec<(Digest, LayerRecord, String)>,
    planned: &mut Planned,
) -> anyhow::Result<()> {
    if waiting.is_empty() {
        return Ok(());
    }
    let digests: Vec<Digest> = waiting.iter().map(|(d, _, _)| d.clone()).collect();
    let lacking = shared.lacking(&digests)?;
    let mut jobs = Vec::new();
    let mut present = Vec::new();
    for (digest, rec, repository) in waiting.drain(..) {
        if lacking.contains(&digest) {
            let Some(diff_id) = rec.diff_id.digest() else {
                continue;
            };
            jobs.push(Job {
                digest,
                size: rec.size,
                compression: rec.compression,
                diff_id,
                repository,
            });
        } else {
            present.push(Raw::of(&digest).0);
        }
    }
    q.present(&present)?;
    q.add_jobs(&jobs)?;
    planned.present += present.len();
    planned.jobs_added += jobs.len();
    Ok(())
}
