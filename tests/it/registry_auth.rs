//! Token realms (issue 18): a registry's Bearer challenge names where to get a
//! token; the user's credentials go there over HTTPS, or over plain HTTP only
//! to loopback (when the registry is loopback too) or to a host the user named
//! with --insecure-registry. Token answers have their own cap and message.

use std::io::BufReader;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use super::builder::{self, Compress, OciLayout};
use super::fault_proxy::{read_request, respond, Fault, FaultProxy, TOKEN};
use super::registry_server::Registry;
use super::*;

const CREDS: &str = "someone:hunter2-secret";

/// A token service on `bind` (a 127/8 address), named `name` in its realm.
struct TokenService {
    realm: &'static str,
    /// Requests that carried Basic credentials.
    basic: Arc<AtomicUsize>,
    /// Requests that carried none.
    anonymous: Arc<AtomicUsize>,
}

impl TokenService {
    /// Hands out a token of `token_len` bytes (the gate's own when it is
    /// that long), to anonymous requests too when `anonymous_ok`.
    fn start(bind: &str, name: &str, token_len: usize, anonymous_ok: bool) -> TokenService {
        let listener = TcpListener::bind((bind, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let realm: &'static str = Box::leak(format!("http://{name}:{port}/token").into_boxed_str());
        let (basic, anonymous) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (b, a) = (basic.clone(), anonymous.clone());
        let token = if token_len == TOKEN.len() {
            TOKEN.to_owned()
        } else {
            "t".repeat(token_len)
        };
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut client) = conn else { break };
                let _ = client.set_read_timeout(Some(Duration::from_secs(10)));
                let mut reader = BufReader::new(client.try_clone().unwrap());
                let Ok((head, _)) = read_request(&mut reader) else {
                    continue;
                };
                let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
                let with_creds = head.contains("\r\nauthorization: basic ");
                if with_creds { &b } else { &a }.fetch_add(1, SeqCst);
                let _ = if with_creds || anonymous_ok {
                    respond(
                        &mut client,
                        "200 OK",
                        "",
                        &format!(r#"{{"token":"{token}"}}"#),
                    )
                } else {
                    respond(&mut client, "401 Unauthorized", "", "{}")
                };
            }
        });
        TokenService {
            realm,
            basic,
            anonymous,
        }
    }
}

/// A registry holding `hostile/img:1`, behind a gate that asks for a token from `realm`.
fn gated(r: &Run, realm: &'static str) -> (Registry, FaultProxy) {
    let reg = Registry::start(false);
    let mut lay = OciLayout::new(&r.path("layout"));
    let layer = lay.layer(Compress::Gzip(6), |w| {
        w.file("data", &builder::noise(5_000, 7));
    });
    lay.image("img", &[&layer], "linux/amd64");
    reg.push(&lay.finish(), "img", "hostile/img:1", false);
    let gate = FaultProxy::start(&reg.host, "/v2/hostile/", Fault::BearerAt(realm));
    (reg, gate)
}

fn image(gate: &FaultProxy) -> String {
    format!("docker://{}/hostile/img:1", gate.addr)
}

/// A name other than localhost that /etc/hosts maps to a 127/8 address: a
/// host strata cannot tell is loopback, reached without asking any DNS server.
fn loopback_name() -> Option<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
    hosts.lines().find_map(|line| {
        let mut words = line.split('#').next()?.split_whitespace();
        let ip = words.next()?;
        if !ip.starts_with("127.") {
            return None;
        }
        words
            .find(|n| !n.contains("localhost") && !n.contains(':'))
            .map(str::to_owned)
    })
}

#[test]
fn a_loopback_registry_sends_credentials_to_a_loopback_realm_on_another_address() {
    let r = Run::new();
    let tokens = TokenService::start("127.0.0.2", "127.0.0.2", TOKEN.len(), false);
    let (_reg, gate) = gated(&r, tokens.realm);
    let v = r.json(&["footprint", "--no-cache", "--creds", CREDS, &image(&gate)]);
    assert_eq!(v["images"].as_array().unwrap().len(), 1);
    assert!(tokens.basic.load(SeqCst) >= 1);
    assert_eq!(tokens.anonymous.load(SeqCst), 0);
}

