//! Host names to addresses for the registry client: the system resolver
//! (getaddrinfo, as before), except that names under `.invalid` fail at
//! once without asking anyone (RFC 6761 §6.4); a failure carries the name,
//! so it is reported as "cannot resolve host X", not as a connection error.

use std::net::ToSocketAddrs;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A name that did not resolve.
#[derive(Debug)]
pub struct Unresolved {
    pub host: String,
    /// A reserved name (`.invalid`): asking again cannot help.
    pub reserved: bool,
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot resolve host {}", crate::error::clip(&self.host))
    }
}

impl std::error::Error for Unresolved {}

/// RFC 6761 §6.4: `invalid` and every name under it never resolve.
pub fn is_reserved_invalid(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "invalid" || host.ends_with(".invalid")
}

pub struct Resolver;

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            if is_reserved_invalid(&host) {
                return Err(Box::new(Unresolved {
                    host,
                    reserved: true,
                }) as _);
            }
            let lookup = host.clone();
            // getaddrinfo blocks: off the async threads, as reqwest's own resolver does.
            let found = tokio::task::spawn_blocking(move || {
                (lookup.as_str(), 0)
                    .to_socket_addrs()
                    .map(|a| a.collect::<Vec<_>>())
            })
            .await;
            match found {
                Ok(Ok(addrs)) if !addrs.is_empty() => Ok(Box::new(addrs.into_iter()) as Addrs),
                _ => Err(Box::new(Unresolved {
                    host,
                    reserved: false,
                }) as _),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_under_invalid_are_reserved() {
        for h in ["invalid", "registry.invalid", "A.B.INVALID", "x.invalid."] {
            assert!(is_reserved_invalid(h), "{h}");
        }
        for h in [
            "invalid.example",
            "localhost",
            "registry.example",
            "invalidx",
        ] {
            assert!(!is_reserved_invalid(h), "{h}");
        }
    }
}
