//! Registry credentials: --creds, the auth files skopeo and podman read
//! (--authfile, REGISTRY_AUTH_FILE, containers' auth.json), docker's
//! config.json and credential helpers; anonymous when none applies. Never printed.

use std::fmt;
use std::path::PathBuf;
use std::sync::Mutex;

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
/// credentials, then the auth files skopeo and podman read, in their order,
/// then docker's config and credential helpers; else anonymous. Nothing is
/// sent unless the registry asks (anonymous first).
pub fn for_host(host: &str, explicit: Option<&Credentials>) -> RegistryAuth {
    if let Some(c) = explicit {
        return RegistryAuth::Basic(c.user.clone(), c.password.clone());
    }
    // docker_credential matches docker.io keys under this name.
    let server = match host {
        "docker.io" | "registry-1.docker.io" => "index.docker.io",
        other => other,
    };
    for file in auth_files() {
        let Ok(f) = std::fs::File::open(&file) else {
            continue;
        };
        let found =
            docker_credential::get_credential_from_reader(std::io::BufReader::new(f), server);
        if let Some(auth) = usable(found, &file.display().to_string()) {
            return auth;
        }
    }
    let docker = docker_config();
    match docker.as_ref().map(std::fs::File::open) {
        Some(Ok(f)) => {
            let found =
                docker_credential::get_credential_from_reader(std::io::BufReader::new(f), server);
            let name = docker
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default();
            usable(found, &name).unwrap_or(RegistryAuth::Anonymous)
        }
        _ => RegistryAuth::Anonymous,
    }
}

/// Where skopeo and podman keep credentials, in the order they look:
/// `--authfile`, `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
/// `/run/containers/$UID/auth.json`, `~/.config/containers/auth.json`.
pub fn auth_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = crate::source::AUTHFILE.get().cloned().into_iter().collect();
    if let Some(f) = std::env::var_os("REGISTRY_AUTH_FILE").filter(|f| !f.is_empty()) {
        files.push(PathBuf::from(f));
    }
    if let Some(d) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        files.push(PathBuf::from(d).join("containers/auth.json"));
    }
    if let Some(uid) = own_uid() {
        files.push(PathBuf::from(format!("/run/containers/{uid}/auth.json")));
    }
    if let Some(home) = dirs::home_dir() {
        files.push(home.join(".config/containers/auth.json"));
    }
    files
}

/// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
fn docker_config() -> Option<PathBuf> {
    let dir = std::env::var_os("DOCKER_CONFIG")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".docker")))?;
    Some(dir.join("config.json"))
}

#[cfg(unix)]
fn own_uid() -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").ok().map(|m| m.uid())
}

#[cfg(not(unix))]
fn own_uid() -> Option<u32> {
    None
}

/// Credentials found, or None to look further. A file that cannot be
/// parsed or a helper that cannot be run is said on stderr (once), never
/// passed over in silence; "nothing for this host" is not worth a word.
fn usable(
    found: Result<docker_credential::DockerCredential, docker_credential::CredentialRetrievalError>,
    file: &str,
) -> Option<RegistryAuth> {
    use docker_credential::CredentialRetrievalError as E;
    match found {
        Ok(docker_credential::DockerCredential::UsernamePassword(u, p)) => {
            Some(RegistryAuth::Basic(u, p))
        }
        Ok(docker_credential::DockerCredential::IdentityToken(t)) => Some(RegistryAuth::Bearer(t)),
        Err(E::NoCredentialConfigured | E::ConfigNotFound) => None,
        Err(E::ConfigReadError) => {
            warn(format!("{file}: malformed, no credentials read from it"));
            None
        }
        Err(E::HelperFailure { helper, stdout, .. }) => {
            if !stdout.contains("credentials not found") {
                warn(format!("{file}: credential helper {helper} failed"));
            }
            None
        }
        Err(E::HelperCommunicationError) => {
            warn(format!(
                "{file}: its credential helper (docker-credential-…) is missing or cannot run"
            ));
            None
        }
        Err(e) => {
            warn(format!("{file}: {e}"));
            None
        }
    }
}

/// `strata: warning: …` on stderr, once per distinct message.
fn warn(message: String) {
    static SAID: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let Ok(mut said) = SAID.lock() else {
        return;
    };
    if !said.contains(&message) {
        eprintln!("strata: warning: {message}");
        said.push(message);
    }
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
