//! `packages --format cyclonedx|spdx`: documents valid against the official
//! schemas (fixtures/sbom), with syft's purls for the same images
//! (fixtures/sbom/syft-1.18.1.json) and strata's sizes and layers.

use serde_json::Value;

use super::purls::images;
use super::*;

const SBOM: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/sbom");

/// The vendored schemas, by the URIs the CycloneDX schema refers to them by.
struct Vendored;

impl jsonschema::Retrieve for Vendored {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let file = uri.path().as_str().rsplit('/').next().unwrap_or_default();
        let text = std::fs::read_to_string(format!("{SBOM}/{file}"))
            .map_err(|e| format!("{uri}: not vendored ({e})"))?;
        Ok(serde_json::from_str(&text)?)
    }
}

fn validator(schema: &str) -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{SBOM}/{schema}")).unwrap())
            .unwrap();
    jsonschema::options()
        .with_retriever(Vendored)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

/// Runs `packages --format FORMAT`; stdout as JSON (stderr must be silent).
fn sbom(r: &Run, reference: &str, format: &str) -> Value {
    let out = r
        .cmd()
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(["packages", reference, "--format", format])
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn cyclonedx_and_spdx_validate_and_carry_syfts_purls() {
    let cdx = validator("bom-1.6.schema.json");
    let spdx = validator("spdx-2.3.schema.json");
    let syft: Value =
        serde_json::from_str(include_str!("../../fixtures/sbom/syft-1.18.1.json")).unwrap();
    let r = Run::new();
    for (name, layout) in images(&r) {
        let reference = format!("{}:img", oci(&layout));
        let want = &syft["images"][name];

        let bom = sbom(&r, &reference, "cyclonedx");
        assert_valid(&cdx, &bom, name);
        let purls: Vec<String> = bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["purl"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(sorted(purls), strings(&want["cyclonedx_purls"]), "{name}");
        let root = &bom["metadata"]["component"];
        assert_eq!(root["type"], "container");
        assert_eq!(root["version"], want["root_version"], "{name}");

        let doc = sbom(&r, &reference, "spdx");
        assert_valid(&spdx, &doc, name);
        let purls: Vec<String> = doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["primaryPackagePurpose"] != "CONTAINER")
            .map(|p| {
                p["externalRefs"][0]["referenceLocator"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(sorted(purls), strings(&want["spdx_purls"]), "{name}");
        assert_eq!(doc["packages"][0]["versionInfo"], want["root_version"]);

        // The validators do refuse what the schemas forbid.
        let mut bad = bom.clone();
        bad["components"][0]["type"] = "not-a-type".into();
        assert!(!cdx.is_valid(&bad), "{name}");
        let mut bad = doc.clone();
        bad["packages"][0]["primaryPackagePurpose"] = "NOT-A-PURPOSE".into();
        assert!(!spdx.is_valid(&bad), "{name}");
    }
}

#[test]
fn each_package_carries_its_installed_bytes_and_the_layer_that_added_it() {
    let r = Run::new();
    let (_, layout) = images(&r).remove(0);
    let reference = format!("{}:img", oci(&layout));
    let listed = r.json(&["packages", &reference]);
    let bom = sbom(&r, &reference, "cyclonedx");
    let prop = |c: &Value, name: &str| -> Option<String> {
        c["properties"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["value"].as_str().unwrap().to_owned())
    };
    let layer_digest = listed["layers"][0]["digest"].as_str().unwrap();
    for p in listed["packages"].as_array().unwrap() {
        let c = bom["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["purl"] == p["purl"])
            .unwrap_or_else(|| panic!("{} not in the BOM", p["purl"]));
        assert_eq!(c["version"], p["version"]);
        assert_eq!(
            prop(c, "strata:package:installed_bytes"),
            Some(p["bytes"].as_u64().unwrap().to_string())
        );
        assert_eq!(prop(c, "strata:layer:position"), Some("1".to_owned()));
        assert_eq!(
            prop(c, "strata:layer:digest").as_deref(),
            Some(layer_digest)
        );
        assert_eq!(
            prop(c, "strata:layer:created_by").as_deref(),
            Some("strata fixture builder")
        );
        assert_eq!(
            prop(c, "strata:package:owned_by"),
            p["owned_by"].as_str().map(str::to_owned)
        );
    }
    // The image is the root, with its digests.
    let root = &bom["metadata"]["component"];
    let footprint = r.json(&["footprint", &reference]);
    let manifest = footprint["images"][0]["manifest_digest"].as_str().unwrap();
    assert_eq!(root["version"], manifest);
    assert_eq!(
        root["hashes"][0]["content"],
        manifest.strip_prefix("sha256:").unwrap()
    );
    assert_eq!(
        prop(root, "strata:image:config_digest").as_deref(),
        footprint["images"][0]["config_digest"].as_str()
    );
    // The same image gives the same document (SOURCE_DATE_EPOCH fixes the time).
    assert_eq!(bom, sbom(&r, &reference, "cyclonedx"));
    assert_eq!(sbom(&r, &reference, "spdx"), sbom(&r, &reference, "spdx"));
}

#[test]
fn an_sbom_format_for_another_view_is_refused_in_one_line() {
    let r = Run::new();
    let line = r.fails(&["footprint", "oci:fixtures/family", "--format", "spdx"]);
    assert!(
        line.contains("only `strata packages` writes them"),
        "{line}"
    );
}
