//! RubyGems: `specifications/NAME-VERSION[-PLATFORM].gemspec`; a gem owns
//! `gems/NAME-VERSION[-PLATFORM]/` beside its specifications directory.

use super::deps::{self, Deps};
use super::{capped, split, DbFile, Ecosystem, Found, Kept, Owns, Reader};
use crate::layer::capture::{self, Catalog};

#[derive(Default)]
pub struct Gem {
    packages: Vec<Found>,
}

/// The string of a `s.KEY = "value"` line of a gemspec.
fn assigned(line: &str, key: &str) -> Option<String> {
    let (lhs, rhs) = line.split_once('=')?;
    if !lhs
        .trim()
        .strip_suffix(key)
        .is_some_and(|l| l.ends_with('.'))
    {
        return None;
    }
    let rhs = rhs.trim();
    let quote = rhs.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rhs[1..];
    Some(capped(&rest[..rest.find(quote)?]))
}

impl Reader for Gem {
    fn catalog(&self) -> &'static Catalog {
        &capture::GEM
    }

    fn read(&mut self, file: DbFile<'_>, kept: &mut Kept, warn: &mut dyn FnMut(String)) {
        let (dir, base) = split(file.path);
        let stem = base.strip_suffix(".gemspec").unwrap_or(base);
        let root = split(dir).0;
        let text = String::from_utf8_lossy(file.content);
        let (mut name, mut version, mut platform) = (None, None, None);
        let mut deps = Deps {
            home: Some(dir.to_owned()),
            ..Deps::default()
        };
        for line in text.lines() {
            name = name.or_else(|| assigned(line, "name"));
            version = version.or_else(|| assigned(line, "version"));
            platform = platform.or_else(|| assigned(line, "platform"));
            if let Some(req) = deps::gem_requirement(line) {
                deps.require([req]);
            }
        }
        let (Some(name), Some(version)) = (name.filter(|n| !n.is_empty()), version) else {
            warn(format!("/{}: no name or version found; skipped", file.path));
            return;
        };
        let gem_dir = if root.is_empty() {
            format!("gems/{stem}")
        } else {
            format!("{root}/gems/{stem}")
        };
        let found = Found {
            ecosystem: Ecosystem::Gem,
            name,
            version,
            arch: platform.filter(|p| p != "ruby"),
            upstream: None,
            owns: Owns::Dir(gem_dir.into_bytes()),
            declared: None,
            layer: Some(file.layer),
            db_layer: file.layer,
            deps,
        };
        if kept.record(found.cost()) {
            self.packages.push(found);
        }
    }

    fn finish(self: Box<Self>, _kept: &Kept, _warn: &mut dyn FnMut(String)) -> Vec<Found> {
        self.packages
    }
}
