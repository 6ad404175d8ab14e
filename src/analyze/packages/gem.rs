//! RubyGems: `specifications/NAME-VERSION[-PLATFORM].gemspec`; a gem owns
//! `gems/NAME-VERSION[-PLATFORM]/` beside its specifications directory.

use super::{split, DbFile, Ecosystem, Found, Owns, Reader};

#[derive(Default)]
pub struct Gem {
    packages: Vec<Found>,
}

/// The string of a `s.KEY = "value"` line of a gemspec.
fn assigned(line: &str, key: &str) -> Option<String> {
    let (lhs, rhs) = line.split_once('=')?;
    if !lhs.trim().ends_with(&format!(".{key}")) {
        return None;
    }
    let rhs = rhs.trim();
    let quote = rhs.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = &rhs[1..];
    Some(rest[..rest.find(quote)?].to_owned())
}

impl Reader for Gem {
    fn wants(&self, path: &str) -> bool {
        path.ends_with(".gemspec")
    }

    fn read(&mut self, file: DbFile<'_>, warn: &mut dyn FnMut(String)) {
        let (dir, base) = split(file.path);
        let stem = base.strip_suffix(".gemspec").unwrap_or(base);
        let root = split(dir).0;
        let text = String::from_utf8_lossy(file.content);
        let (mut name, mut version, mut platform) = (None, None, None);
        for line in text.lines() {
            name = name.or_else(|| assigned(line, "name"));
            version = version.or_else(|| assigned(line, "version"));
            platform = platform.or_else(|| assigned(line, "platform"));
        }
        let (Some(name), Some(version)) = (name, version) else {
            warn(format!("/{}: no name or version found; skipped", file.path));
            return;
        };
        let gem_dir = if root.is_empty() {
            format!("gems/{stem}")
        } else {
            format!("{root}/gems/{stem}")
        };
        self.packages.push(Found {
            ecosystem: Ecosystem::Gem,
            name,
            version,
            arch: platform.filter(|p| p != "ruby"),
            owns: Owns::Dir(gem_dir.into_bytes()),
            declared: None,
            layer: Some(file.layer),
            db_layer: file.layer,
        });
    }

    fn finish(self: Box<Self>, _warn: &mut dyn FnMut(String)) -> Vec<Found> {
        self.packages
    }
}
