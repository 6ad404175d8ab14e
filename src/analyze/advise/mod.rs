//! Findings: what could go from an image, the bytes each fix saves and the
//! layer to blame, from one pass over the merged filesystem (path rules,
//! big and duplicate files, what later layers delete or overwrite) and the
//! package databases (dev and test tooling with what only it needs). The
//! rules are data (`rules`); a version two findings count is counted once
//! in the headline (`ImageAdvice::could_go`).

mod builder;
pub mod matcher;
pub mod rules;
mod screen;
mod spill;
pub mod tooling;

use serde::Serialize;

pub use builder::{AdviseBuilder, Built, MAX_FINDINGS};
pub use matcher::{ExtraRule, PathRules};
pub use spill::AllPaths;
pub use tooling::{ToolPlan, Tools};

use super::merged::{footer, index_error, merged};
use super::packages::{self, Ecosystem, Inventory, Kept, Plan};
use crate::image::Image;
use std::rc::Rc;

use crate::layer::PackageDb;
use crate::store::Indexes;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    DeletedLater,
    OverwrittenLater,
    MetadataOnlyCopy,
    PackageManagerLeftovers,
    DevTooling,
    BuildCache,
    TestFolder,
    BuildOnlyContent,
    DuplicateContent,
    BigFile,
    /// A kind a policy names (`[advise] extra`); the finding's subject is its name.
    Custom,
}

impl Kind {
    /// The kinds strata defines (a policy's own kinds are `Custom`).
    pub const ALL: [Kind; 10] = [
        Kind::DeletedLater,
        Kind::OverwrittenLater,
        Kind::MetadataOnlyCopy,
        Kind::PackageManagerLeftovers,
        Kind::DevTooling,
        Kind::BuildCache,
        Kind::TestFolder,
        Kind::BuildOnlyContent,
        Kind::DuplicateContent,
        Kind::BigFile,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::DeletedLater => "deleted later",
            Kind::OverwrittenLater => "overwritten later",
            Kind::MetadataOnlyCopy => "metadata-only copy",
            Kind::PackageManagerLeftovers => "package manager leftovers",
            Kind::DevTooling => "dev and test tooling",
            Kind::BuildCache => "build cache",
            Kind::TestFolder => "test folder",
            Kind::BuildOnlyContent => "build-only content",
            Kind::DuplicateContent => "duplicate content",
            Kind::BigFile => "big single file",
            Kind::Custom => "policy rule",
        }
    }

    /// The snake_case key JSON and policies use.
    pub fn key(self) -> &'static str {
        match self {
            Kind::DeletedLater => "deleted_later",
            Kind::OverwrittenLater => "overwritten_later",
            Kind::MetadataOnlyCopy => "metadata_only_copy",
            Kind::PackageManagerLeftovers => "package_manager_leftovers",
            Kind::DevTooling => "dev_tooling",
            Kind::BuildCache => "build_cache",
            Kind::TestFolder => "test_folder",
            Kind::BuildOnlyContent => "build_only_content",
            Kind::DuplicateContent => "duplicate_content",
            Kind::BigFile => "big_file",
            Kind::Custom => "custom",
        }
    }

    /// The kind a key (`big_file`) or a flag (`big-file`) names
    /// (`custom`: every kind a policy names).
    pub fn parse(text: &str) -> Option<Kind> {
        let key = text.replace('-', "_");
        Kind::ALL
            .into_iter()
            .chain([Kind::Custom])
            .find(|k| k.key() == key)
    }

    pub fn fix(self) -> &'static str {
        match self {
            Kind::DeletedLater => "delete in the step that creates the files, or copy only what is needed from a build stage (multi-stage build)",
            Kind::OverwrittenLater => "write the file once, in its final form, or build it in a separate stage and copy only the result",
            Kind::MetadataOnlyCopy => "set owner and mode where the files are created (COPY --chown/--chmod) instead of a later chown/chmod/touch",
            Kind::PackageManagerLeftovers => "clean the package manager's cache in the same RUN (apt-get clean && rm -rf /var/lib/apt/lists/*, apk --no-cache, pip --no-cache-dir, npm cache clean --force)",
            Kind::DevTooling => "install build and test tools in a build stage (or a -dev image) and leave them out of the runtime image; remove them with what only they need (apt-get purge --auto-remove, apk del, pip uninstall)",
            Kind::BuildCache => "mount the cache for the build (RUN --mount=type=cache) or build in a separate stage and copy only the artefacts",
            Kind::TestFolder => "leave the application's tests out of the runtime image (.dockerignore, or copy only what runs)",
            Kind::BuildOnlyContent => "build in a separate stage and copy only the runtime files; drop docs, headers and static libraries",
            Kind::DuplicateContent => "keep one copy (a hard link or a symlink), or copy the file once",
            Kind::BigFile => "check that the file is needed at runtime; fetch or mount it instead of baking it in",
            Kind::Custom => "a rule of the policy: remove what it names, or change the rule",
        }
    }
}

