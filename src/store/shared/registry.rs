//! The registry backend (`docker://HOST/REPO`): each entry an OCI artifact
//! (image-spec 1.1) tagged `sha256-<hex>.v<FORMAT>` — `artifactType` of
//! strata's index format, the OCI empty config, the index file as its one
//! blob, the layer's figures as annotations. Read and written through the
//! same client as image reads.

use std::io::{self, Read};
use std::path::Path;
use std::sync::OnceLock;

use oci_client::manifest::{OciDescriptor, OciImageManifest, OCI_IMAGE_MEDIA_TYPE};

use super::super::local::Local;
use super::super::tier::{Kept, Tier};
use super::entry::{self, Incoming, Key, INDEX_LIMIT};
use super::{Backend, Fetched};
use crate::image::{Digest, LayerDesc};
use crate::layer::index::open_regular;
use crate::source::registry::artifact::{Artifacts, Failed, Problem};

/// From this many digests asked at once, the cache's tags are listed rather
/// than each one asked for.
const LISTED_FROM: usize = 64;
/// An entry's manifest is a few hundred bytes of annotations; more is not one.
const MANIFEST_LIMIT: u64 = 64 << 10;
/// The OCI empty descriptor's content (`{}`), its digest and media type.
const EMPTY: &[u8] = b"{}";
const EMPTY_DIGEST: &str =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";

pub struct Registry {
    artifacts: Artifacts,
    /// The empty config pushed (or found) once per run.
    empty: OnceLock<Result<(), Failed>>,
}

impl Registry {
    pub fn new(artifacts: Artifacts) -> Registry {
        Registry {
            artifacts,
            empty: OnceLock::new(),
        }
    }
}

/// An entry's manifest, checked for its shape: the index and its figures
/// (as the local tier keeps them), and the MAC it carries.
fn parse(bytes: &[u8]) -> Option<(Kept, Digest, Option<String>)> {
    let m: OciImageManifest = serde_json::from_slice(bytes).ok()?;
    if m.artifact_type.as_deref() != Some(entry::artifact_type().as_str())
        || m.config.media_type != EMPTY_MEDIA_TYPE
        || m.layers.len() != 1
        || m.layers[0].media_type != entry::index_media_type()
    {
        return None;
    }
    let index = &m.layers[0];
    let len = u64::try_from(index.size).ok()?;
    let digest = Digest::parse(&index.digest, "shared entry").ok()?;
    let (kept, mac) = entry::from_annotations(m.annotations.as_ref()?, len)?;
    Some((kept, digest, mac))
}

/// The manifest of an entry.
fn manifest(kept: &Kept, index: &Digest, mac: Option<&str>) -> Vec<u8> {
    let m = OciImageManifest {
        schema_version: 2,
        media_type: Some(OCI_IMAGE_MEDIA_TYPE.to_owned()),
        artifact_type: Some(entry::artifact_type()),
        config: OciDescriptor {
            media_type: EMPTY_MEDIA_TYPE.to_owned(),
            digest: EMPTY_DIGEST.to_owned(),
            size: EMPTY.len() as i64,
            urls: None,
            annotations: None,
        },
        layers: vec![OciDescriptor {
            media_type: entry::index_media_type(),
            digest: index.to_string(),
            size: kept.index.len as i64,
            urls: None,
            annotations: None,
        }],
        subject: None,
        annotations: Some(entry::annotations(kept, mac)),
    };
    serde_json::to_vec(&m).unwrap_or_default()
}

