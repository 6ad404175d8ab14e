//! The fleet's reports as a person reads them, over a small registry (8
//! repositories x 5 tags, one base stored recompressed) fully worked:
//! `fleet report` as a table, markdown and JSON, `fleet plan` as a table,
//! snapshotted with hosts, ports and paths redacted; the report's page.

use std::process::Command;

use super::fleet::{finished, json_of, strata, worker};
use super::fleet_registry::fleet;
use super::redis_server::RedisServer;
use super::*;

/// The stdout of a successful command, with what changes run to run redacted.
fn redacted(mut c: Command) -> String {
    let out = c.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    redact(&String::from_utf8(out.stdout).unwrap())
}

/// `127.0.0.1:PORT` with the port's digits as `#` (tables keep their
/// widths), `file://…` as `[SHARED]`.
fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let host = rest.find("127.0.0.1:");
        let file = rest.find("file://");
        let i = match (host, file) {
            (None, None) => break,
            (h, f) => h.unwrap_or(usize::MAX).min(f.unwrap_or(usize::MAX)),
        };
        let (before, at) = rest.split_at(i);
        out.push_str(before);
        if let Some(after) = at.strip_prefix("127.0.0.1:") {
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            out.push_str("127.0.0.1:");
            out.push_str(&"#".repeat(digits));
            rest = &after[digits..];
        } else {
            let end = at
                .find(|c: char| c.is_whitespace() || c == '"')
                .unwrap_or(at.len());
            out.push_str("[SHARED]");
            rest = &at[end..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn fleet_report_and_plan_read_the_same_in_every_format() {
    let r = Run::new();
    let f = fleet(&r.path("layout"), 8);
    let redis = RedisServer::start();
    let queue = redis.url();
    let shared = format!("file://{}", r.path("shared").display());
    // Every repository, at any depth.
    let glob = format!("docker://{}/**", f.reg.host);
    let mut plan = strata(&r, "cache", &shared);
    plan.args(["fleet", "plan", "--queue", &queue, &glob]);
    insta::assert_snapshot!("fleet_plan_table", redacted(plan));
    let w = finished(worker(&r, &shared, &queue, "w1", &["--until-empty"]));
    assert_eq!(w["dead"], 0, "{w}");
    let report = |format: &str| {
        let mut c = strata(&r, "cache-report", &shared);
        c.args(["fleet", "report", "--queue", &queue, "--top", "4"])
            .arg(format!("--format={format}"));
        redacted(c)
    };
    insta::assert_snapshot!("fleet_report_table", report("table"));
    insta::assert_snapshot!("fleet_report_markdown", report("markdown"));
    insta::assert_snapshot!("fleet_report_json", report("json"));
    // The page: every section, self-contained (nothing fetched from elsewhere).
    let page = report("html");
    for section in [
        "Registry",
        "Repositories",
        "Most shared layers",
        "Biggest findings",
    ] {
        assert!(page.contains(section), "{section}");
    }
    let page = page.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for word in [
        "http:", "https:", "src=", "href=", "<script", "<link", "<img",
    ] {
        assert!(!page.contains(word), "{word} in the page");
    }
    // The status: no job left, every layer done.
    let status = json_of(
        strata(&r, "cache", &shared),
        &["fleet", "status", "--queue", &queue],
    );
    assert_eq!(status["groups"][0]["pending"], 0, "{status}");
    assert_eq!(status["layers_done"], f.layers.len(), "{status}");
}
