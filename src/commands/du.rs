//! `strata du`: disk usage of an image's merged filesystem (or of one
//! layer's own content), rolled up by directory, without extracting it.

use std::io::Write;

use serde::Serialize;

use crate::analyze::du::{DuBuilder, DuNode, LayerBytes};
use crate::app::{Outcome, Session};
use crate::commands::{index_error, merged};
use crate::error::Error;
use crate::image::{Digest, Image};
use crate::reference::Reference;
use crate::report::{Column, Doc, Style, Table, View};
use crate::units;

/// A layer named on the command line: its 1-based position, or its digest
/// (or a unique prefix of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerChoice {
    Position(usize),
    Digest(String),
}

#[derive(Debug)]
pub struct Args {
    pub reference: Reference,
    /// The subtree to measure, relative to the root ("" for all of it).
    pub path: Vec<u8>,
    pub depth: usize,
    pub top: usize,
    pub layer: Option<LayerChoice>,
}

/// One layer of the image, for the legend.
#[derive(Debug, Clone, Serialize)]
pub struct LayerInfo {
    /// 1-based position in the manifest.
    pub layer: usize,
    pub digest: Digest,
    pub created_by: Option<String>,
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
    store.indexes(std::slice::from_ref(&image), session.progress())?;
    let mut du = DuBuilder::new(&args.path, args.depth);
    let chosen = match &args.layer {
        None => {
            for node in merged(store, &image)? {
                if let Some(v) = node.map_err(index_error)?.visible {
                    du.add(v.layer, &v.entry);
                }
            }
            None
        }
        Some(choice) => {
            let i = resolve_layer(&image, choice)?;
            for e in store.open_index(&image.layers[i].digest)? {
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
        tree: du.finish(args.top),
    };
    session.render(out, &report)?;
    Ok(Outcome::Ok)
}

/// The single image a view of one image was given.
pub fn one_image(mut images: Vec<Image>, command: &str) -> anyhow::Result<Image> {
    match images.len() {
        1 => Ok(images.remove(0)),
        n => Err(Error::BadArgument {
            flag: "REF",
            reason: format!(
                "`strata {command}` takes one image; this reference names {n}: {}",
                images
                    .iter()
                    .map(|i| i.name.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
        .into()),
    }
}

pub fn legend(image: &Image) -> Vec<LayerInfo> {
    image
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| LayerInfo {
            layer: i + 1,
            digest: l.digest.clone(),
            created_by: l.history.as_ref().and_then(|h| h.created_by.clone()),
        })
        .collect()
}

/// The 0-based index of the layer a `--layer` names.
pub fn resolve_layer(image: &Image, choice: &LayerChoice) -> anyhow::Result<usize> {
    let n = image.layers.len();
    let found = match choice {
        LayerChoice::Position(p) if (1..=n).contains(p) => Some(p - 1),
        LayerChoice::Position(_) => None,
        LayerChoice::Digest(prefix) => {
            let hits: Vec<usize> = (0..n)
                .filter(|&i| image.layers[i].digest.as_str().starts_with(prefix.as_str()))
                .collect();
            match hits.as_slice() {
                [] => None,
                [i] => Some(*i),
                // One digest used twice in an image is one layer twice: take the first.
                [i, ..]
                    if hits
                        .iter()
                        .all(|&j| image.layers[j].digest == image.layers[*i].digest) =>
                {
                    Some(*i)
                }
                _ => {
                    return Err(Error::BadArgument {
                        flag: "--layer",
                        reason: format!("{prefix} matches {} layers; give more digits", hits.len()),
                    }
                    .into())
                }
            }
        }
    };
    found.ok_or_else(|| {
        Error::BadArgument {
            flag: "--layer",
            reason: format!(
                "{} has no layer {}; it has {n} (1..={n} or a digest)",
                image.name,
                match choice {
                    LayerChoice::Position(p) => p.to_string(),
                    LayerChoice::Digest(d) => d.clone(),
                }
            ),
        }
        .into()
    })
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
        for l in &self.layers {
            let by = l.created_by.as_deref().unwrap_or("-");
            doc.line(format!(
                "#{} {} {}",
                l.layer,
                l.digest.short(),
                units::cut(by, 80)
            ));
        }
        doc
    }
}
