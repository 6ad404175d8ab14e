//! Picking what a view of one image looks at: the single image a reference
//! names, one of its layers (`--layer N|sha256:…`), and the legend of its layers.

use serde::Serialize;

use crate::error::Error;
use crate::image::{Digest, Image};
use crate::report::{Doc, Span, Spans};
use crate::spans;

/// A layer named on the command line: its 1-based position, or its digest
/// (or a unique prefix of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerChoice {
    Position(usize),
    Digest(String),
}

/// One layer of the image, for the legend.
#[derive(Debug, Clone, Serialize)]
pub struct LayerInfo {
    /// 1-based position in the manifest.
    pub layer: usize,
    pub digest: Digest,
    pub created_by: Option<String>,
    /// A non-distributable layer (its blob lives at URLs, not in registries).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub foreign: bool,
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
            foreign: l.foreign.is_some(),
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
    if let Some(i) = found.filter(|&i| image.layers[i].unread()) {
        return Err(Error::BadArgument {
            flag: "--layer",
            reason: format!(
                "layer {} of {} ({}) is a foreign layer that is not here and was not fetched (--fetch-foreign reads it from its URLs)",
                i + 1,
                image.name,
                image.layers[i].digest.short()
            ),
        }
        .into());
    }
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

/// The one image `reference` names, loaded, and the 0-based layer a
/// `--layer` names in it.
pub fn image_and_layer(
    session: &crate::session::Session,
    reference: &crate::reference::Reference,
    layer: Option<&LayerChoice>,
    command: &str,
) -> anyhow::Result<(Image, Option<usize>)> {
    let image = one_image(session.load(std::slice::from_ref(reference))?, command)?;
    let layer = layer.map(|c| resolve_layer(&image, c)).transpose()?;
    Ok((image, layer))
}

/// The first line of a view of one image: `IMAGE (PLATFORM): ` and `rest`.
pub fn headline(image: &str, platform: Option<&str>, rest: Spans) -> Spans {
    let mut line = spans![Span::name(image), " (", Span::or_dash(platform), "): "];
    line.append(rest);
    line
}

/// A layer's digest, marked when the layer is foreign (non-distributable).
pub fn layer_digest(digest: &Digest, foreign: bool) -> Spans {
    let mut cell = spans![Span::digest(digest)];
    if foreign {
        cell.push(" (foreign)");
    }
    cell
}

/// The legend under a view: one line per layer, `#N digest created_by`.
pub fn legend_lines(doc: &mut Doc, layers: &[LayerInfo]) {
    for l in layers {
        let mut line = spans![Span::Layer(l.layer), " "];
        line.append(layer_digest(&l.digest, l.foreign))
            .append(spans![" ", Span::command_or_dash(l.created_by.as_deref())]);
        doc.line(line);
    }
}
