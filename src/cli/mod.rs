//! The command line (clap derive only; no I/O, no validation beyond syntax).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod cache;
mod help;

pub use cache::*;
use help::*;

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
