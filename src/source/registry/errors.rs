//! Registry failures as one clear line (never carrying credentials).

use oci_client::errors::{OciEnvelope, OciErrorCode};

use super::http::Fail;
use crate::error::Error;

/// `registry HOST: WHAT: reason` (a reason that says how often it was tried).
pub fn registry_error(host: &str, what: &str, fail: Fail) -> Error {
    Error::Registry {
        registry: host.to_owned(),
        reason: format!("{what}: {fail}"),
    }
}

/// What an error status means: the OCI error codes when the body has them.
pub fn status_reason(code: u16, body: &[u8]) -> String {
    if let Ok(envelope) = serde_json::from_slice::<OciEnvelope>(body) {
        if !envelope.errors.is_empty() {
            let codes: Vec<String> = envelope
                .errors
                .iter()
                .map(|err| {
                    match err.code {
                        OciErrorCode::ManifestUnknown => "manifest unknown (no such tag or digest)",
                        OciErrorCode::NameUnknown => "repository unknown",
                        OciErrorCode::BlobUnknown => "blob unknown",
                        OciErrorCode::Unauthorized => "unauthorized: wrong or missing credentials",
                        OciErrorCode::Denied => "access denied",
                        OciErrorCode::Toomanyrequests => "too many requests",
                        _ => err.message.as_str(),
                    }
                    .chars()
                    .take(200)
                    .collect()
                })
                .collect();
            return codes.join("; ");
        }
    }
    match code {
        401 => "unauthorized (401): wrong or missing credentials".to_owned(),
        404 => "not found (404)".to_owned(),
        _ => {
            let message: String = String::from_utf8_lossy(body)
                .trim()
                .chars()
                .take(200)
                .collect();
            format!("HTTP {code} {message}").trim_end().to_owned()
        }
    }
}
