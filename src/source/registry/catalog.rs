//! Family globs: `HOST/PREFIX/*[:TAG]` expanded through `/v2/_catalog` and
//! tag lists (paginated, each page capped and bounded by `--timeout`; credentials only
//! when the registry challenges).

use oci_client::Reference as OciRef;
use serde::Deserialize;

use super::errors::registry_error;
use super::http::{Fail, Http, Target};
use crate::error::{clip, Error, Result};

const PAGE: usize = 1000;
const MAX_PAGES: usize = 100;
/// A listing page is a small document too.
const LISTING_LIMIT: u64 = 4 << 20;

#[derive(Deserialize)]
struct Catalog {
    #[serde(default)]
    repositories: Vec<String>,
}

#[derive(Deserialize)]
struct Tags {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// The references a glob names, sorted: every repository matching the pattern
/// that has TAG (or each of its tags when the glob names none).
pub async fn expand(http: &Http, text: &str) -> Result<Vec<OciRef>> {
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
    let repos: Vec<String> = catalog(http, host)
        .await?
        .into_iter()
        .filter(|r| glob_match(pattern, r))
        .collect();
    // Each matching repository names one image at least: refuse before listing tags.
    too_many(host, text, repos.len())?;
    // Tag lists of all matching repositories, fetched concurrently.
    let listed = futures_util::future::try_join_all(
        repos
            .iter()
            .map(|repo| async move { Ok::<_, Error>((repo, tags(http, host, repo).await?)) }),
    )
    .await?;
    let mut refs = Vec::new();
    for (repo, tags) in &listed {
        for t in tags
            .iter()
            .filter(|t| tag.is_none_or(|want| want == t.as_str()))
        {
            refs.push(OciRef::with_tag(
                host.to_owned(),
                (*repo).clone(),
                t.clone(),
            ));
        }
    }
    too_many(host, text, refs.len())?;
    if refs.is_empty() {
        return Err(Error::Registry {
            registry: host.to_owned(),
            reason: nothing_named(pattern, tag, &listed),
        });
    }
    Ok(refs)
}

/// Why a glob names no image: no repository matches, or those that do
/// lack the tag (named, with the tags they have) or have no tags at all.
fn nothing_named(pattern: &str, tag: Option<&str>, listed: &[(&String, Vec<String>)]) -> String {
    if listed.is_empty() {
        return format!("no repository matches {}", clip(pattern));
    }
    let repos: Vec<String> = listed.iter().map(|(r, _)| (*r).clone()).collect();
    let mut there: Vec<String> = listed.iter().flat_map(|(_, t)| t.iter().cloned()).collect();
    there.sort();
    there.dedup();
    match tag {
        Some(tag) if !there.is_empty() => format!(
            "no repository matching {} has tag {}: {} lack it (tags there: {})",
            clip(pattern),
            clip(tag),
            some(&repos),
            some(&there)
        ),
        _ => format!(
            "the repositories matching {} have no tags: {}",
            clip(pattern),
            some(&repos)
        ),
    }
}

/// Up to ten names, each clipped, then how many more.
pub fn some(names: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut text: Vec<String> = names.iter().take(SHOWN).map(|n| clip(n)).collect();
    if names.len() > SHOWN {
        text.push(format!("+{} more", names.len() - SHOWN));
    }
    text.join(", ")
}

/// The tags of one repository, as the registry lists them (following `Link` pages).
pub async fn tags(http: &Http, host: &str, repo: &str) -> Result<Vec<String>> {
    let what = format!("tags of {repo}");
    match listed_tags(http, host, repo).await {
        Ok((tags, _)) => Ok(tags),
        Err(Paged::Fail(f)) => Err(registry_error(host, &what, f)),
        Err(Paged::Bad(e)) => Err(e),
    }
}

/// The tags of one repository, and whether that is all of them (false: the
/// listing ran past MAX_PAGES pages).
pub(super) async fn listed_tags(
    http: &Http,
    host: &str,
    repo: &str,
) -> std::result::Result<(Vec<String>, bool), Paged> {
    let what = format!("tags of {repo}");
    let to = Target {
        host,
        repository: repo,
    };
    let first = format!("/v2/{repo}/tags/list?n={PAGE}");
    let mut tags = Vec::new();
    let complete = pages(
        http,
        &to,
        &first,
        &format!("/v2/{repo}/tags/list"),
        |page| {
            let page: Tags = serde_json::from_slice(page).map_err(|e| Error::json(&what, e))?;
            tags.extend(page.tags.unwrap_or_default());
            Ok(())
        },
    )
    .await?;
    Ok((tags, complete))
}

/// Why a paginated listing stopped.
pub(super) enum Paged {
    Fail(Fail),
    Bad(Error),
}

/// Reads a listing from `first` on, page by page (each capped and bounded by
/// `--timeout`), following `Link` headers only to paths starting with
/// `prefix` on the same registry, at most MAX_PAGES pages: true when the
/// last page was read.
async fn pages(
    http: &Http,
    to: &Target<'_>,
    first: &str,
    prefix: &str,
    mut each: impl FnMut(&[u8]) -> Result<()>,
) -> std::result::Result<bool, Paged> {
    let mut url = http.url(to.host, first);
    for _ in 0..MAX_PAGES {
        let (headers, body) = http
            .get_small(to, &url, "application/json", LISTING_LIMIT)
            .await
            .map_err(Paged::Fail)?;
        each(&body).map_err(Paged::Bad)?;
        let next = headers
            .get(reqwest::header::LINK)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| l.split_once('<'))
            .and_then(|(_, rest)| rest.split_once('>'))
            .map(|(path, _)| path.to_owned());
        match next {
            Some(path) if path.starts_with(prefix) => url = http.url(to.host, &path),
            _ => return Ok(true),
        }
    }
    Ok(false)
}

