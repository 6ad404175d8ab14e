//! The error enum callers match on; `main` renders any of them as one line.

use std::path::PathBuf;

/// Everything strata can refuse. Variants carry structured data so callers
/// (and tests) can match on what went wrong, not on message text.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unknown transport {transport:?} in {reference:?} (expected docker://, oci:, oci-archive:, docker-archive:, docker-daemon:, containers-storage: or containerd:)")]
    UnknownTransport {
        reference: String,
        transport: String,
    },

    #[error("invalid image reference {reference:?}: {reason}")]
    BadReference { reference: String, reason: String },

    #[error("{flag}: {reason}")]
    BadArgument { flag: &'static str, reason: String },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// Shows where and what kind of error, never the input's text (serde's
    /// messages can quote it), and does not chain serde's message.
    #[error("{what}: malformed JSON: {}", json_reason(.error))]
    MalformedJson {
        what: String,
        error: serde_json::Error,
    },

    #[error("{what}: {reason}")]
    Malformed { what: String, reason: String },

    #[error("{source_name}: no image named {wanted:?} (available: {available})")]
    RefNotFound {
        source_name: String,
        wanted: String,
        available: String,
    },

    #[error("{image}: no manifest for platform {wanted} (available: {available})")]
    PlatformNotFound {
        image: String,
        wanted: String,
        available: String,
    },

    #[error("blob {what} is missing from {source_name}")]
    BlobMissing { source_name: String, what: String },

    #[error("blob digest mismatch: expected {expected}, found {found}")]
    DigestMismatch { expected: String, found: String },

    #[error("blob {digest}: size mismatch: descriptor says {expected} bytes, read {found}")]
    SizeMismatch {
        digest: String,
        expected: u64,
        found: u64,
    },

    #[error("blob {digest}: longer than the {expected} bytes its descriptor says")]
    BlobTooLong { digest: String, expected: u64 },

    #[error(
        "layer {digest}: diff_id mismatch: config says {expected}, tar stream hashes to {found}"
    )]
    DiffIdMismatch {
        digest: String,
        expected: String,
        found: String,
    },

    #[error("layer {digest}: unsupported layer media type {media_type:?}")]
    UnsupportedMediaType { digest: String, media_type: String },

    #[error("layer {digest}: media type says {declared} but the blob starts like {found}")]
    CompressionMismatch {
        digest: String,
        declared: &'static str,
        found: &'static str,
    },

    #[error("layer {digest}: corrupt {stage} stream: {reason}")]
    CorruptLayer {
        digest: String,
        stage: &'static str,
        reason: String,
    },

    #[error("layer {digest}: hostile tar entry path {path:?} ({reason}); not followed")]
    HostilePath {
        digest: String,
        path: String,
        reason: &'static str,
    },

    #[error("{image}: {layers} layers, more than the {limit} strata reads the files of (engines run at most a few hundred); footprint takes any number")]
    TooManyLayers {
        image: String,
        layers: usize,
        limit: usize,
    },

    /// A path asked for (`cat`, `export`) that the image does not show as asked.
    #[error("{image}: {path}: {reason}")]
    BadPath {
        image: String,
        path: String,
        reason: String,
    },

    #[error("unsupported manifest: {0}")]
    Unsupported(String),

    #[error("engine {endpoint}: {reason}")]
    Engine { endpoint: String, reason: String },

    #[error("containerd {address}: {reason}")]
    Containerd { address: String, reason: String },

    /// An image whose layer blobs are gone from containerd's content store
    /// (kept unpacked as snapshots only), so no compressed figure or
    /// verified scan can be had.
    #[error("{image}: {missing} of its {layers} layer blobs are not in containerd's content store (first: {digest}); containerd drops them after unpacking when its CRI plugin sets discard_unpacked_layers; `ctr -n {namespace} content fetch` or a fresh pull brings them back")]
    LayersDiscarded {
        image: String,
        namespace: String,
        digest: String,
        missing: usize,
        layers: usize,
    },

    #[error("registry {registry}: {reason}")]
    Registry { registry: String, reason: String },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    pub fn json(what: impl Into<String>, source: serde_json::Error) -> Self {
        Error::MalformedJson {
            what: what.into(),
            error: source,
        }
    }

    pub fn malformed(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Malformed {
            what: what.into(),
            reason: reason.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A serde_json error without the input it may quote: its category and
/// position, and for data errors only what the schema expected.
fn json_reason(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let at = format!("at line {} column {}", e.line(), e.column());
    match e.classify() {
        Category::Eof => format!("the document ends early ({at})"),
        Category::Syntax => format!("syntax error {at}"),
        Category::Io => "read error".to_owned(),
        Category::Data => {
            let text = e.to_string();
            let msg = text
                .rsplit_once(" at line ")
                .map_or(text.as_str(), |(m, _)| m);
            match serde_reason(msg) {
                Some(reason) => format!("{reason} {at}"),
                None => format!("invalid data {at}"),
            }
        }
    }
}

/// A serde data error without the input it may quote: its kind and what the
/// schema expected (`invalid type, expected u64`, `unknown field, expected
/// one of …`, `missing field `kind``); None for a message of another kind.
pub fn serde_reason(msg: &str) -> Option<String> {
    const SERDE: [&str; 5] = [
        "invalid type",
        "invalid value",
        "invalid length",
        "unknown variant",
        "unknown field",
    ];
    if let Some(field) = msg.strip_prefix("missing field ") {
        // The field name comes from the schema, not the input.
        return Some(format!("missing field {field}"));
    }
    let kind = SERDE.iter().find(|k| msg.starts_with(*k))?;
    // The last one: a quoted value before it may hold the same words.
    Some(match msg.rsplit_once(", expected ") {
        Some((_, expected)) => format!("{kind}, expected {expected}"),
        None => (*kind).to_owned(),
    })
}

/// Input-derived text fit for one error line: at most 64 characters, control
/// characters escaped.
pub fn clip(text: &str) -> String {
    let mut out: String = text.chars().take(64).flat_map(char::escape_debug).collect();
    if text.chars().count() > 64 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Doc {
        size: u64,
        kind: Kind,
    }

    #[derive(Debug, serde::Deserialize)]
    enum Kind {
        A,
    }

    fn reason(text: &str) -> String {
        let e = serde_json::from_str::<Doc>(text).unwrap_err();
        Error::json("doc", e).to_string()
    }

    #[test]
    fn json_errors_name_the_place_never_the_input() {
        let r = reason(r#"{"size":"SECRET-1","kind":"A"}"#);
        assert_eq!(
            r,
            "doc: malformed JSON: invalid type, expected u64 at line 1 column 18"
        );
        let r = reason(r#"{"size":1,"kind":"SECRET-2"}"#);
        assert!(
            r.starts_with("doc: malformed JSON: unknown variant, expected"),
            "{r}"
        );
        assert!(!r.contains("SECRET"), "{r}");
        assert!(reason(r#"{"size":1}"#).contains("missing field `kind`"));
        assert!(reason(r#"{"size":SECRET"#).contains("syntax error at line 1"));
        assert!(reason(r#"{"size":1"#).contains("ends early"));
    }

    #[test]
    fn a_value_holding_the_word_expected_is_not_quoted_either() {
        let r = reason(r#"{"size":"a, expected SECRET-3","kind":"A"}"#);
        assert!(!r.contains("SECRET"), "{r}");
        assert!(r.contains("expected u64"), "{r}");
    }
}
