//! Reports: one renderer per output format; renderers format, they compute nothing.

pub mod json;
pub mod markdown;
pub mod progress;
pub mod table;

use std::io::{self, Write};

use crate::analyze::footprint::Footprint;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    /// Raw byte counts instead of SI units (table and markdown; JSON is always raw).
    pub raw_bytes: bool,
}

pub fn footprint(
    out: &mut dyn Write,
    format: Format,
    style: Style,
    fp: &Footprint,
) -> io::Result<()> {
    match format {
        Format::Table => table::footprint(out, style, fp),
        Format::Json => json::footprint(out, fp),
        Format::Markdown => markdown::footprint(out, style, fp),
    }
}

/// The cells both human formats show, in one place so table and markdown agree.
pub(crate) mod cells {
    use super::Style;
    use crate::analyze::footprint::{Footprint, SameContent};
    use crate::analyze::sizes::Sizes;
    use crate::units;

    pub const IMAGE_HEADER: [&str; 8] = [
        "IMAGE",
        "PLATFORM",
        "LAYERS",
        "COMPRESSED",
        "UNCOMPRESSED",
        "FILES",
        "SHARED",
        "UNIQUE",
    ];
    pub const SET_HEADER: [&str; 4] = ["SET", "COMPRESSED", "UNCOMPRESSED", "FILES"];

    /// Bytes, or `-` where a shallow listing does not know them.
    fn bytes(n: Option<u64>, style: Style) -> String {
        n.map_or_else(|| "-".to_owned(), |n| units::bytes(n, style.raw_bytes))
    }

    pub fn image_rows(fp: &Footprint, style: Style) -> Vec<Vec<String>> {
        let b = |n| bytes(n, style);
        fp.images
            .iter()
            .map(|i| {
                vec![
                    i.name.clone(),
                    i.platform.clone().unwrap_or_else(|| "-".to_owned()),
                    i.layers.to_string(),
                    b(Some(i.total.compressed)),
                    b(i.total.uncompressed),
                    b(i.total.files),
                    b(i.shared.get(fp.measure)),
                    b(i.unique.get(fp.measure)),
                ]
            })
            .collect()
    }

    pub fn set_rows(fp: &Footprint, style: Style) -> Vec<Vec<String>> {
        let b = |n| bytes(n, style);
        let s = &fp.set;
        let row = |label: &str, v: &Sizes| {
            vec![
                label.to_owned(),
                b(Some(v.compressed)),
                b(v.uncompressed),
                b(v.files),
            ]
        };
        let saved = |n: Option<u64>, p: Option<f64>| match (n, p) {
            (Some(n), Some(p)) => format!("{} ({})", b(Some(n)), units::percent(p)),
            _ => "-".to_owned(),
        };
        vec![
            row("sum total", &s.sum_total),
            row("dedup total", &s.dedup_total),
            vec![
                "saved by sharing".into(),
                saved(Some(s.saved.compressed), Some(s.saved_percent.compressed)),
                saved(s.saved.uncompressed, s.saved_percent.uncompressed),
                saved(s.saved.files, s.saved_percent.files),
            ],
        ]
    }

    pub fn summary_lines(fp: &Footprint) -> Vec<String> {
        let mut lines = vec![format!(
            "{} images, {} distinct layers; SHARED/UNIQUE in {} bytes",
            fp.set.images,
            fp.set.distinct_layers,
            fp.measure.name()
        )];
        if fp.shallow {
            lines.push(
                "shallow: figures from manifests alone; `-` marks what only a layer scan can tell"
                    .to_owned(),
            );
        }
        lines
    }

    pub fn same_content_line(sc: &SameContent, style: Style) -> String {
        format!(
            "same content: {} layers ({}) share diff_id {}: {} uncompressed stored {} times, {} compressed extra",
            sc.digests.len(),
            sc.digests.iter().map(|d| d.short()).collect::<Vec<_>>().join(", "),
            sc.diff_id.short(),
            bytes(sc.uncompressed, style),
            sc.digests.len(),
            units::bytes(sc.extra_compressed, style.raw_bytes),
        )
    }
}
