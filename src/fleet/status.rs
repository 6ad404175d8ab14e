//! `fleet status`: the jobs of a fleet — planned, pending (not yet handed
//! out), in flight (per worker), done and dead, per consumer group — the
//! last dead jobs with their errors, and what the fleet holds in Redis
//! (MEMORY USAGE of its keys, per image and per layer).

use serde::Serialize;

use super::queue::Queue;
use super::QueueOptions;
use crate::error::Result;

/// Dead jobs listed with their error.
const DEAD_SHOWN: usize = 10;

#[derive(Debug, Default, Serialize)]
pub struct Status {
    pub queue: String,
    pub fleet: String,
    /// Jobs ever queued (the job stream's length).
    pub jobs: u64,
    pub groups: Vec<Group>,
    /// Jobs in the dead-letter stream.
    pub dead: u64,
    /// The most recent dead jobs, newest first.
    pub last_dead: Vec<Dead>,
    /// Tags and distinct layers recorded by plan.
    pub tags: u64,
    pub layers: u64,
    /// Layers whose entry is in the shared cache.
    pub layers_done: u64,
    pub memory: Memory,
}

#[derive(Debug, Default, Serialize)]
pub struct Group {
    pub name: String,
    /// Not yet handed to any worker.
    pub pending: u64,
    /// Handed out and not yet acknowledged.
    pub in_flight: u64,
    /// Acknowledged: the layer's entry is in the shared cache.
    pub done: u64,
    /// Workers holding jobs, and every worker that read in the last minute.
    pub consumers: Vec<Consumer>,
    /// Workers known to the group that neither hold a job nor read lately.
    pub idle_consumers: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct Consumer {
    pub name: String,
    pub in_flight: u64,
    pub idle_ms: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct Dead {
    pub digest: String,
    pub repository: String,
    pub attempts: String,
    pub error: String,
}

/// Bytes Redis uses for the fleet's keys (MEMORY USAGE), and per record.
#[derive(Debug, Default, Serialize)]
pub struct Memory {
    pub images: u64,
    pub layers: u64,
    pub jobs: u64,
    pub sets: u64,
    pub total: u64,
    /// `images` over the images recorded.
    pub per_image: u64,
    /// Layers, jobs and the digest sets over the distinct layers recorded.
    pub per_layer: u64,
}

pub fn status(queue: &QueueOptions) -> Result<Status> {
    let mut q = Queue::connect(queue)?;
    let mut s = Status {
        queue: q.shown().to_owned(),
        fleet: queue.name.clone(),
        ..Status::default()
    };
    let jobs = q.keys().key("jobs");
    let dead = q.keys().key("dead");
    s.jobs = q.query(redis::cmd("XLEN").arg(&jobs))?;
    s.dead = q.query(redis::cmd("XLEN").arg(&dead))?;
    s.tags = q.query(redis::cmd("HLEN").arg(q.keys().key("images")))?;
    s.layers = q.query(redis::cmd("HLEN").arg(q.keys().key("layers")))?;
    s.layers_done = q.query(redis::cmd("SCARD").arg(q.keys().key("done")))?;
    if s.jobs > 0 {
        s.groups = groups(&mut q, &jobs)?;
    }
    let entries: Vec<redis::Value> = q.query(
        redis::cmd("XREVRANGE")
            .arg(&dead)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(DEAD_SHOWN),
    )?;
    s.last_dead = entries.into_iter().filter_map(dead_entry).collect();
    let mut usage = |what: &str| -> Result<u64> {
        let key = q.keys().key(what);
        let bytes: Option<u64> = q.query(
            redis::cmd("MEMORY")
                .arg("USAGE")
                .arg(key)
                .arg("SAMPLES")
                .arg(0),
        )?;
        Ok(bytes.unwrap_or(0))
    };
    let m = &mut s.memory;
    m.images = usage("images")?;
    m.layers = usage("layers")?;
    m.jobs = usage("jobs")?;
    m.sets = usage("planned")? + usage("done")?;
    m.total = m.images
        + m.layers
        + m.jobs
        + m.sets
        + usage("dead")?
        + usage("errors")?
        + usage("acked")?
        + usage("meta")?;
    let images = images_recorded(&mut q)?;
    m.per_image = m.images.checked_div(images).unwrap_or(0);
    m.per_layer = (m.layers + m.jobs + m.sets)
        .checked_div(s.layers)
        .unwrap_or(0);
    Ok(s)
}

/// Images recorded (tags of an index count once per platform).
fn images_recorded(q: &mut Queue) -> Result<u64> {
    let mut n = 0u64;
    q.scan_hash("images", |_, v| {
        n += super::record::TagRecord::decode(&v).map_or(0, |t| t.images.len() as u64);
    })?;
    Ok(n)
}

fn groups(q: &mut Queue, jobs: &str) -> Result<Vec<Group>> {
    let info: redis::streams::StreamInfoGroupsReply =
        q.query(redis::cmd("XINFO").arg("GROUPS").arg(jobs))?;
    let acked: std::collections::HashMap<String, u64> =
        q.query(redis::cmd("HGETALL").arg(q.keys().key("acked")))?;
    let mut groups = Vec::new();
    for g in info.groups {
        let (in_flight, pending) = q.outstanding(&g.name)?;
        let consumers: redis::streams::StreamInfoConsumersReply =
            q.query(redis::cmd("XINFO").arg("CONSUMERS").arg(jobs).arg(&g.name))?;
        let mut group = Group {
            done: acked.get(&g.name).copied().unwrap_or(0),
            name: g.name,
            pending,
            in_flight,
            ..Group::default()
        };
        for c in consumers.consumers {
            if c.pending > 0 || c.idle < 60_000 {
                group.consumers.push(Consumer {
                    name: c.name,
                    in_flight: c.pending as u64,
                    idle_ms: c.idle as u64,
                });
            } else {
                group.idle_consumers += 1;
            }
        }
        group
            .consumers
            .sort_by(|a, b| b.in_flight.cmp(&a.in_flight).then(a.name.cmp(&b.name)));
        groups.push(group);
    }
    Ok(groups)
}

/// A dead-letter entry's fields (shown escaped by the renderers).
fn dead_entry(v: redis::Value) -> Option<Dead> {
    let redis::Value::Array(parts) = v else {
        return None;
    };
    let redis::Value::Array(fields) = parts.get(1)? else {
        return None;
    };
    let mut d = Dead::default();
    for pair in fields.chunks(2) {
        let text = |v: &redis::Value| match v {
            redis::Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
            _ => String::new(),
        };
        let (k, v) = (text(&pair[0]), pair.get(1).map(text).unwrap_or_default());
        match k.as_str() {
            "digest" => d.digest = v,
            "repository" => d.repository = v,
            "attempts" => d.attempts = v,
            "error" => d.error = v,
            _ => {}
        }
    }
    Some(d)
}
