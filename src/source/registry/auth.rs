//! Registry credentials: --creds, the auth files skopeo and podman read
//! (--authfile, REGISTRY_AUTH_FILE, containers' auth.json), docker's
//! config.json and credential helpers; anonymous when none applies. Never printed.

use std::fmt;
use std::path::{Path, PathBuf};

use oci_client::secrets::RegistryAuth;

use crate::error::{Error, Result};
use crate::warnings::Warnings;

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

    /// `--creds-file FILE`: one line `USER:PASS` (a final newline allowed).
    /// Errors name the file and the line, never what it holds.
    pub fn from_file(path: &Path) -> Result<Credentials> {
        use std::io::Read;
        let bad = |reason: String| Error::BadArgument {
            flag: "--creds-file",
            reason: format!("{}: {reason}", path.display()),
        };
        let file = std::fs::File::open(path).map_err(|e| bad(e.to_string()))?;
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return Err(bad("not a regular file".into()));
        }
        let mut bytes = Vec::new();
        file.take(CREDS_FILE_LIMIT + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(e.to_string()))?;
        if bytes.len() as u64 > CREDS_FILE_LIMIT {
            return Err(bad(format!(
                "larger than {CREDS_FILE_LIMIT} bytes; expected one line USER:PASS"
            )));
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| bad("not UTF-8 text; expected one line USER:PASS".into()))?;
        let line = text
            .strip_suffix('\n')
            .map(|t| t.strip_suffix('\r').unwrap_or(t))
            .unwrap_or(&text);
        if line.contains(['\n', '\r']) {
            return Err(bad("line 2: expected one line USER:PASS, found more".into()));
        }
        Credentials::parse(line)
            .map_err(|_| bad("line 1: expected USER:PASS (a user, a colon, a password)".into()))
    }
}

/// A credentials file holds one line.
const CREDS_FILE_LIMIT: u64 = 64 << 10;

/// Where one run looks for registry credentials, and where the problems it
/// meets on the way go (the run's warnings sink, never the terminal).
#[derive(Debug, Clone)]
pub struct Lookup {
    explicit: Option<Credentials>,
    authfile: Option<PathBuf>,
    warnings: Warnings,
}

/// Auth files are small; a larger one is not read (nor quoted).
const AUTH_FILE_LIMIT: u64 = 1 << 20;

impl Lookup {
    pub fn new(
        explicit: Option<Credentials>,
        authfile: Option<PathBuf>,
        warnings: Warnings,
    ) -> Self {
        Lookup {
            explicit,
            authfile,
            warnings,
        }
    }

    /// A problem that changes no figure (said once at the end of the run).
    pub fn warn(&self, message: impl Into<String>) {
        self.warnings.warn(message);
    }

    /// The auth to offer `host` (HOST[:PORT]) when it challenges: explicit
    /// credentials, then the auth files skopeo and podman read, in their order,
    /// then docker's config and credential helpers; else anonymous. Nothing is
    /// sent unless the registry asks (anonymous first).
    pub fn for_host(&self, host: &str) -> RegistryAuth {
        if let Some(c) = &self.explicit {
            return RegistryAuth::Basic(c.user.clone(), c.password.clone());
        }
        // docker_credential matches docker.io keys under this name.
        let server = match host {
            "docker.io" | "registry-1.docker.io" => "index.docker.io",
            other => other,
        };
        let files = auth_files(self.authfile.as_deref());
        for file in files.iter().chain(docker_config().as_ref()) {
            if let Some(auth) = self.in_file(file, server) {
                return auth;
            }
        }
        RegistryAuth::Anonymous
    }

    /// Credentials for `server` in one auth file, or None to look further.
    /// A file that cannot be parsed or a helper that cannot be run is a
    /// warning naming the file (and the line and column), never its content;
    /// "nothing for this host" is not worth a word.
    fn in_file(&self, file: &Path, server: &str) -> Option<RegistryAuth> {
        use std::io::Read;
        let name = file.display().to_string();
        let f = std::fs::File::open(file).ok()?;
        if !f.metadata().is_ok_and(|m| m.is_file()) {
            self.warn(format!(
                "{name}: not a regular file; no credentials read from it"
            ));
            return None;
        }
        let mut bytes = Vec::new();
        if let Err(e) = f.take(AUTH_FILE_LIMIT + 1).read_to_end(&mut bytes) {
            self.warn(format!("{name}: {}; no credentials read from it", e.kind()));
            return None;
        }
        if bytes.len() as u64 > AUTH_FILE_LIMIT {
            self.warn(format!(
                "{name}: larger than {} MiB; no credentials read from it",
                AUTH_FILE_LIMIT >> 20
            ));
            return None;
        }
        if let Err(e) = serde_json::from_slice::<AuthFile>(&bytes) {
            self.warn(format!(
                "{}; expected {{\"auths\": {{\"HOST\": {{\"auth\": \"BASE64 of USER:PASS\"}}}}}}; no credentials read from it",
                Error::json(&name, e)
            ));
            return None;
        }
        let found = docker_credential::get_credential_from_reader(bytes.as_slice(), server);
        self.usable(found, &name, server)
    }

