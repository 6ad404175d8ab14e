//! `docker-daemon:*` and `containers-storage:*`: every image an engine holds
//! (untagged ones with `--all`), each named once, read from one export so
//! that layers shared between images cross the socket once.

use std::collections::HashMap;

use bollard::query_parameters::ListImagesOptions;

use super::{Engine, WAIT};
use crate::error::{Error, Result};
use crate::image::{Image, ImageName};
use crate::source::Reading;

/// What `docker images` prints for an untagged image.
const NONE_TAG: &str = "<none>:<none>";

/// One image of the engine's listing: its ID's hex and how strata names it.
#[derive(Debug, PartialEq, Eq)]
struct Listed {
    id: String,
    /// The first tag (in order), or `sha256:` and the ID's first 12 digits.
    name: String,
    /// What the export asks for: the tag, or the whole ID.
    asked: String,
}

pub fn load(engine: &Engine<'_>, all: bool, reading: &dyn Reading) -> Result<Vec<Image>> {
    let listing = engine.rt.block_on(async {
        tokio::time::timeout(
            WAIT,
            engine.docker.list_images(Some(ListImagesOptions {
                all: false,
                ..Default::default()
            })),
        )
        .await
    });
    let summaries = match listing {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(engine.endpoint.error(e, "*")),
        Err(_) => return Err(engine.endpoint.refused("no answer to the image listing")),
    };
    let (listed, untagged) = pick(summaries.into_iter().map(|s| (s.id, s.repo_tags)), all);
    if listed.is_empty() {
        return Err(engine.endpoint.refused(&if untagged > 0 {
            format!("holds no tagged image ({untagged} untagged; --all reads them)")
        } else {
            "holds no image".to_owned()
        }));
    }
    let asked: Vec<&str> = listed.iter().map(|l| l.asked.as_str()).collect();
    let label = format!("{}*", engine.transport.prefix());
    let images = engine.export(&asked, label.clone(), reading)?;
    let by_id: HashMap<&str, &Listed> = listed.iter().map(|l| (l.id.as_str(), l)).collect();
    let mut named: Vec<Image> = Vec::new();
    for mut image in images {
        // An image ID is its config's digest.
        let Some(l) = by_id.get(image.config_digest.hex()) else {
            return Err(Error::malformed(
                label,
                format!(
                    "the export holds image {} that the listing does not",
                    image.config_digest.short()
                ),
            ));
        };
        if named.iter().any(|i| i.config_digest == image.config_digest) {
            continue;
        }
        image.name = ImageName::new(engine.transport, &l.name);
        named.push(image);
    }
    named.sort_by(|a, b| a.name.location.cmp(&b.name.location));
    Ok(named)
}

/// The images to read from a listing of (ID, tags): each once, tagged ones
/// by their first tag, untagged ones (only with `all`) by their ID; and the
/// number of untagged images left out.
fn pick(summaries: impl Iterator<Item = (String, Vec<String>)>, all: bool) -> (Vec<Listed>, usize) {
    let mut listed = Vec::new();
    let mut untagged = 0;
    let mut seen = std::collections::HashSet::new();
    for (id, tags) in summaries {
        let hex = id.strip_prefix("sha256:").unwrap_or(&id).to_owned();
        if !seen.insert(hex.clone()) {
            continue;
        }
        let mut tags: Vec<String> = tags.into_iter().filter(|t| t != NONE_TAG).collect();
        tags.sort();
        match tags.into_iter().next() {
            Some(tag) => listed.push(Listed {
                id: hex,
                asked: tag.clone(),
                name: tag,
            }),
            None if all => listed.push(Listed {
                name: format!("sha256:{}", &hex[..hex.len().min(12)]),
                asked: hex.clone(),
                id: hex,
            }),
            None => untagged += 1,
        }
    }
    (listed, untagged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_image_once_by_its_first_tag_untagged_ones_with_all() {
        let id = |c: char| format!("sha256:{}", c.to_string().repeat(64));
        let listing = || {
            vec![
                (
                    id('a'),
                    vec!["fam/worker:1".to_owned(), "fam/rebuilt:1".to_owned()],
                ),
                (id('b'), vec![NONE_TAG.to_owned()]),
                ("c".repeat(64), vec![]),
                (id('a'), vec!["fam/worker:1".to_owned()]),
            ]
            .into_iter()
        };
        let (listed, untagged) = pick(listing(), false);
        assert_eq!(untagged, 2);
        assert_eq!(
            listed,
            [Listed {
                id: "a".repeat(64),
                name: "fam/rebuilt:1".into(),
                asked: "fam/rebuilt:1".into()
            }]
        );
        let (listed, untagged) = pick(listing(), true);
        assert_eq!(untagged, 0);
        let names: Vec<&str> = listed.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "fam/rebuilt:1",
                "sha256:bbbbbbbbbbbb",
                "sha256:cccccccccccc"
            ]
        );
        assert_eq!(listed[2].asked, "c".repeat(64));
    }
}
