//! Pictures: every view's HTML page in a real browser. Headless Chromium
//! (Debian's `chromium`, installed by scripts/test.sh) prints each page to a
//! PNG with no error and no blocked request, and reads it back as a DOM:
//! every figure of the view's JSON is there, nothing refers to another
//! origin, a treemap's tiles add up to its total, and names from an image
//! open no element. Chromium runs offline: every host resolves to nothing
//! and every proxy request goes nowhere.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::builder::{self, Compress};
use super::*;

/// Runs Chromium headless on `page` with `what` (`--screenshot=…` or
/// `--dump-dom`), offline; its stdout and stderr.
fn chromium(dir: &Path, page: &Path, what: &str) -> (String, String) {
    let profile = tempfile::tempdir_in(dir).unwrap();
    let mut child = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-extensions",
            "--disable-sync",
            "--metrics-recording-only",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,1600",
            "--virtual-time-budget=2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(what)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium is installed by scripts/test.sh (apt-get install chromium)");
    let deadline = Instant::now() + Duration::from_secs(90);
    let (out, err) = {
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let o = std::thread::spawn(move || {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut stdout, &mut s).ok();
            s
        });
        let e = std::thread::spawn(move || {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut stderr, &mut s).ok();
            s
        });
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "chromium {what} {}: {status}",
                    page.display()
                );
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("chromium {what} {}: no answer in 90 s", page.display());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        (o.join().unwrap(), e.join().unwrap())
    };
    (out, err)
}

/// What Chromium says when a page breaks its policy, fails a request or
/// runs into an error of its own (its D-Bus and GPU noise aside).
fn page_errors(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| {
            l.contains("Refused to")
                || l.contains("Content Security Policy")
                || l.contains("CONSOLE")
                || l.contains("Uncaught")
                || l.contains("net::ERR")
        })
        .collect()
}

/// Prints `page` to a PNG; fails on any page error.
fn screenshot(dir: &Path, page: &Path) {
    let png = page.with_extension("png");
    let (_, err) = chromium(dir, page, &format!("--screenshot={}", png.display()));
    let errors = page_errors(&err);
    assert!(errors.is_empty(), "{}: {errors:#?}", page.display());
    let bytes = std::fs::read(&png).unwrap_or_default();
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 2000,
        "{}: no picture ({} bytes): {err}",
        page.display(),
        bytes.len()
    );
}

/// The page as the browser parsed it.
fn dom(dir: &Path, page: &Path) -> String {
    let (out, err) = chromium(dir, page, "--dump-dom");
    let errors = page_errors(&err);
    assert!(errors.is_empty(), "{}: {errors:#?}", page.display());
    assert!(out.contains("</main>"), "{}: {out:.500}", page.display());
    out
}

/// Every number of the DOM's figures: `<data value>` and shapes' `data-bytes`.
fn dom_numbers(dom: &str) -> Vec<f64> {
    let mut out = Vec::new();
    for attr in ["value=\"", "data-bytes=\""] {
        for part in dom.split(attr).skip(1) {
            if let Some(v) = part.split('"').next().and_then(|v| v.parse().ok()) {
                out.push(v);
            }
        }
    }
    out
}

/// Whether a page's number is a JSON figure: the same, or a fraction the
/// page shows as a percentage (efficiency 0.5 as 50%).
fn same(shown: f64, f: f64) -> bool {
    let close = |a: f64, b: f64| (a - b).abs() <= b.abs() * 1e-12;
    close(shown, f) || close(shown, f * 100.0)
}

/// JSON keys whose numbers a page shows another way, or not at all: option
/// echoes and positions (shown as `#N`), du's per-layer bytes (shown as
/// shares of the node), diff's positions, history's layer lists.
const NOT_FIGURES: [&str; 11] = [
    "schema_version",
    "depth",
    "top",
    "layer",
    "by_layer",
    "base_layer",
    "target_layer",
    "below",
    "survives_in",
    "copies",
    "position",
];

