//! `strata fleet` at the scale, against a real local registry (CNCF
//! distribution on 127.0.0.1) and a real Redis (Debian's redis-server on
//! 127.0.0.1), the shared cache in the same registry (`docker://`), on the
//! project's 2-core class. The registry holds 2,000 repositories x 5 tags
//! (10,000 tags, 8,000 distinct images, ~10,000 distinct small layers on four
//! shared bases), written by the fixture builder (tests/it/fleet_registry.rs).
//! - work throughput on 1,000 distinct small layers (200 of the
//!   repositories): two workers at once against one: target >= 1.7x;
//! - `fleet plan` over the 10,000 tags (manifests and configs, no layer
//!   blob): target <= 60 s; a second plan (adds no job) is shown too;
//! - Redis memory per image and per layer (MEMORY USAGE, `fleet status`);
//! - `fleet report` over the 10,000 tags once two workers have scanned every
//!   layer: with an empty local cache (every entry fetched from the shared
//!   cache, two requests each) and warm (the report's own work): target
//!   <= 10 s warm.
//!
//! Each run prints strata's wall and CPU time, the registry's CPU time
//! meanwhile and the load average: on a shared machine the wall time says
//! little without them.
//!
//! The registry's storage is in the temp directory;
//! `STRATA_TEST_REGISTRY_DIR=/dev/shm` puts it on tmpfs (no disk wait).
//! Exits 1 when a target is missed. `STRATA_FLEET_REPOS=N` changes the
//! registry's size (the throughput part needs N >= 300).

#[path = "../tests/it/builder.rs"]
mod builder;
#[path = "../tests/it/fleet_registry.rs"]
mod fleet_registry;
#[path = "support/measure.rs"]
mod measure;
#[path = "../tests/it/redis_server.rs"]
mod redis_server;
#[path = "../tests/it/registry_server.rs"]
mod registry_server;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use redis_server::RedisServer;

/// Two repository globs naming 200 of the repositories (app0xx and app2xx
/// of each team): 1,000 tags, 1,005 distinct layers.
const THROUGHPUT_GLOBS: [&str; 2] = ["team*/app0*", "team*/app2*"];

struct Bench<'a> {
    host: &'a str,
    reg: &'a registry_server::Registry,
    queue: String,
    work: &'a Path,
}

/// What a run cost: strata's wall, CPU and peak RSS, the registry's CPU
/// meanwhile, and the machine's load average around it (the project's class
/// is 2 cores; figures taken under a higher load say so).
struct Cost {
    strata: measure::Cost,
    registry: Duration,
    load: f64,
}

impl std::fmt::Display for Cost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:.2} s wall, {:.2} s CPU, {:.0} MiB peak RSS; registry {:.2} s CPU; load average {:.1}",
            self.strata.wall.as_secs_f64(),
            self.strata.cpu.as_secs_f64(),
            self.strata.rss_mib(),
            self.registry.as_secs_f64(),
            self.load
        )
    }
}

/// The 1-minute load average.
fn load() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

