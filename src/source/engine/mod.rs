//! `docker-daemon:` and `containers-storage:`: images of a Docker-compatible
//! engine (Docker, or Podman's `podman system service`), read through the
//! engine's image export and scanned like a `docker save` stream.

mod every;
pub mod stream;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bollard::{ClientVersion, Docker};
use futures_util::{Stream, StreamExt};
use tokio_util::io::{StreamReader, SyncIoBridge};

use super::{archive, Reading};
use crate::error::{clip, Error, Result};
use crate::image::{Image, ImageName, Transport};
use crate::reference::EVERY;
use stream::StreamFs;

/// The API version strata speaks: Docker 20.10 and Podman 3 on serve it.
const API_VERSION: &ClientVersion = &ClientVersion {
    major_version: 1,
    minor_version: 41,
};
/// Deadline for the engine's answer to a request, and for each chunk of an export.
pub const WAIT: Duration = Duration::from_secs(120);
const DOCKER_SOCKET: &str = "/var/run/docker.sock";

/// Where an engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp(String),
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unix(p) => write!(f, "unix://{}", p.display()),
            Endpoint::Tcp(a) => write!(f, "tcp://{a}"),
        }
    }
}

impl Endpoint {
    /// `unix:///path`, `tcp://HOST:PORT` (or `http://`), as in `DOCKER_HOST`.
    pub fn parse(text: &str) -> Result<Endpoint> {
        if let Some(path) = text.strip_prefix("unix://") {
            if !path.is_empty() {
                return Ok(Endpoint::Unix(PathBuf::from(path)));
            }
        }
        for scheme in ["tcp://", "http://"] {
            if let Some(addr) = text.strip_prefix(scheme) {
                let addr = addr.trim_end_matches('/');
                if !addr.is_empty() && !addr.contains('/') {
                    return Ok(Endpoint::Tcp(addr.to_owned()));
                }
            }
        }
        Err(Error::BadArgument {
            flag: "DOCKER_HOST",
            reason: format!(
                "{:?}: expected unix:///PATH or tcp://HOST:PORT (ssh:// and TLS are not supported)",
                clip(text)
            ),
        })
    }

    /// Docker's: `$DOCKER_HOST`, else `unix:///var/run/docker.sock`.
    pub fn docker() -> Result<Endpoint> {
        match std::env::var("DOCKER_HOST") {
            Ok(h) if !h.is_empty() => Endpoint::parse(&h),
            _ => Ok(Endpoint::Unix(PathBuf::from(DOCKER_SOCKET))),
        }
    }

    /// Podman's service sockets, in the order podman-remote looks, then `$DOCKER_HOST`.
    pub fn podman_candidates() -> Vec<Endpoint> {
        let mut found = Vec::new();
        if let Ok(h) = std::env::var("CONTAINER_HOST") {
            found.extend(Endpoint::parse(&h).ok());
        }
        if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
            found.push(Endpoint::Unix(Path::new(&dir).join("podman/podman.sock")));
        }
        found.push(Endpoint::Unix(PathBuf::from("/run/podman/podman.sock")));
        if let Ok(h) = std::env::var("DOCKER_HOST") {
            found.extend(Endpoint::parse(&h).ok());
        }
        found
    }

    fn exists(&self) -> bool {
        match self {
            Endpoint::Unix(p) => p.exists(),
            Endpoint::Tcp(_) => true,
        }
    }

    fn connect(&self) -> Result<Docker> {
        let secs = WAIT.as_secs();
        let connected = match self {
            Endpoint::Unix(p) => {
                if !p.exists() {
                    return Err(self.refused(
                        "no socket there (start Docker, or `podman system service --time=0 unix://…`, and point DOCKER_HOST at it)",
                    ));
                }
                Docker::connect_with_unix(&p.to_string_lossy(), secs, API_VERSION)
            }
            Endpoint::Tcp(a) => Docker::connect_with_http(a, secs, API_VERSION),
        };
        connected.map_err(|e| self.error(e, ""))
    }

    pub fn refused(&self, reason: &str) -> Error {
        Error::Engine {
            endpoint: self.to_string(),
            reason: reason.to_owned(),
        }
    }

    /// One clear reason for an engine failure; `name` is the image asked for.
    pub fn error(&self, e: bollard::errors::Error, name: &str) -> Error {
        use bollard::errors::Error as B;
        let reason = match &e {
            B::DockerResponseServerError {
                status_code: 404, ..
            } => format!("no image {name:?} in this engine"),
            B::DockerResponseServerError {
                status_code,
                message,
            } => format!("the engine answered {status_code}: {}", clip(message)),
            B::RequestTimeoutError => format!("no answer within {} s", WAIT.as_secs()),
            _ => match io_kind(&e) {
                Some(std::io::ErrorKind::PermissionDenied) => {
                    "permission denied on the socket (join the group that owns it, e.g. docker, or use your own rootless Podman socket)".to_owned()
                }
                Some(std::io::ErrorKind::ConnectionRefused) => {
                    "nothing answers there (is the engine stopped? start Docker, or `podman system service --time=0`)".to_owned()
                }
                Some(std::io::ErrorKind::NotFound) => "no socket there".to_owned(),
                _ => clip(&e.to_string()),
            },
        };
        self.refused(&reason)
    }
}

