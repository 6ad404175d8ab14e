//! Platforms: parsing `os/arch[/variant]`, the host default, and picking
//! manifests out of an image index.

use std::fmt;

use oci_spec::image::{Descriptor, ImageIndex};

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn parse(text: &str) -> Result<Platform> {
        let parts: Vec<&str> = text.split('/').collect();
        let bad = || Error::BadArgument {
            flag: "--platform",
            reason: format!("{text:?}: expected OS/ARCH[/VARIANT], e.g. linux/arm64"),
        };
        if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
            return Err(bad());
        }
        Ok(Platform {
            os: parts[0].to_owned(),
            arch: parts[1].to_owned(),
            variant: parts.get(2).map(|v| (*v).to_owned()),
        })
    }

    /// The machine strata runs on, in OCI's GOOS/GOARCH words.
    pub fn host() -> Platform {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            "loongarch64" => "loong64",
            other => other,
        };
        Platform {
            os: std::env::consts::OS.to_owned(),
            arch: arch.to_owned(),
            variant: None,
        }
    }

    fn of(desc: &Descriptor) -> Option<Platform> {
        let p = desc.platform().as_ref()?;
        Some(Platform {
            os: p.os().to_string(),
            arch: p.architecture().to_string(),
            variant: p.variant().clone(),
        })
    }

    fn matches(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.arch == other.arch
            && (self.variant.is_none() || self.variant == other.variant)
    }

    /// Attestation and other non-runnable manifests carry `unknown/unknown`.
    fn is_runnable(&self) -> bool {
        self.os != "unknown" && self.arch != "unknown"
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatformChoice {
    One(Platform),
    All,
}

/// The manifests of `index` that `choice` selects, with their platforms.
pub fn select<'i>(
    index: &'i ImageIndex,
    choice: &PlatformChoice,
    image: &str,
) -> Result<Vec<(&'i Descriptor, Option<Platform>)>> {
    let runnable: Vec<(&Descriptor, Option<Platform>)> = index
        .manifests()
        .iter()
        .map(|d| (d, Platform::of(d)))
        .filter(|(_, p)| p.as_ref().is_none_or(Platform::is_runnable))
        .collect();
    let picked: Vec<_> = match choice {
        PlatformChoice::All => runnable.clone(),
        PlatformChoice::One(wanted) => runnable
            .iter()
            .filter(|(_, p)| p.as_ref().is_some_and(|p| wanted.matches(p)))
            .take(1)
            .cloned()
            .collect(),
    };
    if picked.is_empty() {
        let available: Vec<String> = runnable
            .iter()
            .map(|(_, p)| {
                p.as_ref()
                    .map_or("unspecified".to_owned(), |p| p.to_string())
            })
            .collect();
        return Err(Error::PlatformNotFound {
            image: image.to_owned(),
            wanted: match choice {
                PlatformChoice::One(p) => p.to_string(),
                PlatformChoice::All => "any".to_owned(),
            },
            available: if available.is_empty() {
                "none".to_owned()
            } else {
                available.join(", ")
            },
        });
    }
    Ok(picked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_platforms() {
        let p = Platform::parse("linux/arm/v7").unwrap();
        assert_eq!(p.to_string(), "linux/arm/v7");
        assert!(Platform::parse("linux").is_err());
        assert!(Platform::parse("linux//").is_err());
    }

    #[test]
    fn variant_is_optional_when_matching() {
        let want = Platform::parse("linux/arm64").unwrap();
        assert!(want.matches(&Platform::parse("linux/arm64/v8").unwrap()));
        let want = Platform::parse("linux/arm/v7").unwrap();
        assert!(!want.matches(&Platform::parse("linux/arm/v6").unwrap()));
    }
}