impl Bench<'_> {
    /// strata for fleet `name`: its own shared cache in the registry, a local cache `cache`.
    fn strata(&self, name: &str, cache: &str) -> Command {
        let mut c = measure::strata();
        c.env("STRATA_CACHE_DIR", self.work.join(cache))
            .env(
                "STRATA_SHARED_CACHE",
                format!("docker://{}/strata-cache-{name}", self.host),
            )
            .env("STRATA_FLEET_QUEUE", &self.queue)
            .env_remove("STRATA_SHARED_CACHE_KEY")
            .env_remove("STRATA_CREDS");
        c
    }

    fn plan(&self, name: &str, globs: &[String]) -> (Cost, serde_json::Value) {
        let out = self.work.join(format!("plan-{name}.json"));
        let mut c = self.strata(name, &format!("cache-plan-{name}"));
        c.args(["fleet", "plan", "--name", name, "--format=json"])
            .args(globs);
        (self.measured(&mut c, &out), json(&out))
    }

    /// A run of strata, with the registry's CPU time meanwhile and the load around it.
    fn measured(&self, c: &mut Command, out: &Path) -> Cost {
        let (load, registry) = (load(), self.reg.cpu());
        let strata = measure::run_to(c, out);
        Cost {
            strata,
            registry: self.reg.cpu().saturating_sub(registry),
            load: (load + self::load()) / 2.0,
        }
    }

    fn workers(&self, name: &str, n: usize) -> Vec<Child> {
        (0..n)
            .map(|i| {
                self.strata(name, &format!("cache-{name}-w{i}"))
                    .args(["fleet", "work", "--name", name, "--until-empty"])
                    .args(["--consumer", &format!("w{i}")])
                    .stdout(Stdio::null())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .unwrap()
            })
            .collect()
    }

    /// Runs `n` workers on fleet `name` until its `jobs` jobs are done: the
    /// time from their start to the last acknowledgement, the workers' CPU
    /// time and the registry's meanwhile.
    fn work(
        &self,
        redis: &RedisServer,
        name: &str,
        n: usize,
        jobs: u64,
    ) -> (Duration, Duration, Duration) {
        let (children_before, registry_before) = (children_cpu(), self.reg.cpu());
        let mut con = redis.con();
        let done_key = format!("strata:fleet:{name}:done");
        let start = Instant::now();
        let mut children = self.workers(name, n);
        let took = loop {
            let done: u64 = redis::cmd("SCARD").arg(&done_key).query(&mut con).unwrap();
            if done >= jobs {
                break start.elapsed();
            }
            if let Some(c) = children.iter_mut().find_map(|c| c.try_wait().unwrap()) {
                assert!(c.success(), "a worker failed: {c}");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        for mut c in children {
            assert!(c.wait().unwrap().success());
        }
        let workers = children_cpu().saturating_sub(children_before);
        (
            took,
            workers,
            self.reg.cpu().saturating_sub(registry_before),
        )
    }
}

/// The user and system time of this process's waited-for children.
fn children_cpu() -> Duration {
    // SAFETY: getrusage fills the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn main() {
    measure::serve();
    let repos: usize = std::env::var("STRATA_FLEET_REPOS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    let work = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let f = fleet_registry::fleet(&work.path().join("layout"), repos);
    println!(
        "registry: {repos} repositories x 5 tags, {} distinct layers, written in {:.1} s",
        f.layers.len(),
        t.elapsed().as_secs_f64()
    );
    let redis = RedisServer::start();
    let b = Bench {
        host: &f.reg.host,
        reg: &f.reg,
        queue: redis.url(),
        work: work.path(),
    };
    let mut missed = Vec::new();
    if std::env::var_os("HOLD").is_some() {
        println!(
            "HOLD host={} queue={} work={}",
            f.reg.host,
            redis.url(),
            work.path().display()
        );
        std::thread::sleep(Duration::from_secs(3000));
    }

    // Throughput: the same 1,005 layers, one worker, then two (each on its own fleet and shared cache).
    let globs: Vec<String> = THROUGHPUT_GLOBS
        .iter()
        .map(|g| format!("docker://{}/{g}", f.reg.host))
        .collect();
    let mut rates = Vec::new();
    for (name, n) in [("one", 1), ("two", 2)] {
        let (_, planned) = b.plan(name, &globs);
        let jobs = planned["jobs_added"].as_u64().unwrap();
        let load = load();
        let (took, cpu, registry) = b.work(&redis, name, n, jobs);
        let rate = jobs as f64 / took.as_secs_f64();
        println!(
            "{n} worker{}: {jobs} layers in {:.2} s = {rate:.1} layers/s; per layer: workers {:.1} ms CPU, registry {:.1} ms CPU; load average {:.1}",
            if n == 1 { "" } else { "s" },
            took.as_secs_f64(),
            cpu.as_secs_f64() * 1000.0 / jobs as f64,
            registry.as_secs_f64() * 1000.0 / jobs as f64,
            (load + self::load()) / 2.0
        );
        rates.push(rate);
    }
    let speedup = rates[1] / rates[0];
    println!(
        "2 workers vs 1: {speedup:.2}x (target >= 1.7): {}",
        measure::verdict("2 workers >= 1.7x", speedup >= 1.7, &mut missed)
    );

    // Plan over every tag, cold (configs read) and again (nothing new).
    let all = vec![format!("docker://{}/*/*", f.reg.host)];
    let (cold, planned) = b.plan("all", &all);
    println!(
        "plan over {} tags ({} images, {} distinct layers, {} jobs): {cold} (target <= 60 s): {}",
        planned["tags"],
        planned["images"],
        planned["layers"],
        planned["jobs_added"],
        measure::verdict(
            "plan <= 60 s",
            cold.strata.wall <= Duration::from_secs(60),
            &mut missed
        )
    );
    let (again, replanned) = b.plan("all", &all);
    println!(
        "plan again ({} jobs added, configs cached): {again}",
        replanned["jobs_added"]
    );

    // What Redis holds.
    let status_out = work.path().join("status.json");
    let mut c = b.strata("all", "cache-status");
    c.args(["fleet", "status", "--name", "all", "--format=json"]);
    measure::run_to(&mut c, &status_out);
    let m = &json(&status_out)["memory"];
    println!(
        "Redis for {} tags: {:.1} MB ({:.1} MB of image records, {:.1} MB of layer records, {:.1} MB of jobs, {:.1} MB of digest sets): {} bytes per image, {} bytes per layer",
        planned["tags"],
        m["total"].as_f64().unwrap() / 1e6,
        m["images"].as_f64().unwrap() / 1e6,
        m["layers"].as_f64().unwrap() / 1e6,
        m["jobs"].as_f64().unwrap() / 1e6,
        m["sets"].as_f64().unwrap() / 1e6,
        m["per_image"],
        m["per_layer"],
    );

    // Every layer scanned, then the report.
    let jobs = planned["jobs_added"].as_u64().unwrap();
    let (took, _, _) = b.work(&redis, "all", 2, jobs);
    println!(
        "2 workers on every layer: {jobs} layers in {:.1} s = {:.1} layers/s",
        took.as_secs_f64(),
        jobs as f64 / took.as_secs_f64()
    );
    let report = |cache: &str| {
        let out = work.path().join(format!("report-{cache}.json"));
        let mut c = b.strata("all", cache);
        c.args(["fleet", "report", "--name", "all", "--format=json"]);
        (b.measured(&mut c, &out), json(&out))
    };
    let (cold, r) = report("cache-report");
    assert_eq!(r["complete"], true, "every layer was scanned");
    let (warm, _) = report("cache-report");
    println!(
        "report over {} tags ({} images, {} distinct layers), every entry fetched from the shared cache: {cold}",
        r["registry"]["tags"], r["registry"]["images"], r["registry"]["distinct_layers"],
    );
    println!(
        "the same report, warm (target <= 10 s): {warm}: {}",
        measure::verdict(
            "report <= 10 s",
            warm.strata.wall <= Duration::from_secs(10),
            &mut missed
        ),
    );
    // Stopped before exit(1), which runs no destructor.
    drop(redis);
    drop(f);
    if !missed.is_empty() {
        eprintln!("missed: {}", missed.join(", "));
        std::process::exit(1);
    }
}
