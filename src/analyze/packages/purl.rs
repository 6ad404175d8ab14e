//! Package URLs as the purl spec defines them and syft writes them
//! (`pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12`), and
//! the distribution they name, read from the image's os-release.

use packageurl::PackageUrl;

use super::{capped, Ecosystem, Found};

/// The distribution an image's os-release names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distro {
    /// `ID` (`debian`, `ubuntu`, `alpine`, `fedora`, `rhel`…).
    pub id: String,
    /// `VERSION_ID` (`12`, `3.18.4`, `39`), absent on rolling releases.
    pub version_id: Option<String>,
}

impl Distro {
    /// `ID` and `VERSION_ID` of an os-release file (shell-style
    /// `KEY=value`, the value maybe quoted); None without an `ID`.
    pub fn parse(content: &[u8]) -> Option<Distro> {
        let text = String::from_utf8_lossy(content);
        let (mut id, mut version_id) = (None, None);
        for line in text.lines() {
            let Some((key, value)) = line.trim().split_once('=') else {
                continue;
            };
            let value = unquote(value.trim());
            match key.trim() {
                "ID" if !value.is_empty() => id = Some(capped(value)),
                "VERSION_ID" if !value.is_empty() => version_id = Some(capped(value)),
                _ => {}
            }
        }
        Some(Distro {
            id: id?,
            version_id,
        })
    }

    /// The `distro` qualifier: `debian-12`, or the bare ID.
    fn qualifier(&self) -> String {
        match &self.version_id {
            Some(v) => format!("{}-{v}", self.id),
            None => self.id.clone(),
        }
    }
}

