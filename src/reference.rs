//! Image references in skopeo's transport syntax (docker://, oci:, oci-archive:,
//! docker-archive:, docker-daemon:, containers-storage:), containerd's image
//! store (containerd:) and Docker Hub short names.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A registry reference as the user wrote it (without `docker://`); a `*`
/// in the repository path makes it a family glob, expanded by the registry source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRef {
    pub text: String,
}

impl RegistryRef {
    pub fn is_glob(&self) -> bool {
        self.text.contains('*')
    }

    /// Splits `[HOST[:PORT]/]REPO[:TAG][@sha256:HEX]` by docker's rules: the
    /// first component is a host if it is `localhost` or has a `.` or `:`;
    /// otherwise the registry is docker.io (and a one-part name is under
    /// `library/`). No tag and no digest means `latest`.
    ///
    /// Parsed here rather than through oci-spec's `Reference::from_str`, whose
    /// regex compilation cost ~40 ms of CPU per run, most of a warm registry run.
    pub fn parts(&self) -> Result<RegistryParts> {
        let bad = |reason: &str| Error::BadReference {
            reference: format!("docker://{}", self.text),
            reason: reason.to_owned(),
        };
        let (name, digest) = match self.text.split_once('@') {
            Some((n, d)) => {
                crate::image::Digest::parse(d, &self.text).map_err(|_| bad("invalid digest"))?;
                (n, Some(d.to_owned()))
            }
            None => (self.text.as_str(), None),
        };
        let (name, tag) = match name.rsplit_once(':') {
            Some((n, t)) if !t.contains('/') => (n, Some(t.to_owned())),
            _ => (name, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest))
                if first == "localhost" || first.contains('.') || first.contains(':') =>
            {
                (first.to_owned(), rest.to_owned())
            }
            _ if name.contains('/') => ("docker.io".to_owned(), name.to_owned()),
            _ => ("docker.io".to_owned(), format!("library/{name}")),
        };
        let repo_ok = !repository.is_empty()
            && repository.split('/').all(|part| {
                !part.is_empty()
                    && part.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-*".contains(&b)
                    })
            });
        if !repo_ok {
            return Err(bad(
                "a repository is lowercase letters, digits and . _ - separated by /",
            ));
        }
        if let Some(t) = &tag {
            let tag_ok = t.len() <= 128
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
                && !t.starts_with(['.', '-']);
            if !tag_ok {
                return Err(bad("invalid tag"));
            }
        }
        let tag = match (&tag, &digest) {
            (None, None) => Some("latest".to_owned()),
            _ => tag,
        };
        Ok(RegistryParts {
            registry,
            repository,
            tag,
            digest,
        })
    }
}

/// A registry reference split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryParts {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Registry(RegistryRef),
    OciDir {
        path: PathBuf,
        name: Option<String>,
    },
    OciArchive {
        path: PathBuf,
        name: Option<String>,
    },
    /// `docker-archive:-` reads a `docker save` stream on stdin.
    DockerArchive {
        path: PathBuf,
        name: Option<String>,
    },
    /// An image of a Docker-compatible engine (`DOCKER_HOST`), by name or
    /// ID; [`EVERY`] names every image it holds.
    DockerDaemon {
        name: String,
    },
    /// An image of Podman/Buildah/CRI-O storage, through a Podman service;
    /// [`EVERY`] names every image it holds.
    ContainersStorage {
        name: String,
    },
    /// An image of containerd's image store: `[NAMESPACE/]NAME[:TAG]`, or
    /// `[NAMESPACE/]*` for every image of a namespace. Whether the first
    /// component is a namespace is for containerd to say (`k8s.io/…` is one,
    /// `docker.io/…` an image name), so it is kept as written.
    Containerd {
        text: String,
    },
}

/// The name of an engine reference that means every image the engine holds.
pub const EVERY: &str = "*";

const HINT: &str = "use docker://HOST/REPO:TAG, NAME[:TAG], oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF], docker-daemon:NAME[:TAG] or containerd:[NAMESPACE/]NAME[:TAG]";

