//! Whether an image could hold a dev tool, read off the paths of its
//! captured package database files before any is parsed: most databases
//! name their package in their path (a dpkg file list, a Python dist-info,
//! an npm package directory, a gemspec). Only a database whose path names
//! no package (apk's and rpm's, a dpkg status without file lists) has to be
//! read to know. A necessary test: the inventory decides.

use super::tooling::Tools;
use crate::analyze::packages::deps::pep503;
use crate::analyze::packages::Ecosystem;

const DPKG_INFO: &str = "var/lib/dpkg/info/";
const DPKG_STATUS_D: &str = "var/lib/dpkg/status.d/";

/// The package a database path names, if it names one.
fn named(path: &str) -> Option<(Ecosystem, String)> {
    let (dir, base) = path.rsplit_once('/').unwrap_or(("", path));
    if let Some(list) = path
        .strip_prefix(DPKG_INFO)
        .and_then(|n| n.strip_suffix(".list"))
    {
        return Some((Ecosystem::Deb, list.split(':').next()?.to_owned()));
    }
    if let Some(name) = path.strip_prefix(DPKG_STATUS_D) {
        let name = name.strip_suffix(".md5sums").unwrap_or(name);
        return Some((Ecosystem::Deb, name.to_owned()));
    }
    if base == "package.json" {
        let (_, name) = dir.rsplit_once("node_modules/")?;
        return Some((Ecosystem::Npm, name.to_owned()));
    }
    if let Some(stem) = base.strip_suffix(".gemspec") {
        // NAME-VERSION[-PLATFORM]: the name ends before the first `-` and a digit.
        let end = stem
            .match_indices('-')
            .find(|(i, _)| stem[i + 1..].starts_with(|c: char| c.is_ascii_digit()))
            .map_or(stem.len(), |(i, _)| i);
        return Some((Ecosystem::Gem, stem[..end].to_owned()));
    }
    let dist = [".dist-info", ".egg-info"].iter().find_map(|s| {
        let d = if base.ends_with(s) {
            base
        } else {
            dir.rsplit('/').next()?
        };
        d.strip_suffix(s)
    })?;
    Some((Ecosystem::Python, pep503(dist.split('-').next()?)))
}

/// Whether the captured database files at `paths` could hold a dev tool.
pub fn could_hold_a_tool<'a>(paths: impl Iterator<Item = &'a str> + Clone, tools: &Tools) -> bool {
    let lists = paths
        .clone()
        .any(|p| p.starts_with(DPKG_INFO) && p.ends_with(".list"));
    paths.into_iter().any(|p| {
        let may = match named(p) {
            Some((ecosystem, name)) => tools.is_tool(ecosystem, &name),
            // apk's and rpm's databases; dpkg's status counts only when no
            // file list names its packages.
            None => p != "var/lib/dpkg/status" || !lists,
        };
        may && !p.ends_with("os-release")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_packages() {
        let n = |p: &str| named(p).map(|(e, n)| (e.name(), n));
        let some = |e: &'static str, n: &str| Some((e, n.to_owned()));
        assert_eq!(
            n("var/lib/dpkg/info/gcc-12:amd64.list"),
            some("deb", "gcc-12")
        );
        assert_eq!(n("var/lib/dpkg/status.d/gdb.md5sums"), some("deb", "gdb"));
        assert_eq!(
            n("app/node_modules/@babel/core/package.json"),
            some("npm", "@babel/core")
        );
        assert_eq!(
            n("usr/local/bundle/specifications/rspec-core-3.12.0.gemspec"),
            some("gem", "rspec-core")
        );
        assert_eq!(
            n("srv/site/Pytest_Cov-4.1.0.dist-info/METADATA"),
            some("python", "pytest-cov")
        );
        assert_eq!(
            n("usr/lib/python3/dist-packages/yaml-6.egg-info"),
            some("python", "yaml")
        );
        assert_eq!(n("lib/apk/db/installed"), None);
    }

    #[test]
    fn an_image_without_a_tool_named_in_its_database_paths_needs_no_parse() {
        let tools = Tools::new();
        let slim = [
            "etc/os-release",
            "var/lib/dpkg/status",
            "var/lib/dpkg/info/libc6:amd64.list",
            "var/lib/dpkg/info/bash.list",
        ];
        assert!(!could_hold_a_tool(slim.iter().copied(), &tools));
        let dev = ["var/lib/dpkg/status", "var/lib/dpkg/info/gcc.list"];
        assert!(could_hold_a_tool(dev.iter().copied(), &tools));
        let no_lists = ["var/lib/dpkg/status"];
        assert!(could_hold_a_tool(no_lists.iter().copied(), &tools));
        assert!(could_hold_a_tool(
            ["lib/apk/db/installed"].iter().copied(),
            &tools
        ));
        assert!(!could_hold_a_tool(
            ["etc/os-release"].iter().copied(),
            &tools
        ));
    }
}
