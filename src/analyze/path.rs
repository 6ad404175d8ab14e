//! Paths as a report shows them: absolute, lossy UTF-8, each name cut at
//! NAME_CAP and the whole at PATH_CAP. A tar may name a file with 64 KiB; a
//! person reads a few hundred bytes, and what an analysis keeps must be
//! bounded by what is shown. A cut keeps both ends and puts the length and a
//! hash of what it dropped in the middle, so two distinct paths never show
//! alike. No real path is cut: Linux allows 255-byte names and 4,096-byte paths.

use std::borrow::Cow;

use xxhash_rust::xxh3::xxh3_64;

/// Bytes of one name kept for display (NAME_MAX).
pub const NAME_CAP: usize = 255;
/// Bytes of a whole path kept for display (PATH_MAX).
pub const PATH_CAP: usize = 4096;

/// What orders paths (or names) in a list, without showing them: the bytes,
/// or past `cap` the first `cap` bytes and a hash of them all. Equal for
/// equal paths, in byte order for any real one, never more than `cap` + 8 bytes.
pub fn key(bytes: &[u8], cap: usize) -> Vec<u8> {
    if bytes.len() <= cap {
        return bytes.to_vec();
    }
    let mut key = bytes[..cap].to_vec();
    key.extend_from_slice(&xxh3_64(bytes).to_be_bytes());
    key
}

/// `/` and the path (relative to the image root), every name and the whole cut to their caps.
pub fn show(path: &[u8]) -> String {
    if path.len() <= NAME_CAP {
        return format!("/{}", String::from_utf8_lossy(path));
    }
    let mut out = String::with_capacity(path.len().min(PATH_CAP * 2));
    for part in path.split(|&b| b == b'/') {
        out.push('/');
        out.push_str(&name(part));
    }
    cap(out)
}

/// One name for display, cut at NAME_CAP.
pub fn name(bytes: &[u8]) -> Cow<'_, str> {
    if bytes.len() <= NAME_CAP {
        return String::from_utf8_lossy(bytes);
    }
    Cow::Owned(cut(&String::from_utf8_lossy(bytes), NAME_CAP))
}

/// A path already shown (`/a/b`), cut at PATH_CAP.
pub fn cap(path: String) -> String {
    if path.len() <= PATH_CAP {
        return path;
    }
    cut(&path, PATH_CAP)
}

/// `text` in at most `max` bytes: both ends, and in the middle how many
/// bytes were dropped and a hash of them (`…[60000 bytes #1f2e3d4c]…`).
fn cut(text: &str, max: usize) -> String {
    crate::cut::middle(text, max, crate::cut::Measure::Bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_paths_show_whole() {
        assert_eq!(show(b""), "/");
        assert_eq!(show(b"usr/lib/x.so"), "/usr/lib/x.so");
        assert_eq!(show(b"caf\xe9"), "/caf\u{fffd}");
        let deep = "d/".repeat(1000) + "f";
        assert_eq!(show(deep.as_bytes()), format!("/{deep}"));
        let long = "n".repeat(255);
        assert_eq!(show(long.as_bytes()), format!("/{long}"));
    }

    #[test]
    fn long_names_and_paths_are_cut_distinctly_within_their_caps() {
        let a = format!("dir/{}a{}", "n".repeat(30_000), "n".repeat(30_000));
        let b = format!("dir/{}b{}", "n".repeat(30_000), "n".repeat(30_000));
        let (sa, sb) = (show(a.as_bytes()), show(b.as_bytes()));
        assert!(sa.len() <= 5 + NAME_CAP, "{}", sa.len());
        assert!(sa.starts_with("/dir/nnn") && sa.ends_with("nnn"), "{sa}");
        assert!(sa.contains(" bytes #"), "{sa}");
        assert_ne!(sa, sb, "distinct names stay distinct");
        let deep = "d/".repeat(32_000) + "f";
        let s = show(deep.as_bytes());
        assert!(s.len() <= PATH_CAP, "{}", s.len());
        assert!(s.starts_with("/d/d/") && s.ends_with("d/d/f"), "{s}");
        let other = "d/".repeat(31_999) + "e/f";
        assert_ne!(show(other.as_bytes()), s);
        // Multi-byte characters are never split.
        let wide = "é".repeat(400);
        assert!(name(wide.as_bytes()).len() <= NAME_CAP);
        assert!(!name(wide.as_bytes()).contains('\u{fffd}'));
    }
}