/// The io::Error kind under a client error, if any.
fn io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        cur = err.source();
    }
    None
}

/// `docker-daemon:NAME`: the image of the engine at `DOCKER_HOST`
/// (`*`: every image it holds; untagged ones too with `all`).
pub fn load_docker(name: &str, all: bool, reading: &dyn Reading) -> Result<Vec<Image>> {
    load(
        &Endpoint::docker()?,
        Transport::DockerDaemon,
        name,
        all,
        reading,
    )
}

/// `containers-storage:NAME`: the image in Podman's storage, through the
/// first Podman service socket that exists.
pub fn load_podman(name: &str, all: bool, reading: &dyn Reading) -> Result<Vec<Image>> {
    let candidates = Endpoint::podman_candidates();
    let Some(endpoint) = candidates.iter().find(|e| e.exists()) else {
        let tried: Vec<String> = candidates.iter().map(ToString::to_string).collect();
        return Err(Error::Engine {
            endpoint: tried.join(", "),
            reason: "no Podman service socket; start one with `podman system service --time=0` (or set CONTAINER_HOST)".to_owned(),
        });
    };
    load(endpoint, Transport::ContainersStorage, name, all, reading)
}

/// A connection to an engine and the runtime its calls run on.
pub struct Engine<'a> {
    pub rt: tokio::runtime::Runtime,
    pub docker: Docker,
    pub endpoint: &'a Endpoint,
    pub transport: Transport,
}

impl<'a> Engine<'a> {
    fn connect(endpoint: &'a Endpoint, transport: Transport) -> Result<Engine<'a>> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| Error::io("tokio runtime", e))?;
        let docker = {
            let _guard = rt.enter();
            endpoint.connect()?
        };
        let engine = Engine {
            rt,
            docker,
            endpoint,
            transport,
        };
        if transport == Transport::ContainersStorage {
            let version = engine
                .rt
                .block_on(engine.docker.version())
                .map_err(|e| endpoint.error(e, ""))?;
            let podman = version
                .components
                .iter()
                .flatten()
                .any(|c| c.name.contains("Podman"));
            if !podman {
                return Err(endpoint.refused(
                    "this engine is not a Podman service; containers-storage: needs one (`podman system service --time=0`), docker-daemon: reads Docker",
                ));
            }
        }
        Ok(engine)
    }

    /// The images of one export of `names` (a `docker save` stream), read
    /// as it comes; `label` names the stream in errors and progress.
    pub fn export(
        &self,
        names: &[&str],
        label: String,
        reading: &dyn Reading,
    ) -> Result<Vec<Image>> {
        let shown = names.first().copied().unwrap_or_default();
        let export = if names.len() == 1 {
            with_deadline(self.docker.export_image(names[0])).boxed()
        } else {
            with_deadline(self.docker.export_images(names)).boxed()
        };
        let mut export = export;
        // The first chunk says whether the engine has the image at all.
        let first = match self.rt.block_on(export.next()) {
            Some(Ok(bytes)) => Some(Ok(bytes)),
            Some(Err(Waited::Client(e))) => return Err(self.endpoint.error(e, shown)),
            Some(Err(Waited::Timeout)) => return Err(self.endpoint.refused("export stalled")),
            None => None,
        };
        let rest = futures_util::stream::iter(first).chain(export);
        let reader = StreamReader::new(rest.map(|r| r.map_err(Waited::into_io)));
        let bridge = SyncIoBridge::new_with_handle(reader, self.rt.handle().clone());
        let fs = StreamFs::read(bridge, label, reading)?;
        archive::load_fs(Arc::new(fs), ImageName::new(self.transport, shown), None)
    }
}

