//! `strata history REF`: an image's size over its tags — every tag of a
//! registry repository (or those a tag glob matches, or the references
//! named), ordered by when each image was made, with the change from the tag
//! before, the layers that changed, and a policy's limit drawn across.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::analyze::history::{history, Order, TagSize};
use crate::analyze::sizes::Measure;
use crate::commands::{layer_figures, notes};
use crate::error::Error;
use crate::gate::{size_limit, Level, Names, Policy};
use crate::reference::{Reference, RegistryRef};
use crate::report::{Column, Curve, Doc, Series, Span, Spans, Table, View};
use crate::session::{Outcome, Session};
use crate::source::registry;
use crate::spans;

/// What a history argument names.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Every tag of a registry repository (`docker://HOST/REPO`), or those
    /// a glob on the tag matches (`docker://HOST/REPO:v1.*`).
    Tags {
        repository: RegistryRef,
        pattern: Option<String>,
    },
    /// One reference with its tag (or any other transport), as named.
    Image(Reference),
}

impl Target {
    pub fn parse(text: &str) -> anyhow::Result<Target> {
        let tag = text
            .rsplit_once(':')
            .filter(|(_, t)| !t.contains('/') && !text.contains('@'));
        if let Some((name, pattern)) = tag.filter(|(_, t)| t.contains('*')) {
            let bad = |reason: &str| Error::BadArgument {
                flag: "REF",
                reason: format!("{}: {reason}", crate::error::clip(text)),
            };
            globset::Glob::new(pattern).map_err(|_| bad("the tag is no glob"))?;
            return match Reference::parse(name)? {
                Reference::Registry(r) if !r.is_glob() => Ok(Target::Tags {
                    repository: r,
                    pattern: Some(pattern.to_owned()),
                }),
                _ => Err(
                    bad("a tag glob needs one registry repository (docker://HOST/REPO:GLOB)")
                        .into(),
                ),
            };
        }
        Ok(match Reference::parse(text)? {
            Reference::Registry(r) if r.is_glob() => {
                return Err(Error::BadArgument {
                    flag: "REF",
                    reason: format!(
                        "{}: history follows one repository; a glob may stand for its tag only",
                        crate::error::clip(text)
                    ),
                }
                .into())
            }
            Reference::Registry(r) if tag.is_none() && !text.contains('@') => Target::Tags {
                repository: r,
                pattern: None,
            },
            other => Target::Image(other),
        })
    }
}

#[derive(Debug)]
pub struct Args {
    pub targets: Vec<Target>,
    /// `--policy`: its size limit is drawn across.
    pub policy: Option<PathBuf>,
}

/// A policy's size limit, as drawn.
#[derive(Debug, Serialize)]
pub struct Limit {
    pub measure: Measure,
    pub bytes: u64,
    /// "fail" or "warn", as the rule says.
    pub level: &'static str,
    /// The policy file, as given.
    pub policy: String,
    /// Tags whose size is over it.
    pub over: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct History {
    pub shallow: bool,
    pub order: Order,
    pub tags: Vec<TagSize>,
    pub limit: Option<Limit>,
}

/// The references `targets` name, tags listed where a repository is named.
fn expand(session: &Session, targets: &[Target]) -> anyhow::Result<Vec<Reference>> {
    let mut refs = Vec::new();
    for t in targets {
        match t {
            Target::Image(r) => refs.push(r.clone()),
            Target::Tags {
                repository,
                pattern,
            } => {
                let mut tags =
                    registry::list_tags(repository, session.source_options(), session.warnings())?;
                tags.sort();
                let glob = pattern
                    .as_deref()
                    .and_then(|p| globset::Glob::new(p).ok())
                    .map(|g| g.compile_matcher());
                let picked: Vec<&String> = tags
                    .iter()
                    .filter(|t| glob.as_ref().is_none_or(|g| g.is_match(t.as_str())))
                    .collect();
                if picked.is_empty() {
                    let there = registry::some_names(&tags);
                    return Err(Error::Registry {
                        registry: repository.parts()?.registry,
                        reason: match pattern {
                            Some(p) => format!(
                                "no tag of {} matches {} (tags there: {there})",
                                repository.text,
                                crate::error::clip(p)
                            ),
                            None => format!("{} has no tags", repository.text),
                        },
                    }
                    .into());
                }
                refs.extend(picked.into_iter().map(|t| {
                    Reference::Registry(RegistryRef {
                        text: format!("{}:{t}", repository.text),
                    })
                }));
            }
        }
    }
    Ok(refs)
}

pub fn run(session: &Session, args: &Args, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let policy = args.policy.as_deref().map(Policy::load).transpose()?;
    let refs = expand(session, &args.targets)?;
    let images = session.load(&refs)?;
    let figures = layer_figures(session, &images)?;
    let (tags, order) = history(&images, &figures);
    let measures: &[Measure] = if session.shallow() {
        &[Measure::Compressed]
    } else {
        &[Measure::Compressed, Measure::Uncompressed, Measure::Files]
    };
    // The first measure the policy limits for these images, at its smallest.
    let limit = policy.as_ref().and_then(|p| {
        measures.iter().find_map(|&m| {
            let (bytes, level) = images
                .iter()
                .filter_map(|img| size_limit(p, &Names::of(&img.name), m))
                .min_by_key(|(b, l)| (*b, *l == Level::Warn))?;
            Some(Limit {
                measure: m,
                bytes,
                level: match level {
                    Level::Fail => "fail",
                    Level::Warn => "warn",
                },
                policy: p.source.clone(),
                over: tags
                    .iter()
                    .filter(|t| t.size.get(m).is_some_and(|s| s > bytes))
                    .map(|t| t.tag.clone().unwrap_or_else(|| t.image.clone()))
                    .collect(),
            })
        })
    });
    let report = History {
        shallow: session.shallow(),
        order,
        tags,
        limit,
    };
    session.render(out, &report)?;
    Ok(Outcome::Ok)
}

/// How a tag is shown: its tag, else the image's whole name.
fn label(t: &TagSize) -> Spans {
    spans![Span::name(t.tag.as_deref().unwrap_or(&t.image))]
}

impl View for History {
    const COMMAND: &'static str = "history";

