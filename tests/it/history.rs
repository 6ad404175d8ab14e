//! `strata history`: a repository's tags on a real registry, pushed out of
//! the order they were made in, listed oldest first with the change at each;
//! `--shallow` orders them from manifests alone and fetches no blob.

use super::builder;
use super::registry_server::Registry;
use super::*;

fn pushed(reg: &Registry, r: &Run) {
    let dir = builder::releases(&r.path("releases"));
    // Pushed neither in the order made nor in the order of their tags.
    for tag in ["1.2", "1.0", "1.10", "1.1"] {
        reg.push(&dir, tag, &format!("team/app:{tag}"), false);
    }
}

fn tags_of(v: &Value) -> Vec<&str> {
    v["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tag"].as_str().unwrap())
        .collect()
}

#[test]
fn history_lists_a_repositorys_tags_by_creation_time_and_shallow_fetches_no_blob() {
    let reg = Registry::start(false);
    let r = Run::new();
    pushed(&reg, &r);
    let repo = format!("docker://{}/team/app", reg.host);

    let before = reg.blob_gets();
    let shallow = r.json(&["history", "--shallow", &repo]);
    assert_eq!(reg.blob_gets(), before, "--shallow fetched a blob");
    assert_eq!(tags_of(&shallow), ["1.0", "1.1", "1.2", "1.10"]);
    assert_eq!(shallow["order"], "created");
    assert_eq!(shallow["shallow"], true);
    assert!(shallow["tags"][0]["size"]["files"].is_null());

    let deep = r.json(&["history", &repo]);
    assert!(
        reg.blob_gets() > before,
        "the deep run reads configs and layers"
    );
    assert_eq!(tags_of(&deep), ["1.0", "1.1", "1.2", "1.10"]);
    let tags = deep["tags"].as_array().unwrap();
    for (t, s) in tags.iter().zip(shallow["tags"].as_array().unwrap()) {
        assert_eq!(t["size"]["compressed"], s["size"]["compressed"]);
        assert_eq!(t["created"], s["created"]);
    }
    // Files: the base's 30,000 bytes and each tag's own.
    let files: Vec<u64> = tags
        .iter()
        .map(|t| t["size"]["files"].as_u64().unwrap())
        .collect();
    assert_eq!(files, [38_000, 42_000, 50_000, 39_000]);
    assert!(tags[0]["delta"].is_null());
    assert_eq!(tags[1]["delta"]["files"], 4_000);
    assert_eq!(tags[3]["delta"]["files"], -11_000);
    let compressed = |i: usize| tags[i]["size"]["compressed"].as_i64().unwrap();
    assert_eq!(
        tags[3]["delta"]["compressed"].as_i64(),
        Some(compressed(3) - compressed(2))
    );
    for t in &tags[1..] {
        assert_eq!(t["layers_added"].as_array().unwrap().len(), 1);
        assert_eq!(t["layers_removed"].as_array().unwrap().len(), 1);
    }

    // A glob on the tag picks some of them, in the same order.
    let some = r.json(&["history", "--shallow", &format!("{repo}:1.1*")]);
    assert_eq!(tags_of(&some), ["1.1", "1.10"]);
    let none = r.fails(&["history", "--shallow", &format!("{repo}:2.*")]);
    assert!(
        none.contains("no tag of") && none.contains("1.10"),
        "{none}"
    );
}

#[test]
fn a_policys_limit_is_drawn_across_the_history_in_every_format() {
    let reg = Registry::start(false);
    let r = Run::new();
    pushed(&reg, &r);
    let repo = format!("docker://{}/team/app", reg.host);
    let deep = r.json(&["history", &repo]);
    // A limit between the smallest and the largest tag.
    let sizes: Vec<u64> = deep["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["size"]["compressed"].as_u64().unwrap())
        .collect();
    let limit = (sizes.iter().min().unwrap() + sizes.iter().max().unwrap()) / 2;
    let policy = r.path("policy.toml");
    std::fs::write(
        &policy,
        format!("[[image]]\nmatch = \"team/app\"\nmax_compressed = {limit}\n"),
    )
    .unwrap();
    let policy = policy.to_str().unwrap();
    let v = r.json(&["history", "--shallow", "--policy", policy, &repo]);
    assert_eq!(v["limit"]["bytes"], limit);
    assert_eq!(v["limit"]["measure"], "compressed");
    assert_eq!(v["limit"]["level"], "fail");
    let over: Vec<&str> = v["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["size"]["compressed"].as_u64().unwrap() > limit)
        .map(|t| t["tag"].as_str().unwrap())
        .collect();
    assert!(!over.is_empty());
    assert_eq!(v["limit"]["over"], serde_json::json!(over));
    let run = |format: &str| {
        let out = r.run(&[
            "history",
            "--shallow",
            "--policy",
            policy,
            &repo,
            "--format",
            format,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let table = run("table");
    assert!(table.contains("│ limit") && table.contains('█'), "{table}");
    assert!(
        table.contains(&format!("over it: {}", over.join(", "))),
        "{table}"
    );
    let md = run("markdown");
    assert!(md.contains("| TAG |") && md.contains("limit:"), "{md}");
    let html = run("html");
    assert!(
        html.contains("class=\"limit\"") && html.contains("<polyline"),
        "{html:.400}"
    );
    assert!(html.contains(&format!("data-bytes=\"{limit}\"")));
}

#[test]
fn history_of_named_references_orders_local_images_by_creation_time() {
    let r = Run::new();
    let layout = oci(&builder::releases(&r.path("releases")));
    let v = r.json(&[
        "history",
        &format!("{layout}:1.10"),
        &format!("{layout}:1.2"),
        &format!("{layout}:1.0"),
        &format!("{layout}:1.1"),
    ]);
    let names: Vec<&str> = v["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["tag"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["1.0", "1.1", "1.2", "1.10"]);
}