impl Reference {
    pub fn parse(text: &str) -> Result<Reference> {
        if let Some(rest) = text.strip_prefix("docker://") {
            return registry(rest, text);
        }
        if let Some((scheme, _)) = text.split_once("://") {
            return Err(Error::UnknownTransport {
                reference: text.to_owned(),
                transport: scheme.to_owned(),
            });
        }
        match text.split_once(':') {
            Some(("oci", rest)) => local(rest, text, |path, name| Reference::OciDir { path, name }),
            Some(("oci-archive", rest)) => local(rest, text, |path, name| Reference::OciArchive {
                path,
                name,
            }),
            Some(("docker-archive", rest)) => local(rest, text, |path, name| {
                Reference::DockerArchive { path, name }
            }),
            Some(("docker-daemon", rest)) => {
                engine_name(rest, text).map(|name| Reference::DockerDaemon { name })
            }
            Some(("containers-storage", rest)) => {
                engine_name(rest, text).map(|name| Reference::ContainersStorage { name })
            }
            Some(("containerd", rest)) => {
                containerd_name(rest, text).map(|text| Reference::Containerd { text })
            }
            _ if starts_with_host(text) => registry(text, text),
            _ if Path::new(text).exists() => Err(Error::BadReference {
                reference: text.to_owned(),
                reason: did_you_mean(text),
            }),
            _ if is_short_name(text) => registry(text, text),
            Some((transport, _)) => Err(Error::UnknownTransport {
                reference: text.to_owned(),
                transport: transport.to_owned(),
            }),
            None => Err(Error::BadReference {
                reference: text.to_owned(),
                reason: format!("no transport; {HINT}"),
            }),
        }
    }

    /// `docker-archive:-`: the archive comes on stdin.
    pub fn is_stdin(&self) -> bool {
        matches!(self, Reference::DockerArchive { path, .. } if path.as_os_str() == "-")
    }
}

/// A local path given without a transport: say which transport reads it.
fn did_you_mean(text: &str) -> String {
    if Path::new(text).is_dir() {
        format!("a directory, not an image name; did you mean oci:{text}?")
    } else {
        format!(
            "a file, not an image name; did you mean docker-archive:{text} or oci-archive:{text}?"
        )
    }
}

/// A Docker Hub name as docker accepts it: `alpine`, `alpine:3.19`,
/// `library/alpine`, `user/app:tag`, `user/app@sha256:…` (no host part).
fn is_short_name(text: &str) -> bool {
    let name = text.split_once('@').map_or(text, |(n, _)| n);
    let name = match name.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => n,
        _ => name,
    };
    !name.contains(':')
        && !name.contains('*')
        && !starts_with_host(text)
        && RegistryRef {
            text: text.to_owned(),
        }
        .parts()
        .is_ok()
}

/// `docker-daemon:NAME[:TAG]`, `docker-daemon:sha256:ID`: what the engine is asked for.
fn engine_name(rest: &str, text: &str) -> Result<String> {
    let bad = |reason: &str| Error::BadReference {
        reference: text.to_owned(),
        reason: reason.to_owned(),
    };
    if rest.is_empty() {
        return Err(bad("missing image name or ID"));
    }
    if rest == EVERY {
        return Ok(rest.to_owned());
    }
    if rest.starts_with('[') {
        return Err(bad(
            "a [DRIVER@ROOT+RUN] store is read directly by skopeo; strata reads containers-storage through a Podman service (name the image only)",
        ));
    }
    if let Some(hex) = rest.strip_prefix("sha256:") {
        // An image ID as engines print it, whole or short (`docker images`
        // shows 12 digits): the engine looks a prefix up itself.
        let is_hex = |h: &str| h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if hex.is_empty() || hex.len() > 64 || !is_hex(hex) {
            return Err(bad(
                "invalid image ID (expected sha256: and 1 to 64 lowercase hex digits)",
            ));
        }
        return Ok(rest.to_owned());
    }
    if rest.starts_with("sha512:") {
        crate::image::Digest::parse(rest, text).map_err(|_| bad("invalid image ID"))?;
        return Ok(rest.to_owned());
    }
    let parts = RegistryRef {
        text: rest.to_owned(),
    }
    .parts()
    .map_err(|_| bad("expected NAME[:TAG] or sha256:ID"))?;
    if rest.contains('*') || parts.repository.contains('*') {
        return Err(bad(
            "an engine image name cannot be a glob (`*` alone names every image)",
        ));
    }
    Ok(rest.to_owned())
}