/// A path of a finding and the bytes it holds there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathBytes {
    pub path: String,
    pub bytes: u64,
}

/// A package a tooling finding frees.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FreedPackage {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    pub bytes: u64,
    /// 1-based layer that installed it.
    pub layer: usize,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub kind: Kind,
    /// What it is about within its kind: a rule's label (`go build cache`),
    /// a test folder (`/app/spec`), a tool (`deb/gcc`), a policy kind's name.
    pub subject: Option<String>,
    /// File bytes the fix saves.
    pub bytes: u64,
    pub files: u64,
    /// 1-based layer to blame (the one that wrote the bytes, or copied them again).
    pub layer: usize,
    /// Deleted or overwritten later: the 1-based layer that did it.
    pub later: Option<usize>,
    /// The first paths, in path order (`files` counts them all).
    pub paths: Vec<PathBytes>,
    /// Every path, when asked for (JSON).
    pub all_paths: Option<AllPaths>,
    /// Dev tooling: the packages it frees, the tool first.
    pub packages: Vec<FreedPackage>,
    id: u32,
}

/// How advise runs: the rules, and what to keep.
pub struct Settings {
    /// A single file from this size on is a finding (u64::MAX: never).
    pub big: u64,
    /// Kinds reported (empty: all); a policy's `off` kinds are never on.
    kinds: Vec<Kind>,
    off: Vec<Kind>,
    /// Paths kept per finding.
    pub keep: usize,
    /// Every path of every finding, spilled for JSON.
    pub all_paths: bool,
    pub rules: PathRules,
    pub tools: Tools,
}

impl Settings {
    /// `kinds`: the kinds to report (empty: all); `extra` and `off`: a policy's.
    pub fn new(
        big: u64,
        kinds: &[Kind],
        keep: usize,
        extra: &[ExtraRule],
        off: &[Kind],
    ) -> Result<Settings, globset::Error> {
        let mut disabled = off.to_vec();
        if !kinds.is_empty() {
            disabled.extend(
                Kind::ALL
                    .into_iter()
                    .chain([Kind::Custom])
                    .filter(|k| !kinds.contains(k)),
            );
        }
        Ok(Settings {
            big,
            kinds: kinds.to_vec(),
            off: off.to_vec(),
            keep,
            all_paths: false,
            rules: PathRules::new(extra, &disabled)?,
            tools: Tools::new(),
        })
    }

    pub fn enabled(&self, kind: Kind) -> bool {
        !self.off.contains(&kind) && (self.kinds.is_empty() || self.kinds.contains(&kind))
    }
}

/// One image's findings, biggest saving first.
#[derive(Debug)]
pub struct ImageAdvice {
    pub findings: Vec<Finding>,
    /// Sets of findings (by id) one version stands in, and its bytes.
    overlaps: Vec<(Vec<u32>, u64)>,
    /// False when the overlaps were capped: `could_go` is then an upper bound.
    pub overlaps_complete: bool,
    /// False when the dependency graph or its walk was capped.
    pub tooling_complete: bool,
}

impl ImageAdvice {
    /// The bytes the findings `shown` accepts save together, each version
    /// of each path once.
    pub fn could_go(&self, shown: impl Fn(&Finding) -> bool) -> u64 {
        let on: std::collections::HashSet<u32> = self
            .findings
            .iter()
            .filter(|f| shown(f))
            .map(|f| f.id)
            .collect();
        let sum: u64 = self
            .findings
            .iter()
            .filter(|f| on.contains(&f.id))
            .map(|f| f.bytes)
            .sum();
        let twice: u64 = self
            .overlaps
            .iter()
            .map(|(ids, bytes)| {
                let k = ids.iter().filter(|i| on.contains(i)).count() as u64;
                k.saturating_sub(1) * bytes
            })
            .sum();
        sum - twice.min(sum)
    }

