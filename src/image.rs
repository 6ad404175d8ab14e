//! The ground-floor image model: digests, image names, images, layer
//! descriptors, history and blob sources. Every other module may use it; it
//! uses none of them (only the error enum).

use std::fmt;
use std::io::Read;
use std::sync::Arc;

use oci_client::manifest::{IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE, IMAGE_DOCKER_LAYER_TAR_MEDIA_TYPE};
use oci_spec::image::MediaType;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256, Sha512};

use crate::error::{Error, Result};

/// A content digest, `sha256:<64 hex>` or `sha512:<128 hex>`, validated on
/// construction: holding one means it is well formed.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

impl Digest {
    /// Parses `alg:hex`; `what` names the document it came from in errors.
    pub fn parse(text: &str, what: &str) -> Result<Digest> {
        let Some((alg, hex)) = text.split_once(':') else {
            return Err(Error::malformed(
                what,
                "invalid digest (expected ALGORITHM:HEX)",
            ));
        };
        let alg = match alg {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => {
                return Err(Error::Unsupported(format!(
                    "{what}: digest algorithm {:?} (strata verifies sha256 and sha512)",
                    crate::error::clip(alg)
                )))
            }
        };
        let ok = hex.len() == alg.hex_len()
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !ok {
            return Err(Error::malformed(
                what,
                format!("invalid {} digest", alg.name()),
            ));
        }
        Ok(Digest(text.to_owned()))
    }