/// Longest `containerd:` reference accepted: a namespace and an image name
/// (containerd allows 76 + 255 bytes for them).
const MAX_CONTAINERD_NAME: usize = 512;

/// `containerd:[NAMESPACE/]NAME[:TAG]`, `containerd:[NAMESPACE/]*`. containerd
/// names images freely (`import-2024-01-01:app`, `docker.io/library/x:1`),
/// so only what no image name holds is refused: nothing, spaces and control
/// characters, and a `*` that is not the whole name.
fn containerd_name(rest: &str, text: &str) -> Result<String> {
    let bad = |reason: &str| Error::BadReference {
        reference: crate::error::clip(text),
        reason: reason.to_owned(),
    };
    let name = rest.split_once('/').map_or(rest, |(_, n)| n);
    if rest.is_empty() || name.is_empty() {
        return Err(bad(
            "missing image name (containerd:[NAMESPACE/]NAME[:TAG] or containerd:NAMESPACE/*)",
        ));
    }
    if rest.len() > MAX_CONTAINERD_NAME {
        return Err(bad("longer than any containerd image name"));
    }
    if rest
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || !c.is_ascii())
    {
        return Err(bad("an image name has no spaces or control characters"));
    }
    let namespace_ok = |ns: &str| {
        !ns.is_empty()
            && ns
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    };
    if rest.contains('*') {
        let every = match rest.split_once('/') {
            None => rest == EVERY,
            Some((ns, n)) => n == EVERY && namespace_ok(ns),
        };
        if !every {
            return Err(bad(
                "not a glob: `*` alone names every image (containerd:NAMESPACE/* or containerd:*)",
            ));
        }
    }
    Ok(rest.to_owned())
}

/// `HOST/…` where HOST is `localhost`, has a dot, or has a numeric port
/// (docker's rule for telling a registry host from a repository name).
fn starts_with_host(text: &str) -> bool {
    let Some((first, _)) = text.split_once('/') else {
        return false;
    };
    let (host, port) = match first.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (first, None),
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    !host.is_empty() && port_ok && (host == "localhost" || host.contains('.') || port.is_some())
}

fn registry(rest: &str, text: &str) -> Result<Reference> {
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return Err(Error::BadReference {
            reference: text.to_owned(),
            reason: "expected docker://HOST/REPO:TAG or docker://HOST/REPO@sha256:…".into(),
        });
    }
    Ok(Reference::Registry(RegistryRef {
        text: rest.to_owned(),
    }))
}

fn local(
    rest: &str,
    text: &str,
    make: fn(PathBuf, Option<String>) -> Reference,
) -> Result<Reference> {
    let (path, name) = match untagged(rest) {
        // `DIR@sha256:…`: an untagged image, as strata prints its name.
        Some((p, digest)) => (p, Some(format!("@{digest}"))),
        None => match rest.split_once(':') {
            Some((p, n)) if !n.is_empty() => (p, Some(n.to_owned())),
            Some((p, _)) => (p, None),
            None => (rest, None),
        },
    };
    if path.is_empty() {
        return Err(Error::BadReference {
            reference: text.to_owned(),
            reason: "missing path".into(),
        });
    }
    Ok(make(PathBuf::from(path), name))
}

/// `PATH@ALG:HEX` with a valid digest after the last `@`.
fn untagged(rest: &str) -> Option<(&str, &str)> {
    let (path, digest) = rest.rsplit_once('@')?;
    crate::image::Digest::parse(digest, rest).ok()?;
    Some((path, digest))
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (transport, path, name) = match self {
            Reference::Registry(r) => return write!(f, "docker://{}", r.text),
            Reference::DockerDaemon { name } => return write!(f, "docker-daemon:{name}"),
            Reference::ContainersStorage { name } => return write!(f, "containers-storage:{name}"),
            Reference::Containerd { text } => return write!(f, "containerd:{text}"),
            Reference::OciDir { path, name } => ("oci", path, name),
            Reference::OciArchive { path, name } => ("oci-archive", path, name),
            Reference::DockerArchive { path, name } => ("docker-archive", path, name),
        };
        write!(f, "{transport}:{}", path.display())?;
        match name {
            Some(n) if n.starts_with('@') && n.contains(':') => write!(f, "{n}")?,
            Some(n) => write!(f, ":{n}")?,
            None => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
