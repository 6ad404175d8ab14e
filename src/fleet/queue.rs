//! The Redis side of a fleet: one connection with deadlines on every wait,
//! the keys under `strata:fleet:<NAME>:`, the job stream read through a
//! consumer group (XREADGROUP), idle jobs claimed back (XAUTOCLAIM) with
//! their delivery count (XPENDING), jobs acknowledged only once their
//! result is in the shared cache, and the dead-letter stream.
//!
//! Keys (P = `strata:fleet:<NAME>:`):
//! - `P jobs`    stream: one entry per layer to scan (digest, size,
//!   compression, diff_id, repository)
//! - `P dead`    stream: jobs that failed `--attempts` times, with the error
//! - `P errors`  hash: job id -> the last error of a job being retried
//! - `P planned` set: raw digests plan has seen (queued or found shared)
//! - `P done`    set: raw digests whose entry is in the shared cache
//! - `P acked`   hash: consumer group -> jobs it finished
//! - `P images`  hash: `HOST/REPO:TAG` -> the tag's images (record.rs)
//! - `P layers`  hash: raw digest -> the layer's descriptor (record.rs)
//! - `P meta`    hash: what the last plan walked

use std::collections::HashMap;
use std::time::Duration;

use redis::streams::{StreamAutoClaimOptions, StreamId, StreamReadOptions, StreamReadReply};
use redis::{Commands, Connection, Value};

use super::QueueOptions;
use crate::error::{Error, Result};
use crate::image::{Compression, Digest};

/// Entries asked of Redis per call when reading a hash or set whole.
pub const BATCH: usize = 1000;

/// A page of HSCAN: the next cursor and field-value pairs.
type HashPage = (u64, Vec<(Vec<u8>, Vec<u8>)>);

/// The keys of one fleet.
#[derive(Debug, Clone)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(name: &str) -> Keys {
        Keys {
            prefix: format!("strata:fleet:{name}:"),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn key(&self, what: &str) -> String {
        format!("{}{what}", self.prefix)
    }
}

/// One layer to scan, and a repository that holds its blob (`HOST/REPO`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub digest: Digest,
    pub size: u64,
    pub compression: Compression,
    pub diff_id: Digest,
    pub repository: String,
}

impl Job {
    fn fields(&self) -> [(&'static str, String); 5] {
        [
            ("digest", self.digest.to_string()),
            ("size", self.size.to_string()),
            ("compression", compression_name(self.compression).to_owned()),
            ("diff_id", self.diff_id.to_string()),
            ("repository", self.repository.clone()),
        ]
    }

    fn parse(map: &HashMap<String, Value>) -> Option<Job> {
        let text = |k: &str| match map.get(k) {
            Some(Value::BulkString(b)) if b.len() <= 512 => std::str::from_utf8(b).ok(),
            _ => None,
        };
        let compression = match text("compression")? {
            "gzip" => Compression::Gzip,
            "zstd" => Compression::Zstd,
            "tar" => Compression::None,
            _ => return None,
        };
        Some(Job {
            digest: Digest::parse(text("digest")?, "job").ok()?,
            size: text("size")?.parse().ok()?,
            compression,
            diff_id: Digest::parse(text("diff_id")?, "job").ok()?,
            repository: text("repository")?.to_owned(),
        })
    }
}

fn compression_name(c: Compression) -> &'static str {
    match c {
        Compression::Gzip => "gzip",
        Compression::Zstd => "zstd",
        Compression::None => "tar",
    }
}

/// A job handed to this consumer.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: String,
    /// None: an entry strata did not write (buried at once).
    pub job: Option<Job>,
    /// Times delivered, this one included.
    pub attempts: u64,
    /// The digest as the entry names it, for the dead-letter stream.
    pub digest_text: String,
}

pub struct Queue {
    con: Connection,
    keys: Keys,
    /// The queue as shown in messages (no password).
    shown: String,
}

