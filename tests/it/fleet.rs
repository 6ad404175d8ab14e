//! `strata fleet` against a real Redis (redis-server) and a real registry
//! holding many repositories x 5 tags on shared bases: plan, three workers
//! (processes of the binary, one killed with SIGKILL mid-layer), the report
//! equal figure for figure to `strata footprint` of every image, a second
//! plan that adds nothing, a poisoned blob dead-lettered while the rest
//! completes, SIGTERM finishing the current layer.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redis::Commands;
use serde_json::Value;

use super::fault_proxy::{Fault, FaultProxy};
use super::fleet_registry::{fleet, poison, repo_name, TAGS};
use super::redis_server::RedisServer;
use super::registry_server::Registry;
use super::*;

/// `HOST/PATH` without its host (the report names repositories as planned,
/// through the proxy).
fn path_of(repo: &str) -> String {
    repo.split_once('/').unwrap().1.to_owned()
}

/// strata with a private local cache and the fleet's shared cache.
pub(super) fn strata(r: &Run, cache: &str, shared: &str) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("strata"));
    c.env("STRATA_CACHE_DIR", r.path(cache))
        .env("STRATA_SHARED_CACHE", shared)
        .env("NO_COLOR", "1")
        .env("HOME", r.path("home"))
        .env_remove("STRATA_SHARED_CACHE_KEY")
        .env_remove("STRATA_CREDS")
        .env_remove("DOCKER_CONFIG")
        .env_remove("REGISTRY_AUTH_FILE");
    c
}