    pub fn algorithm(&self) -> Algorithm {
        if self.0.starts_with("sha512:") {
            Algorithm::Sha512
        } else {
            Algorithm::Sha256
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn hex(&self) -> &str {
        &self.0[self.algorithm().name().len() + 1..]
    }

    /// `sha256:` and the first 12 hex digits, as docker shows image IDs.
    pub fn short(&self) -> &str {
        &self.0[..self.algorithm().name().len() + 13]
    }

    /// The digest of `bytes` with `alg`.
    pub fn compute(alg: Algorithm, bytes: &[u8]) -> Digest {
        let mut h = Hasher::new(alg);
        h.update(bytes);
        h.finish()
    }

    pub fn sha256_of(bytes: &[u8]) -> Digest {
        Digest::compute(Algorithm::Sha256, bytes)
    }
}

/// A streaming digest computation for either algorithm.
#[derive(Clone)]
pub enum Hasher {
    Sha256(Sha256),
    Sha512(Box<Sha512>),
}

impl Hasher {
    pub fn new(alg: Algorithm) -> Hasher {
        match alg {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Box::default()),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    pub fn finish(self) -> Digest {
        match self {
            Hasher::Sha256(h) => Digest(format!("sha256:{}", hex::encode(h.finalize()))),
            Hasher::Sha512(h) => Digest(format!("sha512:{}", hex::encode(h.finalize()))),
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Digest {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Digest {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Digest, D::Error> {
        let text = String::deserialize(d)?;
        Digest::parse(&text, "digest").map_err(serde::de::Error::custom)
    }
}

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Docker's "foreign" (non-distributable) gzip layer; oci-client names no constant for it.
const DOCKER_FOREIGN_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

impl Compression {
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "uncompressed tar",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }

    /// What a layer media type declares; `None` for a type strata cannot decode.
    pub fn from_media_type(media_type: &MediaType) -> Option<Compression> {
        Some(match media_type {
            MediaType::ImageLayer | MediaType::ImageLayerNonDistributable => Compression::None,
            MediaType::ImageLayerGzip | MediaType::ImageLayerNonDistributableGzip => {
                Compression::Gzip
            }
            MediaType::ImageLayerZstd | MediaType::ImageLayerNonDistributableZstd => {
                Compression::Zstd
            }
            MediaType::Other(other) => match other.as_str() {
                IMAGE_DOCKER_LAYER_TAR_MEDIA_TYPE => Compression::None,
                IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE | DOCKER_FOREIGN_LAYER_GZIP => Compression::Gzip,
                _ => return None,
            },
            _ => return None,
        })
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a layer says it is compressed: by media type, or (docker-archive,
/// which has none) left to the magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    MediaType(Compression),
    Sniff,
}

/// One entry of an image config's `history`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct History {
    pub created_by: Option<String>,
    pub created: Option<String>,
    pub comment: Option<String>,
    /// A step that produced no layer (ENV, CMD, …).
    pub empty_layer: bool,
}

/// Whether a layer media type is a non-distributable ("foreign") one: a
/// layer that registries do not hold, fetched from the `urls` of its
/// descriptor (Windows base layers).
pub fn is_foreign(media_type: &MediaType) -> bool {
    match media_type {
        MediaType::ImageLayerNonDistributable
        | MediaType::ImageLayerNonDistributableGzip
        | MediaType::ImageLayerNonDistributableZstd => true,
        MediaType::Other(other) => other == DOCKER_FOREIGN_LAYER_GZIP,
        _ => false,
    }
}

/// What is known of a foreign layer beyond its descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Foreign {
    /// Where its descriptor says the blob can be fetched.
    pub urls: Vec<String>,
    /// Its blob is not in the source and was not fetched: it is never
    /// scanned, and its declared size is all that is known of it.
    pub unread: bool,
}

/// One layer as an image declares it: what to fetch and what it must hash to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerDesc {
    pub digest: Digest,
    /// Blob bytes as declared (descriptor size, or archive entry size).
    pub size: u64,
    /// Digest of the tar stream, from the image config (None when the
    /// config was not read: a shallow registry listing).
    pub diff_id: Option<Digest>,
    pub declared: Declared,
    /// The config's history entry that made this layer (`empty_layer`
    /// entries skipped); None when the history does not line up with the layers.
    pub history: Option<History>,
    /// Set for a non-distributable layer.
    pub foreign: Option<Foreign>,
}

impl LayerDesc {
    /// A foreign layer whose blob is not at hand: never scanned; views
    /// leave its files out and know only its declared size.
    pub fn unread(&self) -> bool {
        self.foreign.as_ref().is_some_and(|f| f.unread)
    }
}

/// Streams layer blobs from wherever the image lives.
pub trait BlobSource: Send + Sync {
    fn open_blob(&self, layer: &LayerDesc) -> Result<Box<dyn Read + Send>>;
}

/// Where an image was read from, in skopeo's transport words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    Docker,
    Oci,
    OciArchive,
    DockerArchive,
    DockerDaemon,
    ContainersStorage,
    /// containerd's image store; `location` is the namespace.
    Containerd,
}

impl Transport {
    /// Whether images read this way carry their layers' compressed blobs;
    /// an engine (Docker's classic store, Podman) keeps them uncompressed.
    pub fn keeps_compressed(self) -> bool {
        !matches!(self, Transport::DockerDaemon | Transport::ContainersStorage)
    }

    pub fn prefix(self) -> &'static str {
        match self {
            Transport::Docker => "docker://",
            Transport::Oci => "oci:",
            Transport::OciArchive => "oci-archive:",
            Transport::DockerArchive => "docker-archive:",
            Transport::DockerDaemon => "docker-daemon:",
            Transport::ContainersStorage => "containers-storage:",
            Transport::Containerd => "containerd:",
        }
    }
}

/// An image's name, structured so images can be matched across families and
/// printed as a reference strata accepts back.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct ImageName {
    pub transport: Transport,
    /// Registry host, or the layout/archive path as given.
    pub location: String,
    /// Registry repository (`team/api`); for archives the repository of the
    /// tag the image was found by; for OCI layouts None (they name images by `ref`).
    pub repository: Option<String>,
    /// Registry tag; a layout's `org.opencontainers.image.ref.name`; an
    /// archive's tag.
    pub tag: Option<String>,
    /// The manifest digest, when the image is named by it.
    pub digest: Option<Digest>,
    /// docker-archive: the position in manifest.json, when untagged.
    pub position: Option<usize>,
}

impl ImageName {
    pub fn new(transport: Transport, location: impl Into<String>) -> ImageName {
        ImageName {
            transport,
            location: location.into(),
            repository: None,
            tag: None,
            digest: None,
            position: None,
        }
    }

    pub fn with_repository(mut self, repository: impl Into<String>) -> Self {
        self.repository = Some(repository.into());
        self
    }

    pub fn with_tag(mut self, tag: impl Into<String>) -> Self {
        self.tag = Some(tag.into());
        self
    }

    pub fn with_digest(mut self, digest: Digest) -> Self {
        self.digest = Some(digest);
        self
    }

    /// The short name a person calls the image by: the repository's last
    /// segment, or a layout's ref name.
    pub fn basename(&self) -> &str {
        match (&self.repository, &self.tag) {
            (Some(repo), _) => repo.rsplit('/').next().unwrap_or(repo),
            (None, Some(tag)) => tag,
            (None, None) => &self.location,
        }
    }
}

impl fmt::Display for ImageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.transport.prefix(), self.location)?;
        // Registries and containerd name images alike: HOST-or-NAMESPACE/REPO:TAG@DIGEST.
        let like_docker = matches!(self.transport, Transport::Docker | Transport::Containerd);
        match self.transport {
            Transport::Docker | Transport::Containerd => {
                if let Some(repo) = &self.repository {
                    write!(f, "/{repo}")?;
                }
                if let Some(tag) = &self.tag {
                    write!(f, ":{tag}")?;
                }
            }
            _ => match (&self.repository, &self.tag, self.position) {
                (Some(repo), Some(tag), _) => write!(f, ":{repo}:{tag}")?,
                (None, Some(tag), _) => write!(f, ":{tag}")?,
                (_, None, Some(i)) if self.digest.is_none() => write!(f, ":@{i}")?,
                _ => {}
            },
        }
        if self.tag.is_none() || like_docker {
            if let Some(d) = &self.digest {
                write!(f, "@{d}")?;
            }
        }
        Ok(())
    }
}

