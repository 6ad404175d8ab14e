//! A registry fault proxy for tests: on 127.0.0.1 in front of a real
//! registry, it answers requests whose request line contains a pattern with
//! one fault (an endless body, a trickle, a hang, a first body segment split
//! into a 1-byte write, a truncated body) and passes everything else through.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Nothing: every request passes through (requests are still counted).
    Pass,
    /// The upstream head and body, then bytes without end (no Content-Length).
    Endless,
    /// The upstream head at once, then its body one byte every `ms` milliseconds.
    Trickle { ms: u64 },
    /// Reads the request and never answers.
    Hang,
    /// The head, then the first body byte alone, then the rest.
    SplitFirst,
    /// The head (with its Content-Length) and half the body, then a close;
    /// for the first `times` matching requests only.
    Truncate { times: usize },
    /// `Truncate`, from a server that ignores Range requests (a resumed
    /// body comes whole, with 200).
    TruncateIgnoringRange { times: usize },
    /// A token-protected registry: matching requests without the proxy's
    /// bearer token get a 401 Bearer challenge whose realm (`/token` on the
    /// proxy) hands the token out, to anyone (as Docker Hub does for pulls).
    Bearer,
    /// `Bearer`, with the challenge naming this realm instead of the proxy's own.
    BearerAt(&'static str),
    /// A read-only token: every write (POST, PUT, PATCH, DELETE) is answered
    /// 403 DENIED, whatever the pattern; reads pass through.
    ReadOnly,
}

pub struct FaultProxy {
    /// HOST:PORT to name in references.
    pub addr: String,
    /// How many requests matched the pattern.
    pub hits: Arc<AtomicUsize>,
    /// How many matching requests carried an `Authorization` header.
    pub authorized: Arc<AtomicUsize>,
    /// How many matching requests asked for a byte range (a resumed body).
    pub ranged: Arc<AtomicUsize>,
}

impl FaultProxy {
    /// Proxies to `upstream` (HOST:PORT), applying `fault` to every GET
    /// whose request line contains `pattern` (e.g. "/manifests/", "/blobs/sha256:ab").
    pub fn start(upstream: &str, pattern: &str, fault: Fault) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let hits = Arc::new(AtomicUsize::new(0));
        let authorized = Arc::new(AtomicUsize::new(0));
        let ranged = Arc::new(AtomicUsize::new(0));
        let (upstream, pattern, own) = (upstream.to_owned(), pattern.to_owned(), addr.clone());
        let counters = Counters {
            hits: hits.clone(),
            authorized: authorized.clone(),
            ranged: ranged.clone(),
        };
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(client) = conn else { break };
                let (upstream, pattern, counters, own) = (
                    upstream.clone(),
                    pattern.clone(),
                    counters.clone(),
                    own.clone(),
                );
                std::thread::spawn(move || {
                    let _ = serve(client, &upstream, &pattern, fault, &counters, &own);
                });
            }
        });
        FaultProxy {
            addr,
            hits,
            authorized,
            ranged,
        }
    }
}

#[derive(Clone)]
struct Counters {
    hits: Arc<AtomicUsize>,
    authorized: Arc<AtomicUsize>,
    ranged: Arc<AtomicUsize>,
}

