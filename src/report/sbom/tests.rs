//! The SBOM documents' shape: stable identifiers, the image as the root,
//! strata's figures as properties. (Schema validation: tests/it/sbom.rs.)

use super::*;

fn subject() -> Subject {
    let d = |c: char| Digest::parse(&format!("sha256:{}", c.to_string().repeat(64)), "t").unwrap();
    let pkg = |name: &str, purl: &str, owned_by: Option<&str>| SbomPackage {
        name: name.into(),
        version: "1.0".into(),
        purl: purl.into(),
        ecosystem: "deb",
        arch: None,
        installed_bytes: 1234,
        declared: false,
        files: 3,
        layer: 2,
        layer_digest: d('b'),
        created_by: Some("RUN apt-get install -y x".into()),
        owned_by: owned_by.map(Into::into),
    };
    Subject {
        name: "oci:dir:app".into(),
        basename: "app".into(),
        platform: Some("linux/amd64".into()),
        manifest_digest: Some(d('f')),
        config_digest: d('c'),
        packages: vec![
            pkg("python3-yaml", "pkg:deb/debian/python3-yaml@1.0", None),
            pkg(
                "pyyaml",
                "pkg:pypi/pyyaml@1.0",
                Some("pkg:deb/debian/python3-yaml@1.0"),
            ),
            pkg("pyyaml", "pkg:pypi/pyyaml@1.0", None),
        ],
        created: "2024-01-01T00:00:00Z".into(),
    }
}

#[test]
fn the_same_image_gets_the_same_serial_number_and_a_valid_uuid() {
    let (a, b) = (uuid_of(&subject()), uuid_of(&subject()));
    assert_eq!(a, b);
    assert_eq!(a.len(), 36);
    assert_eq!(&a[14..15], "8");
    let mut other = subject();
    other.config_digest = Digest::sha256_of(b"other");
    assert_ne!(uuid_of(&other), a);
}

#[test]
fn cyclonedx_has_the_image_as_root_and_each_package_with_its_figures() {
    let v = serde_json::to_value(cyclonedx::bom(&subject())).unwrap();
    assert_eq!(v["specVersion"], "1.6");
    let root = &v["metadata"]["component"];
    assert_eq!(root["type"], "container");
    assert_eq!(root["hashes"][0]["content"], "f".repeat(64));
    assert_eq!(
        root["purl"],
        format!("pkg:oci/app@sha256%3A{}", "f".repeat(64))
    );
    let c = &v["components"][0];
    let prop = |name: &str| {
        c["properties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["value"].clone())
    };
    assert_eq!(prop(property::INSTALLED_BYTES), Some("1234".into()));
    assert_eq!(
        prop(property::LAYER_DIGEST),
        Some(format!("sha256:{}", "b".repeat(64)).into())
    );
    assert_eq!(
        prop(property::CREATED_BY),
        Some("RUN apt-get install -y x".into())
    );
    // A purl listed twice keeps unique bom-refs.
    assert_eq!(v["components"][1]["bom-ref"], "pkg:pypi/pyyaml@1.0");
    assert_eq!(v["components"][2]["bom-ref"], "pkg:pypi/pyyaml@1.0#3");
    assert_eq!(
        v["dependencies"][0]["dependsOn"].as_array().unwrap().len(),
        3
    );
}

#[test]
fn spdx_describes_the_image_which_contains_packages_or_their_owners_do() {
    let v = serde_json::to_value(spdx::document(&subject())).unwrap();
    assert_eq!(v["spdxVersion"], "SPDX-2.3");
    assert_eq!(v["packages"][0]["primaryPackagePurpose"], "CONTAINER");
    let rel: Vec<(String, String)> = v["relationships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["spdxElementId"].as_str().unwrap().to_owned(),
                r["relatedSpdxElement"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(rel.contains(&("SPDXRef-DOCUMENT".into(), "SPDXRef-Image".into())));
    assert!(rel.contains(&("SPDXRef-Package-1".into(), "SPDXRef-Package-2".into())));
    assert!(rel.contains(&("SPDXRef-Image".into(), "SPDXRef-Package-3".into())));
    let comments = v["packages"][1]["annotations"].to_string();
    assert!(
        comments.contains("strata:package:installed_bytes=1234"),
        "{comments}"
    );
}
