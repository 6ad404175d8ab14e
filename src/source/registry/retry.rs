//! Bounded retries with exponential backoff for registry requests.

use std::future::Future;
use std::time::Duration;

use oci_client::errors::{OciDistributionError, OciErrorCode};

pub const ATTEMPTS: u32 = 4;
const FIRST_DELAY: Duration = Duration::from_millis(250);

/// Runs `op` until it succeeds, fails for good, or has been tried ATTEMPTS times.
/// Retried: connection errors, timeouts, 429 and 5xx.
pub async fn retry<T, F, Fut>(mut op: F) -> Result<T, OciDistributionError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, OciDistributionError>>,
{
    let mut delay = FIRST_DELAY;
    let mut attempt = 1;
    loop {
        match op().await {
            Err(e) if attempt < ATTEMPTS && retryable(&e) => {
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

pub fn retryable(e: &OciDistributionError) -> bool {
    match e {
        OciDistributionError::RequestError(r) => {
            r.is_connect()
                || r.is_timeout()
                || r.status()
                    .is_some_and(|s| s.as_u16() == 429 || s.is_server_error())
        }
        OciDistributionError::ServerError { code, .. } => *code == 429 || *code >= 500,
        // A 429 that carries an OCI error envelope arrives as a RegistryError.
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|e| e.code == OciErrorCode::Toomanyrequests),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_client::errors::OciEnvelope;

    fn envelope(code: &str) -> OciDistributionError {
        let envelope: OciEnvelope = serde_json::from_str(&format!(
            r#"{{"errors":[{{"code":"{code}","message":"m"}}]}}"#
        ))
        .unwrap();
        OciDistributionError::RegistryError {
            envelope,
            url: "http://127.0.0.1/v2/".into(),
        }
    }

    #[test]
    fn rate_limits_and_server_errors_are_retried_client_errors_not() {
        assert!(retryable(&envelope("TOOMANYREQUESTS")));
        assert!(!retryable(&envelope("MANIFEST_UNKNOWN")));
        let server = |code| OciDistributionError::ServerError {
            code,
            url: String::new(),
            message: String::new(),
        };
        assert!(retryable(&server(429)));
        assert!(retryable(&server(502)));
        assert!(!retryable(&server(404)));
    }
}