#[test]
fn credentials_never_go_over_plain_http_to_another_host_unless_it_is_named_insecure() {
    let Some(name) = loopback_name() else {
        eprintln!("skipping: /etc/hosts maps no name but localhost to 127/8");
        return;
    };
    // The realm is another host to strata (a name, not loopback); the
    // token service hands tokens to anyone, as Docker Hub does for pulls.
    let r = Run::new();
    let tokens = TokenService::start("127.0.0.1", &name, TOKEN.len(), true);
    let (_reg, gate) = gated(&r, tokens.realm);
    let out = r
        .cmd()
        .args(["footprint", "--no-cache", "--creds", CREDS, &image(&gate)])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        tokens.basic.load(SeqCst),
        0,
        "credentials sent in the clear"
    );
    assert!(tokens.anonymous.load(SeqCst) >= 1);
    let origin = tokens.realm.trim_end_matches("/token");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("strata: warning: ")
            && stderr.contains(&format!(
                "credentials withheld from its token service {origin}"
            )),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");

    // A token service that wants them: one line that says why none were sent.
    let tokens = TokenService::start("127.0.0.1", &name, TOKEN.len(), false);
    let (_reg, gate) = gated(&Run::new(), tokens.realm);
    let line = r.fails(&["footprint", "--no-cache", "--creds", CREDS, &image(&gate)]);
    assert!(
        line.contains("refused an anonymous request")
            && line.contains(&format!("--insecure-registry {name}")),
        "{line}"
    );
    assert_eq!(tokens.basic.load(SeqCst), 0);

    // Named with --insecure-registry: the user allowed plain HTTP to that host.
    let v = r.json(&[
        "footprint",
        "--no-cache",
        "--creds",
        CREDS,
        "--insecure-registry",
        &name,
        &image(&gate),
    ]);
    assert_eq!(v["images"].as_array().unwrap().len(), 1);
    assert!(tokens.basic.load(SeqCst) >= 1);
}

#[test]
fn a_50_mb_token_is_refused_as_a_token_not_as_a_manifest() {
    let r = Run::new();
    let tokens = TokenService::start("127.0.0.1", "127.0.0.1", 50 << 20, true);
    let (_reg, gate) = gated(&r, tokens.realm);
    let line = r.fails(&["footprint", "--no-cache", &image(&gate)]);
    assert!(
        line.contains("sent a token of more than 1 MiB; refused") && !line.contains("manifest of"),
        "{line}"
    );
}

#[test]
fn a_bad_creds_file_or_auth_file_is_named_with_its_line_never_quoted() {
    let r = Run::new();
    let file = r.path("creds");
    std::fs::write(&file, "someone:hunter2-secret\nsecond-hunter2-line\n").unwrap();
    let line = r.fails(&[
        "footprint",
        "--creds-file",
        file.to_str().unwrap(),
        "docker://127.0.0.1:1/x:1",
    ]);
    assert!(
        line.contains(&format!("--creds-file: {}: line 2:", file.display())),
        "{line}"
    );
    assert!(!line.contains("hunter2"), "{line}");

    // An auth file is read when a registry challenges: a malformed one is a
    // warning that names it and where it breaks, then the 401 is the error.
    let reg = Registry::start(true);
    let mut lay = OciLayout::new(&r.path("layout"));
    let layer = lay.layer(Compress::Gzip(6), |w| {
        w.file("data", b"x");
    });
    lay.image("img", &[&layer], "linux/amd64");
    reg.push(&lay.finish(), "img", "app:1", true);
    let auth = r.path("auth.json");
    let text = format!("{{\"auths\": {{\"{}\": {{\"auth\": hunter2}}}}}}", reg.host);
    std::fs::write(&auth, &text).unwrap();
    let out = r.run(&[
        "footprint",
        "--authfile",
        auth.to_str().unwrap(),
        &format!("docker://{}/app:1", reg.host),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines.iter().any(|l| l.starts_with("strata: warning: ")
            && l.contains(&format!(
                "{}: malformed JSON: syntax error at line 1",
                auth.display()
            ))),
        "{stderr}"
    );
    assert!(stderr.contains("unauthorized"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
