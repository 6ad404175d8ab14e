//! The text of package records: names and versions capped at parse time,
//! and the paths readers join (relative to the image root, never above it).

/// Longest name, version, architecture or source kept, in bytes; a longer
/// one keeps its first `TEXT_CAP` bytes and a marker (`…[N bytes, xxh3 H]`)
/// that tells two cut names apart. Figures are unchanged.
pub const TEXT_CAP: usize = 4096;

/// `text` as a package record keeps it (see `TEXT_CAP`).
pub fn capped(text: &str) -> String {
    if text.len() <= TEXT_CAP {
        return text.to_owned();
    }
    let mut end = TEXT_CAP;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let hash = xxhash_rust::xxh3::xxh3_64(text.as_bytes());
    format!(
        "{}…[{} bytes, xxh3 {:016x}]",
        &text[..end],
        text.len(),
        hash
    )
}

/// `rel` joined to directory `base` into `out` (both relative to the root;
/// `rel` may climb with `..` or be absolute); false when it leaves the root
/// or names it. `out` is reused: nothing is allocated per path once it is
/// as long as the longest.
pub(crate) fn join_into(out: &mut Vec<u8>, base: &str, rel: &str) -> bool {
    out.clear();
    if !rel.starts_with('/') {
        for part in base.split('/').filter(|p| !p.is_empty() && *p != ".") {
            push_part(out, part);
        }
    }
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if out.is_empty() {
                    return false;
                }
                let cut = out.iter().rposition(|&b| b == b'/').unwrap_or(0);
                out.truncate(cut);
            }
            p => push_part(out, p),
        }
    }
    !out.is_empty()
}

fn push_part(out: &mut Vec<u8>, part: &str) {
    if !out.is_empty() {
        out.push(b'/');
    }
    out.extend_from_slice(part.as_bytes());
}

/// `rel` joined to directory `base` (see `join_into`). None when it leaves the root.
pub(crate) fn join(base: &str, rel: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    join_into(&mut out, base, rel).then_some(out)
}

/// `(dir, base)` of a relative path.
pub(crate) fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    }
}

/// `Key: value` header lines of a deb822 stanza or an RFC 822 head.
pub(crate) fn header<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(key)?.strip_prefix(':')?;
    Some(rest.trim())
}
