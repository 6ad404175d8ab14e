//! JSON output: a stable, versioned schema with raw bytes (see README "JSON schema").

use std::io::{self, Write};

use serde::Serialize;

use crate::analyze::footprint::Footprint;

/// Bump on any incompatible change to the JSON documents.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a, T: Serialize> {
    schema_version: u32,
    command: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

fn write<T: Serialize>(out: &mut dyn Write, command: &'static str, body: &T) -> io::Result<()> {
    let doc = Document {
        schema_version: SCHEMA_VERSION,
        command,
        body,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

pub fn footprint(out: &mut dyn Write, fp: &Footprint) -> io::Result<()> {
    write(out, "footprint", fp)
}
