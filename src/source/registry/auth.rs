//! Registry credentials: --creds, docker's config.json and credential helpers,
//! podman's auth.json; anonymous when none applies. Never printed.

use std::fmt;
use std::path::PathBuf;

use base64::Engine as _;
use oci_client::secrets::RegistryAuth;

use crate::error::{Error, Result};

/// USER:PASS; Debug is redacted so it cannot leak into logs or errors.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({}:<redacted>)", self.user)
    }
}

impl Credentials {
    pub fn parse(text: &str) -> Result<Credentials> {
        match text.split_once(':') {
            Some((user, password)) if !user.is_empty() => Ok(Credentials {
                user: user.to_owned(),
                password: password.to_owned(),
            }),
            _ => Err(Error::BadArgument {
                flag: "--creds",
                reason: "expected USER:PASS".into(),
            }),
        }
    }
}

/// The auth to offer `host` (HOST[:PORT]) when it challenges: explicit
/// credentials, then docker's store, then podman's, else anonymous.
/// Nothing is sent unless the registry asks (anonymous first).
pub fn for_host(host: &str, explicit: Option<&Credentials>) -> RegistryAuth {
    if let Some(c) = explicit {
        return RegistryAuth::Basic(c.user.clone(), c.password.clone());
    }
    match docker_credential::get_credential(host) {
        Ok(docker_credential::DockerCredential::UsernamePassword(u, p)) => {
            return RegistryAuth::Basic(u, p)
        }
        Ok(docker_credential::DockerCredential::IdentityToken(t)) => {
            return RegistryAuth::Bearer(t)
        }
        Err(_) => {}
    }
    match podman_auth(host) {
        Some((u, p)) => RegistryAuth::Basic(u, p),
        None => RegistryAuth::Anonymous,
    }
}

/// podman/skopeo keep credentials in `$REGISTRY_AUTH_FILE` or
/// `$XDG_RUNTIME_DIR/containers/auth.json`, docker's `auths` format.
fn podman_auth(host: &str) -> Option<(String, String)> {
    let path = std::env::var_os("REGISTRY_AUTH_FILE")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_RUNTIME_DIR")
                .map(|d| PathBuf::from(d).join("containers/auth.json"))
        })?;
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let encoded = doc.get("auths")?.get(host)?.get("auth")?.as_str()?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

/// `user:password` as an HTTP basic pair, for the few requests oci-client has no call for.
pub fn basic_pair(auth: &RegistryAuth) -> Option<(&str, &str)> {
    match auth {
        RegistryAuth::Basic(u, p) => Some((u, p)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let c = Credentials::parse("alice:s3cret:with:colons").unwrap();
        assert_eq!(c.password, "s3cret:with:colons");
        assert!(!format!("{c:?}").contains("s3cret"));
    }
}