pub(super) fn json_of(mut c: Command, args: &[&str]) -> Value {
    let out = c.args(args).arg("--format=json").output().unwrap();
    assert!(
        out.status.success(),
        "strata {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A worker process; `extra`: more flags (`--claim-after 2s` unless given).
pub(super) fn worker(r: &Run, shared: &str, queue: &str, name: &str, extra: &[&str]) -> Child {
    let claim: &[&str] = if extra.contains(&"--claim-after") {
        &[]
    } else {
        &["--claim-after", "2s"]
    };
    strata(r, &format!("cache-{name}"), shared)
        .args([
            "fleet",
            "work",
            "--queue",
            queue,
            "--consumer",
            name,
            "--format=json",
        ])
        .args(claim)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

pub(super) fn finished(child: Child) -> Value {
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "worker: {:?} {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The consumer holding the job of layer `digest`, if one does.
fn holder(redis: &RedisServer, digest: &str) -> Option<String> {
    let mut con = redis.con();
    let pending: redis::streams::StreamPendingCountReply = con
        .xpending_count("strata:fleet:default:jobs", "workers", "-", "+", 100)
        .ok()?;
    pending.ids.into_iter().find_map(|p| {
        let entries: redis::streams::StreamRangeReply =
            con.xrange("strata:fleet:default:jobs", &p.id, &p.id).ok()?;
        let id = entries.ids.into_iter().next()?;
        (id.get::<String>("digest").as_deref() == Some(digest)).then_some(p.consumer)
    })
}

#[test]
fn a_registry_is_planned_worked_by_three_workers_one_killed_and_reported_as_footprint_reports_it() {
    let r = Run::new();
    let repos = 200;
    let t0 = Instant::now();
    let f = fleet(&r.path("layout"), repos);
    eprintln!("fixture {:?}", t0.elapsed());
    let redis = RedisServer::start();
    let queue = redis.url();
    // Workers read blobs through a proxy that serves one layer slowly.
    let slow = f.repo_layers[5].digest.clone();
    let proxy = FaultProxy::start(
        &f.reg.host,
        &format!("/blobs/{slow}"),
        Fault::Trickle { ms: 1 },
    );
    // A team directory as the shared cache (the registry backend is tested
    // below and in shared_cache.rs): a thousand pushes cost file writes.
    let shared = format!("file://{}", r.path("shared").display());
    let glob = format!("docker://{}/*/*", proxy.addr);

    let plan = json_of(
        strata(&r, "cache-plan", &shared),
        &["fleet", "plan", "--queue", &queue, &glob],
    );
    assert_eq!(plan["repositories"], repos);
    assert_eq!(plan["tags"], repos * 5);
    assert_eq!(plan["images"], repos * 5);
    assert_eq!(plan["layers"], f.layers.len());
    assert_eq!(plan["jobs_added"], f.layers.len());
    assert_eq!(plan["present"], 0);
    assert!(
        plan["record_bytes"]["per_image"].as_u64().unwrap() < 200,
        "{plan}"
    );
    assert!(
        plan["record_bytes"]["per_layer"].as_u64().unwrap() < 100,
        "{plan}"
    );

    eprintln!("planned {:?}", t0.elapsed());
    let mut workers: Vec<(String, Child)> = (1..=3)
        .map(|i| {
            let name = format!("w{i}");
            let child = worker(&r, &shared, &queue, &name, &["--until-empty"]);
            (name, child)
        })
        .collect();
    // Kill whoever is reading the slow layer, mid-layer.
    wait_for(
        "a worker on the slow layer",
        Duration::from_secs(120),
        || proxy.hits.load(std::sync::atomic::Ordering::SeqCst) > 0,
    );
    let mut victim = None;
    wait_for("the slow layer's holder", Duration::from_secs(10), || {
        victim = holder(&redis, &slow);
        victim.is_some()
    });
    let victim = victim.unwrap();
    let k = workers.iter().position(|(n, _)| *n == victim).unwrap();
    let (_, mut killed) = workers.remove(k);
    killed.kill().unwrap();
    assert!(!killed.wait().unwrap().success());
    let done: Vec<Value> = workers.into_iter().map(|(_, c)| finished(c)).collect();
    assert!(
        done.iter().all(|w| w["jobs_done"].as_u64().unwrap() > 0),
        "{done:?}"
    );
    assert!(
        proxy.hits.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the slow job was taken back"
    );

    eprintln!("worked {:?}", t0.elapsed());
    let status = json_of(
        strata(&r, "cache-plan", &shared),
        &["fleet", "status", "--queue", &queue],
    );
    let group = &status["groups"][0];
    assert_eq!(group["pending"], 0, "{status}");
    assert_eq!(group["in_flight"], 0, "{status}");
    assert_eq!(status["dead"], 0, "{status}");
    assert_eq!(status["layers_done"], f.layers.len(), "{status}");
    assert!(
        status["memory"]["per_layer"].as_u64().unwrap() > 0,
        "{status}"
    );

    // The report reads no layer blob: the registry's request count for blobs stays put.
    let layer_reads = |reg: &Registry| {
        let lines = reg.requests();
        lines
            .iter()
            .filter(|l| l.starts_with("GET /v2/team") && l.contains("/blobs/"))
            .count()
    };
    let before = layer_reads(&f.reg);
    eprintln!("status {:?}", t0.elapsed());
    let report = json_of(
        strata(&r, "cache-report", &shared),
        &["fleet", "report", "--queue", &queue],
    );
    assert_eq!(
        layer_reads(&f.reg),
        before,
        "fleet report read a layer blob"
    );
    assert_eq!(report["complete"], true);

    eprintln!("reported {:?}", t0.elapsed());
    // footprint of every image, in one process, straight from the registry.
    let all = format!("docker://{}/*/*", f.reg.host);
    let out = strata(&r, "cache-footprint", &shared)
        .args(["footprint", &all, "--format=json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fp: Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!("footprint {:?}", t0.elapsed());
    let (reg, set) = (&report["registry"], &fp["set"]);
    assert_eq!(reg["images"], set["images"]);
    assert_eq!(reg["images"], repos * 4, "latest is the same image as 4");
    assert_eq!(reg["tags"], repos * 5);
    assert_eq!(reg["distinct_layers"], set["distinct_layers"]);
    for key in ["sum_total", "dedup_total", "saved", "saved_percent"] {
        assert_eq!(reg[key], set[key], "{key}");
    }
    // Per repository: the sum of its images' totals, as footprint has them.
    let mut sums: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for image in fp["images"].as_array().unwrap() {
        let name = image["name"].as_str().unwrap();
        let repo = path_of(
            name.trim_start_matches("docker://")
                .rsplit_once(':')
                .unwrap()
                .0,
        );
        let s = sums.entry(repo).or_default();
        for (i, m) in ["compressed", "uncompressed", "files"].iter().enumerate() {
            s[i] += image["total"][m].as_u64().unwrap();
        }
    }
    let rows = report["repositories"].as_array().unwrap();
    assert_eq!(rows.len(), repos);
    for row in rows {
        let s = sums[&path_of(row["name"].as_str().unwrap())];
        assert_eq!(row["tags"], 5);
        assert_eq!(row["images"], 4);
        for (i, m) in ["compressed", "uncompressed", "files"].iter().enumerate() {
            assert_eq!(row["sum_total"][m], s[i], "{row}");
        }
    }
    // One repository's dedup total, and its unique bytes: what the registry
    // holds less the same footprint without it.
    let one = repo_name(5);
    let mine: Vec<String> = TAGS
        .iter()
        .map(|t| format!("docker://{}/{one}:{t}", f.reg.host))
        .collect();
    let mine_refs: Vec<&str> = mine.iter().map(String::as_str).collect();
    let fp_one = json_of(
        strata(&r, "cache-footprint", &shared),
        &[&["footprint"], &mine_refs[..]].concat(),
    );
    let row = rows
        .iter()
        .find(|x| x["name"] == format!("{}/{one}", proxy.addr))
        .unwrap();
    assert_eq!(row["dedup_total"], fp_one["set"]["dedup_total"]);
    eprintln!("footprint of one {:?}", t0.elapsed());
    // Unique to it: its layers no image of another repository uses.
    let used_by: BTreeMap<&str, &Value> = fp["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["digest"].as_str().unwrap(), &l["used_by"]))
        .collect();
    let unique: u64 = fp_one["layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| used_by[l["digest"].as_str().unwrap()] == &l["used_by"])
        .map(|l| l["compressed"].as_u64().unwrap())
        .sum();
    assert_eq!(row["unique"]["compressed"], unique, "{row}");
    assert!(unique > f.repo_layers[5].size);
    // Same content under two digests: as footprint finds it.
    let groups = |v: &Value, digests: &str| -> BTreeSet<(String, BTreeSet<String>)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let ds = g[digests]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| {
                        d.as_str()
                            .map_or_else(|| d["digest"].as_str().unwrap().to_owned(), str::to_owned)
                    })
                    .collect();
                (g["diff_id"].as_str().unwrap().to_owned(), ds)
            })
            .collect()
    };
    assert_eq!(
        groups(&report["same_content"], "copies"),
        groups(&fp["same_content"], "digests")
    );
    assert_eq!(report["same_content"].as_array().unwrap().len(), 1);
    // The bases are the most shared layers; the deleted cache file is waste.
    assert!(report["shared_layers"][0]["repositories"].as_u64().unwrap() >= 45);
    assert!(
        report["waste"][0]["wasted_bytes"].as_u64().unwrap() >= 2_000,
        "{}",
        report["waste"]
    );
    let kinds: BTreeSet<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains("deleted_later") || kinds.contains("package_manager_leftovers"),
        "{kinds:?}"
    );
    // One row per finding of a layer, however many images carry it: the
    // apt cache of a base is found in every image of that base.
    let findings = report["findings"].as_array().unwrap();
    let rows: BTreeSet<(&str, &str)> = findings
        .iter()
        .map(|x| (x["kind"].as_str().unwrap(), x["digest"].as_str().unwrap()))
        .collect();
    assert_eq!(rows.len(), findings.len(), "{findings:?}");
    let leftovers = findings
        .iter()
        .find(|x| x["kind"] == "package_manager_leftovers")
        .unwrap();
    assert!(leftovers["images"].as_u64().unwrap() >= 40, "{leftovers}");

    // A second plan finds nothing new.
    let again = json_of(
        strata(&r, "cache-plan", &shared),
        &["fleet", "plan", "--queue", &queue, &glob],
    );
    eprintln!("planned again {:?}", t0.elapsed());
    assert_eq!(again["jobs_added"], 0);
    assert_eq!(again["new_layers"], 0);
    assert_eq!(again["images"], repos * 5);
}

#[test]
fn a_blob_that_fails_verification_ends_in_the_dead_letter_stream_and_the_rest_completes() {
    let r = Run::new();
    // 75 layers: enough for plan to list the cache's tags rather than ask for each.
    let f = fleet(&r.path("layout"), 14);
    let bad = f.repo_layers[2].digest.clone();
    poison(&f.reg.storage(), &bad);
    let redis = RedisServer::start();
    let queue = redis.url();
    let shared = format!("docker://{}/strata-cache", f.reg.host);
    let glob = format!("docker://{}/*/*", f.reg.host);
    let plan = json_of(
        strata(&r, "cache", &shared),
        &["fleet", "plan", "--queue", &queue, &glob],
    );
    assert_eq!(plan["jobs_added"], f.layers.len());
    let w = finished(worker(
        &r,
        &shared,
        &queue,
        "w1",
        &["--until-empty", "--claim-after", "500ms", "--attempts", "2"],
    ));
    assert_eq!(w["jobs_done"], f.layers.len() - 1, "{w}");
    assert_eq!(w["failures"], 2, "{w}");
    assert_eq!(w["dead"], 1, "{w}");
    assert_eq!(w["stopped"], "drained");
    let status = json_of(
        strata(&r, "cache", &shared),
        &["fleet", "status", "--queue", &queue],
    );
    assert_eq!(status["dead"], 1, "{status}");
    let dead = &status["last_dead"][0];
    assert_eq!(dead["digest"], bad.as_str());
    assert_eq!(dead["attempts"], "2");
    let error = dead["error"].as_str().unwrap();
    // The flipped byte fails gzip's checksum before the digest is known.
    assert!(
        error.contains(&format!("layer {bad}: corrupt gzip stream")),
        "{error}"
    );
    assert!(!error.contains('\n'));
    assert_eq!(status["groups"][0]["in_flight"], 0);
    assert_eq!(status["groups"][0]["pending"], 0);
    assert_eq!(status["groups"][0]["done"], f.layers.len() - 1);
    // The report says what it lacks instead of guessing it.
    let report = json_of(
        strata(&r, "cache-report", &shared),
        &["fleet", "report", "--queue", &queue],
    );
    assert_eq!(report["complete"], false);
    assert_eq!(report["unscanned_layers"], 1);
    assert_eq!(
        report["registry"]["dedup_total"]["uncompressed"],
        Value::Null
    );
    assert!(
        report["registry"]["dedup_total"]["compressed"]
            .as_u64()
            .unwrap()
            > 0
    );
    let table = strata(&r, "cache-report", &shared)
        .args(["fleet", "report", "--queue", &queue])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("incomplete: 1 layer has no entry"), "{text}");
    // Cleared and planned again, the fleet queues only what the shared cache
    // lacks (the dead layer), asked in one listing of the cache's tags.
    json_of(
        strata(&r, "cache", &shared),
        &["fleet", "clear", "--queue", &queue],
    );
    let from = f.reg.requests().len();
    let again = json_of(
        strata(&r, "cache", &shared),
        &["fleet", "plan", "--queue", &queue, &glob],
    );
    assert_eq!(again["jobs_added"], 1, "{again}");
    assert_eq!(again["present"], f.layers.len() - 1, "{again}");
    let asked = &f.reg.requests()[from..];
    assert!(
        asked
            .iter()
            .any(|l| l.contains("/v2/strata-cache/tags/list")),
        "{asked:?}"
    );
    assert!(
        !asked
            .iter()
            .any(|l| l.starts_with("HEAD /v2/strata-cache/")),
        "{asked:?}"
    );
}

#[test]
fn sigterm_lets_a_worker_finish_the_layer_it_is_reading_then_exit_0() {
    let r = Run::new();
    let f = fleet(&r.path("layout"), 3);
    let slow = f.repo_layers[0].digest.clone();
    let proxy = FaultProxy::start(
        &f.reg.host,
        &format!("/blobs/{slow}"),
        Fault::Trickle { ms: 1 },
    );
    let redis = RedisServer::start();
    let queue = redis.url();
    let shared = format!("docker://{}/strata-cache", f.reg.host);
    let glob = format!("docker://{}/*/*", proxy.addr);
    json_of(
        strata(&r, "cache", &shared),
        &["fleet", "plan", "--queue", &queue, &glob],
    );
    let child = worker(&r, &shared, &queue, "w1", &[]);
    wait_for(
        "the worker on the slow layer",
        Duration::from_secs(60),
        || proxy.hits.load(std::sync::atomic::Ordering::SeqCst) > 0,
    );
    // SAFETY: a signal to the worker this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let w = finished(child);
    assert_eq!(w["stopped"], "signal", "{w}");
    let mut con = redis.con();
    let done: bool = con
        .sismember(
            "strata:fleet:default:done",
            hex::decode(&slow[7..]).unwrap(),
        )
        .unwrap();
    assert!(done, "the layer being read was finished and acknowledged");
    let status = json_of(
        strata(&r, "cache", &shared),
        &["fleet", "status", "--queue", &queue],
    );
    assert_eq!(status["groups"][0]["in_flight"], 0, "{status}");
    assert!(
        status["groups"][0]["pending"].as_u64().unwrap() > 0,
        "it stopped there: {status}"
    );
    assert_eq!(status["groups"][0]["done"], w["jobs_done"]);
}

#[test]
fn a_worker_whose_shared_cache_cannot_be_asked_stops_with_one_line_and_its_job_stays_queued() {
    let r = Run::new();
    let f = fleet(&r.path("layout"), 1);
    let redis = RedisServer::start();
    let queue = redis.url();
    let glob = format!("docker://{}/**", f.reg.host);
    let planned = format!("file://{}", r.path("shared").display());
    json_of(
        strata(&r, "cache", &planned),
        &["fleet", "plan", "--queue", &queue, &glob],
    );
    // The worker's shared cache wants credentials it was not given.
    let locked = Registry::start(true);
    let shared = format!("docker://{}/strata-cache", locked.host);
    let out = worker(&r, &shared, &queue, "w1", &["--until-empty"])
        .wait_with_output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.contains("warning")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains(&locked.host), "{stderr}");
    let status = json_of(
        strata(&r, "cache", &planned),
        &["fleet", "status", "--queue", &queue],
    );
    assert_eq!(status["groups"][0]["in_flight"], 1, "{status}");
    assert_eq!(status["groups"][0]["done"], 0, "{status}");
    assert_eq!(status["dead"], 0, "{status}");
}
