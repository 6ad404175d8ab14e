//! oci-client errors as one clear line (never carrying credentials).

use oci_client::errors::{OciDistributionError, OciErrorCode};

use crate::error::Error;

pub fn registry_error(host: &str, what: &str, e: OciDistributionError) -> Error {
    let reason = match &e {
        OciDistributionError::UnauthorizedError { .. } => {
            format!("{what}: unauthorized (401): wrong or missing credentials")
        }
        OciDistributionError::AuthenticationFailure(_) => {
            format!("{what}: authentication failed: wrong or missing credentials")
        }
        OciDistributionError::RegistryError { envelope, .. } => {
            let codes: Vec<String> = envelope
                .errors
                .iter()
                .map(|err| {
                    let meaning = match err.code {
                        OciErrorCode::ManifestUnknown => "manifest unknown (no such tag or digest)",
                        OciErrorCode::NameUnknown => "repository unknown",
                        OciErrorCode::BlobUnknown => "blob unknown",
                        OciErrorCode::Unauthorized => "unauthorized: wrong or missing credentials",
                        OciErrorCode::Denied => "access denied",
                        OciErrorCode::Toomanyrequests => "too many requests",
                        _ => err.message.as_str(),
                    };
                    meaning.to_owned()
                })
                .collect();
            format!("{what}: {}", codes.join("; "))
        }
        OciDistributionError::ServerError { code, message, .. } => {
            let message: String = message.trim().chars().take(200).collect();
            match code {
                404 => format!("{what}: not found (404)"),
                401 => format!("{what}: unauthorized (401): wrong or missing credentials"),
                _ => format!("{what}: HTTP {code} {message}"),
            }
        }
        OciDistributionError::RequestError(r) if r.is_connect() => {
            format!("{what}: cannot connect (registry down or unreachable)")
        }
        OciDistributionError::RequestError(r) if r.is_timeout() => {
            format!("{what}: timed out")
        }
        OciDistributionError::RequestError(r) => match r.status() {
            Some(s) if s.as_u16() == 404 => format!("{what}: not found (404)"),
            Some(s) => format!("{what}: HTTP {s}"),
            None => format!("{what}: {r}"),
        },
        other => format!("{what}: {other}"),
    };
    Error::Registry {
        registry: host.to_owned(),
        reason: if super::retry::retryable(&e) {
            format!("{reason} (after {} tries)", super::retry::ATTEMPTS)
        } else {
            reason
        },
    }
}
