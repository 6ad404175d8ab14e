//! `containerd:[NAMESPACE/]NAME[:TAG]` and `containerd:[NAMESPACE/]*`: images
//! of containerd's image store (a Kubernetes node's), read through its gRPC
//! API. containerd keeps each layer's compressed blob, so the images read
//! like an OCI layout: manifests, configs and layers streamed from the
//! content store and verified as from a registry.

mod api;
mod content;

use std::path::PathBuf;
use std::sync::Arc;

use oci_spec::image::{Descriptor, DescriptorBuilder, MediaType};

use super::fs::Fs;
use super::layout::{self, With};
use super::Image;
use crate::error::{clip, Error, Result};
use crate::image::{Digest, ImageName, Transport};
use crate::reference::EVERY;
use api::Failure;
use content::{Conn, ContentStore};

/// containerd's own default socket.
const SOCKET: &str = "/run/containerd/containerd.sock";
/// Where a name without a namespace is looked for, in order: the CRI's
/// (Kubernetes), then containerd's default (ctr, nerdctl).
const DEFAULT_NAMESPACES: [&str; 2] = ["k8s.io", "default"];
/// Image names listed in a not-found error.
const NAMES_SHOWN: usize = 10;

/// `$CONTAINERD_ADDRESS` (a socket path, `unix://` allowed), else containerd's default.
fn socket() -> PathBuf {
    match std::env::var("CONTAINERD_ADDRESS") {
        Ok(a) if !a.is_empty() => PathBuf::from(a.strip_prefix("unix://").unwrap_or(&a)),
        _ => PathBuf::from(SOCKET),
    }
}

/// The images `containerd:TEXT` names.
pub fn load(text: &str, with: &With<'_>) -> Result<Vec<Image>> {
    let conn = Conn::new(socket())?;
    if !conn.socket.exists() {
        return Err(conn.error(Failure::Unreachable(
            "no socket there (is containerd running? set CONTAINERD_ADDRESS to its socket)"
                .to_owned(),
        )));
    }
    let namespaces = conn
        .block_on(conn.client.namespaces())
        .map_err(|f| conn.error(f))?;
    // `NS/…` is a namespace only where containerd has one of that name.
    let (candidates, wanted): (Vec<&str>, &str) = match text.split_once('/') {
        Some((ns, rest)) if namespaces.iter().any(|n| n == ns) => (vec![ns], rest),
        _ => {
            let found: Vec<&str> = DEFAULT_NAMESPACES
                .into_iter()
                .filter(|d| namespaces.iter().any(|n| n == d))
                .collect();
            (found, text)
        }
    };
    if candidates.is_empty() {
        let first = text.split_once('/').map(|(ns, _)| ns);
        return Err(conn.error(Failure::Other(match first {
            Some(ns) if wanted == EVERY => format!("no namespace {:?}", clip(ns)),
            _ => format!(
                "no namespace k8s.io or default (namespaces: {}); name one: containerd:NAMESPACE/NAME",
                shown(&namespaces)
            ),
        })));
    }
    let mut found = None;
    for ns in &candidates {
        let images = conn
            .block_on(conn.client.images(ns, Vec::new()))
            .map_err(|f| conn.error(f))?;
        let picked: Vec<api::Image> = if wanted == EVERY {
            images
        } else {
            images
                .into_iter()
                .filter(|i| same_name(&i.name, wanted))
                .collect()
        };
        if !picked.is_empty() {
            found = Some((*ns, picked));
            break;
        }
    }
    let Some((namespace, mut picked)) = found else {
        let ns = candidates.join(" or ");
        if wanted == EVERY {
            return Err(conn.error(Failure::Other(format!("no images in namespace {ns}"))));
        }
        return Err(Error::RefNotFound {
            source_name: format!("containerd:{ns}"),
            wanted: clip(wanted),
            available: available(&conn, &candidates)?,
        });
    };
    // Each image once, in name order: under `*`, names that share a target
    // (tags of one image, an import's second name) are one image, named by
    // the first.
    picked.sort_by(|a, b| a.name.cmp(&b.name));
    let mut targets = std::collections::HashSet::new();
    picked.retain(|i| match &i.target {
        Some(t) if wanted == EVERY => targets.insert(t.digest.clone()),
        _ => true,
    });
    let store = Arc::new(ContentStore::new(conn.clone(), namespace));
    let fs: Arc<dyn Fs> = store.clone();
    let mut images = Vec::new();
    for image in &picked {
        let name = image_name(namespace, &image.name);
        let target = image.target.as_ref().ok_or_else(|| {
            Error::malformed(name.to_string(), "containerd lists no target for it")
        })?;
        let desc = descriptor(target, &name)?;
        for found in layout::images_of(&fs, &desc, &name, with)? {
            check_layers(&store, &found)?;
            images.push(found);
        }
    }
    Ok(images)
}