impl Backend for Registry {
    fn fetch(&self, layer: &LayerDesc, into: &Local, key: Option<&Key>) -> Fetched {
        let Some(tag) = entry::tag(&layer.digest) else {
            return Fetched::Miss;
        };
        let bytes = match self
            .artifacts
            .manifest(&tag, OCI_IMAGE_MEDIA_TYPE, MANIFEST_LIMIT)
        {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Fetched::Miss,
            Err(f) if f.problem == Problem::TooLarge => {
                return Fetched::Damaged("a manifest larger than any entry")
            }
            Err(f) => return Fetched::Failed(f),
        };
        let Some((kept, index, mac)) = parse(&bytes) else {
            return Fetched::Damaged("not a strata entry of this format");
        };
        if let Err(why) = entry::answers(&kept, layer) {
            return Fetched::Damaged(why);
        }
        let dir = into.scratch(&layer.digest);
        let mut incoming = match Incoming::new(&dir, &kept, key) {
            Ok(i) => i,
            Err(e) => return Fetched::Failed(local_failure(&dir, e)),
        };
        let got = self
            .artifacts
            .blob(index.as_str(), kept.index.len, &mut |bytes| {
                incoming.write(bytes)
            });
        match got {
            Ok(()) => {}
            Err(f) if f.problem == Problem::Missing => {
                return Fetched::Damaged("its index blob is missing")
            }
            Err(f) if f.problem == Problem::TooLarge => {
                return Fetched::Damaged("an index longer than its entry declares")
            }
            Err(f) => return Fetched::Failed(f),
        }
        let tmp = match incoming.finish(&kept, Some(&index), mac.as_deref()) {
            Ok(tmp) => tmp,
            Err(why) => return Fetched::Damaged(why),
        };
        match into.put(kept.summary, tmp) {
            Ok((kept, path)) => Fetched::Hit(kept, path),
            Err(e) => Fetched::Failed(local_failure(&dir, e)),
        }
    }

    fn push(&self, kept: &Kept, index: &Path, key: Option<&Key>) -> Result<(), Failed> {
        let Some(tag) = entry::tag(&kept.summary.digest) else {
            return Ok(());
        };
        if kept.index.len > INDEX_LIMIT {
            return Ok(());
        }
        // One pass for the blob's digest and the MAC, checking the file
        // still is the index the record describes.
        let (digest, mac) = read_for_push(kept, index, key).map_err(|e| local_failure(index, e))?;
        self.empty
            .get_or_init(|| {
                self.artifacts
                    .push_blob(EMPTY_DIGEST, EMPTY.len() as u64, &|| {
                        Ok(Box::new(io::Cursor::new(EMPTY)))
                    })
            })
            .clone()?;
        let path = index.to_owned();
        self.artifacts
            .push_blob(digest.as_str(), kept.index.len, &move || {
                Ok(Box::new(open_regular(&path)?) as Box<dyn Read + Send>)
            })?;
        let bytes = manifest(kept, &digest, mac.as_deref());
        self.artifacts
            .put_manifest(&tag, OCI_IMAGE_MEDIA_TYPE, &bytes)
    }

    fn has(&self, digests: &[Digest]) -> Vec<Result<bool, Failed>> {
        let tags: Vec<Option<String>> = digests.iter().map(entry::tag).collect();
        let asked: Vec<String> = tags.iter().flatten().cloned().collect();
        // Many at once (fleet plan): one listing of the repository's tags
        // instead of a HEAD each, when the listing is whole.
        let listed = match asked.len() >= LISTED_FROM {
            true => self.artifacts.tags().ok().flatten(),
            false => None,
        };
        let mut answers = match listed {
            Some(listed) => asked
                .iter()
                .map(|t| Ok(listed.contains(t)))
                .collect::<Vec<_>>()
                .into_iter(),
            None => self
                .artifacts
                .has_manifests(&asked, OCI_IMAGE_MEDIA_TYPE)
                .into_iter(),
        };
        tags.iter()
            .map(|t| match t {
                Some(_) => answers.next().unwrap_or(Ok(false)),
                // Kept locally only: never in the shared cache.
                None => Ok(true),
            })
            .collect()
    }
}

/// The blob digest and MAC of the index at `path`, while it still is the
/// index `kept` records.
fn read_for_push(
    kept: &Kept,
    path: &Path,
    key: Option<&Key>,
) -> io::Result<(Digest, Option<String>)> {
    let Some((sha256, mac)) = entry::outgoing(kept, open_regular(path)?, key)? else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the local index changed before it was pushed",
        ));
    };
    let digest = Digest::parse(&format!("sha256:{sha256}"), "index")
        .map_err(|e| io::Error::other(e.to_string()))?;
    Ok((digest, mac))
}

/// A failure on this machine (the local cache), not the registry's.
pub(super) fn local_failure(path: &Path, e: io::Error) -> Failed {
    Failed::new(Problem::Local, format!("{}: {e}", path.display()))
}
