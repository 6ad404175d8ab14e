//! `strata du`: disk usage of an image's merged filesystem (or of one
//! layer's own content), rolled up by directory, without extracting it.

use std::io::Write;

use serde::Serialize;

use crate::analyze::du::{DuBuilder, DuNode, LayerBytes};
use crate::analyze::merged::{index_error, merged};
use crate::commands::{legend, legend_lines, one_image, resolve_layer, LayerChoice, LayerInfo};
use crate::error::Error;
use crate::reference::Reference;
use crate::report::{Column, Doc, Style, Table, View};
use crate::session::{Outcome, Session};
use crate::units;

#[derive(Debug)]
pub struct Args {
    pub reference: Reference,
    /// The subtree to measure, relative to the root ("" for all of it).
    pub path: Vec<u8>,
    pub depth: usize,
    pub top: usize,
    pub layer: Option<LayerChoice>,
}

#[derive(Debug, Serialize)]
pub struct Du {
    pub image: String,
    pub platform: Option<String>,
    /// The layer measured alone (`--layer`); None: the merged filesystem.
    pub layer: Option<LayerInfo>,
    pub path: String,
    pub depth: usize,
    pub top: usize,
    pub layers: Vec<LayerInfo>,
    pub tree: DuNode,
}

pub fn run(session: &Session, args: &Args, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let image = one_image(session.load(std::slice::from_ref(&args.reference))?, "du")?;
    let store = session.store()?;
    let indexes = store.indexes(std::slice::from_ref(&image), session.progress())?;
    let mut du = DuBuilder::new(&args.path, args.depth, args.top);
    let chosen = match &args.layer {
        None => {
            for node in merged(&indexes, &image)? {
                if let Some(v) = node.map_err(index_error)?.visible {
                    du.add(v.layer, &v.entry);
                }
            }
            None
        }
        Some(choice) => {
            let i = resolve_layer(&image, choice)?;
            for e in indexes.open(&image.layers[i].digest)? {
                du.add(i, &e.map_err(index_error)?);
            }
            Some(i)
        }
    };
    let path = format!("/{}", String::from_utf8_lossy(&args.path));
    if !du.found() {
        return Err(Error::malformed(
            image.name.to_string(),
            format!(
                "no {path} in {}",
                if chosen.is_some() {
                    "that layer"
                } else {
                    "the image"
                }
            ),
        )
        .into());
    }
    let layers = legend(&image);
    let report = Du {
        image: image.name.to_string(),
        platform: image.platform.clone(),
        layer: chosen.map(|i| layers[i].clone()),
        path,
        depth: args.depth,
        top: args.top,
        layers,
        tree: du.finish(),
    };
    session.render(out, &report)?;
    Ok(Outcome::Ok)
}

/// "#2 83%, #1 17%" — the layers a subtree's bytes come from.
fn from_cell(by_layer: &[LayerBytes], bytes: u64) -> String {
    if bytes == 0 {
        return String::new();
    }
    let mut parts: Vec<String> = by_layer
        .iter()
        .take(2)
        .map(|l| format!("#{} {}", l.layer, units::share(l.bytes, bytes)))
        .collect();
    if by_layer.len() > 2 {
        parts.push(format!("+{}", by_layer.len() - 2));
    }
    parts.join(", ")
}

fn rows(node: &DuNode, level: usize, total: u64, style: Style, table: &mut Table) {
    let indent = "  ".repeat(level);
    let suffix = if node.kind == crate::analyze::du::NodeKind::Dir && node.path != "/" {
        "/"
    } else {
        ""
    };
    table.row(vec![
        format!("{indent}{}{suffix}", node.path),
        style.size(node.bytes),
        units::share(node.bytes, total),
        node.files.to_string(),
        from_cell(&node.by_layer, node.bytes),
    ]);
    for child in &node.children {
        rows(child, level + 1, total, style, table);
    }
    if let Some(more) = &node.more {
        table.row(vec![
            format!("{indent}  … {} more", more.entries),
            style.size(more.bytes),
            units::share(more.bytes, total),
            more.files.to_string(),
            String::new(),
        ]);
    }
}

impl View for Du {
    const COMMAND: &'static str = "du";

    fn doc(&self, style: Style) -> Doc {
        let mut doc = Doc::new();
        let scope = match &self.layer {
            Some(l) => format!("layer #{} ({}) alone", l.layer, l.digest.short()),
            None => format!("merged filesystem of {} layers", self.layers.len()),
        };
        doc.line(format!(
            "{} ({}): {scope}",
            self.image,
            self.platform.as_deref().unwrap_or("-")
        ))
        .blank();
        let mut table = Table::new(vec![
            Column::text("PATH"),
            Column::figure("SIZE"),
            Column::figure("SHARE"),
            Column::figure("FILES"),
            Column::text("FROM"),
        ]);
        rows(&self.tree, 0, self.tree.bytes, style, &mut table);
        doc.table(table).blank();
        legend_lines(&mut doc, &self.layers);
        doc
    }
}