impl Queue {
    /// Connects within `--timeout`; every answer is then awaited at most
    /// that long (plus the time a blocking read asks for).
    pub fn connect(opts: &QueueOptions) -> Result<Queue> {
        let shown = opts.shown();
        let fail = |e: redis::RedisError| unreachable_queue(&shown, &e);
        let client = redis::Client::open(opts.url.as_str()).map_err(fail)?;
        let con = client
            .get_connection_with_timeout(opts.timeout)
            .map_err(fail)?;
        con.set_read_timeout(Some(opts.timeout + BLOCK))
            .map_err(fail)?;
        con.set_write_timeout(Some(opts.timeout)).map_err(fail)?;
        let mut q = Queue {
            con,
            keys: Keys::new(&opts.name),
            shown: shown.clone(),
        };
        let _: String = redis::cmd("PING").query(&mut q.con).map_err(fail)?;
        Ok(q)
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub fn shown(&self) -> &str {
        &self.shown
    }

    fn k(&self, what: &str) -> String {
        self.keys.key(what)
    }

    /// The error a failed command becomes.
    fn err(&self, e: redis::RedisError) -> Error {
        unreachable_queue(&self.shown, &e)
    }

    /// Runs `cmd`, mapping a failure to one line naming the queue.
    pub fn query<T: redis::FromRedisValue>(&mut self, cmd: &redis::Cmd) -> Result<T> {
        cmd.query(&mut self.con).map_err(|e| self.err(e))
    }

    /// Runs a pipeline atomically (MULTI/EXEC).
    pub fn exec(&mut self, pipe: &redis::Pipeline) -> Result<()> {
        pipe.query::<()>(&mut self.con).map_err(|e| self.err(e))
    }

    pub fn pipe(&self) -> redis::Pipeline {
        let mut p = redis::pipe();
        p.atomic();
        p
    }

    // ---- plan ----

    /// For each raw digest: has plan seen it before?
    pub fn planned(&mut self, digests: &[Vec<u8>]) -> Result<Vec<bool>> {
        let mut seen = Vec::with_capacity(digests.len());
        for chunk in digests.chunks(BATCH) {
            let key = self.k("planned");
            let answers: Vec<bool> = self.query(redis::cmd("SMISMEMBER").arg(key).arg(chunk))?;
            seen.extend(answers);
        }
        Ok(seen)
    }

    /// Adds `jobs` to the stream and their digests to the planned set, in one transaction.
    pub fn add_jobs(&mut self, jobs: &[Job]) -> Result<()> {
        for chunk in jobs.chunks(BATCH) {
            let mut p = self.pipe();
            for job in chunk {
                p.xadd(self.k("jobs"), "*", &job.fields()).ignore();
                p.sadd(self.k("planned"), super::record::Raw::of(&job.digest).0)
                    .ignore();
            }
            self.exec(&p)?;
        }
        Ok(())
    }

    /// Digests plan found in the shared cache already: planned, and done.
    pub fn present(&mut self, digests: &[Vec<u8>]) -> Result<()> {
        for chunk in digests.chunks(BATCH) {
            let mut p = self.pipe();
            p.sadd(self.k("planned"), chunk).ignore();
            p.sadd(self.k("done"), chunk).ignore();
            self.exec(&p)?;
        }
        Ok(())
    }

    /// Records fields of a hash (`images`, `layers`, `meta`).
    pub fn record(&mut self, hash: &str, fields: &[(Vec<u8>, Vec<u8>)]) -> Result<()> {
        for chunk in fields.chunks(BATCH) {
            let key = self.k(hash);
            self.query::<()>(redis::cmd("HSET").arg(key).arg(chunk))?;
        }
        Ok(())
    }

    // ---- work ----

    /// Creates the consumer group (reading the stream from its start) unless it exists.
    pub fn join(&mut self, group: &str) -> Result<()> {
        let key = self.k("jobs");
        let made: redis::RedisResult<()> = self.con.xgroup_create_mkstream(key, group, "0");
        match made {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            other => other.map_err(|e| self.err(e)),
        }
    }

    /// A job another consumer has held for `idle` or longer, now this one's.
    pub fn claim(
        &mut self,
        group: &str,
        consumer: &str,
        idle: Duration,
    ) -> Result<Option<Delivery>> {
        let key = self.k("jobs");
        let reply: redis::streams::StreamAutoClaimReply = self
            .con
            .xautoclaim_options(
                &key,
                group,
                consumer,
                idle.as_millis() as u64,
                "0-0",
                StreamAutoClaimOptions::default().count(1),
            )
            .map_err(|e| self.err(e))?;
        let Some(entry) = reply.claimed.into_iter().next() else {
            return Ok(None);
        };
        let pending: redis::streams::StreamPendingCountReply = self
            .con
            .xpending_count(&key, group, &entry.id, &entry.id, 1)
            .map_err(|e| self.err(e))?;
        let attempts = pending.ids.first().map_or(1, |p| p.times_delivered as u64);
        Ok(Some(delivery(entry, attempts)))
    }

    /// The next job no consumer of `group` has seen, waiting at most BLOCK.
    pub fn next(&mut self, group: &str, consumer: &str) -> Result<Option<Delivery>> {
        let key = self.k("jobs");
        let opts = StreamReadOptions::default()
            .group(group, consumer)
            .count(1)
            .block(BLOCK.as_millis() as usize);
        let reply: Option<StreamReadReply> = self
            .con
            .xread_options(&[&key], &[">"], &opts)
            .map_err(|e| self.err(e))?;
        let entry = reply.and_then(|r| r.keys.into_iter().next()?.ids.into_iter().next());
        Ok(entry.map(|e| delivery(e, 1)))
    }

    /// Jobs of `group` delivered and not yet acknowledged, and jobs not yet delivered.
    pub fn outstanding(&mut self, group: &str) -> Result<(u64, u64)> {
        let groups: redis::streams::StreamInfoGroupsReply = self
            .con
            .xinfo_groups(self.k("jobs"))
            .map_err(|e| self.err(e))?;
        let Some(g) = groups.groups.into_iter().find(|g| g.name == group) else {
            return Ok((0, 0));
        };
        let lag = match g.lag {
            Some(lag) => lag as u64,
            // Unknown (entries deleted): anything after the last delivered id.
            None => self.after(&g.last_delivered_id)?,
        };
        Ok((g.pending as u64, lag))
    }

    /// Entries of the job stream after `id` (at most one counted).
    fn after(&mut self, id: &str) -> Result<u64> {
        let key = self.k("jobs");
        let ids: redis::streams::StreamRangeReply = self
            .con
            .xrange_count(key, format!("({id}"), "+", 1)
            .map_err(|e| self.err(e))?;
        Ok(ids.ids.len() as u64)
    }

    /// The job's result is in the shared cache: marked done, acknowledged.
    pub fn done(&mut self, group: &str, d: &Delivery, digest: &Digest) -> Result<()> {
        let mut p = self.pipe();
        p.sadd(self.k("done"), super::record::Raw::of(digest).0)
            .ignore();
        p.hincr(self.k("acked"), group, 1).ignore();
        p.xack(self.k("jobs"), group, &[&d.id]).ignore();
        p.hdel(self.k("errors"), &d.id).ignore();
        self.exec(&p)
    }

    /// The job failed this time: its error is kept for the dead-letter
    /// stream, and it stays pending (claimed back after `--claim-after`).
    pub fn failed(&mut self, d: &Delivery, error: &str) -> Result<()> {
        let key = self.k("errors");
        self.query(redis::cmd("HSET").arg(key).arg(&d.id).arg(error))
    }

    /// The job has failed `attempts` times: moved to the dead-letter stream
    /// with its last error, and acknowledged.
    pub fn bury(&mut self, group: &str, consumer: &str, d: &Delivery, why: &str) -> Result<()> {
        let key = self.k("errors");
        let last: Option<String> = self.query(redis::cmd("HGET").arg(key).arg(&d.id))?;
        let error = last.unwrap_or_else(|| why.to_owned());
        let repository = d.job.as_ref().map_or("", |j| j.repository.as_str());
        let mut p = self.pipe();
        p.xadd(
            self.k("dead"),
            "*",
            &[
                ("job", d.id.as_str()),
                ("digest", d.digest_text.as_str()),
                ("repository", repository),
                ("attempts", &(d.attempts.saturating_sub(1)).to_string()),
                ("group", group),
                ("consumer", consumer),
                ("error", &error),
            ],
        )
        .ignore();
        p.xack(self.k("jobs"), group, &[&d.id]).ignore();
        p.hdel(self.k("errors"), &d.id).ignore();
        self.exec(&p)
    }

    /// The consumer leaves its group, when it holds no job.
    pub fn leave(&mut self, group: &str, consumer: &str) -> Result<()> {
        let key = self.k("jobs");
        let mine: redis::streams::StreamPendingCountReply = self
            .con
            .xpending_consumer_count(&key, group, "-", "+", 1, consumer)
            .map_err(|e| self.err(e))?;
        if mine.ids.is_empty() {
            let _: i64 = self
                .con
                .xgroup_delconsumer(&key, group, consumer)
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    // ---- report, status, clear ----

    /// Every field of a hash, a batch at a time (HSCAN: the set may change meanwhile).
    pub fn scan_hash(&mut self, hash: &str, mut each: impl FnMut(Vec<u8>, Vec<u8>)) -> Result<()> {
        let key = self.k(hash);
        let mut cursor = 0u64;
        loop {
            let (next, items): HashPage = self.query(
                redis::cmd("HSCAN")
                    .arg(&key)
                    .arg(cursor)
                    .arg("COUNT")
                    .arg(BATCH),
            )?;
            for (k, v) in items {
                each(k, v);
            }
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// Every member of a set, a batch at a time.
    pub fn scan_set(&mut self, set: &str, mut each: impl FnMut(Vec<u8>)) -> Result<()> {
        let key = self.k(set);
        let mut cursor = 0u64;
        loop {
            let (next, items): (u64, Vec<Vec<u8>>) = self.query(
                redis::cmd("SSCAN")
                    .arg(&key)
                    .arg(cursor)
                    .arg("COUNT")
                    .arg(BATCH),
            )?;
            items.into_iter().for_each(&mut each);
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }

    /// Removes every key of the fleet; returns how many there were.
    pub fn clear(&mut self) -> Result<u64> {
        let pattern = format!("{}*", self.keys.prefix());
        let mut cursor = 0u64;
        let mut removed = 0u64;
        loop {
            let (next, keys): (u64, Vec<String>) = self.query(
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(BATCH),
            )?;
            if !keys.is_empty() {
                removed += self.query::<u64>(redis::cmd("UNLINK").arg(&keys))?;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }
}

/// The longest a read of the job stream blocks (between looks at a stop signal).
pub const BLOCK: Duration = Duration::from_secs(1);

fn delivery(entry: StreamId, attempts: u64) -> Delivery {
    let digest_text = match entry.map.get("digest") {
        Some(Value::BulkString(b)) => {
            let text = String::from_utf8_lossy(b);
            Digest::parse(&text, "job")
                .map_or_else(|_| "(not a digest)".to_owned(), |d| d.to_string())
        }
        _ => "(none)".to_owned(),
    };
    Delivery {
        job: Job::parse(&entry.map),
        id: entry.id,
        attempts,
        digest_text,
    }
}

fn unreachable_queue(shown: &str, e: &redis::RedisError) -> Error {
    let reason = if e.is_timeout() {
        "no answer within --timeout".to_owned()
    } else if e.is_connection_refusal() {
        "cannot connect (Redis down or unreachable)".to_owned()
    } else {
        crate::error::clip(&e.to_string())
    };
    Error::Queue {
        queue: shown.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_reads_back_from_its_fields_and_junk_is_no_job() {
        let d = |c: &str| Digest::parse(&format!("sha256:{}", c.repeat(64)), "t").unwrap();
        let job = Job {
            digest: d("a"),
            size: 42,
            compression: Compression::Zstd,
            diff_id: d("b"),
            repository: "127.0.0.1:5000/team/api".into(),
        };
        let map: HashMap<String, Value> = job
            .fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::BulkString(v.into_bytes())))
            .collect();
        assert_eq!(Job::parse(&map), Some(job));
        let mut bad = map.clone();
        bad.insert("size".into(), Value::BulkString(b"-1".to_vec()));
        assert_eq!(Job::parse(&bad), None);
        let mut bad = map;
        bad.insert("compression".into(), Value::BulkString(b"lz4".to_vec()));
        assert_eq!(Job::parse(&bad), None);
        assert_eq!(Keys::new("ci").key("jobs"), "strata:fleet:ci:jobs");
    }
}