    fn from_built(built: Built, tooling_complete: bool) -> ImageAdvice {
        let mut findings: Vec<Finding> = built
            .findings
            .into_iter()
            .filter(|f| f.bytes > 0 || !f.packages.is_empty())
            .collect();
        findings.sort_by(|a, b| {
            b.bytes
                .cmp(&a.bytes)
                .then(a.kind.cmp(&b.kind))
                .then(a.layer.cmp(&b.layer))
                .then(a.subject.cmp(&b.subject))
        });
        ImageAdvice {
            findings,
            overlaps: built.overlaps,
            overlaps_complete: built.overlaps_complete,
            tooling_complete,
        }
    }
}

/// Bytes of captured databases kept between planning and reading (past
/// it, a layer's footer is read again when its databases are read).
const FOOTERS_KEPT: usize = 64 << 20;

/// Each layer's captured databases, read once: the inventory planned from
/// them (and the layers' top-level links) before any pass, and the files
/// kept for the readers.
struct Footers<'a> {
    indexes: &'a Indexes<'a>,
    image: &'a Image,
    kept: Vec<Option<Rc<[PackageDb]>>>,
}

impl<'a> Footers<'a> {
    /// The footers, the plan they give, and whether the paths of their
    /// databases could name a dev tool (`screen`).
    fn read(
        indexes: &'a Indexes<'a>,
        image: &'a Image,
        tools: &Tools,
    ) -> anyhow::Result<(Footers<'a>, Plan, bool)> {
        let mut layers: Vec<(Vec<(String, u64)>, _)> = Vec::with_capacity(image.layers.len());
        let mut kept = Vec::with_capacity(image.layers.len());
        let mut bytes = 0usize;
        for i in 0..image.layers.len() {
            let footer = footer(indexes, image, i)?.unwrap_or_default();
            let paths = footer
                .package_dbs
                .iter()
                .map(|d| (d.path.clone(), d.size))
                .collect();
            layers.push((paths, footer.top_links));
            let size: usize = footer.package_dbs.iter().map(|d| d.content.len()).sum();
            bytes += size;
            kept.push((bytes <= FOOTERS_KEPT).then(|| footer.package_dbs.into()));
        }
        let footers = Footers {
            indexes,
            image,
            kept,
        };
        let paths = layers
            .iter()
            .flat_map(|(p, _)| p.iter().map(|(p, _)| p.as_str()));
        let could = screen::could_hold_a_tool(paths, tools);
        Ok((footers, Plan::guess(layers), could))
    }

    /// Layer `i`'s databases: those kept, else read again.
    fn get(&self, i: usize) -> anyhow::Result<Rc<[PackageDb]>> {
        match self.kept.get(i).and_then(Option::as_ref) {
            Some(dbs) => Ok(dbs.clone()),
            None => Ok(footer(self.indexes, self.image, i)?
                .map_or_else(Vec::new, |f| f.package_dbs)
                .into()),
        }
    }
}

/// What one pass of the merged filesystem finds; with `tooling`, each
/// file's owner is measured too; with `observe`, the inventory plan the
/// merged filesystem really gives.
fn pass(
    indexes: &Indexes,
    image: &Image,
    settings: &Settings,
    mut tooling: Option<(&mut packages::Measuring, &ToolPlan)>,
    observe: bool,
) -> anyhow::Result<(Built, Option<Plan>)> {
    let mut b = AdviseBuilder::new(settings).map_err(index_error)?;
    if let Some((_, plan)) = &tooling {
        b.tools(plan.findings.len());
    }
    let mut observed = observe.then(Plan::default);
    for node in merged(indexes, image)? {
        let node = node.map_err(index_error)?;
        let tool = match tooling.as_mut() {
            Some((m, plan)) => m
                .add(&node)
                .map_err(index_error)?
                .and_then(|p| plan.finding_of[p as usize]),
            None => None,
        };
        if let Some(o) = observed.as_mut() {
            o.add(&node);
        }
        b.add(&node, tool);
    }
    Ok((b.finish().map_err(index_error)?, observed))
}

/// The tool plan of a prepared inventory.
fn tool_plan(p: &packages::Prepared, tools: &Tools) -> ToolPlan {
    let pinned: Vec<bool> = p.found().iter().map(|f| f.deps.pinned).collect();
    let names: Vec<(Ecosystem, &str)> = p
        .found()
        .iter()
        .map(|f| (f.ecosystem, f.name.as_str()))
        .collect();
    let mut plan = tooling::plan(&names, p.graph(), p.dist_owner(), &pinned, tools);
    plan.complete &= p.graph().complete;
    plan
}

