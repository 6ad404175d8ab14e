//! The command line (clap derive only; no I/O, no validation beyond syntax).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The reference forms every command accepts (skopeo's transport words).
macro_rules! references {
    () => {
        "References (skopeo's transports):
  docker://HOST/REPO:TAG, docker://HOST/REPO@sha256:…  a registry image
  HOST/REPO:TAG                 the same, when HOST has a dot, a port or is localhost
  NAME[:TAG], USER/NAME[:TAG]   Docker Hub, as docker reads them (docker.io/library/NAME)
  oci:DIR[:REF], oci:DIR@sha256:…  an OCI layout directory (no REF: every image in it)
  oci-archive:FILE[:REF]        an OCI layout in a tar
  docker-archive:FILE[:REF]     `docker save` / `podman save` output; FILE - reads stdin
  docker-daemon:NAME[:TAG], docker-daemon:sha256:ID
                                an image of the Docker or Podman engine at DOCKER_HOST
  containers-storage:NAME       Podman's storage, through its service (podman system service)
  containerd:[NAMESPACE/]NAME[:TAG]
                                containerd's image store (CONTAINERD_ADDRESS; no NAMESPACE:
                                k8s.io, then default)
  docker-daemon:*, containers-storage:*, containerd:NAMESPACE/*
                                every image the engine holds (untagged ones too with --all)"
    };
}

/// How strata exits.
macro_rules! exit_codes {
    () => {
        "Exit codes:
  0  success
  1  a gate or policy failed (or a difference was found with --exit-code)
  2  error: bad arguments or input, unreachable source, failed verification"
    };
}

const ROOT_HELP: &str = concat!(
    references!(),
    "

Examples:
  strata footprint alpine:3.19 python:3.12-alpine
  docker save app:1 | strata footprint docker-archive:-
  strata footprint --measure uncompressed docker-daemon:app:1 docker-daemon:app:2
  strata completions bash > ~/.local/share/bash-completion/completions/strata

",
    exit_codes!()
);

const FOOTPRINT_HELP: &str = concat!(
    "Examples:
  strata footprint oci:./layout                      every image of a layout
  strata footprint reg.example/app:1 reg.example/worker:1
  strata footprint 'reg.example/fam/*:1' --shallow   a family, from manifests alone
  strata footprint docker-daemon:app:1 --format json | jq .set

",
    references!(),
    "

",
    exit_codes!()
);

const PACKAGES_HELP: &str = concat!(
    "Examples:
  strata packages oci:./layout:app                 every package, biggest first
  strata packages docker-daemon:app:1 --ecosystem python,npm --sort name
  strata packages app:1 --format json | jq -r '.packages[].purl'
  strata packages oci:./layout:app --format cyclonedx > app.cdx.json   an SBOM with sizes

",
    references!(),
    "

",
    exit_codes!()
);

const COMPARE_HELP: &str = concat!(
    "Examples:
  strata compare oci:./fat --vs oci:./lean --left-name fat --right-name lean
  strata compare 'reg.example/kolla/*:1' --vs 'reg.example/tripleo/*:1' --shallow
  strata compare oci:./a --vs oci:./b --pair api=api-server --deploy api,worker

Images pair by repository basename (oci: layouts: the tag), then by that name
minus a prefix common to the family (fat-nova ~ lean-nova); --pair A=B by hand.
Unpaired images are listed, never dropped.

",
    references!(),
    "

",
    exit_codes!()
);

const DU_HELP: &str = concat!(
    "Examples:
  strata du oci:./layout:app                   the merged filesystem, two levels deep
  strata du docker-daemon:app:1 /usr/lib --depth 1
  strata du alpine:3.19 --layer 1              the base layer's own content

",
    references!(),
    "

",
    exit_codes!()
);

const CAT_HELP: &str = concat!(
    "Examples:
  strata cat debian:12 /etc/os-release             as a container sees it (links followed)
  strata cat oci:./layout:app /app/config.json --layer 3
  strata cat app:1 /usr/bin/app --force | xxd | head   binary bytes to a terminal need --force

The bytes are streamed from the layer blob that holds the file and checked
against the layer index; the blob's digest and diff_id are verified at its end.

",
    references!(),
    "

",
    exit_codes!()
);

const EXPORT_HELP: &str = concat!(
    "Examples:
  strata export app:1 -o app.tar                   the merged filesystem (as crane export)
  strata export oci:./layout:app --layer 2 -o layer2.tar
  strata export docker-daemon:app:1 -o - | tar -tvf -

Without --layer: one entry per path the image shows, the last writer's,
whiteouts applied and left out. With --layer: that layer's tar stream, checked
against its diff_id as it is written (a mismatch removes the file).

",
    references!(),
    "

",
    exit_codes!()
);

#[derive(Debug, Parser)]
#[command(
    name = "strata",
    version,
    about = "What container images really cost: verified layer scans, digest dedup, footprints of image sets",
    after_help = ROOT_HELP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: Global,
}

const LAYERS_HELP: &str = "Examples:\n  strata layers docker-archive:app.tar\n  strata layers --format json docker://registry.example/team/api:1.4\n\nExit codes: 0 ok, 2 error (one line on stderr).";

const AUDIT_HELP: &str = "Examples:\n  strata audit docker-archive:app.tar --layer 3\n  strata audit oci:layout:app --layer sha256:4abad3abe3cb --format markdown\n\nExit codes: 0 ok, 2 error (one line on stderr).";

const DIFF_HELP: &str = "Examples:\n  strata diff docker://reg.example/app/api:1 docker://reg.example/app/api-dev:1\n  strata diff --only files --depth 3 oci:layout:prod oci:layout:dev --format markdown\n\nExit codes: 0 ok (with --exit-code: the images' files are the same), 1 they differ (--exit-code), 2 error.";

const GATE_HELP: &str = "Examples:\n  strata gate --policy strata.toml docker://reg.example/app/api:2\n  strata gate --write-baseline base.json docker://reg.example/app/api:1\n  strata gate --policy strata.toml --baseline base.json --junit gate.xml --format markdown REF...\n\nExit codes: 0 pass (warnings allowed), 1 a fail rule tripped, 2 error — whatever the format.";

const ADVISE_HELP: &str = "Kinds: deleted-later, overwritten-later, metadata-only-copy, package-manager-leftovers, dev-tooling, build-cache, test-folder, build-only-content, duplicate-content, big-file, custom (a policy's own).\n\nExamples:\n  strata advise docker-archive:app.tar\n  strata advise --kind deleted-later,metadata-only-copy --min-bytes 1MB oci:layout:app\n  strata advise --policy strata.toml oci:layout:app   # its [advise] extra rules and kinds off\n\nExit codes: 0 ok, 2 error (one line on stderr).";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Per-image and set footprint: totals, shared vs unique, sum vs dedup total.
    #[command(after_help = FOOTPRINT_HELP)]
    Footprint(FootprintArgs),
    /// Two image families side by side: totals, common bases, per-image marginals and fair shares.
    #[command(after_help = COMPARE_HELP)]
    Compare(CompareArgs),
    /// Disk usage of an image's merged filesystem (or one layer), by directory.
    #[command(after_help = DU_HELP)]
    Du(DuArgs),
    /// Each layer: what it adds, changes, deletes and wastes; the image's efficiency (strata's and dive's).
    #[command(after_help = LAYERS_HELP)]
    Layers(LayersArgs),
    /// One layer: its largest files, where its bytes are, what it deletes and overwrites.
    #[command(after_help = AUDIT_HELP)]
    Audit(AuditArgs),
    /// What TARGET adds over BASE: layers, files, bytes.
    #[command(after_help = DIFF_HELP)]
    Diff(DiffArgs),
    /// CI size-regression gate: a policy and a baseline applied to an image set.
    #[command(after_help = GATE_HELP)]
    Gate(GateArgs),
    /// What could go: findings, the bytes each fix saves, the layer to blame.
    #[command(after_help = ADVISE_HELP)]
    Advise(AdviseArgs),
    /// An image's size over its tags, oldest first: the change at each tag and the layers that changed.
    #[command(after_help = HISTORY_HELP)]
    History(HistoryArgs),
    /// Installed packages (deb, rpm, apk, Python, npm, gems) with their bytes and layer.
    #[command(after_help = PACKAGES_HELP)]
    Packages(PackagesArgs),
    /// The bytes of one file of an image, to stdout (merged filesystem or one layer).
    #[command(after_help = CAT_HELP)]
    Cat(CatArgs),
    /// An image's merged filesystem (or one layer's tar) as a tar file.
    #[command(after_help = EXPORT_HELP)]
    Export(ExportArgs),
    /// Walk an image's layers and files interactively (a terminal UI; `?` lists the keys).
    #[command(after_help = EXPLORE_HELP)]
    Explore(ExploreArgs),
    /// The layer index cache: what strata keeps there, pruning it, where it is.
    #[command(subcommand, after_help = CACHE_HELP)]
    Cache(CacheCommand),
    /// A whole registry scanned by many workers over Redis Streams: plan, work, report, status, clear.
    #[command(subcommand, after_help = FLEET_HELP)]
    Fleet(FleetCommand),
    /// Shell completions on stdout (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Example:\n  strata completions bash > ~/.local/share/bash-completion/completions/strata"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The man pages (roff): strata's on stdout, or one per command into a directory.
    #[command(
        after_help = "Examples:\n  strata man --dir ~/.cargo/share/man/man1     strata.1, strata-footprint.1, …\n  strata man > strata.1                        the top page alone"
    )]
    Man {
        /// Write strata.1 and a page per command (strata-footprint.1, …) into DIR.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

const CACHE_HELP: &str =
    "strata keeps one index per layer digest in its cache ($XDG_CACHE_HOME/strata, \
--cache-dir, STRATA_CACHE_DIR), marked as its own by a CACHEDIR.TAG. It only ever deletes \
files it made there; in a directory it did not make, it keeps its cache in DIR/strata.\n\n\
With --shared-cache (STRATA_SHARED_CACHE), `push` fills a team's shared cache for a set \
of images and `pull` warms the local cache from it.\n\n\
Examples:\n  strata cache du\n  strata cache prune --older-than 30d --max-size 2GB\n  \
du -sh \"$(strata cache path)\"\n  \
strata cache push --shared-cache docker://registry.example/team/strata-cache debian:12 python:3.12\n\n\
Exit codes: 0 ok, 2 error (one line on stderr).";

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

const FLEET_HELP: &str =
    "A fleet records a registry's images in Redis (--queue, STRATA_FLEET_QUEUE) \
under the keys strata:fleet:NAME:…, and queues one job per distinct layer the shared cache \
(--shared-cache, STRATA_SHARED_CACHE) lacks. Workers on any number of machines scan the jobs \
and push each result to the shared cache; the report then reads no layer blob.\n\n\
Examples:\n  strata fleet plan --queue redis://redis:6379/0 'docker://registry.example/**'\n  \
strata fleet work --queue redis://redis:6379/0 --until-empty\n  \
strata fleet status --queue redis://redis:6379/0\n  \
strata fleet report --queue redis://redis:6379/0 --format markdown > registry.md\n  \
strata fleet clear --queue redis://redis:6379/0\n\n\
Exit codes: 0 ok (a worker stopped by SIGTERM too), 2 error (one line on stderr).";

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

#[derive(Debug, Args)]
pub struct AdviseArgs {
    /// Image references.
    #[arg(required = true, value_name = "REF")]
    pub refs: Vec<String>,
    /// A single file from this size on is a finding.
    #[arg(long, default_value = "100MB", value_name = "SIZE")]
    pub big: String,
    /// Hide findings that save less than this.
    #[arg(long, default_value = "0", value_name = "SIZE")]
    pub min_bytes: String,
    /// Kinds to report (comma-separated; default all).
    #[arg(long, value_delimiter = ',', value_name = "KIND")]
    pub kind: Vec<String>,
    /// Paths listed per finding (FILES counts them all).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub top: usize,
    /// A policy whose `[advise]` table adds path rules and turns kinds off.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

const HISTORY_HELP: &str = "A registry repository without a tag means all of its tags; a glob may stand for the tag. Tags are ordered by when each image was made (its config's `created`; with --shallow, its manifest's org.opencontainers.image.created annotation).\n\nExamples:\n  strata history docker://reg.example/team/api\n  strata history --shallow 'docker://reg.example/team/api:v1.*' --format markdown\n  strata history --policy strata.toml docker://reg.example/team/api --format html > api.html\n\nExit codes: 0 ok, 2 error (one line on stderr).";

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// A registry repository (all its tags), a repository with a tag glob, or image references.
    #[arg(required = true, value_name = "REF")]
    pub refs: Vec<String>,
    /// A gate policy: its size limit (max_compressed, …) is drawn across.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Registry images only: compressed sizes from manifests alone, no blob download.
    #[arg(long)]
    pub shallow: bool,
}

#[derive(Debug, Args)]
pub struct GateArgs {
    /// Image references (see `strata --help`).
    #[arg(required = true, value_name = "REF")]
    pub refs: Vec<String>,
    /// The policy: strata TOML (see fixtures/policy/strata.toml) or a dive `.dive-ci` file.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Compare growth against this baseline.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record a baseline of these images.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Also write the checks as JUnit XML (one test case per check).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The image to compare against (e.g. prod).
    #[arg(value_name = "BASE")]
    pub base: String,
    /// The image whose additions are measured (e.g. dev).
    #[arg(value_name = "TARGET")]
    pub target: String,
    /// Sections to show: layers, files, packages (default: all).
    #[arg(long, value_delimiter = ',', value_name = "SECTION")]
    pub only: Vec<String>,
    /// Levels of directories in the roll-up of the delta.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub depth: usize,
    /// Changed files listed, biggest first.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
    /// Exit 1 when the images' files differ (like `git diff --exit-code`).
    #[arg(long)]
    pub exit_code: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The image (one) to read.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The layer: its position from 1 (the base) or its digest (a unique prefix is enough).
    #[arg(long, value_name = "N|sha256:…")]
    pub layer: String,
    /// Levels of directories in the roll-up.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub depth: usize,
    /// Files, directories and paths listed per section, biggest first.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
}

#[derive(Debug, Args)]
pub struct LayersArgs {
    /// The image (one) to read.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Wasted paths listed, biggest first.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub top: usize,
}

#[derive(Debug, Args)]
pub struct DuArgs {
    /// The image (one) to measure.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Measure only this subtree, e.g. /usr/lib.
    #[arg(value_name = "PATH", default_value = "/")]
    pub path: String,
    /// Levels of directories to list below PATH.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub depth: usize,
    /// Children listed per directory, biggest first (the rest are summed up).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
    /// One layer's own content instead of the merged image: its position
    /// from 1 (the base) or its digest (a unique prefix is enough).
    #[arg(long, value_name = "N|sha256:…")]
    pub layer: Option<String>,
}

const EXPLORE_HELP: &str = "Examples:\n  strata explore docker-archive:app.tar\n  strata explore oci:layout:app\n  NO_COLOR=1 strata explore docker-daemon:app:1\n\nNeeds a terminal. Exit codes: 0 ok, 2 error (one line on stderr).";

#[derive(Debug, Args)]
pub struct ExploreArgs {
    /// The image (one) to explore.
    #[arg(value_name = "REF")]
    pub reference: String,
}

#[derive(Debug, Args)]
pub struct CatArgs {
    /// The image (one) to read.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The file, e.g. /etc/os-release.
    #[arg(value_name = "PATH")]
    pub path: String,
    /// The file as this layer's tar holds it: its position from 1 (the
    /// base) or its digest (a unique prefix is enough).
    #[arg(long, value_name = "N|sha256:…")]
    pub layer: Option<String>,
    /// Write binary content to a terminal too.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The image (one) to export.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The tar file to write (- for stdout, never a terminal).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// That layer's own tar stream instead: its position from 1 (the base)
    /// or its digest (a unique prefix is enough).
    #[arg(long, value_name = "N|sha256:…")]
    pub layer: Option<String>,
}

#[derive(Debug, Args)]
pub struct PackagesArgs {
    /// The image (one) to inventory.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Only these ecosystems (comma-separated) [default: all].
    #[arg(long, value_enum, value_delimiter = ',', value_name = "ECOSYSTEM,…")]
    pub ecosystem: Vec<EcosystemArg>,
    /// Order of the packages: biggest first, or by ecosystem and name.
    #[arg(long, value_enum, default_value_t = SortArg::Bytes)]
    pub sort: SortArg,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EcosystemArg {
    Deb,
    Rpm,
    Apk,
    Python,
    Npm,
    Gem,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SortArg {
    Bytes,
    Name,
}

#[derive(Debug, Args)]
pub struct FootprintArgs {
    /// Image references (see below); an OCI layout without :REF means all of its images.
    #[arg(required = true, value_name = "REF")]
    pub refs: Vec<String>,
    /// Which size the SHARED, UNIQUE and FAIR columns show (JSON always has
    /// all three) [default: compressed; uncompressed when an image has no
    /// compressed size, as an engine's]
    #[arg(long, value_enum)]
    pub measure: Option<MeasureArg>,
    /// Registry images only: figures from manifests alone (compressed sizes), no blob download.
    #[arg(long)]
    pub shallow: bool,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The left family: references or registry globs.
    #[arg(required = true, value_name = "LEFT")]
    pub left: Vec<String>,
    /// The right family: references or registry globs.
    #[arg(long, required = true, num_args = 1.., value_name = "RIGHT")]
    pub vs: Vec<String>,
    /// The left family's label.
    #[arg(long, default_value = "left", value_name = "NAME")]
    pub left_name: String,
    /// The right family's label.
    #[arg(long, default_value = "right", value_name = "NAME")]
    pub right_name: String,
    /// The left family's base image [default: the longest layer prefix all its images share].
    #[arg(long, value_name = "REF")]
    pub left_base: Option<String>,
    /// The right family's base image [default: the longest layer prefix all its images share].
    #[arg(long, value_name = "REF")]
    pub right_base: Option<String>,
    /// Pair a left image with a right one by hand (names, tags or references).
    #[arg(long, value_name = "LEFT=RIGHT")]
    pub pair: Vec<String>,
    /// What a node pulls and stores to run exactly these images, per family.
    #[arg(long, value_name = "NAME,NAME…", value_delimiter = ',')]
    pub deploy: Vec<String>,
    /// Which size the tables show (JSON always has all three) [default:
    /// compressed; uncompressed when an image has no compressed size, as an engine's]
    #[arg(long, value_enum)]
    pub measure: Option<MeasureArg>,
    /// Registry images only: figures from manifests alone (compressed sizes), no blob download.
    #[arg(long)]
    pub shallow: bool,
    /// Also measure common content: bytes of regular files whose content
    /// appears in both families, and the directories holding them (reads every layer's index).
    #[arg(long)]
    pub common: bool,
}

#[derive(Debug, Args)]
pub struct Global {
    /// Output format (cyclonedx: CycloneDX 1.6, spdx: SPDX 2.3; SBOMs, `strata packages` only).
    #[arg(long, global = true, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Print raw byte counts instead of SI units.
    #[arg(long, global = true)]
    pub bytes: bool,
    /// Pick this platform from multi-platform images: OS/ARCH[/VARIANT]
    /// (linux/arm64/v8 = linux/arm64, as containerd reads it), `local` (the
    /// host's) or `all`; a single-platform image of another platform is then
    /// an error [default: the host's, and any single-platform image].
    #[arg(
        long,
        global = true,
        value_name = "OS/ARCH[/VARIANT]|local|all",
        conflicts_with = "all_platforms"
    )]
    pub platform: Option<String>,
    /// Analyse every platform of multi-platform images.
    #[arg(long, global = true)]
    pub all_platforms: bool,
    /// With docker-daemon:* or containers-storage:*, untagged (dangling) images too.
    #[arg(long, global = true)]
    pub all: bool,
    /// Read foreign (non-distributable) layers that are not at hand from the
    /// URLs their descriptors name (http and https only) [default: never
    /// fetched; their declared size is shown and their files are left out].
    #[arg(long, global = true)]
    pub fetch_foreign: bool,
    /// Layer index cache [default: $XDG_CACHE_HOME/strata].
    #[arg(long, global = true, value_name = "DIR", env = "STRATA_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Neither read nor write the layer index cache.
    #[arg(long, global = true)]
    pub no_cache: bool,
    /// A second cache tier shared by a team: docker://HOST/REPO (OCI
    /// artifacts in a registry repository) or file://DIR (a shared directory).
    /// Entries are signed and checked when STRATA_SHARED_CACHE_KEY is set.
    #[arg(long, global = true, value_name = "URL", env = "STRATA_SHARED_CACHE")]
    pub shared_cache: Option<String>,
    /// No progress bar.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Registry credentials.
    #[arg(
        long,
        global = true,
        value_name = "USER:PASS",
        env = "STRATA_CREDS",
        hide_env_values = true
    )]
    pub creds: Option<String>,
    /// Read USER:PASS registry credentials from this file.
    #[arg(long, global = true, value_name = "FILE", conflicts_with = "creds")]
    pub creds_file: Option<PathBuf>,
    /// Registry credentials in containers-auth.json format (what `skopeo login`
    /// and `podman login` write) [default: REGISTRY_AUTH_FILE, then containers'
    /// auth.json, then docker's config.json, as skopeo finds them].
    #[arg(long, global = true, value_name = "FILE")]
    pub authfile: Option<PathBuf>,
    /// Talk plain HTTP to this registry (loopback registries always use HTTP).
    #[arg(long, global = true, value_name = "HOST[:PORT]")]
    pub insecure_registry: Vec<String>,
    /// Longest wait on a registry: to connect, for the next byte, and for a
    /// whole manifest, config or listing with its retries (30, 30s, 2m, 500ms).
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s")]
    pub timeout: String,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Markdown,
    // One self-contained page: inline CSS and SVG charts, nothing loaded from anywhere.
    Html,
    // SBOMs (`packages` only): CycloneDX 1.6 JSON, SPDX 2.3 JSON.
    Cyclonedx,
    Spdx,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MeasureArg {
    Compressed,
    Uncompressed,
    Files,
}

pub fn parse() -> Cli {
    Cli::parse()
}