fn load(
    endpoint: &Endpoint,
    transport: Transport,
    name: &str,
    all: bool,
    reading: &dyn Reading,
) -> Result<Vec<Image>> {
    let engine = Engine::connect(endpoint, transport)?;
    if name == EVERY {
        return every::load(&engine, all, reading);
    }
    let label = format!("{}{name}", transport.prefix());
    let images = engine.export(&[asked(name)], label, reading)?;
    Ok(images
        .into_iter()
        .map(|mut image| {
            image.name = ImageName::new(transport, name);
            image
        })
        .collect())
}

/// What the engine is asked for: an image ID cut short (`sha256:a1262e20aac6`)
/// goes as its bare digits, the only short form Docker's and Podman's APIs
/// look up; names and whole IDs go as given.
fn asked(name: &str) -> &str {
    match name.strip_prefix("sha256:") {
        Some(hex) if hex.len() < 64 => hex,
        _ => name,
    }
}

enum Waited {
    Client(bollard::errors::Error),
    Timeout,
}

impl Waited {
    fn into_io(self) -> std::io::Error {
        match self {
            Waited::Client(e) => std::io::Error::other(format!(
                "engine connection failed: {}",
                clip(&e.to_string())
            )),
            Waited::Timeout => std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("engine export stalled for {} s", WAIT.as_secs()),
            ),
        }
    }
}

/// The export's chunks, each awaited at most `WAIT`.
fn with_deadline(
    s: impl Stream<Item = std::result::Result<bytes::Bytes, bollard::errors::Error>> + Send,
) -> impl Stream<Item = std::result::Result<bytes::Bytes, Waited>> + Send {
    futures_util::stream::unfold(Box::pin(s), |mut s| async move {
        match tokio::time::timeout(WAIT, s.next()).await {
            Ok(Some(item)) => Some((item.map_err(Waited::Client), s)),
            Ok(None) => None,
            Err(_) => Some((Err(Waited::Timeout), s)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_image_id_is_asked_for_by_its_digits() {
        assert_eq!(asked("sha256:a1262e20aac6"), "a1262e20aac6");
        let whole = format!("sha256:{}", "a".repeat(64));
        assert_eq!(asked(&whole), whole);
        assert_eq!(asked("fam/app:1"), "fam/app:1");
        assert_eq!(asked("a1262e20aac6"), "a1262e20aac6");
    }

    #[test]
    fn docker_host_forms() {
        assert_eq!(
            Endpoint::parse("unix:///run/x.sock").unwrap(),
            Endpoint::Unix("/run/x.sock".into())
        );
        assert_eq!(
            Endpoint::parse("tcp://127.0.0.1:2375").unwrap(),
            Endpoint::Tcp("127.0.0.1:2375".into())
        );
        for bad in ["ssh://me@host", "unix://", "/var/run/docker.sock", "tcp://"] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Endpoint::Unix("/a.sock".into()).to_string(),
            "unix:///a.sock"
        );
    }
}