/// The findings of `image`: one pass of its merged filesystem, the package
/// inventory measured in the same pass when dev tools are installed (its
/// plan guessed from the layers' footers and checked as the pass goes; a
/// wrong guess costs a second pass).
pub fn advise_image(
    indexes: &Indexes,
    image: &Image,
    settings: &Settings,
    warn: &mut dyn FnMut(String),
) -> anyhow::Result<ImageAdvice> {
    let plain = |complete: bool| -> anyhow::Result<ImageAdvice> {
        let (built, _) = pass(indexes, image, settings, None, false)?;
        Ok(ImageAdvice::from_built(built, complete))
    };
    if !settings.enabled(Kind::DevTooling) {
        return plain(true);
    }
    let (footers, guess, could) = Footers::read(indexes, image, &settings.tools)?;
    if guess.is_empty() || !could {
        return plain(true);
    }
    // Read once without file claims, to find the tools; warnings about the
    // databases wait until the guess is known to hold.
    let mut held = Vec::new();
    let none = Kept::default().wanting(Vec::new());
    let prepared = packages::prepare(guess.clone(), none, |i| footers.get(i), &mut |w| {
        held.push(w)
    })?;
    let plan = tool_plan(&prepared, &settings.tools);
    if plan.is_empty() {
        // What really survives is a part of the guess: no tool there, none here.
        return plain(plan.complete);
    }
    // Read again keeping the claims of what the tools free alone: only their
    // files are matched in the pass.
    let wanted = Kept::default().wanting(prepared.lists_of(|i| plan.finding_of[i].is_some()));
    let prepared = packages::prepare(guess.clone(), wanted, |i| footers.get(i), &mut |_| {})?;
    let (advice, observed) = measured(indexes, image, settings, prepared, &plan, true)?;
    if observed.as_ref() == Some(&guess) {
        held.into_iter().for_each(&mut *warn);
        return Ok(advice);
    }
    // A later layer deleted a database or a link: plan from what the pass saw.
    let prepared = packages::prepare(
        observed.unwrap_or_default(),
        Kept::default(),
        |i| footers.get(i),
        warn,
    )?;
    let plan = tool_plan(&prepared, &settings.tools);
    if plan.is_empty() {
        return plain(plan.complete);
    }
    Ok(measured(indexes, image, settings, prepared, &plan, false)?.0)
}

/// A pass that measures the packages too: the advice with its tooling
/// findings, and (`observe`) the inventory plan the pass saw.
fn measured(
    indexes: &Indexes,
    image: &Image,
    settings: &Settings,
    prepared: packages::Prepared,
    plan: &ToolPlan,
    observe: bool,
) -> anyhow::Result<(ImageAdvice, Option<Plan>)> {
    let mut measuring = prepared.measuring()?;
    let (built, observed) = pass(
        indexes,
        image,
        settings,
        Some((&mut measuring, plan)),
        observe,
    )?;
    Ok((with_tooling(built, plan, &measuring.finish()), observed))
}

/// The tooling findings filled in from the measured inventory: the
/// packages each frees (those with bytes), their bytes, the tool's layer.
fn with_tooling(mut built: Built, plan: &ToolPlan, inventory: &Inventory) -> ImageAdvice {
    for (k, freed) in plan.findings.iter().enumerate() {
        let Some(f) = built.findings.get_mut(k) else {
            continue;
        };
        let mut packages: Vec<FreedPackage> = freed
            .packages
            .iter()
            .filter_map(|&p| inventory.packages.get(p as usize))
            .filter(|p| p.bytes > 0)
            .map(|p| FreedPackage {
                ecosystem: p.ecosystem,
                name: p.name.clone(),
                version: p.version.clone(),
                bytes: p.bytes,
                layer: p.layer + 1,
            })
            .collect();
        let tool = freed.tool.and_then(|t| inventory.packages.get(t as usize));
        // The tool first, then the biggest.
        let first = usize::from(tool.is_some_and(|t| t.bytes > 0)).min(packages.len());
        packages[first..].sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.name.cmp(&b.name)));
        f.bytes = packages.iter().map(|p| p.bytes).sum();
        f.files = freed
            .packages
            .iter()
            .filter_map(|&p| inventory.packages.get(p as usize))
            .map(|p| p.files)
            .sum();
        f.subject = Some(match tool {
            Some(t) => format!("{}/{}", t.ecosystem.name(), t.name),
            None => tooling::SHARED.to_owned(),
        });
        f.layer = match tool {
            Some(t) => t.layer + 1,
            None => packages.first().map_or(1, |p| p.layer),
        };
        f.packages = packages;
    }
    ImageAdvice::from_built(built, plan.complete)
}
