//! SBOMs of one image's packages: CycloneDX 1.6 JSON and SPDX 2.3 JSON, each
//! package with its purl, version, installed bytes and the layer that added
//! it, the image itself the root. Renderers map the subject; they compute
//! no figure.

mod cyclonedx;
mod spdx;

use std::io::{self, Write};

use crate::image::Digest;

/// Which SBOM document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    CycloneDx,
    Spdx,
}

/// What an SBOM describes: one image and its packages.
#[derive(Debug, Clone)]
pub struct Subject {
    /// The image's name as strata prints it (a reference it reads back).
    pub name: String,
    /// The short name a person calls it by (a repository's last part).
    pub basename: String,
    pub platform: Option<String>,
    pub manifest_digest: Option<Digest>,
    pub config_digest: Digest,
    pub packages: Vec<SbomPackage>,
    /// When the document is made: RFC 3339, UTC, seconds (SPDX requires one).
    pub created: String,
}

/// One package of the subject.
#[derive(Debug, Clone)]
pub struct SbomPackage {
    pub name: String,
    pub version: String,
    pub purl: String,
    /// deb, rpm, apk, python, npm, gem.
    pub ecosystem: &'static str,
    pub arch: Option<String>,
    /// Its installed bytes (the files it owns in the merged filesystem, or
    /// its database's declared size when `declared`).
    pub installed_bytes: u64,
    pub declared: bool,
    pub files: u64,
    /// The layer that added (or last changed) it: 1-based position, digest
    /// and the build step that made it.
    pub layer: usize,
    pub layer_digest: Digest,
    pub created_by: Option<String>,
    /// The purl of the package whose files these are (python3-yaml for PyYAML).
    pub owned_by: Option<String>,
}

/// Writes the subject's SBOM in `format`, pretty-printed, one document.
pub fn write(out: &mut dyn Write, format: SbomFormat, subject: &Subject) -> io::Result<()> {
    // Straight from the types: fields in the order the specs list them.
    match format {
        SbomFormat::CycloneDx => serde_json::to_writer_pretty(&mut *out, &cyclonedx::bom(subject)),
        SbomFormat::Spdx => serde_json::to_writer_pretty(&mut *out, &spdx::document(subject)),
    }
    .map_err(io::Error::other)?;
    writeln!(out)
}

/// A stable UUID for the subject (RFC 4122 layout, version 8: name-based on
/// sha256), so the same image gives the same serial number and namespace.
fn uuid_of(subject: &Subject) -> String {
    let seed = format!(
        "strata/{}\n{}\n{}",
        env!("CARGO_PKG_VERSION"),
        subject.name,
        subject.config_digest
    );
    let d = Digest::sha256_of(seed.as_bytes());
    let mut b: Vec<u8> = hex::decode(&d.hex()[..32]).unwrap_or_else(|_| vec![0; 16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Property names strata writes, in its own namespace.
mod property {
    pub const INSTALLED_BYTES: &str = "strata:package:installed_bytes";
    pub const BYTES_SOURCE: &str = "strata:package:bytes_source";
    pub const FILES: &str = "strata:package:files";
    pub const ECOSYSTEM: &str = "strata:package:ecosystem";
    pub const OWNED_BY: &str = "strata:package:owned_by";
    pub const LAYER: &str = "strata:layer:position";
    pub const LAYER_DIGEST: &str = "strata:layer:digest";
    pub const CREATED_BY: &str = "strata:layer:created_by";
    pub const CONFIG_DIGEST: &str = "strata:image:config_digest";
    pub const MANIFEST_DIGEST: &str = "strata:image:manifest_digest";
    pub const PLATFORM: &str = "strata:image:platform";
}

/// A package's facts as (name, value) pairs, in a fixed order.
fn package_properties(p: &SbomPackage) -> Vec<(&'static str, String)> {
    let mut out = vec![
        (property::ECOSYSTEM, p.ecosystem.to_owned()),
        (property::INSTALLED_BYTES, p.installed_bytes.to_string()),
        (
            property::BYTES_SOURCE,
            if p.declared { "declared" } else { "files" }.to_owned(),
        ),
        (property::FILES, p.files.to_string()),
        (property::LAYER, p.layer.to_string()),
        (property::LAYER_DIGEST, p.layer_digest.to_string()),
    ];
    if let Some(by) = &p.created_by {
        out.push((property::CREATED_BY, by.clone()));
    }
    if let Some(owner) = &p.owned_by {
        out.push((property::OWNED_BY, owner.clone()));
    }
    out
}

/// The image's facts as (name, value) pairs.
fn image_properties(s: &Subject) -> Vec<(&'static str, String)> {
    let mut out = vec![(property::CONFIG_DIGEST, s.config_digest.to_string())];
    if let Some(m) = &s.manifest_digest {
        out.push((property::MANIFEST_DIGEST, m.to_string()));
    }
    if let Some(p) = &s.platform {
        out.push((property::PLATFORM, p.clone()));
    }
    out
}

/// `pkg:oci/NAME@DIGEST` for the image (purl's OCI type), by its manifest
/// digest, else its config digest (an engine's image ID).
fn image_purl(s: &Subject) -> String {
    let digest = s.manifest_digest.as_ref().unwrap_or(&s.config_digest);
    let base: String = s
        .basename
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("pkg:oci/{base}@{}", digest.as_str().replacen(':', "%3A", 1))
}

#[cfg(test)]
mod tests;
