//! Bearer challenges (distribution's token auth): a token from the realm the
//! registry names, for the scope it asks; credentials go to that realm only
//! over HTTPS, or over plain HTTP where the user allowed it (loopback, or
//! `--insecure-registry`); elsewhere the token is asked for anonymously.

use std::collections::HashMap;
use std::time::Duration;

use oci_client::secrets::RegistryAuth;
use serde::Deserialize;

use super::auth;
use super::http::{classify, read_capped, Fail};

/// A token answer is a small document too (containers/image allows the same).
const TOKEN_LIMIT: u64 = 1 << 20;

/// `Scheme key="value", key=value` → the scheme (lowercase) and parameters.
pub fn parse_challenge(text: &str) -> (String, HashMap<String, String>) {
    let text = text.trim();
    let (scheme, mut rest) = text.split_once(' ').unwrap_or((text, ""));
    let mut params = HashMap::new();
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => {
                let mut value = String::new();
                let mut chars = quoted.char_indices();
                let mut end = quoted.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => value.extend(chars.next().map(|(_, c)| c)),
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        c => value.push(c),
                    }
                }
                (value, &quoted[end..])
            }
            None => {
                let end = after.find(',').unwrap_or(after.len());
                (after[..end].trim().to_owned(), &after[end..])
            }
        };
        params.insert(key.trim().to_ascii_lowercase(), value);
        rest = after;
    }
    (scheme.to_ascii_lowercase(), params)
}

#[derive(Deserialize)]
struct Answer {
    token: Option<String>,
    access_token: Option<String>,
}

/// What a token request is for: the registry (HOST[:PORT]) that challenged,
/// the repository, and the hosts the user allowed plain HTTP to.
pub struct Asked<'a> {
    pub registry: &'a str,
    pub repository: &'a str,
    pub insecure: &'a [String],
}

/// Whether credentials for `registry` may go to a token service at `realm`:
/// over HTTPS always; over plain HTTP only when the realm and the registry
/// are both loopback, or the user named the realm's host with
/// `--insecure-registry` (their consent to plain HTTP for that host). A
/// registry cannot send a user's password in the clear to a host of its choosing.
pub fn may_send_credentials(realm: &reqwest::Url, registry: &str, insecure: &[String]) -> bool {
    if realm.scheme() == "https" {
        return true;
    }
    let host = realm.host_str().unwrap_or_default();
    let authority = match realm.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    (super::is_loopback(&authority) && super::is_loopback(registry))
        || insecure.iter().any(|h| *h == authority || h == host)
}

/// `scheme://host[:port]` of a realm: enough to name it, nothing a registry
/// chose to put in its path or query.
pub fn origin(realm: &reqwest::Url) -> String {
    let mut text = format!(
        "{}://{}",
        realm.scheme(),
        realm.host_str().unwrap_or_default()
    );
    if let Some(port) = realm.port() {
        text.push_str(&format!(":{port}"));
    }
    crate::error::clip(&text)
}

/// The token the realm grants (anonymously unless strata has credentials
/// for the registry and may send them there); the scope the challenge named,
/// else a pull of the repository. `withheld` is told when credentials were
/// kept back and the anonymous token served (the caller warns).
pub async fn fetch(
    client: &reqwest::Client,
    timeout: Duration,
    params: &HashMap<String, String>,
    asked: &Asked<'_>,
    auth: &RegistryAuth,
    withheld: impl FnOnce(&str),
) -> Result<String, Fail> {
    if let RegistryAuth::Bearer(identity) = auth {
        return Ok(identity.clone());
    }
    let realm = params
        .get("realm")
        .ok_or_else(|| Fail::Auth("a Bearer challenge without a realm".into()))?;
    let url = reqwest::Url::parse(realm)
        .map_err(|_| Fail::Auth("a Bearer challenge with an invalid realm".into()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Fail::Auth("a Bearer realm that is not HTTP(S)".into()));
    }
    let mut query: Vec<(&str, String)> = Vec::new();
    if let Some(service) = params.get("service") {
        query.push(("service", service.clone()));
    }
    let scope = params
        .get("scope")
        .cloned()
        .unwrap_or_else(|| format!("repository:{}:pull", asked.repository));
    query.push(("scope", scope));
    let origin = origin(&url);
    let mut kept_back = false;
    let mut req = client.get(url.clone()).query(&query);
    if let Some((user, password)) = auth::basic_pair(auth) {
        if may_send_credentials(&url, asked.registry, asked.insecure) {
            req = req.basic_auth(user, Some(password));
        } else {
            kept_back = true;
        }
    }
    let res = req.send().await.map_err(|e| classify(e, timeout))?;
    let status = res.status();
    if !status.is_success() {
        return Err(Fail::Auth(match status.as_u16() {
            401 | 403 if kept_back => format!(
                "the token service {origin} refused an anonymous request; {}",
                withheld_reason(&url)
            ),
            401 | 403 => "wrong or missing credentials".to_owned(),
            code => format!("the token service answered HTTP {code}"),
        }));
    }
    let body = match read_capped(res, TOKEN_LIMIT, timeout).await {
        Ok(body) => body,
        Err(Fail::TooLarge(cap)) => {
            return Err(Fail::Auth(format!(
                "the token service {origin} sent a token of more than {} MiB; refused",
                cap >> 20
            )))
        }
        Err(e) => return Err(e),
    };
    let answer: Answer = serde_json::from_slice(&body)
        .map_err(|_| Fail::Auth("the token service sent no token".into()))?;
    let token = answer
        .token
        .or(answer.access_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Fail::Auth("the token service sent no token".into()))?;
    // Said only when the anonymous token served; a refusal's error says it instead.
    if kept_back {
        withheld(&origin);
    }
    Ok(token)
}