/// A resolved image: everything but the layer contents.
#[derive(Clone)]
pub struct Image {
    pub name: ImageName,
    /// os/arch[/variant] from the image config (or the index, when shallow).
    pub platform: Option<String>,
    pub manifest_digest: Option<Digest>,
    pub config_digest: Digest,
    pub layers: Vec<LayerDesc>,
    /// The config's whole history, `empty_layer` steps included.
    pub history: Vec<History>,
    pub blobs: Arc<dyn BlobSource>,
}

/// Lines history up with layers: the n-th non-empty entry made the n-th
/// layer. None for every layer when the counts disagree (never a guess).
pub fn align_history(history: &[History], layers: usize) -> Vec<Option<History>> {
    let made: Vec<&History> = history.iter().filter(|h| !h.empty_layer).collect();
    if made.len() == layers {
        made.into_iter().cloned().map(Some).collect()
    } else {
        vec![None; layers]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_validated() {
        let ok = format!("sha256:{}", "a".repeat(64));
        let d = Digest::parse(&ok, "x").unwrap();
        assert_eq!(d.hex(), "a".repeat(64));
        assert_eq!(d.short(), format!("sha256:{}", "a".repeat(12)));
        assert!(Digest::parse(&format!("sha512:{}", "0".repeat(128)), "x").is_ok());
        for bad in [
            "sha256:00",
            "sha256",
            "md5:00",
            &format!("sha256:{}", "A".repeat(64)),
        ] {
            assert!(Digest::parse(bad, "x").is_err(), "{bad}");
        }
        assert_eq!(
            Digest::sha256_of(b"").as_str(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            Digest::compute(Algorithm::Sha512, b"").algorithm(),
            Algorithm::Sha512
        );
    }

    #[test]
    fn names_print_as_references() {
        let d = Digest::sha256_of(b"m");
        let reg = ImageName::new(Transport::Docker, "reg.example:5000")
            .with_repository("team/api")
            .with_tag("1");
        assert_eq!(reg.to_string(), "docker://reg.example:5000/team/api:1");
        assert_eq!(reg.basename(), "api");
        let ctd = ImageName::new(Transport::Containerd, "k8s.io")
            .with_repository("docker.io/library/nginx")
            .with_tag("1.27");
        assert_eq!(
            ctd.to_string(),
            "containerd:k8s.io/docker.io/library/nginx:1.27"
        );
        assert_eq!(ctd.basename(), "nginx");
        let untagged = ImageName::new(Transport::Oci, "dir").with_digest(d.clone());
        assert_eq!(untagged.to_string(), format!("oci:dir@{d}"));
        let arch = ImageName::new(Transport::DockerArchive, "a.tar")
            .with_repository("app")
            .with_tag("latest");
        assert_eq!(arch.to_string(), "docker-archive:a.tar:app:latest");
        let mut pos = ImageName::new(Transport::DockerArchive, "a.tar");
        pos.position = Some(2);
        assert_eq!(pos.to_string(), "docker-archive:a.tar:@2");
    }

    #[test]
    fn foreign_layers_are_known_by_their_media_type() {
        for mt in [
            MediaType::ImageLayerNonDistributable,
            MediaType::ImageLayerNonDistributableGzip,
            MediaType::ImageLayerNonDistributableZstd,
            MediaType::Other(DOCKER_FOREIGN_LAYER_GZIP.to_owned()),
        ] {
            assert!(is_foreign(&mt), "{mt}");
            assert!(Compression::from_media_type(&mt).is_some(), "{mt}");
        }
        for mt in [
            MediaType::ImageLayerGzip,
            MediaType::Other(IMAGE_DOCKER_LAYER_GZIP_MEDIA_TYPE.to_owned()),
        ] {
            assert!(!is_foreign(&mt), "{mt}");
        }
    }

    #[test]
    fn history_lines_up_with_layers_or_not_at_all() {
        let h = |by: &str, empty| History {
            created_by: Some(by.into()),
            empty_layer: empty,
            ..History::default()
        };
        let hist = [h("ADD", false), h("ENV", true), h("RUN", false)];
        let aligned = align_history(&hist, 2);
        assert_eq!(
            aligned[1].as_ref().unwrap().created_by.as_deref(),
            Some("RUN")
        );
        assert!(align_history(&hist, 3).iter().all(Option::is_none));
    }
}
