//! Turns the raw command line into a validated Config before any work starts.

use crate::analyze::rollup::MAX_DEPTH;
use crate::analyze::sizes::Measure;
use crate::cli::{
    CatArgs, Cli, Command as CliCommand, CompareArgs, DuArgs, ExportArgs, FormatArg, MeasureArg,
    PackagesArgs,
};
mod cache;

use crate::commands;
use crate::error::Error;
use crate::reference::Reference;
use crate::report::sbom::SbomFormat;
use crate::report::{Format, Style};
use crate::session::SessionOptions;
use crate::source::registry::{Credentials, RegistryOptions};
use crate::source::{Platform, PlatformChoice, SourceOptions};
use cache::{cache_args, fleet_args, parse_timeout, shared_cache};

#[derive(Debug)]
pub struct Config {
    pub command: Command,
    /// What the run's session is built from.
    pub session: SessionOptions,
}

/// The command to run, with its arguments validated.
#[derive(Debug)]
pub enum Command {
    Footprint(commands::footprint::Args),
    Compare(commands::compare::Args),
    Du(commands::du::Args),
    Layers(commands::layers::Args),
    Audit(commands::audit::Args),
    Diff(commands::diff::Args),
    Gate(commands::gate::Args),
    Packages(commands::packages::Args),
    Advise(commands::advise::Args),
    Cache(commands::cache::Args),
    Cat(commands::cat::Args),
    Export(commands::export::Args),
    History(commands::history::Args),
    Fleet(commands::fleet::Args),
    Explore(commands::explore::Args),
}

