//! A whole registry, walked for `strata fleet`: the repositories matching a
//! pattern (the catalog, paginated), their tags (paginated), images resolved
//! a bounded number at once, and a blob source per repository — one client,
//! the run's credentials and platform choice, deadlines on every wait.

use std::sync::Arc;

use futures_util::StreamExt;
use oci_client::Reference as OciRef;

use super::blobs::RegistryBlobs;
use super::catalog;
use super::Session;
use crate::error::Result;
use crate::image::{BlobSource, Image};
use crate::source::SourceOptions;
use crate::warnings::Warnings;

/// One registry host and the client that walks it.
pub struct Walker {
    session: Session,
    host: String,
}

impl Walker {
    pub fn connect(host: &str, opts: &SourceOptions, warnings: &Warnings) -> Result<Walker> {
        Ok(Walker {
            session: Session::open(&[host.to_owned()], opts, warnings)?,
            host: host.to_owned(),
        })
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Every repository the catalog lists, sorted.
    pub fn catalog(&self) -> Result<Vec<String>> {
        let mut repos = self
            .session
            .runtime
            .block_on(catalog::catalog(&self.session.http, &self.host))?;
        repos.sort();
        repos.dedup();
        Ok(repos)
    }

    /// The tags of each repository, `at_once` listings at a time; `each` is
    /// called as each listing ends (in no set order).
    pub fn tags(
        &self,
        repos: &[String],
        at_once: usize,
        mut each: impl FnMut(&str, Result<Vec<String>>),
    ) {
        let http = &self.session.http;
        let host = self.host.as_str();
        let listings = futures_util::stream::iter(repos)
            .map(|repo| async move { (repo, catalog::tags(http, host, repo).await) })
            .buffer_unordered(at_once.max(1));
        self.session
            .runtime
            .block_on(listings.for_each(|(repo, tags)| {
                each(repo, tags);
                std::future::ready(())
            }));
    }

    /// Resolves `repository:tag` references, `at_once` at a time: `each` is
    /// called with the position of the reference and its images (one per
    /// platform chosen from an index) as each one ends.
    pub fn resolve(
        &self,
        refs: &[(String, String)],
        at_once: usize,
        mut each: impl FnMut(usize, Result<Vec<Image>>),
    ) {
        let session = &self.session;
        let host = self.host.as_str();
        let resolved = futures_util::stream::iter(refs.iter().enumerate())
            .map(|(i, (repo, tag))| async move {
                let reference = OciRef::with_tag(host.to_owned(), repo.clone(), tag.clone());
                (i, session.resolve_one(&reference).await)
            })
            .buffer_unordered(at_once.max(1));
        self.session
            .runtime
            .block_on(resolved.for_each(|(i, images)| {
                each(i, images);
                std::future::ready(())
            }));
    }

    /// Layer blobs of `repository` on this registry.
    pub fn blobs(&self, repository: &str) -> Arc<dyn BlobSource> {
        Arc::new(RegistryBlobs::new(
            self.session.http.clone(),
            self.session.runtime.clone(),
            self.host.clone(),
            repository.to_owned(),
        ))
    }
}

/// Does repository `name` match `pattern` (`*` within one path segment; a
/// last segment `**`: one or more segments)?
pub fn repo_matches(pattern: &str, name: &str) -> bool {
    let head = match pattern.strip_suffix("**") {
        Some("") => return !name.is_empty(),
        Some(head) if head.ends_with('/') => &head[..head.len() - 1],
        _ => return catalog::glob_match(pattern, name),
    };
    let depth = head.split('/').count();
    let segments: Vec<&str> = name.split('/').collect();
    segments.len() > depth && catalog::glob_match(head, &segments[..depth].join("/"))
}

/// Does `tag` match `pattern` (`*` for any run of characters)?
pub fn tag_matches(pattern: &str, tag: &str) -> bool {
    catalog::segment_match(pattern, tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_last_double_star_matches_any_depth_and_a_star_one_segment() {
        assert!(repo_matches("**", "app") && repo_matches("**", "team/api/v2"));
        assert!(repo_matches("team/**", "team/api") && repo_matches("team/**", "team/a/b"));
        assert!(!repo_matches("team/**", "team") && !repo_matches("team/**", "other/api"));
        assert!(repo_matches("t*/**", "team/api") && !repo_matches("t*/**", "ops/api"));
        assert!(repo_matches("*", "app") && !repo_matches("*", "team/api"));
        assert!(repo_matches("*/*", "team/api") && !repo_matches("*/*", "a/b/c"));
        assert!(tag_matches("1.*", "1.2") && !tag_matches("1.*", "2.1"));
    }
}
