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
    /// `os/arch[/variant]`, normalised as containerd does (`aarch64` is
    /// `arm64`, `arm64/v8` is `arm64`, `armhf` is `arm/v7`, …).
    pub fn parse(text: &str) -> Result<Platform> {
        Platform::parse_raw(text).map(Platform::normalised)
    }

    fn parse_raw(text: &str) -> Result<Platform> {
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

    fn normalised(self) -> Platform {
        let os = self.os.to_ascii_lowercase();
        let arch = self.arch.to_ascii_lowercase();
        let variant = self.variant.map(|v| v.to_ascii_lowercase());
        let (arch, variant) = match (arch.as_str(), variant.as_deref()) {
            ("x86_64" | "x86-64" | "amd64", None | Some("v1")) => ("amd64", None),
            ("x86_64" | "x86-64", v) => ("amd64", v),
            ("aarch64" | "arm64", None | Some("v8" | "8")) => ("arm64", None),
            ("aarch64", v) => ("arm64", v),
            ("armhf", _) => ("arm", Some("v7")),
            ("armel", _) => ("arm", Some("v6")),
            ("arm", None | Some("7")) => ("arm", Some("v7")),
            ("arm", Some("5")) => ("arm", Some("v5")),
            ("arm", Some("6")) => ("arm", Some("v6")),
            ("i386" | "i686" | "x86", v) => ("386", v),
            (a, v) => (a, v),
        };
        Platform {
            os,
            arch: arch.to_owned(),
            variant: variant.map(str::to_owned),
        }
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
        Some(
            Platform {
                os: p.os().to_string(),
                arch: p.architecture().to_string(),
                variant: p.variant().clone(),
            }
            .normalised(),
        )
    }

    /// Whether an image of platform `other` is what `self` asks for (a
    /// wanted platform without a variant takes any variant).
    pub fn matches(&self, other: &Platform) -> bool {
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
    /// The default: the host's platform, picked from multi-platform images;
    /// a single-platform image of another platform is still read.
    One(Platform),
    /// Named with `--platform`: an image of another platform is an error.
    Named(Platform),
    All,
}

impl PlatformChoice {
    /// `--platform` as given: `all`, `local` (the host's) or OS/ARCH[/VARIANT].
    pub fn parse(text: &str) -> Result<PlatformChoice> {
        Ok(match text {
            "all" => PlatformChoice::All,
            "local" => PlatformChoice::Named(Platform::host()),
            _ => PlatformChoice::Named(Platform::parse(text)?),
        })
    }
}

/// The platform to show for an image its index lists as `listed` and whose
/// config says `config`. They normally agree, and the config's words are
/// kept. When they do not (`podman manifest add --arch` rewrites only the
/// index), the index's is what docker, containerd and strata select by, so it
/// is shown, and a warning says the config disagrees.
pub fn reconcile(
    listed: Option<&Platform>,
    config: String,
    what: &str,
    warnings: &crate::warnings::Warnings,
) -> String {
    let Some(listed) = listed else {
        return config;
    };
    let agrees = Platform::parse(&config).is_ok_and(|c| {
        c.os == listed.os
            && c.arch == listed.arch
            && (c.variant.is_none() || listed.variant.is_none() || c.variant == listed.variant)
    });
    if agrees {
        return config;
    }
    warnings.warn(format!(
        "{what}: the index lists it as {listed} but its config says {}; taken as {listed}",
        crate::error::clip(&config)
    ));
    listed.to_string()
}

/// With `--platform` named, every image read must be of that platform
/// (an index already picked it; a single-platform image may not be).
pub fn check_named(
    images: Vec<crate::image::Image>,
    opts: &super::SourceOptions,
) -> Result<Vec<crate::image::Image>> {
    let PlatformChoice::Named(wanted) = &opts.platform else {
        return Ok(images);
    };
    for image in &images {
        let Some(found) = image.platform.as_deref() else {
            continue;
        };
        let ok = Platform::parse(found).is_ok_and(|p| wanted.matches(&p));
        if !ok {
            return Err(Error::PlatformNotFound {
                image: image.name.to_string(),
                wanted: wanted.to_string(),
                available: found.to_owned(),
            });
        }
    }
    Ok(images)
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
        PlatformChoice::All if runnable.len() > super::MAX_IMAGES => {
            return Err(Error::malformed(
                image,
                format!(
                    "the index lists {} platforms; strata reads at most {} images per run (name one with --platform)",
                    runnable.len(),
                    super::MAX_IMAGES
                ),
            ))
        }
        PlatformChoice::All => runnable.clone(),
        PlatformChoice::One(wanted) | PlatformChoice::Named(wanted) => runnable
            .iter()
            .filter(|(_, p)| p.as_ref().is_some_and(|p| wanted.matches(p)))
            .take(1)
            .cloned()
            .collect(),
    };
    if picked.is_empty() {
        // As the index writes them, not as normalised for matching.
        let available: Vec<String> = runnable
            .iter()
            .map(|(d, _)| {
                d.platform().as_ref().map_or("unspecified".to_owned(), |p| {
                    let mut s = format!("{}/{}", p.os(), p.architecture());
                    if let Some(v) = p.variant() {
                        s.push('/');
                        s.push_str(v);
                    }
                    s
                })
            })
            .collect();
        return Err(Error::PlatformNotFound {
            image: image.to_owned(),
            wanted: match choice {
                PlatformChoice::One(p) | PlatformChoice::Named(p) => p.to_string(),
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
    fn platforms_normalise_like_containerd() {
        let arm64 = Platform::parse("linux/arm64").unwrap();
        for same in ["linux/arm64/v8", "linux/aarch64", "Linux/ARM64/V8"] {
            assert_eq!(Platform::parse(same).unwrap(), arm64, "{same}");
        }
        assert_eq!(
            Platform::parse("linux/armhf").unwrap().to_string(),
            "linux/arm/v7"
        );
        assert_eq!(
            Platform::parse("linux/x86_64").unwrap().to_string(),
            "linux/amd64"
        );
        assert_eq!(PlatformChoice::parse("all").unwrap(), PlatformChoice::All);
        assert_eq!(
            PlatformChoice::parse("local").unwrap(),
            PlatformChoice::Named(Platform::host())
        );
    }

    #[test]
    fn variant_is_optional_when_matching() {
        let want = Platform::parse("linux/arm64").unwrap();
        assert!(want.matches(&Platform::parse("linux/arm64/v8").unwrap()));
        let want = Platform::parse("linux/arm/v7").unwrap();
        assert!(!want.matches(&Platform::parse("linux/arm/v6").unwrap()));
    }

    #[test]
    fn the_index_platform_wins_only_when_the_config_disagrees() {
        let w = crate::warnings::Warnings::new();
        let arm = Platform::parse("linux/arm64/v8").unwrap();
        // Same platform in other words: the config's words, no warning.
        assert_eq!(
            reconcile(Some(&arm), "linux/arm64".into(), "x", &w),
            "linux/arm64"
        );
        let v7 = Platform::parse("linux/arm/v7").unwrap();
        assert_eq!(
            reconcile(Some(&v7), "linux/arm".into(), "x", &w),
            "linux/arm"
        );
        assert_eq!(
            reconcile(None, "linux/amd64".into(), "x", &w),
            "linux/amd64"
        );
        assert!(w.drain().is_empty());
        let odd = Platform::parse("linux/arch77").unwrap();
        assert_eq!(
            reconcile(Some(&odd), "linux/amd64".into(), "img", &w),
            "linux/arch77"
        );
        assert_eq!(
            w.drain(),
            ["img: the index lists it as linux/arch77 but its config says linux/amd64; taken as linux/arch77"]
        );
    }
}