impl Config {
    pub fn from_cli(cli: Cli) -> anyhow::Result<Config> {
        let g = cli.global;
        let platform = if g.all_platforms {
            PlatformChoice::All
        } else {
            match &g.platform {
                Some(p) => PlatformChoice::parse(p)?,
                None => PlatformChoice::One(Platform::host()),
            }
        };
        let credentials = match (&g.creds, &g.creds_file) {
            (Some(c), _) => Some(Credentials::parse(c)?),
            (None, Some(file)) => Some(Credentials::from_file(file)?),
            (None, None) => None,
        };
        if let Some(file) = &g.authfile {
            if !file.is_file() {
                anyhow::bail!("--authfile {}: no such file", file.display());
            }
        }
        let cache_dir = if g.no_cache {
            None
        } else {
            g.cache_dir
                .clone()
                .or_else(|| dirs::cache_dir().map(|d| d.join("strata")))
        };
        let shared_cache = shared_cache(g.shared_cache.as_deref())?;
        let (command, shallow) = match cli.command {
            CliCommand::Footprint(args) => {
                let measure = measure_of(args.measure, args.shallow)?;
                let refs = parse_refs(&args.refs)?;
                (
                    Command::Footprint(commands::footprint::Args { refs, measure }),
                    args.shallow,
                )
            }
            CliCommand::Compare(args) => {
                let shallow = args.shallow;
                (Command::Compare(compare_args(args)?), shallow)
            }
            CliCommand::Du(args) => (Command::Du(du_args(args)?), false),
            CliCommand::Advise(args) => {
                use crate::analyze::advise::Kind;
                let size = |flag: &'static str, text: &str| {
                    crate::units::parse_size(text).ok_or_else(|| Error::BadArgument {
                        flag,
                        reason: format!(
                            "{}: expected a size such as 100MB",
                            crate::error::clip(text)
                        ),
                    })
                };
                let mut kinds = Vec::new();
                for k in &args.kind {
                    let found = Kind::parse(k);
                    kinds.push(found.ok_or_else(|| Error::BadArgument {
                        flag: "--kind",
                        reason: format!("{}: unknown kind", crate::error::clip(k)),
                    })?);
                }
                (
                    Command::Advise(commands::advise::Args {
                        refs: parse_refs(&args.refs)?,
                        big: size("--big", &args.big)?,
                        min_bytes: size("--min-bytes", &args.min_bytes)?,
                        kinds,
                        top: args.top.max(1),
                        policy: args.policy.clone(),
                    }),
                    false,
                )
            }
            CliCommand::Gate(args) => {
                if args.policy.is_none() && args.write_baseline.is_none() {
                    return Err(Error::BadArgument {
                        flag: "--policy",
                        reason: "give a policy to check, or --write-baseline FILE to record one"
                            .into(),
                    }
                    .into());
                }
                (
                    Command::Gate(commands::gate::Args {
                        refs: parse_refs(&args.refs)?,
                        policy: args.policy,
                        baseline: args.baseline,
                        write_baseline: args.write_baseline,
                        junit: args.junit,
                    }),
                    false,
                )
            }
            CliCommand::Diff(args) => {
                let mut layers = args.only.is_empty();
                let mut files = args.only.is_empty();
                let mut packages = args.only.is_empty();
                for section in &args.only {
                    match section.as_str() {
                        "layers" => layers = true,
                        "files" => files = true,
                        "packages" => packages = true,
                        other => {
                            return Err(Error::BadArgument {
                                flag: "--only",
                                reason: format!(
                                    "{}: expected layers, files or packages",
                                    crate::error::clip(other)
                                ),
                            }
                            .into())
                        }
                    }
                }
                (
                    Command::Diff(commands::diff::Args {
                        base: Reference::parse(&args.base)?,
                        target: Reference::parse(&args.target)?,
                        layers,
                        files,
                        packages,
                        depth: args.depth.min(MAX_DEPTH),
                        top: args.top.max(1),
                        exit_code: args.exit_code,
                    }),
                    false,
                )
            }
            CliCommand::Audit(args) => (
                Command::Audit(commands::audit::Args {
                    reference: Reference::parse(&args.reference)?,
                    layer: layer_choice(&args.layer)?,
                    depth: args.depth.min(MAX_DEPTH),
                    top: args.top.max(1),
                }),
                false,
            ),
            CliCommand::Layers(args) => (
                Command::Layers(commands::layers::Args {
                    reference: Reference::parse(&args.reference)?,
                    top: args.top,
                }),
                false,
            ),
            CliCommand::Packages(args) => {
                let mut args = packages_args(args)?;
                args.sbom = match g.format {
                    FormatArg::Cyclonedx => Some(SbomFormat::CycloneDx),
                    FormatArg::Spdx => Some(SbomFormat::Spdx),
                    _ => None,
                };
                (Command::Packages(args), false)
            }
            CliCommand::Cat(args) => (Command::Cat(cat_args(args)?), false),
            CliCommand::Export(args) => (Command::Export(export_args(args)?), false),
            CliCommand::History(args) => (
                Command::History(commands::history::Args {
                    targets: args
                        .refs
                        .iter()
                        .map(|r| commands::history::Target::parse(r))
                        .collect::<anyhow::Result<_>>()?,
                    policy: args.policy,
                }),
                args.shallow,
            ),
            CliCommand::Explore(args) => (
                Command::Explore(commands::explore::Args {
                    reference: Reference::parse(&args.reference)?,
                }),
                false,
            ),
            CliCommand::Cache(action) => (Command::Cache(cache_args(action, &cache_dir)?), false),
            CliCommand::Fleet(action) => (Command::Fleet(fleet_args(action, &g.timeout)?), false),
            // Generators: written by commands::completions before any config.
            CliCommand::Completions { .. } | CliCommand::Man { .. } => {
                anyhow::bail!("completions and man need no configuration")
            }
        };
        let sbom_format = matches!(g.format, FormatArg::Cyclonedx | FormatArg::Spdx);
        if sbom_format && !matches!(command, Command::Packages(_)) {
            return Err(Error::BadArgument {
                flag: "--format",
                reason: "cyclonedx and spdx are SBOMs: only `strata packages` writes them".into(),
            }
            .into());
        }
        Ok(Config {
            command,
            session: SessionOptions {
                source: SourceOptions {
                    platform,
                    registry: RegistryOptions {
                        credentials,
                        insecure: g.insecure_registry.clone(),
                        timeout: parse_timeout(&g.timeout)?,
                    },
                    shallow,
                    configs: None,
                    authfile: g.authfile.clone(),
                    all: g.all,
                    fetch_foreign: g.fetch_foreign,
                },
                cache_dir,
                shared_cache,
                quiet: g.quiet,
                format: match g.format {
                    FormatArg::Table => Format::Table,
                    // An SBOM is JSON; `packages` writes it (checked above).
                    FormatArg::Json | FormatArg::Cyclonedx | FormatArg::Spdx => Format::Json,
                    FormatArg::Markdown => Format::Markdown,
                    FormatArg::Html => Format::Html,
                },
                style: Style { raw_bytes: g.bytes },
            },
        })
    }
}

