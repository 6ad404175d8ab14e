//! The command line of `strata cache …` and `strata fleet …` (clap).

use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// strata's entries: how many, their bytes, the least recently used, per index format.
    Du,
    /// Removes strata's entries, least recently used first (all of them without a limit).
    Prune(PruneArgs),
    /// The directory strata keeps its cache in.
    Path,
    /// Fills the shared cache (--shared-cache) with the entries these images need: what it lacks is scanned (or taken from the local cache) and pushed.
    Push(CacheRefs),
    /// Warms the local cache from the shared cache (--shared-cache) for these images; what it lacks is scanned and pushed.
    Pull(CacheRefs),
}

#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Walks the registry's catalog and tags (REF-GLOB: [docker://]HOST/REPO-PATTERN[:TAG-PATTERN]; `*` within a segment, a last `**` any depth), records each image's layers and queues the layers the shared cache lacks.
    Plan(FleetPlanArgs),
    /// Scans queued layers and pushes each to the shared cache; as a service, or until no job is left.
    Work(FleetWorkArgs),
    /// The registry's footprint from the records and the shared cache alone (no layer blob read).
    Report(FleetReportArgs),
    /// Jobs pending, in flight (per worker), done and dead; what Redis holds.
    Status(FleetQueueArgs),
    /// Removes the fleet's keys from Redis.
    Clear(FleetQueueArgs),
}

#[derive(Debug, Args)]
pub struct FleetQueueArgs {
    /// The fleet's Redis: redis://[USER:PASSWORD@]HOST[:PORT][/DB].
    #[arg(
        long,
        value_name = "URL",
        env = "STRATA_FLEET_QUEUE",
        hide_env_values = true
    )]
    pub queue: String,
    /// The fleet's name: its keys are strata:fleet:NAME:… (a-z, 0-9, '.', '_', '-').
    #[arg(long, default_value = "default", value_name = "NAME")]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct FleetPlanArgs {
    #[command(flatten)]
    pub queue: FleetQueueArgs,
    /// Registry globs: docker://HOST/** (every repository), HOST/team/*:*, HOST/team/api:1.* (no tag: every tag).
    #[arg(required = true, value_name = "REF-GLOB")]
    pub globs: Vec<String>,
}

#[derive(Debug, Args)]
pub struct FleetWorkArgs {
    #[command(flatten)]
    pub queue: FleetQueueArgs,
    /// The consumer group: one per pool of workers.
    #[arg(long, default_value = "workers", value_name = "GROUP")]
    pub group: String,
    /// This worker's name in its group [default: host name and process id].
    #[arg(long, value_name = "NAME")]
    pub consumer: Option<String>,
    /// Stop when no job is left (pending or in flight) instead of waiting for more.
    #[arg(long)]
    pub until_empty: bool,
    /// Take back a job another worker has held this long (it died): 90s, 5m.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub claim_after: String,
    /// Failed attempts after which a job goes to the dead-letter stream.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub attempts: u64,
}

#[derive(Debug, Args)]
pub struct FleetReportArgs {
    #[command(flatten)]
    pub queue: FleetQueueArgs,
    /// Rows per section (repositories, layers, findings…); JSON lists every repository.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
}

#[derive(Debug, Args)]
pub struct CacheRefs {
    /// Image references.
    #[arg(required = true, value_name = "REF")]
    pub refs: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove entries no run has used for longer than this (90m, 12h, 30d, 2w).
    #[arg(long, value_name = "AGE")]
    pub older_than: Option<String>,
    /// Then remove the least recently used until the cache fits in this size (500MB, 2GB).
    #[arg(long, value_name = "SIZE")]
    pub max_size: Option<String>,
}