fn unquote(value: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

/// PEP 503: lower case, each run of `-`, `_` and `.` one `-` (syft's pypi names).
pub fn normalize_python(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut dash = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !dash {
                out.push('-');
            }
            dash = true;
        } else {
            dash = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// An rpm `[epoch:]version-release` split into its epoch and the rest.
fn rpm_epoch(version: &str) -> (Option<&str>, &str) {
    match version.split_once(':') {
        Some((epoch, rest)) if !epoch.is_empty() && epoch.bytes().all(|b| b.is_ascii_digit()) => {
            (Some(epoch), rest)
        }
        _ => (None, version),
    }
}

/// The purl of a package: type, namespace (the distribution's ID for deb,
/// rpm and apk; the scope for npm), name, version, and the qualifiers syft
/// writes (`arch`, `distro`, `epoch`, `upstream`). Without an os-release the
/// OS packages' purls have no namespace and no `distro`.
pub fn purl(p: &Found, distro: Option<&Distro>) -> String {
    let (ty, name, namespace, version, os) = match p.ecosystem {
        Ecosystem::Deb => ("deb", p.name.clone(), None, p.version.as_str(), true),
        Ecosystem::Rpm => ("rpm", p.name.clone(), None, rpm_epoch(&p.version).1, true),
        Ecosystem::Apk => ("apk", p.name.clone(), None, p.version.as_str(), true),
        Ecosystem::Python => (
            "pypi",
            normalize_python(&p.name),
            None,
            p.version.as_str(),
            false,
        ),
        Ecosystem::Npm => {
            let (scope, name) = match p.name.split_once('/') {
                Some((scope, name)) if scope.starts_with('@') && !name.is_empty() => {
                    (Some(scope), name)
                }
                _ => (None, p.name.as_str()),
            };
            ("npm", name.to_owned(), scope, p.version.as_str(), false)
        }
        Ecosystem::Gem => ("gem", p.name.clone(), None, p.version.as_str(), false),
    };
    let fallback = || format!("pkg:{ty}/{name}");
    let Ok(mut url) = PackageUrl::new(ty, name.as_str()) else {
        return fallback();
    };
    let namespace = namespace.or(distro.filter(|_| os).map(|d| d.id.as_str()));
    if let Some(ns) = namespace {
        if url.with_namespace(ns).is_err() {
            return fallback();
        }
    }
    if !version.is_empty() && url.with_version(version).is_err() {
        return fallback();
    }
    let mut qualifiers: Vec<(&str, String)> = Vec::new();
    if os {
        if let Some(arch) = &p.arch {
            qualifiers.push(("arch", arch.clone()));
        }
        if let Some(d) = distro {
            qualifiers.push(("distro", d.qualifier()));
        }
        if p.ecosystem == Ecosystem::Rpm {
            if let Some(epoch) = rpm_epoch(&p.version).0 {
                qualifiers.push(("epoch", epoch.to_owned()));
            }
        }
        if let Some(up) = &p.upstream {
            qualifiers.push(("upstream", up.clone()));
        }
    }
    for (key, value) in qualifiers {
        if !value.is_empty() && url.add_qualifier(key, value).is_err() {
            return fallback();
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::packages::Owns;

    fn found(ecosystem: Ecosystem, name: &str, version: &str, arch: Option<&str>) -> Found {
        Found {
            ecosystem,
            name: name.into(),
            version: version.into(),
            arch: arch.map(Into::into),
            upstream: None,
            owns: Owns::Nothing,
            declared: None,
            layer: None,
            db_layer: 0,
            deps: Default::default(),
        }
    }

    fn distro(id: &str, version: &str) -> Distro {
        Distro {
            id: id.into(),
            version_id: Some(version.into()),
        }
    }

    #[test]
    fn os_packages_carry_the_distribution_arch_and_upstream_as_syft_writes_them() {
        let debian = distro("debian", "12");
        let mut yaml = found(Ecosystem::Deb, "python3-yaml", "6.0-3+b2", Some("amd64"));
        yaml.upstream = Some("pyyaml@6.0-3".into());
        assert_eq!(
            purl(&yaml, Some(&debian)),
            "pkg:deb/debian/python3-yaml@6.0-3%2Bb2?arch=amd64&distro=debian-12&upstream=pyyaml%406.0-3"
        );
        let zlib = found(Ecosystem::Deb, "zlib1g", "1:1.2.13.dfsg-1", Some("amd64"));
        assert_eq!(
            purl(&zlib, Some(&debian)),
            "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12"
        );
        let mut tz = found(Ecosystem::Rpm, "tzdata-lite", "2:2024a-3", Some("noarch"));
        tz.upstream = Some("tzdata-lite-2024a-3.src.rpm".into());
        assert_eq!(
            purl(&tz, Some(&distro("fedora", "39"))),
            "pkg:rpm/fedora/tzdata-lite@2024a-3?arch=noarch&distro=fedora-39&epoch=2&upstream=tzdata-lite-2024a-3.src.rpm"
        );
        let musl = found(Ecosystem::Apk, "musl", "1.2.4-r2", Some("x86_64"));
        assert_eq!(
            purl(&musl, Some(&distro("alpine", "3.18.4"))),
            "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.18.4"
        );
        // No os-release: no namespace, no distro.
        assert_eq!(purl(&musl, None), "pkg:apk/musl@1.2.4-r2?arch=x86_64");
        let rolling = Distro {
            id: "debian".into(),
            version_id: None,
        };
        assert_eq!(
            purl(&found(Ecosystem::Deb, "a", "1", None), Some(&rolling)),
            "pkg:deb/debian/a@1?distro=debian"
        );
    }

    #[test]
    fn language_packages_follow_their_type_s_rules() {
        let debian = distro("debian", "12");
        for (ecosystem, name, version, expected) in [
            (Ecosystem::Python, "PyYAML", "6.0", "pkg:pypi/pyyaml@6.0"),
            (
                Ecosystem::Python,
                "zope.interface",
                "6.1",
                "pkg:pypi/zope-interface@6.1",
            ),
            (
                Ecosystem::Python,
                "typing__Extensions",
                "4.8.0",
                "pkg:pypi/typing-extensions@4.8.0",
            ),
            (
                Ecosystem::Npm,
                "@babel/core",
                "7.23.2",
                "pkg:npm/%40babel/core@7.23.2",
            ),
            (
                Ecosystem::Npm,
                "left-pad",
                "1.3.0",
                "pkg:npm/left-pad@1.3.0",
            ),
            (Ecosystem::Npm, "no-version", "", "pkg:npm/no-version"),
            (Ecosystem::Gem, "rake", "13.0.6", "pkg:gem/rake@13.0.6"),
        ] {
            let p = found(ecosystem, name, version, Some("x86_64"));
            assert_eq!(purl(&p, Some(&debian)), expected, "{name}");
        }
    }

    /// The purl spec's own examples of the types strata writes.
    #[test]
    fn the_spec_s_examples_round_trip() {
        for spec in [
            "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie",
            "pkg:gem/ruby-advisory-db-check@0.12.4",
            "pkg:npm/%40angular/animation@12.3.1",
            "pkg:npm/foobar@12.3.1",
            "pkg:pypi/django@1.11.1",
            "pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25",
            "pkg:apk/alpine/curl@7.83.0-r0?arch=x86",
        ] {
            let parsed: PackageUrl = spec.parse().unwrap();
            assert_eq!(parsed.to_string(), spec);
        }
        let curl = found(Ecosystem::Rpm, "curl", "7.50.3-1.fc25", Some("i386"));
        assert_eq!(
            purl(&curl, Some(&distro("fedora", "25"))),
            "pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25"
        );
    }

    #[test]
    fn os_release_values_may_be_quoted_and_an_id_is_required() {
        let d =
            Distro::parse(b"NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n").unwrap();
        assert_eq!(d, distro("debian", "12"));
        let d = Distro::parse(b"ID='alpine'\nVERSION_ID=3.18.4\n").unwrap();
        assert_eq!(d, distro("alpine", "3.18.4"));
        assert_eq!(Distro::parse(b"NAME=x\n"), None);
        assert_eq!(normalize_python("Foo__Bar.baz-"), "foo-bar-baz-");
    }
}