/// One request per connection: the proxy asks for and answers with `Connection: close`.
fn serve(
    mut client: TcpStream,
    upstream: &str,
    pattern: &str,
    fault: Fault,
    counters: &Counters,
    own: &str,
) -> std::io::Result<()> {
    client.set_nodelay(true)?;
    client.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let (head, body) = read_request(&mut reader)?;
    let first = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned();
    let hit = first.starts_with("GET ") && first.contains(pattern);
    let n = if hit {
        counters.hits.fetch_add(1, Ordering::SeqCst)
    } else {
        0
    };
    let lower = String::from_utf8_lossy(&head).to_ascii_lowercase();
    if hit && lower.contains("\r\nauthorization:") {
        counters.authorized.fetch_add(1, Ordering::SeqCst);
    }
    if hit && lower.contains("\r\nrange:") {
        counters.ranged.fetch_add(1, Ordering::SeqCst);
    }
    if let Fault::Bearer | Fault::BearerAt(_) = fault {
        if first.starts_with("GET /token") {
            let body = format!(r#"{{"token":"{TOKEN}","access_token":"{TOKEN}"}}"#);
            return respond(&mut client, "200 OK", "", &body);
        }
        if hit && !lower.contains(&format!("\r\nauthorization: bearer {TOKEN}")) {
            let realm = match fault {
                Fault::BearerAt(realm) => realm.to_owned(),
                _ => format!("http://{own}/token"),
            };
            let challenge =
                format!("WWW-Authenticate: Bearer realm=\"{realm}\",service=\"fault-proxy\"\r\n");
            let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}"#;
            return respond(&mut client, "401 Unauthorized", &challenge, body);
        }
    }
    let write = ["POST ", "PUT ", "PATCH ", "DELETE "]
        .iter()
        .any(|m| first.starts_with(m));
    if matches!(fault, Fault::ReadOnly) && write {
        counters.hits.fetch_add(1, Ordering::SeqCst);
        let body = r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#;
        return respond(&mut client, "403 Forbidden", "", body);
    }
    if hit && matches!(fault, Fault::Hang) {
        // Hold the connection open until the client gives up.
        let mut sink = [0u8; 1024];
        client.set_read_timeout(Some(Duration::from_secs(120)))?;
        while client.read(&mut sink)? > 0 {}
        return Ok(());
    }
    let head = if matches!(fault, Fault::TruncateIgnoringRange { .. }) {
        strip_header(&head, "range")
    } else {
        head
    };
    let mut up = TcpStream::connect(upstream)?;
    up.write_all(&head)?;
    up.write_all(b"Connection: close\r\n\r\n")?;
    up.write_all(&body)?;
    let mut response = Vec::new();
    up.read_to_end(&mut response)?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(response.len(), |p| p + 4);
    let (resp_head, resp_body) = response.split_at(split);
    if !hit {
        return client.write_all(&response);
    }
    match fault {
        Fault::Hang | Fault::Pass | Fault::Bearer | Fault::BearerAt(_) | Fault::ReadOnly => {
            client.write_all(&response)
        }
        Fault::Endless => {
            let head = strip_header(resp_head, "content-length");
            client.write_all(&head)?;
            client.write_all(resp_body)?;
            let chunk = vec![b' '; 64 * 1024];
            loop {
                client.write_all(&chunk)?;
            }
        }
        Fault::Trickle { ms } => {
            client.write_all(resp_head)?;
            for b in resp_body {
                client.write_all(std::slice::from_ref(b))?;
                std::thread::sleep(Duration::from_millis(ms));
            }
            Ok(())
        }
        Fault::SplitFirst => {
            client.write_all(resp_head)?;
            if let Some((first, rest)) = resp_body.split_first() {
                client.write_all(std::slice::from_ref(first))?;
                client.flush()?;
                std::thread::sleep(Duration::from_millis(100));
                client.write_all(rest)?;
            }
            Ok(())
        }
        Fault::Truncate { times } | Fault::TruncateIgnoringRange { times } => {
            client.write_all(resp_head)?;
            if n < times {
                client.write_all(&resp_body[..resp_body.len() / 2])?;
                client.flush()?;
                client.shutdown(std::net::Shutdown::Both)
            } else {
                client.write_all(resp_body)
            }
        }
    }
}

/// The bearer token the `Bearer` fault hands out and asks for.
pub const TOKEN: &str = "fault-proxy-token";

pub fn respond(
    client: &mut TcpStream,
    status: &str,
    headers: &str,
    body: &str,
) -> std::io::Result<()> {
    client.write_all(
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{headers}Connection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
}

/// The request head (without its blank line and any `Connection:` header) and body.
pub fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let mut head = Vec::new();
    let mut length = 0usize;
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if lower.starts_with("connection:") {
            continue;
        }
        head.extend_from_slice(line.as_bytes());
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body)?;
    Ok((head, body))
}

fn strip_header(head: &[u8], name: &str) -> Vec<u8> {
    String::from_utf8_lossy(head)
        .split_inclusive("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with(&format!("{name}:")))
        .collect::<String>()
        .into_bytes()
}
