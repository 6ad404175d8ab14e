//! npm: every `node_modules/NAME/package.json` (and `@scope/NAME`); a
//! package owns its directory, less the nested packages below it.

use serde::Deserialize;

use super::deps::Deps;
use super::{capped, split, DbFile, Ecosystem, Found, Kept, Owns, Reader};
use crate::layer::capture::{self, Catalog};

#[derive(Default)]
pub struct Npm {
    packages: Vec<Found>,
}

#[derive(Deserialize)]
struct Manifest {
    name: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
    /// What npm installs with it (peers and optional ones too, when present).
    dependencies: Option<serde_json::Value>,
    #[serde(rename = "optionalDependencies")]
    optional: Option<serde_json::Value>,
    #[serde(rename = "peerDependencies")]
    peer: Option<serde_json::Value>,
}

impl Reader for Npm {
    fn catalog(&self) -> &'static Catalog {
        &capture::NPM
    }

    fn read(&mut self, file: DbFile<'_>, kept: &mut Kept, warn: &mut dyn FnMut(String)) {
        let dir = split(file.path).0;
        let manifest: Manifest = match serde_json::from_slice(file.content) {
            Ok(m) => m,
            Err(e) => {
                warn(format!(
                    "/{}: not a valid package.json (line {}, column {}); skipped",
                    file.path,
                    e.line(),
                    e.column()
                ));
                return;
            }
        };
        let text = |v: Option<serde_json::Value>| match v {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(capped(&s)),
            _ => None,
        };
        // The directory name after node_modules/ is what require() resolves.
        let fallback = dir
            .rsplit_once("node_modules/")
            .map_or(dir, |(_, name)| name);
        let mut deps = Deps {
            home: Some(dir.to_owned()),
            ..Deps::default()
        };
        for field in [&manifest.dependencies, &manifest.optional, &manifest.peer] {
            if let Some(serde_json::Value::Object(map)) = field {
                for name in map.keys() {
                    deps.require([name.as_str()]);
                }
            }
        }
        let found = Found {
            ecosystem: Ecosystem::Npm,
            name: text(manifest.name).unwrap_or_else(|| capped(fallback)),
            version: text(manifest.version).unwrap_or_default(),
            arch: None,
            upstream: None,
            owns: Owns::Dir(dir.as_bytes().to_vec()),
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
