//! SPDX 2.3 JSON: the image as a CONTAINER package the document describes,
//! each package with its purl as a PACKAGE-MANAGER reference and strata's
//! figures as annotations (`strata:NAME=VALUE`), contained by the image (or
//! by the package that owns its files).

use serde::Serialize;

use super::{image_properties, image_purl, package_properties, uuid_of, Subject};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<Package>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    download_location: &'static str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    external_refs: Vec<ExternalRef>,
    annotations: Vec<Annotation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Annotation {
    annotation_date: String,
    annotation_type: &'static str,
    annotator: String,
    comment: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

const NOASSERTION: &str = "NOASSERTION";
const IMAGE_ID: &str = "SPDXRef-Image";

fn tool() -> String {
    format!("Tool: strata-{}", env!("CARGO_PKG_VERSION"))
}

fn purl_ref(purl: String) -> ExternalRef {
    ExternalRef {
        reference_category: "PACKAGE-MANAGER",
        reference_type: "purl",
        reference_locator: purl,
    }
}

/// The document of `s`.
pub fn document(s: &Subject) -> Document {
    let annotate = |pairs: Vec<(&'static str, String)>| -> Vec<Annotation> {
        pairs
            .into_iter()
            .map(|(name, value)| Annotation {
                annotation_date: s.created.clone(),
                annotation_type: "OTHER",
                annotator: tool(),
                comment: format!("{name}={value}"),
            })
            .collect()
    };
    let digest = s.manifest_digest.as_ref().unwrap_or(&s.config_digest);
    let mut packages = vec![Package {
        spdx_id: IMAGE_ID.to_owned(),
        name: s.name.clone(),
        version_info: Some(digest.to_string()),
        download_location: NOASSERTION,
        files_analyzed: false,
        primary_package_purpose: Some("CONTAINER"),
        checksums: vec![Checksum {
            algorithm: match digest.algorithm() {
                crate::image::Algorithm::Sha256 => "SHA256",
                crate::image::Algorithm::Sha512 => "SHA512",
            },
            checksum_value: digest.hex().to_owned(),
        }],
        external_refs: vec![purl_ref(image_purl(s))],
        annotations: annotate(image_properties(s)),
    }];
    let id = |i: usize| format!("SPDXRef-Package-{}", i + 1);
    let mut relationships = vec![Relationship {
        spdx_element_id: "SPDXRef-DOCUMENT".to_owned(),
        relationship_type: "DESCRIBES",
        related_spdx_element: IMAGE_ID.to_owned(),
    }];
    for (i, p) in s.packages.iter().enumerate() {
        packages.push(Package {
            spdx_id: id(i),
            name: p.name.clone(),
            version_info: Some(p.version.clone()),
            download_location: NOASSERTION,
            files_analyzed: false,
            primary_package_purpose: None,
            checksums: Vec::new(),
            external_refs: vec![purl_ref(p.purl.clone())],
            annotations: annotate(package_properties(p)),
        });
        // The package whose files these are contains it; else the image does.
        let owner = p
            .owned_by
            .as_ref()
            .and_then(|o| s.packages.iter().position(|q| &q.purl == o));
        relationships.push(Relationship {
            spdx_element_id: owner.map_or_else(|| IMAGE_ID.to_owned(), id),
            relationship_type: "CONTAINS",
            related_spdx_element: id(i),
        });
    }
    Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        name: s.name.clone(),
        document_namespace: format!("https://strata.invalid/spdx/{}", uuid_of(s)),
        creation_info: CreationInfo {
            created: s.created.clone(),
            creators: vec![tool()],
        },
        packages,
        relationships,
    }
}
