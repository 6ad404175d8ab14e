//! `strata fleet`: a whole registry's footprint, scanned by many workers over
//! Redis Streams. `plan` walks the registry's catalog and records each
//! image's layers in Redis, with one job per distinct layer the shared cache
//! lacks; `work` scans jobs through a consumer group and pushes each result
//! to the shared cache before acknowledging it; `report` reads the records
//! and the shared cache only (no layer blob); `status` counts the jobs;
//! `clear` removes the fleet's keys.

mod findings;
pub mod plan;
pub mod queue;
pub mod record;
pub mod report;
pub mod status;
mod view;
pub mod work;

pub use view::Cleared;

use std::time::Duration;

use crate::error::Error;

/// Where a fleet's queue is, and which fleet.
#[derive(Debug, Clone)]
pub struct QueueOptions {
    /// `redis://[USER:PASSWORD@]HOST[:PORT][/DB]`.
    pub url: String,
    /// The fleet's name: its keys are `strata:fleet:<NAME>:…`.
    pub name: String,
    /// The longest wait to connect and for any answer (`--timeout`).
    pub timeout: Duration,
}

impl QueueOptions {
    /// Checks `--queue` and `--name`.
    pub fn new(url: &str, name: &str, timeout: Duration) -> Result<QueueOptions, Error> {
        let bad = |flag, reason: String| Error::BadArgument { flag, reason };
        if !url.starts_with("redis://") {
            return Err(bad(
                "--queue",
                format!(
                    "{}: expected redis://HOST[:PORT][/DB]",
                    crate::error::clip(&shown(url))
                ),
            ));
        }
        if let Err(e) = redis::Client::open(url) {
            return Err(bad(
                "--queue",
                format!(
                    "{}: {}",
                    crate::error::clip(&shown(url)),
                    crate::error::clip(&e.to_string())
                ),
            ));
        }
        let name_ok = !name.is_empty()
            && name.len() <= 64
            && name.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            });
        if !name_ok {
            return Err(bad(
                "--name",
                format!(
                    "{}: expected 1 to 64 of a-z, 0-9, '.', '_' and '-'",
                    crate::error::clip(name)
                ),
            ));
        }
        Ok(QueueOptions {
            url: url.to_owned(),
            name: name.to_owned(),
            timeout,
        })
    }

    /// The queue as messages show it: never its password.
    pub fn shown(&self) -> String {
        shown(&self.url)
    }
}

/// `redis://user:secret@host/0` as `redis://user:***@host/0`.
fn shown(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split_once(':').map_or(user, |(u, _)| u);
            format!("{scheme}://{user}:***@{host}{}", &rest[authority_end..])
        }
        None => url.to_owned(),
    }
}

/// A `plan` argument: a registry host, a repository pattern and a tag
/// pattern (`*` within one path segment, `**` as the last segment any
/// depth; no tag: every tag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pub host: String,
    pub repositories: String,
    pub tags: String,
}

impl Glob {
    /// `[docker://]HOST/PATTERN[:TAG]`: `docker://reg.example/**` (every
    /// repository), `reg.example/team/*:*`, `reg.example/team/api:1.*`.
    pub fn parse(text: &str) -> Result<Glob, Error> {
        let bad = |reason: &str| Error::BadReference {
            reference: crate::error::clip(text),
            reason: reason.to_owned(),
        };
        let rest = text.strip_prefix("docker://").unwrap_or(text);
        let (host, path) = rest
            .split_once('/')
            .ok_or_else(|| bad("expected [docker://]HOST/REPOSITORY-PATTERN[:TAG-PATTERN]"))?;
        let host_ok = !host.is_empty()
            && (host.contains('.') || host.contains(':') || host == "localhost")
            && host.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
            });
        if !host_ok {
            return Err(bad(
                "the first part must be a registry host (with a dot, a port, or localhost)",
            ));
        }
        let (repositories, tags) = match path.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, t),
            _ => (path, "*"),
        };
        let repo_ok = !repositories.is_empty()
            && repositories.split('/').all(|s| {
                !s.is_empty()
                    && s.bytes().all(|b| {
                        b.is_ascii_lowercase()
                            || b.is_ascii_digit()
                            || matches!(b, b'.' | b'_' | b'-' | b'*')
                    })
            });
        let tag_ok = !tags.is_empty()
            && tags.len() <= 128
            && tags
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'*'));
        let stars_ok = repositories.split('/').enumerate().all(|(i, seg)| {
            !seg.contains("**") || (seg == "**" && i == repositories.split('/').count() - 1)
        });
        if !stars_ok {
            return Err(bad(
                "`**` may only be the last segment (any depth below it)",
            ));
        }
        if !repo_ok || !tag_ok || text.contains('@') {
            return Err(bad(
                "expected lowercase repository names and tags, with `*` as a wildcard and no digest",
            ));
        }
        Ok(Glob {
            host: host.to_owned(),
            repositories: repositories.to_owned(),
            tags: tags.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_name_a_host_a_repository_pattern_and_a_tag_pattern() {
        let g = Glob::parse("docker://127.0.0.1:5000/*").unwrap();
        assert_eq!(
            (g.host.as_str(), g.repositories.as_str(), g.tags.as_str()),
            ("127.0.0.1:5000", "*", "*")
        );
        assert_eq!(Glob::parse("reg.example/**").unwrap().repositories, "**");
        let g = Glob::parse("reg.example/team/*:1.*").unwrap();
        assert_eq!(
            (g.repositories.as_str(), g.tags.as_str()),
            ("team/*", "1.*")
        );
        for bad in [
            "",
            "reg.example",
            "team/*",
            "reg.example/Team/*",
            "reg.example//x",
            "reg.example/x@sha256:00",
            "reg.example/x:t/y",
            "reg.example/**/api",
            "reg.example/a**",
        ] {
            assert!(Glob::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_queue_is_shown_without_its_password_and_names_are_checked() {
        assert_eq!(
            shown("redis://u:hunter2@h:6379/0"),
            "redis://u:***@h:6379/0"
        );
        assert_eq!(shown("redis://:hunter2@h"), "redis://:***@h");
        assert_eq!(shown("redis://h:1/2"), "redis://h:1/2");
        let t = Duration::from_secs(1);
        assert!(QueueOptions::new("redis://127.0.0.1:6379/0", "ci", t).is_ok());
        let e = QueueOptions::new("http://u:hunter2@h", "ci", t).unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        for name in ["", "CI", "a b", "x:y", &"a".repeat(65)] {
            assert!(QueueOptions::new("redis://h", name, t).is_err(), "{name}");
        }
    }
}