    fn usable(
        &self,
        found: Result<
            docker_credential::DockerCredential,
            docker_credential::CredentialRetrievalError,
        >,
        file: &str,
        server: &str,
    ) -> Option<RegistryAuth> {
        use docker_credential::CredentialRetrievalError as E;
        use docker_credential::DockerCredential as C;
        let problem = match found {
            Ok(C::UsernamePassword(u, p)) => return Some(RegistryAuth::Basic(u, p)),
            Ok(C::IdentityToken(t)) => return Some(RegistryAuth::Bearer(t)),
            Err(E::NoCredentialConfigured | E::ConfigNotFound) => return None,
            Err(E::HelperFailure { helper, stdout, .. }) => {
                if stdout.contains("credentials not found") {
                    return None;
                }
                format!("credential helper {} failed", crate::error::clip(&helper))
            }
            Err(E::HelperCommunicationError) => {
                "its credential helper (docker-credential-…) is missing or cannot run".to_owned()
            }
            Err(E::MalformedHelperResponse) => "its credential helper answered nonsense".to_owned(),
            Err(E::CredentialDecodingError) => format!(
                "the \"auth\" of {server} is not BASE64 of USER:PASS; no credentials read from it"
            ),
            Err(E::CredentialMismatchError) => format!(
                "the \"auth\" of {server} disagrees with its \"username\" and \"password\"; no credentials read from it"
            ),
            Err(E::ConfigReadError) => "unreadable; no credentials read from it".to_owned(),
        };
        self.warn(format!("{file}: {problem}"));
        None
    }
}

/// The shape of docker's config.json and containers' auth.json, read only to
/// say where a malformed file goes wrong (docker_credential reads it).
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct AuthFile {
    auths: Option<std::collections::HashMap<String, AuthEntry>>,
    #[serde(rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(rename = "credHelpers")]
    cred_helpers: Option<std::collections::HashMap<String, String>>,
}

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
}

/// Where skopeo and podman keep credentials, in the order they look:
/// `--authfile`, `$REGISTRY_AUTH_FILE`, `$XDG_RUNTIME_DIR/containers/auth.json`,
/// `/run/containers/$UID/auth.json`, `~/.config/containers/auth.json`.
pub fn auth_files(authfile: Option<&Path>) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = authfile.map(Path::to_path_buf).into_iter().collect();
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

    #[test]
    fn a_creds_file_is_one_line_and_its_errors_never_quote_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("creds");
        for ok in ["alice:s3cret", "alice:s3cret\n", "alice:s3cret\r\n"] {
            std::fs::write(&file, ok).unwrap();
            let c = Credentials::from_file(&file).unwrap();
            assert_eq!((c.user.as_str(), c.password.as_str()), ("alice", "s3cret"));
        }
        for (bad, says) in [
            (
                "alice:s3cret\nhunter2-secret\n",
                "line 2: expected one line USER:PASS",
            ),
            ("hunter2-secret", "line 1: expected USER:PASS"),
            ("", "line 1: expected USER:PASS"),
        ] {
            std::fs::write(&file, bad).unwrap();
            let e = Credentials::from_file(&file).unwrap_err().to_string();
            assert!(e.starts_with("--creds-file: "), "{e}");
            assert!(
                e.contains(&file.display().to_string()) && e.contains(says),
                "{e}"
            );
            assert!(!e.contains("secret"), "quoted the file: {e}");
        }
        std::fs::write(&file, b"alice:\xffsecret").unwrap();
        let e = Credentials::from_file(&file).unwrap_err().to_string();
        assert!(e.contains("not UTF-8") && !e.contains("secret"), "{e}");
        let e = Credentials::from_file(&dir.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--creds-file") && e.contains("nope"), "{e}");
    }

    #[test]
    fn a_malformed_auth_file_is_one_warning_naming_the_file_and_position_not_content() {
        let dir = tempfile::tempdir().unwrap();
        let warnings = Warnings::new();
        let file = dir.path().join("auth.json");
        for (text, at) in [
            (
                "{\"auths\": {\"reg.example\": {\"auth\": hunter2-secret}}}",
                "line 1 column 36",
            ),
            ("{\"auths\": [\"hunter2-secret\"]}", "line 1 column 10"),
            (
                "{\"auths\": {\"reg.example\": {\"auth\": \"hunter2-secret\"}}}",
                "",
            ),
        ] {
            std::fs::write(&file, text).unwrap();
            let lookup = Lookup::new(None, Some(file.clone()), warnings.clone());
            let _ = lookup.in_file(&file, "reg.example");
            let said = warnings.drain();
            assert_eq!(said.len(), 1, "{said:?}");
            assert!(said[0].contains(&file.display().to_string()), "{said:?}");
            assert!(said[0].contains(at), "{said:?}");
            assert!(!said[0].contains("hunter2"), "quoted the file: {said:?}");
        }
    }
}
