//! Registry images (docker://) through oci-client.

use std::fmt;

use crate::error::{Error, Result};
use crate::reference::RegistryRef;

use super::{Image, SourceOptions};

/// USER:PASS; never printed (Debug is redacted).
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
            _ => Err(Error::BadReference {
                reference: "--creds".into(),
                reason: "expected USER:PASS".into(),
            }),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct RegistryOptions {
    pub credentials: Option<Credentials>,
    pub insecure: Vec<String>,
}

pub fn load(r: &RegistryRef, _opts: &SourceOptions) -> Result<Vec<Image>> {
    Err(Error::Unsupported(format!(
        "docker://{}: registry source not built yet",
        r.text
    )))
}
