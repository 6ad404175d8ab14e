//! The cache's and the fleet's part of the configuration: the shared
//! cache and its key, `strata cache …` and `strata fleet …`, and the
//! durations their flags take.

use super::parse_refs;
use crate::commands;
use crate::error::Error;
use crate::session::SharedOptions;
use crate::store::shared::{Key, Location};

/// `--shared-cache` / `STRATA_SHARED_CACHE`, and `STRATA_SHARED_CACHE_KEY`
/// (an environment variable only: a secret on a command line is seen by
/// every user of the machine).
pub(super) fn shared_cache(text: Option<&str>) -> anyhow::Result<Option<SharedOptions>> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let location = Location::parse(text).map_err(|reason| Error::BadArgument {
        flag: "--shared-cache",
        reason: format!("{}: {reason}", crate::error::clip(text)),
    })?;
    let key = match std::env::var_os("STRATA_SHARED_CACHE_KEY") {
        None => None,
        Some(k) if k.len() < MIN_KEY => {
            return Err(Error::BadArgument {
                flag: "STRATA_SHARED_CACHE_KEY",
                reason: format!(
                    "shorter than {MIN_KEY} bytes; use a random secret (openssl rand -hex 32)"
                ),
            }
            .into())
        }
        Some(k) => Some(Key::new(k.into_encoded_bytes())),
    };
    Ok(Some(SharedOptions { location, key }))
}

/// The shortest STRATA_SHARED_CACHE_KEY accepted.
const MIN_KEY: usize = 16;

pub(super) fn cache_args(
    action: crate::cli::CacheCommand,
    dir: &Option<std::path::PathBuf>,
) -> anyhow::Result<commands::cache::Args> {
    use crate::cli::CacheCommand;
    use commands::cache::Action;
    let Some(dir) = dir.clone() else {
        return Err(Error::BadArgument {
            flag: "--no-cache",
            reason: "strata cache works on the cache directory: drop --no-cache".into(),
        }
        .into());
    };
    let action = match action {
        CacheCommand::Du => Action::Du,
        CacheCommand::Path => Action::Path,
        CacheCommand::Push(r) => Action::Push {
            refs: parse_refs(&r.refs)?,
        },
        CacheCommand::Pull(r) => Action::Pull {
            refs: parse_refs(&r.refs)?,
        },
        CacheCommand::Prune(p) => Action::Prune {
            older_than: p.older_than.as_deref().map(parse_age).transpose()?,
            max_size: p
                .max_size
                .as_deref()
                .map(|text| {
                    crate::units::parse_size(text).ok_or_else(|| Error::BadArgument {
                        flag: "--max-size",
                        reason: format!(
                            "{}: expected a size such as 2GB",
                            crate::error::clip(text)
                        ),
                    })
                })
                .transpose()?,
        },
    };
    Ok(commands::cache::Args { dir, action })
}

/// `--older-than`: a number with s, m, h, d or w (90m, 12h, 30d, 2w).
pub(super) fn parse_age(text: &str) -> Result<std::time::Duration, Error> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let secs: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => 0,
    };
    match number.parse::<u64>() {
        Ok(n) if secs > 0 => Ok(std::time::Duration::from_secs(n.saturating_mul(secs))),
        _ => Err(Error::BadArgument {
            flag: "--older-than",
            reason: format!(
                "{}: expected an age such as 30d, 12h or 90m",
                crate::error::clip(text)
            ),
        }),
    }
}

/// `strata fleet …`: the queue, and the step's own options.
pub(super) fn fleet_args(
    action: crate::cli::FleetCommand,
    timeout: &str,
) -> anyhow::Result<commands::fleet::Args> {
    use crate::cli::FleetCommand;
    use commands::fleet::Action;
    let queue = |q: &crate::cli::FleetQueueArgs| {
        crate::fleet::QueueOptions::new(&q.queue, &q.name, parse_timeout(timeout)?)
    };
    let (queue, action) = match action {
        FleetCommand::Plan(a) => (
            queue(&a.queue)?,
            Action::Plan {
                globs: a
                    .globs
                    .iter()
                    .map(|g| crate::fleet::Glob::parse(g))
                    .collect::<Result<_, _>>()?,
            },
        ),
        FleetCommand::Work(a) => {
            let name_ok = |n: &str| {
                !n.is_empty()
                    && n.len() <= 128
                    && n.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
            };
            for (flag, n) in [
                ("--group", Some(&a.group)),
                ("--consumer", a.consumer.as_ref()),
            ] {
                if n.is_some_and(|n| !name_ok(n)) {
                    return Err(Error::BadArgument {
                        flag,
                        reason: "expected 1 to 128 of A-Z, a-z, 0-9, '.', '_' and '-'".into(),
                    }
                    .into());
                }
            }
            if a.attempts == 0 {
                return Err(Error::BadArgument {
                    flag: "--attempts",
                    reason: "a job needs at least one attempt".into(),
                }
                .into());
            }
            (
                queue(&a.queue)?,
                Action::Work(crate::fleet::work::WorkOptions {
                    group: a.group,
                    consumer: a.consumer,
                    until_empty: a.until_empty,
                    claim_after: parse_duration("--claim-after", &a.claim_after)?,
                    attempts: a.attempts,
                }),
            )
        }
        FleetCommand::Report(a) => (queue(&a.queue)?, Action::Report { top: a.top.max(1) }),
        FleetCommand::Status(q) => (queue(&q)?, Action::Status),
        FleetCommand::Clear(q) => (queue(&q)?, Action::Clear),
    };
    Ok(commands::fleet::Args { queue, action })
}

/// `--timeout`: seconds, or a number with `ms`, `s` or `m`; more than zero,
/// at most an hour.
pub(super) fn parse_timeout(text: &str) -> Result<std::time::Duration, crate::error::Error> {
    parse_duration("--timeout", text)
}

/// A duration flag: seconds, or a number with `ms`, `s` or `m`; more than
/// zero, at most an hour.
pub(super) fn parse_duration(
    flag: &'static str,
    text: &str,
) -> Result<std::time::Duration, crate::error::Error> {
    let bad = |reason: &str| crate::error::Error::BadArgument {
        flag,
        reason: format!("{}: {reason}", crate::error::clip(text)),
    };
    let (number, unit_ms) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000)
    } else if let Some(n) = text.strip_suffix('m') {
        (n, 60_000)
    } else {
        (text, 1000)
    };
    let n: u64 = number
        .parse()
        .map_err(|_| bad("expected seconds, or a number with ms, s or m (e.g. 30s, 2m)"))?;
    let ms = n.saturating_mul(unit_ms);
    if ms == 0 || ms > 3_600_000 {
        return Err(bad("must be more than 0 and at most 1 hour"));
    }
    Ok(std::time::Duration::from_millis(ms))
}
