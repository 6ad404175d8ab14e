//! JSON output: a stable, versioned schema with raw bytes (see README "JSON
//! schema"), serialized straight from a view's data.

use std::io::{self, Write};

use serde::Serialize;

/// Bump on any incompatible change to the JSON documents.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a, T: Serialize> {
    schema_version: u32,
    command: &'static str,
    #[serde(flatten)]
    body: &'a T,
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
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
