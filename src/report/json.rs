//! JSON output: a stable, versioned schema with raw bytes (see README "JSON
//! schema"), serialized straight from a view's data. Strings carry every
//! character of the data, with C1 controls, DEL, bidi and zero-width
//! characters written as `\u` escapes (serde_json escapes C0 controls itself),
//! so the document parses to the same values and is inert on a terminal.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{Formatter, PrettyFormatter};

use crate::escape;

/// Bump on any incompatible change to the JSON documents.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a, T: Serialize> {
    schema_version: u32,
    command: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

/// serde_json's pretty layout, with `escape::json` on every string fragment.
struct Inert<'a>(PrettyFormatter<'a>);

impl Formatter for Inert<'_> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut w = writer;
        escape::json(&mut w, fragment)
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// `value` as pretty JSON with inert strings.
pub fn write<T: Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(out, Inert(PrettyFormatter::new()));
    value.serialize(&mut ser).map_err(io::Error::from)
}

pub fn render<T: Serialize>(
    out: &mut dyn Write,
    command: &'static str,
    body: &T,
) -> io::Result<()> {
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        command,
        body,
    };
    write(&mut *out, &doc)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn text(v: &Value) -> String {
        let mut out = Vec::new();
        write(&mut out, v).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn hostile_strings_are_escaped_and_parse_back_the_same() {
        let hostile = "evil\u{9b}2J\x7f\u{202e}txt\u{200b}\u{2066}\x1b[31m\"\\ naïve ✓ 界";
        let v = json!({ "name": hostile, "list": [hostile, 1, null], hostile: true });
        let out = text(&v);
        assert!(
            !out.chars().any(|c| crate::escape::hidden(c) && c != '\n'),
            "{out:?}"
        );
        assert!(out.contains("\\u009b") && out.contains("\\u202e") && out.contains("\\u200b"));
        assert!(out.contains("\\u007f") && out.contains("\\u001b"));
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, v, "the same values after parsing");
    }

    #[test]
    fn the_layout_is_serde_jsons_pretty_one() {
        let v = json!({ "a": [1, {"b": "c"}], "d": {} , "e": []});
        assert_eq!(text(&v), serde_json::to_string_pretty(&v).unwrap());
    }
}
