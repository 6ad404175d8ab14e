//! How the gate names an image: the forms a policy's `match` glob is tried
//! against, and the repository path and tag a baseline entry is matched by
//! (never the transport, nor the registry host).

use crate::image::{ImageName, Transport};
use crate::reference::RegistryRef;

/// What a person may call one image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// As strata prints it: `docker://HOST/app/api:1`, `oci:DIR:app`.
    pub full: String,
    /// The same without its transport: `HOST/app/api:1`, `DIR:app`.
    pub bare: String,
    /// The registry host, when the name has one (`127.0.0.1:5000`, `docker.io`).
    pub host: Option<String>,
    /// The repository path, without host (`app/api`; Docker Hub's
    /// `library/alpine` is `alpine`). None for a layout's plain ref name
    /// (`app`) and an image ID.
    pub repository: Option<String>,
    /// The tag, or a layout's plain ref name.
    pub tag: Option<String>,
}

impl Names {
    pub fn of(name: &ImageName) -> Names {
        let full = name.to_string();
        let bare = full
            .strip_prefix(name.transport.prefix())
            .unwrap_or(&full)
            .to_owned();
        let mut names = Names {
            full,
            bare,
            ..Names::default()
        };
        let parsed = match name.transport {
            Transport::Docker => Some((
                Some(name.location.clone()),
                name.repository.clone(),
                name.tag.clone(),
            )),
            Transport::DockerDaemon | Transport::ContainersStorage => {
                split(&name.location).map(|(h, r, t)| (Some(h), Some(r), t))
            }
            Transport::DockerArchive | Transport::Containerd => match (&name.repository, &name.tag)
            {
                (Some(repo), Some(tag)) => {
                    split(&format!("{repo}:{tag}")).map(|(h, r, t)| (Some(h), Some(r), t))
                }
                (None, tag) => Some((None, None, tag.clone())),
                (Some(repo), None) => split(repo).map(|(h, r, t)| (Some(h), Some(r), t)),
            },
            Transport::Oci | Transport::OciArchive => match &name.tag {
                // A ref name that is a whole reference (`app:1`, `reg/app:1`).
                Some(r) if r.rsplit_once(':').is_some_and(|(_, t)| !t.contains('/')) => {
                    split(r).map(|(h, r, t)| (Some(h), Some(r), t))
                }
                tag => Some((None, None, tag.clone())),
            },
        };
        if let Some((host, repository, tag)) = parsed {
            names.host = host;
            names.repository = repository.map(|r| match r.strip_prefix("library/") {
                Some(short)
                    if !short.contains('/') && names.host.as_deref() == Some("docker.io") =>
                {
                    short.to_owned()
                }
                _ => r,
            });
            names.tag = tag;
        }
        names
    }

    /// Every form a `match` glob is tried against: the full name, the name
    /// without its transport, `HOST/REPO:TAG`, `REPO:TAG`, `HOST/REPO` and
    /// `REPO` (a layout's ref name alone stands for REPO).
    pub fn forms(&self) -> Vec<String> {
        let mut forms = vec![self.full.clone(), self.bare.clone()];
        let mut repos = Vec::new();
        if let Some(repo) = &self.repository {
            repos.push(repo.clone());
            if let Some(host) = &self.host {
                repos.push(format!("{host}/{repo}"));
                if host == "docker.io" && !repo.contains('/') {
                    repos.push(format!("library/{repo}"));
                    repos.push(format!("docker.io/library/{repo}"));
                }
            }
        }
        for repo in &repos {
            if let Some(tag) = &self.tag {
                forms.push(format!("{repo}:{tag}"));
            }
            forms.push(repo.clone());
        }
        if self.repository.is_none() {
            forms.extend(self.tag.clone());
        }
        forms.dedup();
        forms
    }

    pub fn matches(&self, glob: &globset::GlobMatcher) -> bool {
        self.forms().iter().any(|f| glob.is_match(f))
    }
}

/// `[HOST/]REPO[:TAG]` by docker's rules: (host, repository, tag); None for
/// an image ID or what is no reference.
fn split(text: &str) -> Option<(String, String, Option<String>)> {
    if text.starts_with("sha256:") || text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let parts = RegistryRef {
        text: text.to_owned(),
    }
    .parts()
    .ok()?;
    Some((parts.registry, parts.repository, parts.tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(p: &str) -> globset::GlobMatcher {
        globset::Glob::new(p).unwrap().compile_matcher()
    }

    fn registry(repo: &str, tag: &str) -> Names {
        Names::of(
            &ImageName::new(Transport::Docker, "127.0.0.1:5000")
                .with_repository(repo)
                .with_tag(tag),
        )
    }

    #[test]
    fn match_accepts_what_users_type() {
        let api = registry("app/api", "1");
        let dev = registry("app/api-dev", "1");
        for p in [
            "app/api*",
            "app/api",
            "app/api:1",
            "app/api:*",
            "127.0.0.1:5000/app/api:*",
            "docker://127.0.0.1:5000/app/api:1",
            "*/api:1",
        ] {
            assert!(api.matches(&glob(p)), "{p}");
        }
        assert!(dev.matches(&glob("app/api*")));
        for p in [
            "app/api",
            "app/api:*",
            "127.0.0.1:5000/app/api:*",
            "app/api:1",
        ] {
            assert!(!dev.matches(&glob(p)), "{p} must not select api-dev");
        }
        assert!(!api.matches(&glob("api")));
    }

    #[test]
    fn engine_archive_and_layout_names_give_the_same_repository_and_tag() {
        let engine = Names::of(&ImageName::new(Transport::DockerDaemon, "app/api:1"));
        let podman = Names::of(&ImageName::new(
            Transport::ContainersStorage,
            "localhost/app/api:1",
        ));
        let archive = Names::of(
            &ImageName::new(Transport::DockerArchive, "a.tar")
                .with_repository("docker.io/app/api")
                .with_tag("1"),
        );
        let layout = Names::of(&ImageName::new(Transport::Oci, "dir").with_tag("app/api:1"));
        for n in [
            &registry("app/api", "1"),
            &engine,
            &podman,
            &archive,
            &layout,
        ] {
            assert_eq!(n.repository.as_deref(), Some("app/api"), "{n:?}");
            assert_eq!(n.tag.as_deref(), Some("1"), "{n:?}");
            assert!(n.matches(&glob("app/api:1")), "{n:?}");
        }
        let hub = Names::of(&ImageName::new(Transport::DockerDaemon, "alpine:3.19"));
        assert_eq!(hub.repository.as_deref(), Some("alpine"));
        assert!(hub.matches(&glob("library/alpine:*")));
        let id = Names::of(&ImageName::new(Transport::DockerDaemon, "sha256:0123abcd"));
        assert_eq!(id.repository, None);
    }

    #[test]
    fn a_layouts_plain_ref_name_is_its_name() {
        let app = Names::of(&ImageName::new(Transport::Oci, "fixtures/family").with_tag("app"));
        assert_eq!(
            (app.repository.as_deref(), app.tag.as_deref()),
            (None, Some("app"))
        );
        assert!(app.matches(&glob("app")));
        assert!(app.matches(&glob("*family:app")));
        assert!(!app.matches(&glob("app-dev")));
    }
}