/// Whether containerd's image `name` is the one asked for: as written, or
/// as docker normalises both (`nginx` = `docker.io/library/nginx:latest`).
fn same_name(name: &str, wanted: &str) -> bool {
    if name == wanted {
        return true;
    }
    let parts = |t: &str| {
        crate::reference::RegistryRef { text: t.to_owned() }
            .parts()
            .ok()
    };
    match (parts(name), parts(wanted)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// The image names of the namespaces tried, for a not-found error.
fn available(conn: &Conn, namespaces: &[&str]) -> Result<String> {
    let mut names = Vec::new();
    for ns in namespaces {
        let images = conn
            .block_on(conn.client.images(ns, Vec::new()))
            .map_err(|f| conn.error(f))?;
        names.extend(images.into_iter().map(|i| format!("{ns}/{}", i.name)));
    }
    Ok(if names.is_empty() {
        "none".to_owned()
    } else {
        shown(&names)
    })
}

/// At most `NAMES_SHOWN` names, each clipped.
fn shown(names: &[String]) -> String {
    let mut out: Vec<String> = names.iter().take(NAMES_SHOWN).map(|n| clip(n)).collect();
    if names.len() > NAMES_SHOWN {
        out.push(format!("{} more", names.len() - NAMES_SHOWN));
    }
    out.join(", ")
}

/// `containerd:NAMESPACE/REPO:TAG[@DIGEST]` from containerd's image name.
fn image_name(namespace: &str, name: &str) -> ImageName {
    let mut out = ImageName::new(Transport::Containerd, namespace);
    let rest = match name.rsplit_once('@') {
        Some((rest, d)) => match Digest::parse(d, name) {
            Ok(d) => {
                out = out.with_digest(d);
                rest
            }
            Err(_) => name,
        },
        None => name,
    };
    match rest.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') && !repo.is_empty() => {
            out.with_repository(repo).with_tag(tag)
        }
        _ => out.with_repository(rest),
    }
}

/// containerd's descriptor as an OCI one.
fn descriptor(d: &api::Descriptor, name: &ImageName) -> Result<Descriptor> {
    let what = format!("{name}: target");
    let digest = Digest::parse(&d.digest, &what)?;
    let size = u64::try_from(d.size).map_err(|_| Error::malformed(&what, "a negative size"))?;
    let digest: oci_spec::image::Digest = digest
        .as_str()
        .parse()
        .map_err(|_| Error::malformed(&what, "invalid digest"))?;
    DescriptorBuilder::default()
        .media_type(MediaType::from(d.media_type.as_str()))
        .digest(digest)
        .size(size)
        .build()
        .map_err(|_| Error::malformed(what, "an incomplete descriptor"))
}

/// Every layer blob must be in the content store: a node that discarded
/// them after unpacking holds the image as snapshots only.
fn check_layers(store: &ContentStore, image: &Image) -> Result<()> {
    let mut missing = Vec::new();
    // Foreign layers are not distributed: their absence is no discard.
    for layer in image.layers.iter().filter(|l| l.foreign.is_none()) {
        if store.size(&layer.digest)?.is_none() {
            missing.push(&layer.digest);
        }
    }
    match missing.first() {
        None => Ok(()),
        Some(first) => Err(Error::LayersDiscarded {
            image: image.name.to_string(),
            namespace: store.namespace.clone(),
            digest: first.to_string(),
            missing: missing.len(),
            layers: image.layers.len(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containerd_names_split_like_references() {
        assert_eq!(
            image_name("k8s.io", "docker.io/library/nginx:1.27").to_string(),
            "containerd:k8s.io/docker.io/library/nginx:1.27"
        );
        let d = format!("sha256:{}", "e".repeat(64));
        let n = image_name("default", &format!("fam/x@{d}"));
        assert_eq!(n.repository.as_deref(), Some("fam/x"));
        assert_eq!(n.tag, None);
        assert_eq!(n.to_string(), format!("containerd:default/fam/x@{d}"));
        let n = image_name("default", "import-2026-12-01:app");
        assert_eq!(
            (n.repository.as_deref(), n.tag.as_deref()),
            (Some("import-2026-12-01"), Some("app"))
        );
        assert_eq!(n.basename(), "import-2026-12-01");
    }

    #[test]
    fn names_match_as_written_or_as_docker_normalises_them() {
        assert!(same_name("docker.io/library/nginx:latest", "nginx"));
        assert!(same_name("docker.io/library/nginx:1.27", "nginx:1.27"));
        assert!(same_name("fam/x:app", "fam/x:app"));
        assert!(!same_name("fam/x:app", "fam/x:worker"));
        assert!(same_name("import-2026-12-01:app", "import-2026-12-01:app"));
    }
}