/// Figures a view's JSON holds and its page (like its table) leaves out:
/// footprint's and compare's other measures (the page shows `--measure`'s,
/// beside each image's three totals), footprint's per-layer detail, and
/// compare's count of distinct layers.
fn left_out(view: &str, at: &str, measure: &str) -> bool {
    let last = at.rsplit('.').next().unwrap_or("");
    let other_measure = ["compressed", "uncompressed", "files"].contains(&last) && last != measure;
    match view {
        "footprint" => {
            at.starts_with("footprint.layers[")
                || (other_measure
                    && [".shared.", ".unique.", ".fair_share."]
                        .iter()
                        .any(|k| at.contains(k)))
        }
        "compare" => other_measure || last == "distinct_layers",
        _ => false,
    }
}

/// Every number of `v` a page must show, with where it is.
fn json_figures(v: &Value, at: String, out: &mut Vec<(String, f64)>) {
    let mut stack = vec![(at, v)];
    while let Some((at, v)) = stack.pop() {
        match v {
            Value::Number(n) => out.push((at, n.as_f64().unwrap())),
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    stack.push((format!("{at}[{i}]"), x));
                }
            }
            Value::Object(o) => {
                for (k, x) in o {
                    if !NOT_FIGURES.contains(&k.as_str()) {
                        stack.push((format!("{at}.{k}"), x));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Each view of the fixture family, as (name, arguments).
fn views(layout: &str, policy: &str) -> Vec<(&'static str, Vec<String>)> {
    let img = |n: &str| format!("{layout}:{n}");
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        (
            "footprint",
            s(&["footprint", &img("app"), &img("app-dev"), &img("worker")]),
        ),
        (
            "compare",
            s(&[
                "compare",
                &img("app"),
                &img("worker"),
                "--vs",
                &img("app-dev"),
                &img("rebuilt"),
            ]),
        ),
        ("du", s(&["du", &img("app-dev")])),
        ("layers", s(&["layers", &img("app-dev")])),
        ("audit", s(&["audit", &img("app-dev"), "--layer", "4"])),
        ("diff", s(&["diff", &img("app"), &img("app-dev")])),
        ("packages", s(&["packages", &img("app-dev")])),
        ("advise", s(&["advise", &img("app-dev")])),
        (
            "gate",
            s(&["gate", "--policy", policy, &img("app"), &img("app-dev")]),
        ),
    ]
}

/// Runs strata; stdout (a gate may exit 1: its report is still whole).
fn output(r: &Run, args: &[String]) -> Vec<u8> {
    let out = r.cmd().args(args).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "strata {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs `check` on every page, two browsers at a time; fails after all of
/// them were checked, with what failed on each.
fn each_page<T: Send + std::fmt::Debug>(pages: Vec<T>, check: impl Fn(&T) + Sync) {
    let queue = std::sync::Mutex::new(pages);
    let failed = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let next = queue.lock().unwrap().pop();
                let Some(p) = next else { break };
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&p)));
                if let Err(e) = run {
                    let why = e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failed.lock().unwrap().push(why);
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

/// The tiles of the first treemap of `dom`: their bytes and the map's total.
fn treemap(dom: &str) -> (u64, Vec<(u64, f64)>) {
    let start = dom.find("class=\"tm\"").expect("a treemap");
    let svg = &dom[start..start + dom[start..].find("</svg>").unwrap()];
    let total = svg["class=\"tm\" data-bytes=\"".len()..]
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let tiles = svg
        .split("<rect ")
        .skip(1)
        .filter(|t| t.contains("class=\"tile"))
        .map(|t| {
            let attr = |name: &str| -> f64 {
                let at = t.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                t[at..].split('"').next().unwrap().parse().unwrap()
            };
            (attr("data-bytes") as u64, attr("width") * attr("height"))
        })
        .collect();
    (total, tiles)
}

#[test]
fn every_views_page_renders_in_chromium_and_shows_every_figure_of_its_json() {
    let r = Run::new();
    let family = builder::family(&r.path("family"), Compress::Gzip(6));
    let layout = oci(&family.layout);
    let policy = r.path("policy.toml");
    std::fs::write(
        &policy,
        "[[image]]\nlevel = \"warn\"\nmax_compressed = \"150kB\"\nmax_files = \"1MB\"\nmax_layers = 3\n",
    )
    .unwrap();
    let mut pages = Vec::new();
    for (name, args) in views(&layout, policy.to_str().unwrap()) {
        let mut html = args.clone();
        html.extend(["--format".into(), "html".into()]);
        let page = r.path(&format!("{name}.html"));
        std::fs::write(&page, output(&r, &html)).unwrap();
        let mut json = args.clone();
        json.extend(["--format".into(), "json".into()]);
        let v: Value = serde_json::from_slice(&output(&r, &json)).unwrap();
        pages.push((name, page, v));
    }
    let dir = r.tmp.path();
    each_page(pages, |(name, page, v)| {
        let name = *name;
        screenshot(dir, page);
        let dom = dom(dir, page);
        // Nothing refers to another origin (the SVG namespace is a name, not a request).
        let outside = dom.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        for word in [
            "http:", "https:", "//", "src=", "href=", "url(", "@import", "<link", "<script",
            "<img", "<iframe", "<object", "<embed",
        ] {
            let word_in = |s: &str| s.contains(word);
            // `//` may appear in text (a path); only as an attribute value would it fetch.
            let hit = if word == "//" {
                outside.contains("=\"//")
            } else {
                word_in(&outside)
            };
            assert!(!hit, "{name}: {word} in the page");
        }
        // Every figure of the JSON is on the page, as the same number.
        let shown = dom_numbers(&dom);
        let mut figures = Vec::new();
        json_figures(v, name.to_owned(), &mut figures);
        assert!(!figures.is_empty(), "{name}");
        let measure = v["measure"].as_str().unwrap_or("compressed");
        let missing: Vec<String> = figures
            .into_iter()
            .filter(|(at, _)| !left_out(name, at, measure))
            .filter(|(_, f)| !shown.iter().any(|s| same(*s, *f)))
            .map(|(at, f)| format!("{at} = {f}"))
            .collect();
        assert!(missing.is_empty(), "{name}: not on the page: {missing:#?}");
        // A treemap's tiles add up to its total, and tile the map.
        let total = match name {
            "du" => v["tree"]["bytes"].as_u64(),
            "audit" => v["audit"]["rollup"]["bytes"].as_u64(),
            "diff" => Some(
                v["files"]["added"]["bytes"].as_u64().unwrap()
                    + v["files"]["changed"]["bytes"].as_u64().unwrap(),
            ),
            _ => None,
        };
        if let Some(total) = total {
            let (map_total, tiles) = treemap(&dom);
            assert_eq!(map_total, total, "{name}");
            assert_eq!(tiles.iter().map(|t| t.0).sum::<u64>(), total, "{name}");
            let area: f64 = tiles.iter().map(|t| t.1).sum();
            // Coordinates have two decimals: the map is tiled to within a few units.
            assert!(
                (area / (760.0 * 440.0) - 1.0).abs() < 1e-4,
                "{name}: {area}"
            );
        }
    });
}

#[test]
fn names_from_an_image_open_no_element_in_any_views_page() {
    let r = Run::new();
    let image = super::report::hostile_image(&r);
    let base = image.replace("<img src=x onerror=alert(1)>", "base");
    let dir = r.tmp.path();
    let mut pages = Vec::new();
    for (i, args) in [
        vec!["packages", &image],
        vec!["du", &image],
        vec!["layers", &image],
        vec!["audit", &image, "--layer", "2"],
        vec!["diff", &base, &image],
        vec!["advise", &image],
    ]
    .into_iter()
    .enumerate()
    {
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        args.extend(["--format".into(), "html".into()]);
        let page = r.path(&format!("hostile-{i}.html"));
        std::fs::write(&page, output(&r, &args)).unwrap();
        pages.push((args, page));
    }
    each_page(pages, |(args, page)| {
        let dom = dom(dir, page);
        for tag in ["<img", "<script", "<a ", "<b>", "<iframe"] {
            assert!(!dom.contains(tag), "{args:?}: {tag} in the page");
        }
        assert!(
            dom.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{args:?}: the name is shown as text"
        );
    });
}

#[test]
fn the_browser_check_sees_a_page_that_reaches_out() {
    // A page strata would never write: it must fail the checks above.
    let r = Run::new();
    let page = r.path("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"></head>\
         <body><main><img src=\"http://example.invalid/x.png\"><script>console.log('ran')</script></main></body></html>",
    )
    .unwrap();
    let (_, err) = chromium(r.tmp.path(), &page, "--dump-dom");
    assert!(!page_errors(&err).is_empty(), "{err}");
}
