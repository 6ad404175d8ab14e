//! CycloneDX 1.6 JSON: the image as the metadata's `container` component,
//! each package a `library` component with its purl and strata's figures as
//! properties, and the image depending on each package.

use serde::Serialize;

use super::{image_properties, image_purl, package_properties, uuid_of, Subject};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bom {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Component,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Tool>,
}

#[derive(Serialize)]
struct Tool {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref")]
    bom_ref: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

#[derive(Serialize)]
struct Property {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    depends_on: Vec<String>,
}

fn properties(pairs: Vec<(&'static str, String)>) -> Vec<Property> {
    pairs
        .into_iter()
        .map(|(name, value)| Property { name, value })
        .collect()
}

/// The BOM of `s`.
pub fn bom(s: &Subject) -> Bom {
    let image_ref = "image".to_owned();
    let digest = s.manifest_digest.as_ref().unwrap_or(&s.config_digest);
    let image = Component {
        kind: "container",
        bom_ref: image_ref.clone(),
        name: s.name.clone(),
        version: Some(digest.to_string()),
        hashes: match digest.algorithm() {
            crate::image::Algorithm::Sha256 => vec![Hash {
                alg: "SHA-256",
                content: digest.hex().to_owned(),
            }],
            crate::image::Algorithm::Sha512 => vec![Hash {
                alg: "SHA-512",
                content: digest.hex().to_owned(),
            }],
        },
        purl: Some(image_purl(s)),
        properties: properties(image_properties(s)),
    };
    // bom-refs are unique: a purl listed twice (one package in two places)
    // gets its position after it.
    let mut seen = std::collections::HashSet::new();
    let components: Vec<Component> = s
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let bom_ref = if seen.insert(p.purl.as_str()) {
                p.purl.clone()
            } else {
                format!("{}#{}", p.purl, i + 1)
            };
            Component {
                kind: "library",
                bom_ref,
                name: p.name.clone(),
                version: Some(p.version.clone()),
                hashes: Vec::new(),
                purl: Some(p.purl.clone()),
                properties: properties(package_properties(p)),
            }
        })
        .collect();
    let dependencies = vec![Dependency {
        reference: image_ref,
        depends_on: components.iter().map(|c| c.bom_ref.clone()).collect(),
    }];
    Bom {
        bom_format: "CycloneDX",
        spec_version: "1.6",
        serial_number: format!("urn:uuid:{}", uuid_of(s)),
        version: 1,
        metadata: Metadata {
            timestamp: s.created.clone(),
            tools: Tools {
                components: vec![Tool {
                    kind: "application",
                    name: "strata",
                    version: env!("CARGO_PKG_VERSION"),
                }],
            },
            component: image,
        },
        components,
        dependencies,
    }
}
