//! containerd's gRPC API, as much of it as strata reads: namespaces, images
//! and the content store. The messages are containerd's own (api/services/
//! {namespaces,images,content}/v1 and api/types/descriptor.proto, field
//! numbers as there), written out with prost's derive so that building
//! strata needs no protoc; every call carries the `containerd-namespace`
//! header and a deadline.

use std::collections::HashMap;
use std::time::Duration;

use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status, Streaming};
use tonic_prost::ProstCodec;

/// containerd's `containerd.types.Descriptor`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Descriptor {
    #[prost(string, tag = "1")]
    pub media_type: String,
    #[prost(string, tag = "2")]
    pub digest: String,
    #[prost(int64, tag = "3")]
    pub size: i64,
    #[prost(map = "string, string", tag = "5")]
    pub annotations: HashMap<String, String>,
}

/// `containerd.services.images.v1.Image` (timestamps left out: unread).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Image {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(map = "string, string", tag = "2")]
    pub labels: HashMap<String, String>,
    #[prost(message, optional, tag = "3")]
    pub target: Option<Descriptor>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ListImagesRequest {
    #[prost(string, repeated, tag = "1")]
    filters: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ListImagesResponse {
    #[prost(message, repeated, tag = "1")]
    images: Vec<Image>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Namespace {
    #[prost(string, tag = "1")]
    name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ListNamespacesRequest {
    #[prost(string, tag = "1")]
    filter: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ListNamespacesResponse {
    #[prost(message, repeated, tag = "1")]
    namespaces: Vec<Namespace>,
}

/// `containerd.services.content.v1.Info` (timestamps and labels left out).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Info {
    #[prost(string, tag = "1")]
    pub digest: String,
    #[prost(int64, tag = "2")]
    pub size: i64,
}

#[derive(Clone, PartialEq, prost::Message)]
struct InfoRequest {
    #[prost(string, tag = "1")]
    digest: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct InfoResponse {
    #[prost(message, optional, tag = "1")]
    info: Option<Info>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct ReadContentRequest {
    #[prost(string, tag = "1")]
    digest: String,
    #[prost(int64, tag = "2")]
    offset: i64,
    /// 0: to the end.
    #[prost(int64, tag = "3")]
    size: i64,
}

/// One chunk of a blob, at `offset`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadContentResponse {
    #[prost(int64, tag = "1")]
    pub offset: i64,
    #[prost(bytes = "bytes", tag = "2")]
    pub data: bytes::Bytes,
}

/// Deadline for an answer: a unary call whole, or each chunk of a stream.
pub const WAIT: Duration = Duration::from_secs(120);
/// Deadline for the connection to containerd's socket.
const CONNECT: Duration = Duration::from_secs(10);
/// An image listing larger than this is refused (about 30,000 images).
const MAX_MESSAGE: usize = 16 << 20;

/// Why a call failed, for the one error line.
#[derive(Debug)]
pub enum Failure {
    /// containerd has no such thing (a blob, an image).
    NotFound,
    /// The socket is not there, nothing answers, or it may not be used.
    Unreachable(String),
    Other(String),
}

impl Failure {
    fn from_status(s: Status) -> Failure {
        let message = crate::error::clip(s.message());
        match s.code() {
            Code::NotFound => Failure::NotFound,
            Code::DeadlineExceeded => {
                Failure::Unreachable(format!("no answer within {} s", WAIT.as_secs()))
            }
            Code::Unavailable => Failure::Unreachable(unavailable(&s)),
            Code::PermissionDenied | Code::Unauthenticated => {
                Failure::Unreachable(format!("refused: {message}"))
            }
            code => Failure::Other(format!("containerd answered {code:?}: {message}")),
        }
    }

    pub fn reason(&self) -> String {
        match self {
            Failure::NotFound => "not found".to_owned(),
            Failure::Unreachable(r) | Failure::Other(r) => r.clone(),
        }
    }
}

/// A connection that could not be made, in words.
fn unavailable(s: &Status) -> String {
    io_reason(s).unwrap_or_else(|| format!("unavailable: {}", crate::error::clip(s.message())))
}

/// The io error under `e` (a socket that is missing, refused or forbidden), in words.
fn io_reason(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(match io.kind() {
                std::io::ErrorKind::PermissionDenied => {
                    "permission denied on the socket (containerd's socket is root's; run as root or set CONTAINERD_ADDRESS)".to_owned()
                }
                std::io::ErrorKind::NotFound => {
                    "no socket there (is containerd running? set CONTAINERD_ADDRESS)".to_owned()
                }
                std::io::ErrorKind::ConnectionRefused => {
                    "nothing answers there (is containerd stopped?)".to_owned()
                }
                kind => format!("cannot connect: {kind}"),
            });
        }
        cur = err.source();
    }
    None
}

/// A client of one containerd socket.
#[derive(Clone)]
pub struct Client {
    channel: Channel,
}

impl Client {
    /// A lazy connection: the first call connects (within `CONNECT`).
    /// Must be called inside a tokio runtime.
    pub fn new(socket: &std::path::Path) -> Client {
        let endpoint = Endpoint::from_shared(format!("unix://{}", socket.display()))
            .expect("a unix socket path makes an endpoint")
            .connect_timeout(CONNECT)
            // A layer blob streams in 1 MiB chunks; small windows would throttle it.
            .initial_stream_window_size(4 << 20)
            .initial_connection_window_size(16 << 20)
            // containerd sends 1 MiB chunks: whole, not in 16 KiB frames.
            .max_frame_size(1 << 20);
        Client {
            channel: endpoint.connect_lazy(),
        }
    }

    fn request<M>(namespace: &str, message: M) -> Result<Request<M>, Failure> {
        let mut request = Request::new(message);
        let value = namespace
            .parse()
            .map_err(|_| Failure::Other("a namespace name that is not a header value".into()))?;
        request.metadata_mut().insert("containerd-namespace", value);
        request.set_timeout(WAIT);
        Ok(request)
    }

    async fn unary<Q, A>(&self, namespace: &str, path: &'static str, q: Q) -> Result<A, Failure>
    where
        Q: prost::Message + Send + Sync + 'static,
        A: prost::Message + Default + Send + Sync + 'static,
    {
        let mut grpc =
            tonic::client::Grpc::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE);
        let call = async {
            grpc.ready()
                .await
                .map_err(|e| Failure::Unreachable(connect_reason(&e)))?;
            let request = Self::request(namespace, q)?;
            let codec: ProstCodec<Q, A> = ProstCodec::default();
            grpc.unary(request, PathAndQuery::from_static(path), codec)
                .await
                .map(tonic::Response::into_inner)
                .map_err(Failure::from_status)
        };
        match tokio::time::timeout(WAIT + CONNECT, call).await {
            Ok(r) => r,
            Err(_) => Err(Failure::Unreachable(format!(
                "no answer within {} s",
                WAIT.as_secs()
            ))),
        }
    }

    /// The names of containerd's namespaces.
    pub async fn namespaces(&self) -> Result<Vec<String>, Failure> {
        let r: ListNamespacesResponse = self
            .unary(
                "",
                "/containerd.services.namespaces.v1.Namespaces/List",
                ListNamespacesRequest::default(),
            )
            .await?;
        Ok(r.namespaces.into_iter().map(|n| n.name).collect())
    }

    /// The images of a namespace; `filters` as containerd reads them (`name==x`).
    pub async fn images(
        &self,
        namespace: &str,
        filters: Vec<String>,
    ) -> Result<Vec<Image>, Failure> {
        let r: ListImagesResponse = self
            .unary(
                namespace,
                "/containerd.services.images.v1.Images/List",
                ListImagesRequest { filters },
            )
            .await?;
        Ok(r.images)
    }

    /// What the content store knows of a blob (its size), or NotFound.
    pub async fn info(&self, namespace: &str, digest: &str) -> Result<Info, Failure> {
        let r: InfoResponse = self
            .unary(
                namespace,
                "/containerd.services.content.v1.Content/Info",
                InfoRequest {
                    digest: digest.to_owned(),
                },
            )
            .await?;
        r.info
            .ok_or_else(|| Failure::Other("an Info answer without info".into()))
    }

    /// A blob's bytes, as a stream of chunks.
    pub async fn read(
        &self,
        namespace: &str,
        digest: &str,
    ) -> Result<Streaming<ReadContentResponse>, Failure> {
        let mut grpc =
            tonic::client::Grpc::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE);
        grpc.ready()
            .await
            .map_err(|e| Failure::Unreachable(connect_reason(&e)))?;
        let mut request = Self::request(
            namespace,
            ReadContentRequest {
                digest: digest.to_owned(),
                offset: 0,
                size: 0,
            },
        )?;
        // A stream has no deadline as a whole (a layer takes what it takes);
        // each chunk has one, where it is awaited.
        request.metadata_mut().remove("grpc-timeout");
        let codec: ProstCodec<ReadContentRequest, ReadContentResponse> = ProstCodec::default();
        let call = grpc.server_streaming(
            request,
            PathAndQuery::from_static("/containerd.services.content.v1.Content/Read"),
            codec,
        );
        match tokio::time::timeout(WAIT + CONNECT, call).await {
            Ok(r) => r
                .map(tonic::Response::into_inner)
                .map_err(Failure::from_status),
            Err(_) => Err(Failure::Unreachable(format!(
                "no answer within {} s",
                WAIT.as_secs()
            ))),
        }
    }

    /// The next chunk of a blob, within `WAIT`.
    pub async fn next_chunk(
        stream: &mut Streaming<ReadContentResponse>,
    ) -> Result<Option<ReadContentResponse>, Failure> {
        match tokio::time::timeout(WAIT, stream.message()).await {
            Ok(r) => r.map_err(Failure::from_status),
            Err(_) => Err(Failure::Unreachable(format!(
                "the blob stalled for {} s",
                WAIT.as_secs()
            ))),
        }
    }
}

/// Why a connection could not be made.
fn connect_reason(e: &tonic::transport::Error) -> String {
    io_reason(e)
        .unwrap_or_else(|| format!("cannot connect: {}", crate::error::clip(&e.to_string())))
}
