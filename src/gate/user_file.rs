//! A user's file read for the gate (a policy, a baseline): read under a size
//! cap, and its errors told by place (file, line, column) and by what was
//! expected — never by its content, which may be anything a user points at.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Reads `path` whole, refusing more than `cap` bytes and text that is not UTF-8.
pub fn read_text(path: &Path, cap: u64, what: &str) -> Result<String> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > cap {
        return Err(Error::malformed(
            path.display().to_string(),
            format!("larger than {}: not a {what}", crate::units::human(cap)),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        let (line, column) = position(e.as_bytes(), e.utf8_error().valid_up_to());
        Error::malformed(
            path.display().to_string(),
            format!("line {line}, column {column}: not UTF-8 text: not a {what}"),
        )
    })
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
pub fn position(text: &[u8], offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, column)
}

/// Messages strata's own deserializers give: they hold no input.
pub const NOT_A_SIZE: &str = "not a size (450MB, 1.2GiB or a number of bytes)";
pub const NOT_A_GLOB: &str = "not a glob";
pub const UNKNOWN_FINDING: &str = "unknown kind of finding";
const OURS: [&str; 3] = [NOT_A_SIZE, NOT_A_GLOB, UNKNOWN_FINDING];

/// A TOML error as one line: the file, where, and what was expected.
pub fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> Error {
    let reason = toml_reason(e.message());
    let reason = match e.span() {
        Some(span) => {
            let (line, column) = position(text.as_bytes(), span.start);
            format!("line {line}, column {column}: {reason}")
        }
        None => reason,
    };
    Error::malformed(path.display().to_string(), reason)
}

/// What went wrong, in words of the schema and of TOML's grammar only.
fn toml_reason(message: &str) -> String {
    let msg = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(reason) = crate::error::serde_reason(&msg) {
        return reason;
    }
    if OURS.iter().any(|o| msg.starts_with(o)) {
        return msg;
    }
    if msg.starts_with("duplicate key") {
        return "duplicate key".to_owned();
    }
    if msg.starts_with("dotted key") {
        return "a dotted key extends a value that is not a table".to_owned();
    }
    if msg.starts_with("invalid ") || msg.starts_with("expected ") {
        // TOML's grammar: `invalid string expected `"`, `'``. Its tokens are
        // one or two characters; anything longer in quotes is dropped.
        return format!("not valid TOML: {}", scrub(&msg));
    }
    "not valid TOML".to_owned()
}

/// `msg` without any quoted (backticks or double quotes) text longer than two characters.
fn scrub(msg: &str) -> String {
    let mut out = String::new();
    let mut rest = msg;
    while let Some(open) = rest.find(['`', '"']) {
        let quote = rest[open..].chars().next().unwrap_or('`');
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(quote) {
            Some(close) if after[..close].chars().count() <= 2 => {
                out.push_str(&rest[open..open + close + 2]);
            }
            Some(_) => out.push('…'),
            None => {
                out.push('…');
                return out;
            }
        }
        rest = &after[after.find(quote).map_or(after.len(), |c| c + 1)..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> String {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Doc {
            size: Option<u64>,
            level: Option<crate::gate::Level>,
        }
        let e = toml::from_str::<Doc>(text).unwrap_err();
        toml_error(Path::new("p.toml"), text, &e).to_string()
    }

    #[test]
    fn toml_errors_name_the_place_and_what_was_expected_never_the_text() {
        let shadow = "root:$6$SECRETSALT$SECRETHASH:19000:0:99999:7:::\n";
        let r = reason(shadow);
        assert!(
            r.starts_with("p.toml: line 1, column 5: not valid TOML"),
            "{r}"
        );
        for (text, expected) in [
            (
                "size = \"SECRET-1\"\n",
                "line 1, column 8: invalid type, expected",
            ),
            (
                "SECRET_KEY = 1\n",
                "line 1, column 1: unknown field, expected",
            ),
            (
                "level = \"SECRET\"\n",
                "unknown variant, expected `fail` or `warn`",
            ),
            ("size = 1\nsize = 2\n", "line 2, column 1: duplicate key"),
            ("size = 1 SECRET\n", "line 1, column 10: not valid TOML"),
            ("size = \"a, expected SECRET\"\n", "invalid type, expected"),
        ] {
            let r = reason(text);
            assert!(r.contains(expected), "{text}: {r}");
            assert!(!r.contains("SECRET"), "{text}: {r}");
        }
    }

    #[test]
    fn scrub_keeps_grammar_tokens_only() {
        assert_eq!(scrub("expected `.`, `=`"), "expected `.`, `=`");
        assert_eq!(scrub("expected `\"`, `'`"), "expected `\"`, `'`");
        assert_eq!(scrub("key `secret` here"), "key … here");
        assert_eq!(scrub("open `secret"), "open …");
    }

    #[test]
    fn position_counts_lines_and_characters() {
        assert_eq!(position(b"ab\ncd", 4), (2, 2));
        assert_eq!(position("é\nx".as_bytes(), 2), (1, 2));
        assert_eq!(position(b"", 0), (1, 1));
    }
}
