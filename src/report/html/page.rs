//! The page around a report: its head (a Content-Security-Policy that allows
//! nothing but the page's one style element, by its hash), the style sheet
//! (light, dark and print), and the close.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use crate::escape::html;

/// Colours as CSS variables: series (`s0`…), layers (`l0`…), the rest and
/// the marks; dark mode and print swap the variables, never the classes.
pub const CSS: &str = "\
:root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--muted:#59636e;--line:#d1d9e0;--band:#f6f8fa;\
--s0:#0969da;--s1:#e16f24;--s2:#8250df;--s3:#1a7f37;--mark:#1b1f24;--limit:#cf222e;--more:#afb8c1;\
--l0:#4e79a7;--l1:#f28e2b;--l2:#e15759;--l3:#76b7b2;--l4:#59a14f;--l5:#edc948;--l6:#b07aa1;--l7:#ff9da7;--l8:#9c755f;--l9:#bab0ac}\n\
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--muted:#9198a1;--line:#3d444d;--band:#151b23;\
--s0:#4493f8;--s1:#f0883e;--s2:#ab7df8;--s3:#3fb950;--mark:#e6edf3;--limit:#f85149;--more:#656c76}}\n\
@media print{:root{--fg:#000;--bg:#fff;--muted:#333;--line:#999;--band:#fff}\
body{margin:0}figure,tr{break-inside:avoid}.wide{overflow:visible}}\n\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);background:var(--bg);margin:2em auto;max-width:1100px;padding:0 1em}\n\
h1{font-size:1.4em;margin:0 0 .6em}h2{font-size:1.15em;margin:1.4em 0 .4em}p{margin:.3em 0}\n\
.note{color:var(--muted);border-left:3px solid var(--line);padding-left:.6em}\n\
.wide{overflow-x:auto;margin:.6em 0}table{border-collapse:collapse;font-variant-numeric:tabular-nums}\n\
th,td{padding:.15em .7em;text-align:left;vertical-align:top;border-bottom:1px solid var(--line)}\n\
th{font-weight:600;white-space:nowrap}tbody tr:nth-child(even){background:var(--band)}.r{text-align:right;white-space:nowrap}\n\
.cmd,.digest{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.92em}.cmd{overflow-wrap:anywhere}.digest{white-space:nowrap}\n\
figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:.3em}svg{max-width:100%;height:auto;display:block}\n\
svg text{fill:var(--fg);font:12px system-ui,sans-serif}svg .small{font-size:10px}svg .axis{stroke:var(--line)}\n\
.key{display:inline-block;margin-right:1em;color:var(--muted)}.key i{display:inline-block;width:.8em;height:.8em;margin-right:.3em;vertical-align:-.05em}\n\
.s0{fill:var(--s0);background:var(--s0);stroke:var(--s0)}.s1{fill:var(--s1);background:var(--s1);stroke:var(--s1)}\
.s2{fill:var(--s2);background:var(--s2);stroke:var(--s2)}.s3{fill:var(--s3);background:var(--s3);stroke:var(--s3)}\n\
.l0{fill:var(--l0);background:var(--l0)}.l1{fill:var(--l1);background:var(--l1)}.l2{fill:var(--l2);background:var(--l2)}\
.l3{fill:var(--l3);background:var(--l3)}.l4{fill:var(--l4);background:var(--l4)}.l5{fill:var(--l5);background:var(--l5)}\
.l6{fill:var(--l6);background:var(--l6)}.l7{fill:var(--l7);background:var(--l7)}.l8{fill:var(--l8);background:var(--l8)}\
.l9{fill:var(--l9);background:var(--l9)}.lx,.more{fill:var(--more);background:var(--more)}\n\
.tile{stroke:var(--bg);stroke-width:.5}.dir{fill:none;stroke:var(--bg);stroke-width:2}.tile+text,.tm text{fill:#111;pointer-events:none}\n\
.curve{fill:none;stroke-width:2}.mark{stroke:var(--mark);stroke-width:2}.mark-key{background:var(--mark)}\
.limit{stroke:var(--limit);stroke-width:1.5;stroke-dasharray:6 4}.limit-key{background:var(--limit)}\n";

/// The Content-Security-Policy: nothing from anywhere (no script, image,
/// font, frame, form target or base URL), styles only the page's own.
pub fn csp() -> String {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(CSS.as_bytes()));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; img-src 'none'; font-src 'none'; \
         connect-src 'none'; frame-src 'none'; object-src 'none'; base-uri 'none'; form-action 'none'"
    )
}

/// The page up to its body's content.
pub fn open(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"strata {}\">\n\
         <title>{t}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n<h1>{t}</h1>\n",
        csp(),
        env!("CARGO_PKG_VERSION"),
        t = html(title),
    )
}

pub const CLOSE: &str = "</main>\n</body>\n</html>\n";