/// A glob may name at most MAX_IMAGES images.
fn too_many(host: &str, text: &str, images: usize) -> Result<()> {
    if images <= crate::source::MAX_IMAGES {
        return Ok(());
    }
    Err(Error::Registry {
        registry: host.to_owned(),
        reason: format!(
            "{text} names {images} images or more; strata reads at most {} per run",
            crate::source::MAX_IMAGES
        ),
    })
}

fn bad(text: &str, reason: &str) -> Error {
    Error::BadReference {
        reference: format!("docker://{text}"),
        reason: reason.to_owned(),
    }
}

/// `*` matches within one path segment.
pub(super) fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), name.split('/').collect());
    p.len() == n.len() && p.iter().zip(&n).all(|(p, n)| segment_match(p, n))
}

pub(super) fn segment_match(p: &str, n: &str) -> bool {
    match p.split_once('*') {
        None => p == n,
        Some((head, tail)) => {
            n.starts_with(head) && (head.len()..=n.len()).any(|i| segment_match(tail, &n[i..]))
        }
    }
}

/// Every repository name the registry lists (following `Link` pages).
pub(super) async fn catalog(http: &Http, host: &str) -> Result<Vec<String>> {
    let to = Target {
        host,
        repository: "",
    };
    let mut repos = Vec::new();
    let what = format!("registry {host}: /v2/_catalog");
    let listed = pages(
        http,
        &to,
        &format!("/v2/_catalog?n={PAGE}"),
        "/v2/_catalog",
        |page| {
            let page: Catalog = serde_json::from_slice(page).map_err(|e| Error::json(&what, e))?;
            repos.extend(page.repositories);
            Ok(())
        },
    )
    .await;
    match listed {
        Ok(_) => Ok(repos),
        Err(Paged::Bad(e)) => Err(e),
        Err(Paged::Fail(Fail::Status { code, .. })) if code != 429 && code < 500 => {
            Err(Error::Registry {
                registry: host.to_owned(),
                reason: format!(
                    "the registry does not allow listing repositories (/v2/_catalog answered {code}); name the images instead"
                ),
            })
        }
        Err(Paged::Fail(e)) => Err(registry_error(host, "listing repositories", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glob_that_names_nothing_says_why() {
        let (api, web) = ("app/api".to_owned(), "app/web".to_owned());
        let tagged = [
            (&api, vec!["1".to_owned()]),
            (&web, vec!["latest".to_owned(), "1".to_owned()]),
        ];
        assert_eq!(
            nothing_named("app/*", Some("2"), &[]),
            "no repository matches app/*"
        );
        assert_eq!(
            nothing_named("app/*", Some("2"), &tagged),
            "no repository matching app/* has tag 2: app/api, app/web lack it (tags there: 1, latest)"
        );
        let bare = [(&api, Vec::new())];
        assert_eq!(
            nothing_named("app/*", None, &bare),
            "the repositories matching app/* have no tags: app/api"
        );
        let many: Vec<String> = (0..12).map(|i| format!("t{i:02}")).collect();
        assert_eq!(
            some(&many),
            "t00, t01, t02, t03, t04, t05, t06, t07, t08, t09, +2 more"
        );
    }

    #[test]
    fn globs_match_within_a_segment() {
        assert!(glob_match("fam/*", "fam/api"));
        assert!(!glob_match("fam/*", "fam/api/v2"));
        assert!(!glob_match("fam/*", "other/api"));
        assert!(glob_match("fam/web-*", "fam/web-front"));
        assert!(glob_match("*/base", "lean/base"));
    }
}
