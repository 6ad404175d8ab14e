//! Bounded retries with exponential backoff for registry requests; the
//! caller bounds the whole budget with `--timeout`.

use std::future::Future;
use std::time::Duration;

pub const ATTEMPTS: u32 = 4;
pub const FIRST_DELAY: Duration = Duration::from_millis(250);

/// Errors that may go away when the request is sent again.
pub trait Transient {
    fn transient(&self) -> bool;
}

/// Runs `op` until it succeeds, fails for good, or has been tried ATTEMPTS times.
/// Retried: connection errors, broken bodies, 429 and 5xx.
pub async fn retry<T, E, F, Fut>(mut op: F) -> Result<T, E>
where
    E: Transient,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut delay = FIRST_DELAY;
    let mut attempt = 1;
    loop {
        match op().await {
            Err(e) if attempt < ATTEMPTS && e.transient() => {
                tokio::time::sleep(delay).await;
                delay *= 2;
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::registry::http::Fail;

    #[test]
    fn rate_limits_and_server_errors_are_retried_client_errors_not() {
        let status = |code: u16, body: &str| Fail::Status {
            code,
            body: body.as_bytes().to_vec(),
        };
        let envelope = |code: &str| format!(r#"{{"errors":[{{"code":"{code}","message":"m"}}]}}"#);
        assert!(status(400, &envelope("TOOMANYREQUESTS")).transient());
        assert!(!status(404, &envelope("MANIFEST_UNKNOWN")).transient());
        assert!(status(429, "").transient());
        assert!(status(502, "").transient());
        assert!(!status(404, "").transient());
        assert!(Fail::Broken("closed".into()).transient());
        assert!(!Fail::Timeout(Duration::from_secs(1)).transient());
        assert!(!Fail::TooLarge(1).transient());
    }
}