    fn doc(&self) -> Doc {
        let mut doc = Doc::new();
        let n = self.tags.len() as u64;
        doc.line(match self.order {
            Order::Created => spans![Span::Counted(n, "tag", "tags"), ", oldest first"],
            Order::CreatedThenNamed => spans![
                Span::Counted(n, "tag", "tags"),
                ", oldest first where the image says when it was made; the others last, as named"
            ],
        })
        .blank();
        let mut t = Table::new(vec![
            Column::text("TAG"),
            Column::text("CREATED"),
            Column::figure("LAYERS"),
            Column::figure("COMPRESSED"),
            Column::figure("CHANGE"),
            Column::figure("UNCOMPRESSED"),
            Column::figure("FILES"),
            Column::text("LAYERS CHANGED"),
        ]);
        for tag in &self.tags {
            let changed = if tag.delta.is_some() {
                spans![
                    "+",
                    Span::Count(tag.layers_added.len() as u64),
                    " -",
                    Span::Count(tag.layers_removed.len() as u64)
                ]
            } else {
                spans!["-"]
            };
            t.row(vec![
                label(tag),
                spans![Span::or_dash(tag.created.as_deref())],
                spans![Span::Count(tag.layers as u64)],
                spans![Span::Bytes(tag.size.compressed)],
                spans![Span::Delta(tag.delta.and_then(|d| d.compressed))],
                spans![Span::Bytes(tag.size.uncompressed)],
                spans![Span::Bytes(tag.size.files)],
                changed,
            ]);
        }
        doc.table(t).blank();
        let measures: &[Measure] = if self.shallow {
            &[Measure::Compressed]
        } else {
            &[Measure::Compressed, Measure::Uncompressed, Measure::Files]
        };
        // The limit's measure first: the terminal's bars are of the first curve.
        let mut measures = measures.to_vec();
        if let Some(l) = &self.limit {
            measures.retain(|m| *m != l.measure);
            measures.insert(0, l.measure);
        }
        doc.series(Series {
            title: spans!["Size over tags, oldest first"],
            axis: "TAG".into(),
            points: self.tags.iter().map(label).collect(),
            curves: measures
                .iter()
                .map(|&m| Curve {
                    name: spans![m.name()],
                    values: self.tags.iter().map(|t| t.size.get(m)).collect(),
                })
                .collect(),
            limit: self.limit.as_ref().map(|l| l.bytes),
        });
        if let Some(l) = &self.limit {
            let mut note = spans![
                "limit: ",
                l.measure.name(),
                " ",
                Span::size(l.bytes),
                " (",
                l.level,
                ", ",
                Span::Local(l.policy.clone()),
                ")",
            ];
            if !l.over.is_empty() {
                note.push("; over it: ");
                note.append(Spans::join(l.over.iter().map(Span::name), ", "));
            }
            doc.blank().note(note);
        }
        notes::shallow(&mut doc, self.shallow);
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repository_means_its_tags_and_a_tag_glob_some_of_them() {
        let tags = |text: &str| match Target::parse(text).unwrap() {
            Target::Tags {
                repository,
                pattern,
            } => (repository.text, pattern),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            tags("docker://127.0.0.1:5000/app/api"),
            ("127.0.0.1:5000/app/api".to_owned(), None)
        );
        assert_eq!(
            tags("docker://127.0.0.1:5000/app/api:v1.*"),
            ("127.0.0.1:5000/app/api".to_owned(), Some("v1.*".to_owned()))
        );
        assert!(matches!(
            Target::parse("docker://127.0.0.1:5000/app/api:1.0").unwrap(),
            Target::Image(_)
        ));
        assert!(matches!(
            Target::parse("oci:/tmp/x:app").unwrap(),
            Target::Image(_)
        ));
        assert!(Target::parse("docker://127.0.0.1:5000/app/*").is_err());
        assert!(Target::parse("oci:/tmp/x:v*").is_err());
    }
}
