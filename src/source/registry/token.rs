//! Bearer challenges (distribution's token auth): a token from the realm the
//! registry names, for the scope it asks; credentials go to that realm only.

use std::collections::HashMap;
use std::time::Duration;

use oci_client::secrets::RegistryAuth;
use serde::Deserialize;

use super::auth;
use super::http::{classify, read_capped, Fail};

/// A token answer is a small document too.
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

/// The token the realm grants (anonymously unless strata has credentials
/// for the registry); the scope the challenge named, else a pull of `repository`.
pub async fn fetch(
    client: &reqwest::Client,
    timeout: Duration,
    params: &HashMap<String, String>,
    repository: &str,
    auth: &RegistryAuth,
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
        .unwrap_or_else(|| format!("repository:{repository}:pull"));
    query.push(("scope", scope));
    let mut req = client.get(url).query(&query);
    if let Some((user, password)) = auth::basic_pair(auth) {
        req = req.basic_auth(user, Some(password));
    }
    let res = req.send().await.map_err(|e| classify(e, timeout))?;
    let status = res.status();
    if !status.is_success() {
        return Err(Fail::Auth(match status.as_u16() {
            401 | 403 => "wrong or missing credentials".to_owned(),
            code => format!("the token service answered HTTP {code}"),
        }));
    }
    let body = read_capped(res, TOKEN_LIMIT, timeout).await?;
    let answer: Answer = serde_json::from_slice(&body)
        .map_err(|_| Fail::Auth("the token service sent no token".into()))?;
    answer
        .token
        .or(answer.access_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Fail::Auth("the token service sent no token".into()))
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
