//! `strata du`: disk usage of an image's merged filesystem (or of one
//! layer's own content), rolled up by directory, without extracting it.

use std::io::Write;

use serde::Serialize;

use crate::analyze::du::{DuBuilder, DuNode, LayerBytes};
use crate::analyze::merged::{index_error, merged};
use crate::commands::rollup::{self, Line};
use crate::commands::{
    headline, legend, legend_lines, one_image, resolve_layer, LayerChoice, LayerInfo,
};
use crate::error::Error;
use crate::reference::Reference;
use crate::report::{Column, Doc, Span, Spans, View};
use crate::session::{Outcome, Session};
use crate::spans;

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

/// "#2 83%, #1 17%, +1": the layers a subtree's bytes come from.
fn from_cell(by_layer: &[LayerBytes], bytes: u64) -> Spans {
    if bytes == 0 {
        return Spans::new();
    }
    let shown = by_layer
        .iter()
        .take(2)
        .map(|l| spans![Span::Layer(l.layer), " ", Span::share(l.bytes, bytes)]);
    let mut cell = Spans::join(shown, ", ");
    if by_layer.len() > 2 {
        cell.push(", +")
            .push(Span::Count((by_layer.len() - 2) as u64));
    }
    cell
}

impl View for Du {
    const COMMAND: &'static str = "du";

    fn doc(&self) -> Doc {
        let mut doc = Doc::new();
        let scope = match &self.layer {
            Some(l) => spans![
                "layer ",
                Span::Layer(l.layer),
                " (",
                Span::digest(&l.digest),
                ") alone",
            ],
            None => spans![
                "merged filesystem of ",
                Span::Count(self.layers.len() as u64),
                " layers",
            ],
        };
        let line = headline(&self.image, self.platform.as_deref(), scope);
        doc.line(line).blank();
        let columns = vec![
            Column::text("PATH"),
            Column::figure("SIZE"),
            Column::figure("SHARE"),
            Column::figure("FILES"),
            Column::text("FROM"),
        ];
        let total = self.tree.bytes;
        let tree = rollup::tree(&self.tree, columns, true, |line| match line {
            Line::Node(n) => vec![
                spans![Span::size(n.bytes)],
                spans![Span::share(n.bytes, total)],
                spans![Span::Count(n.files)],
                from_cell(&n.by_layer, n.bytes),
            ],
            Line::More(m) => vec![
                spans![Span::size(m.bytes)],
                spans![Span::share(m.bytes, total)],
                spans![Span::Count(m.files)],
                Spans::new(),
            ],
        });
        doc.tree(tree).blank();
        legend_lines(&mut doc, &self.layers);
        doc
    }
}