pub(super) fn parse_refs(refs: &[String]) -> anyhow::Result<Vec<Reference>> {
    Ok(refs
        .iter()
        .map(|r| Reference::parse(r))
        .collect::<Result<_, _>>()?)
}

/// `--measure`; None: the default (compressed, or uncompressed when an
/// image has no compressed size), chosen once the images are known.
fn measure_of(arg: Option<MeasureArg>, shallow: bool) -> anyhow::Result<Option<Measure>> {
    let measure = arg.map(|arg| match arg {
        MeasureArg::Compressed => Measure::Compressed,
        MeasureArg::Uncompressed => Measure::Uncompressed,
        MeasureArg::Files => Measure::Files,
    });
    if let Some(m) = measure.filter(|m| shallow && *m != Measure::Compressed) {
        anyhow::bail!(
            "--shallow knows compressed sizes only: drop --measure {}",
            m.name()
        );
    }
    Ok(measure)
}

fn compare_args(args: CompareArgs) -> anyhow::Result<commands::compare::Args> {
    let measure = measure_of(args.measure, args.shallow)?;
    if args.common && args.shallow {
        return Err(Error::BadArgument {
            flag: "--common",
            reason: "reads every layer's files: drop --shallow".into(),
        }
        .into());
    }
    let label = |flag: &'static str, name: String| {
        if name.trim().is_empty() {
            Err(Error::BadArgument {
                flag,
                reason: "a family needs a non-empty name".into(),
            })
        } else {
            Ok(name)
        }
    };
    let (left_name, right_name) = (
        label("--left-name", args.left_name)?,
        label("--right-name", args.right_name)?,
    );
    if left_name == right_name {
        return Err(Error::BadArgument {
            flag: "--right-name",
            reason: format!(
                "{}: the two families need different names",
                crate::error::clip(&right_name)
            ),
        }
        .into());
    }
    let pairs = args
        .pair
        .iter()
        .map(|p| match p.split_once('=') {
            Some((a, b)) if !a.is_empty() && !b.is_empty() => Ok((a.to_owned(), b.to_owned())),
            _ => Err(Error::BadArgument {
                flag: "--pair",
                reason: format!("{}: expected LEFT=RIGHT", crate::error::clip(p)),
            }),
        })
        .collect::<Result<_, _>>()?;
    let deploy: Vec<String> = args
        .deploy
        .iter()
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty())
        .collect();
    if !args.deploy.is_empty() && deploy.is_empty() {
        return Err(Error::BadArgument {
            flag: "--deploy",
            reason: "expected NAME,NAME…".into(),
        }
        .into());
    }
    let base = |r: &Option<String>| r.as_deref().map(Reference::parse).transpose();
    Ok(commands::compare::Args {
        left: commands::compare::Side {
            name: left_name,
            refs: parse_refs(&args.left)?,
            base: base(&args.left_base)?,
        },
        right: commands::compare::Side {
            name: right_name,
            refs: parse_refs(&args.vs)?,
            base: base(&args.right_base)?,
        },
        pairs,
        deploy,
        measure,
        common: args.common,
    })
}

