//! Bounded retries with exponential backoff for registry requests, all
//! within one `--timeout` budget: no try and no backoff runs past it.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::http::Fail;

pub const ATTEMPTS: u32 = 4;
pub const FIRST_DELAY: Duration = Duration::from_millis(250);

/// Runs `op` until it succeeds, fails for good, has been tried ATTEMPTS
/// times, or `budget` is spent. Retried: connection errors, broken bodies,
/// 429 and 5xx. A failure after several tries says how many.
pub async fn retry<T, F, Fut>(budget: Duration, mut op: F) -> Result<T, Fail>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Fail>>,
{
    let deadline = Instant::now() + budget;
    let mut delay = FIRST_DELAY;
    let mut tries = 1;
    loop {
        let outcome = tokio::time::timeout_at(deadline, op())
            .await
            .unwrap_or(Err(Fail::Timeout(budget)));
        match outcome {
            Err(e) if tries < ATTEMPTS && e.transient() && Instant::now() + delay < deadline => {
                tokio::time::sleep(delay).await;
                delay *= 2;
                tries += 1;
            }
            Err(e) if tries > 1 => return Err(Fail::Retried(Box::new(e), tries)),
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[tokio::test]
    async fn retries_stop_at_the_budget_and_say_how_many_were_made() {
        let mut calls = 0;
        let r: Result<(), Fail> = retry(Duration::from_secs(30), || {
            calls += 1;
            async {
                Err(Fail::Status {
                    code: 503,
                    body: b"busy".to_vec(),
                })
            }
        })
        .await;
        assert_eq!(calls, 4);
        assert_eq!(r.unwrap_err().to_string(), "HTTP 503 busy (after 4 tries)");
        // 250 ms + 500 ms of backoff fit in one second; a third wait does not.
        let mut calls = 0;
        let r: Result<(), Fail> = retry(Duration::from_secs(1), || {
            calls += 1;
            async { Err(Fail::Connect) }
        })
        .await;
        assert_eq!(calls, 3);
        assert!(r.unwrap_err().to_string().ends_with("(after 3 tries)"));
    }
}