/// Why credentials were not sent to a realm, and how to allow it.
pub fn withheld_reason(realm: &reqwest::Url) -> String {
    format!(
        "credentials are sent over plain HTTP only to loopback or to hosts named with --insecure-registry (e.g. --insecure-registry {})",
        crate::error::clip(realm.host_str().unwrap_or_default())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_with_quoted_commas() {
        let (scheme, p) = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(scheme, "bearer");
        assert_eq!(p["realm"], "https://auth.example/token");
        assert_eq!(p["service"], "registry.example");
        assert_eq!(p["scope"], "repository:a/b:pull,push");
        let (scheme, p) = parse_challenge(r#"Basic realm="strata-test""#);
        assert_eq!(
            (scheme.as_str(), p["realm"].as_str()),
            ("basic", "strata-test")
        );
        assert_eq!(parse_challenge("Basic").0, "basic");
    }
}

#[cfg(test)]
mod realm_tests {
    use super::*;

    fn url(text: &str) -> reqwest::Url {
        reqwest::Url::parse(text).unwrap()
    }

    #[test]
    fn credentials_go_over_https_anywhere_and_over_http_only_where_allowed() {
        let none: &[&str] = &[];
        let named: &[&str] = &["auth.example", "other.example:8080"];
        // (realm, registry, --insecure-registry, credentials sent)
        let cases: &[(&str, &str, &[&str], bool)] = &[
            // HTTPS: any host.
            ("https://auth.example/token", "reg.example", none, true),
            // Plain HTTP, both loopback (another port, another 127/8 address, ::1).
            ("http://127.0.0.1:9/t", "127.0.0.1:5000", none, true),
            ("http://127.0.0.2:9/t", "localhost:5000", none, true),
            ("http://[::1]:9/t", "127.0.0.1:5000", none, true),
            // Plain HTTP to another host: never on a registry's word.
            ("http://auth.example/t", "reg.example", none, false),
            ("http://auth.example/t", "127.0.0.1:5000", none, false),
            ("http://127.0.0.1:9/t", "reg.example:5000", none, false),
            (
                "http://reg.example:81/t",
                "reg.example:80",
                &["reg.example:80"],
                false,
            ),
            // ... unless the user named that host with --insecure-registry.
            ("http://auth.example/t", "reg.example", named, true),
            ("http://auth.example:81/t", "reg.example", named, true),
            ("http://other.example:8080/t", "reg.example", named, true),
            ("http://other.example:8081/t", "reg.example", named, false),
        ];
        for (realm, registry, insecure, sent) in cases {
            let insecure: Vec<String> = insecure.iter().map(|h| h.to_string()).collect();
            assert_eq!(
                may_send_credentials(&url(realm), registry, &insecure),
                *sent,
                "{realm} for {registry} with {insecure:?}"
            );
        }
    }

    #[test]
    fn a_realm_is_named_by_its_origin_only() {
        assert_eq!(
            origin(&url("http://auth.example:8080/token?secret=1#x")),
            "http://auth.example:8080"
        );
        assert_eq!(
            origin(&url("https://auth.example/t")),
            "https://auth.example"
        );
    }
}
