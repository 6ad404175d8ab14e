//! Family globs: `HOST/PREFIX/*[:TAG]` expanded through `/v2/_catalog` and tag lists.

use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference as OciRef};

use super::auth::basic_pair;
use super::errors::registry_error;
use super::retry::retry;
use crate::error::{Error, Result};

const PAGE: usize = 1000;
const MAX_PAGES: usize = 100;

/// The references a glob names, sorted: every repository matching the pattern
/// that has TAG (or each of its tags when the glob names none).
pub async fn expand(
    client: &Client,
    text: &str,
    auth: &RegistryAuth,
    plain_http: bool,
) -> Result<Vec<OciRef>> {
    let (host, rest) = text
        .split_once('/')
        .ok_or_else(|| bad(text, "expected HOST/PREFIX/*[:TAG]"))?;
    let (pattern, tag) = match rest.rsplit_once(':') {
        Some((p, t)) if !t.contains('/') => (p, Some(t)),
        _ => (rest, None),
    };
    if tag.is_some_and(|t| t.contains('*')) {
        return Err(bad(text, "only the repository path may hold `*`"));
    }
    let repos: Vec<String> = catalog(host, auth, plain_http)
        .await?
        .into_iter()
        .filter(|r| glob_match(pattern, r))
        .collect();
    // Tag lists of all matching repositories, fetched concurrently.
    let listed = futures_util::future::try_join_all(repos.iter().map(|repo| async move {
        let probe = OciRef::with_tag(host.to_owned(), repo.clone(), "latest".to_owned());
        let tags = retry(|| client.list_tags(&probe, auth, None, None))
            .await
            .map_err(|e| registry_error(host, &format!("tags of {repo}"), e))?
            .tags;
        Ok::<_, Error>((repo, tags))
    }))
    .await?;
    let mut refs = Vec::new();
    for (repo, tags) in listed {
        for t in tags
            .iter()
            .filter(|t| tag.is_none_or(|want| want == t.as_str()))
        {
            refs.push(OciRef::with_tag(host.to_owned(), repo.clone(), t.clone()));
        }
    }
    if refs.is_empty() {
        return Err(Error::Registry {
            registry: host.to_owned(),
            reason: format!("no repository matches {text}"),
        });
    }
    Ok(refs)
}

fn bad(text: &str, reason: &str) -> Error {
    Error::BadReference {
        reference: format!("docker://{text}"),
        reason: reason.to_owned(),
    }
}

/// `*` matches within one path segment.
fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), name.split('/').collect());
    p.len() == n.len() && p.iter().zip(&n).all(|(p, n)| segment_match(p, n))
}

fn segment_match(p: &str, n: &str) -> bool {
    match p.split_once('*') {
        None => p == n,
        Some((head, tail)) => {
            n.starts_with(head) && (head.len()..=n.len()).any(|i| segment_match(tail, &n[i..]))
        }
    }
}

/// Every repository name the registry lists (following `Link` pages).
async fn catalog(host: &str, auth: &RegistryAuth, plain_http: bool) -> Result<Vec<String>> {
    let scheme = if plain_http { "http" } else { "https" };
    let http = reqwest::Client::new();
    let mut repos = Vec::new();
    let mut url = format!("{scheme}://{host}/v2/_catalog?n={PAGE}");
    let fail = |reason: String| Error::Registry {
        registry: host.to_owned(),
        reason,
    };
    for _ in 0..MAX_PAGES {
        let mut req = http.get(&url);
        if let Some((u, p)) = basic_pair(auth) {
            req = req.basic_auth(u, Some(p));
        }
        let res = req.send().await.map_err(|e| {
            fail(format!(
                "listing repositories: {}",
                if e.is_connect() {
                    "cannot connect (registry down or unreachable)".to_owned()
                } else {
                    e.without_url().to_string()
                }
            ))
        })?;
        let status = res.status();
        if !status.is_success() {
            return Err(fail(format!(
                "the registry does not allow listing repositories (/v2/_catalog answered {status}); name the images instead"
            )));
        }
        let next = res
            .headers()
            .get(reqwest::header::LINK)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| l.split_once('<'))
            .and_then(|(_, rest)| rest.split_once('>'))
            .map(|(path, _)| format!("{scheme}://{host}{path}"));
        let body: serde_json::Value = res
            .json()
            .await
            .map_err(|e| fail(format!("listing repositories: {}", e.without_url())))?;
        repos.extend(
            body["repositories"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r.as_str().map(str::to_owned)),
        );
        match next {
            Some(n) => url = n,
            None => return Ok(repos),
        }
    }
    Ok(repos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_within_a_segment() {
        assert!(glob_match("fam/*", "fam/api"));
        assert!(!glob_match("fam/*", "fam/api/v2"));
        assert!(!glob_match("fam/*", "other/api"));
        assert!(glob_match("fam/web-*", "fam/web-front"));
        assert!(glob_match("*/base", "lean/base"));
    }
}