/// `--layer N|sha256:…`
fn layer_choice(text: &str) -> anyhow::Result<commands::LayerChoice> {
    use commands::LayerChoice;
    Ok(match text.parse::<usize>() {
        Ok(n) => LayerChoice::Position(n),
        Err(_) if text.starts_with("sha256:") || text.starts_with("sha512:") => {
            LayerChoice::Digest(text.to_owned())
        }
        Err(_) => {
            return Err(Error::BadArgument {
                flag: "--layer",
                reason: format!(
                    "{}: expected a position from 1 or a digest (sha256:…)",
                    crate::error::clip(text)
                ),
            }
            .into())
        }
    })
}

/// A path in an image, as PATH gives it: relative to the root, clean.
fn path_arg(text: &str) -> anyhow::Result<Vec<u8>> {
    let relative = text.trim_start_matches('/');
    Ok(
        crate::layer::walk::clean_path(relative.as_bytes(), "PATH").map_err(|_| {
            Error::BadArgument {
                flag: "PATH",
                reason: format!(
                    "{}: expected a path such as /usr/lib",
                    crate::error::clip(text)
                ),
            }
        })?,
    )
}

fn cat_args(args: CatArgs) -> anyhow::Result<commands::cat::Args> {
    Ok(commands::cat::Args {
        reference: Reference::parse(&args.reference)?,
        // As a container reads it: `..` after a link goes where the link led.
        path: args.path.trim_start_matches('/').as_bytes().to_vec(),
        layer: args.layer.as_deref().map(layer_choice).transpose()?,
        force: args.force,
    })
}

fn export_args(args: ExportArgs) -> anyhow::Result<commands::export::Args> {
    use commands::export::Output;
    let output = match args.output.as_os_str().as_encoded_bytes() {
        b"-" => Output::Stdout,
        b"" => {
            return Err(Error::BadArgument {
                flag: "--output",
                reason: "an empty file name".into(),
            }
            .into())
        }
        _ => Output::File(args.output),
    };
    Ok(commands::export::Args {
        reference: Reference::parse(&args.reference)?,
        output,
        layer: args.layer.as_deref().map(layer_choice).transpose()?,
    })
}

fn du_args(args: DuArgs) -> anyhow::Result<commands::du::Args> {
    let layer = args.layer.as_deref().map(layer_choice).transpose()?;
    let path = path_arg(&args.path)?;
    Ok(commands::du::Args {
        reference: Reference::parse(&args.reference)?,
        path,
        depth: args.depth.min(MAX_DEPTH),
        top: args.top.max(1),
        layer,
    })
}

fn packages_args(args: PackagesArgs) -> anyhow::Result<commands::packages::Args> {
    use crate::analyze::packages::Ecosystem;
    use crate::cli::{EcosystemArg, SortArg};
    let mut ecosystems: Vec<Ecosystem> = args
        .ecosystem
        .iter()
        .map(|e| match e {
            EcosystemArg::Deb => Ecosystem::Deb,
            EcosystemArg::Rpm => Ecosystem::Rpm,
            EcosystemArg::Apk => Ecosystem::Apk,
            EcosystemArg::Python => Ecosystem::Python,
            EcosystemArg::Npm => Ecosystem::Npm,
            EcosystemArg::Gem => Ecosystem::Gem,
        })
        .collect();
    ecosystems.sort();
    ecosystems.dedup();
    Ok(commands::packages::Args {
        reference: Reference::parse(&args.reference)?,
        ecosystems,
        sort: match args.sort {
            SortArg::Bytes => commands::packages::SortBy::Bytes,
            SortArg::Name => commands::packages::SortBy::Name,
        },
        sbom: None,
    })
}
