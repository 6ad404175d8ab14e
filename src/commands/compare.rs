//! `strata compare`: two image families side by side, paired by name.

use std::io::Write;

use crate::analyze::compare::common::common_content;
use crate::analyze::compare::{
    compare, Compare, Differences, FamilyInput, Member, PairedBy, Ratio, Ratios, Signed,
};
use crate::analyze::sizes::{table_measure, Measure, Sizes};
use crate::commands::{layer_figures, notes};
use crate::error::Error;
use crate::image::Image;
use crate::reference::Reference;
use crate::report::{Bars, Column, Doc, Layout, Span, Spans, Table, View};
use crate::session::{Outcome, Session};
use crate::spans;

#[derive(Debug)]
pub struct Side {
    pub name: String,
    pub refs: Vec<Reference>,
    pub base: Option<Reference>,
}

#[derive(Debug)]
pub struct Args {
    pub left: Side,
    pub right: Side,
    /// `--pair A=B`, left name first.
    pub pairs: Vec<(String, String)>,
    pub deploy: Vec<String>,
    /// `--measure`; None: the default.
    pub measure: Option<Measure>,
    /// `--common`: file contents found in both families (reads layer indexes).
    pub common: bool,
}

fn base_image(session: &Session, side: &Side, flag: &'static str) -> anyhow::Result<Option<Image>> {
    let Some(r) = &side.base else {
        return Ok(None);
    };
    let mut images = session.load(std::slice::from_ref(r))?;
    if images.len() != 1 {
        return Err(Error::BadArgument {
            flag,
            reason: format!("names {} images; a base must be one image", images.len()),
        }
        .into());
    }
    Ok(images.pop())
}

pub fn run(session: &Session, args: &Args, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let left = session.load(&args.left.refs)?;
    let right = session.load(&args.right.refs)?;
    let left_base = base_image(session, &args.left, "--left-base")?;
    let right_base = base_image(session, &args.right, "--right-base")?;
    // One store pass over everything: a layer both families use is scanned once.
    let all: Vec<Image> = left
        .iter()
        .chain(&right)
        .chain(&left_base)
        .chain(&right_base)
        .cloned()
        .collect();
    // Indexes first (scanning what is missing); figures then come from the cache.
    let indexes = if args.common {
        Some(session.store()?.indexes(&all, session.progress())?)
    } else {
        None
    };
    let figures = layer_figures(session, &all)?;
    let mut view = compare(
        &FamilyInput {
            name: &args.left.name,
            images: &left,
            base: left_base.as_ref(),
        },
        &FamilyInput {
            name: &args.right.name,
            images: &right,
            base: right_base.as_ref(),
        },
        &figures,
        &args.pairs,
        &args.deploy,
        Measure::default(),
        session.shallow(),
    )
    .map_err(|reason| Error::BadArgument {
        flag: "--deploy",
        reason,
    })?;
    let by_hand = view
        .pairs
        .iter()
        .filter(|p| p.paired_by == PairedBy::Hand)
        .count();
    if by_hand < args.pairs.len() {
        session.warn(format!(
            "{} of {} --pair paired no images (a name matched no image, or one already paired)",
            args.pairs.len() - by_hand,
            args.pairs.len()
        ));
    }
    let totals = view
        .pairs
        .iter()
        .flat_map(|p| [&p.left, &p.right])
        .flatten()
        .map(|m| (m.image.clone(), m.total));
    (view.measure, view.lacking) = table_measure(args.measure, totals);
    if let Some(indexes) = &indexes {
        let distinct = |images: &[Image]| {
            let mut seen = std::collections::HashSet::new();
            images
                .iter()
                .flat_map(|i| &i.layers)
                .filter(|l| !l.unread())
                .map(|l| l.digest.clone())
                .filter(|d| seen.insert(d.clone()))
                .collect::<Vec<_>>()
        };
        let (l, r) = (distinct(&left), distinct(&right));
        view.common = Some(common_content(
            &l.iter().collect::<Vec<_>>(),
            &r.iter().collect::<Vec<_>>(),
            |d| Ok(indexes.open(d)?),
        )?);
    }
    session.render(out, &view)?;
    Ok(Outcome::Ok)
}

/// Which per-image figure a table shows.
#[derive(Clone, Copy)]
enum Figure {
    Total,
    Marginal,
    FairShare,
}

impl Figure {
    fn of(self, m: &Member) -> Sizes {
        match self {
            Figure::Total => m.total,
            Figure::Marginal => m.marginal,
            Figure::FairShare => m.fair_share,
        }
    }

    fn difference(self, d: &Differences) -> Signed {
        match self {
            Figure::Total => d.total,
            Figure::Marginal => d.marginal,
            Figure::FairShare => d.fair_share,
        }
    }

    fn ratio(self, r: &Ratios) -> Ratio {
        match self {
            Figure::Total => r.total,
            Figure::Marginal => r.marginal,
            Figure::FairShare => r.fair_share,
        }
    }
}

impl View for Compare {
    const COMMAND: &'static str = "compare";

    fn doc(&self) -> Doc {
        let m = self.measure;
        let b = |s: &Sizes| spans![Span::Bytes(s.get(m))];
        let (ln, rn) = (&self.left.name, &self.right.name);
        let family = |n: &String| spans![Span::name(n)];
        let mut doc = Doc::new();

        let mut families = Table::new(vec![
            Column::text("FAMILY"),
            Column::figure("IMAGES"),
            Column::figure("SUM TOTAL"),
            Column::figure("DEDUP TOTAL"),
            Column::text("BASE"),
            Column::figure("BASE LAYERS"),
            Column::figure("BASE SIZE"),
        ]);
        for f in [&self.left, &self.right] {
            families.row(vec![
                family(&f.name),
                spans![Span::Count(f.images as u64)],
                b(&f.sum_total),
                b(&f.dedup_total),
                f.base
                    .image
                    .as_ref()
                    .map_or(spans!["common prefix"], |i| spans![Span::name(i)]),
                spans![Span::Count(f.base.layers.len() as u64)],
                b(&f.base.size),
            ]);
        }
        doc.heading("Families").table(families).blank();

        let figures = [
            ("Total per image", Figure::Total),
            ("Marginal over the family's base", Figure::Marginal),
            ("Fair share of the family's dedup total", Figure::FairShare),
        ];
        let paired = |first: &'static str| {
            Table::new(vec![
                Column::text(first),
                Column::figure(family(ln)),
                Column::figure(family(rn)),
                Column::figure("DIFF"),
                Column::figure("RATIO"),
            ])
        };
        for (title, fig) in figures {
            let mut t = paired("IMAGE");
            let side = |s: &Option<Member>| s.as_ref().and_then(|x| fig.of(x).get(m));
            for p in &self.pairs {
                t.row(vec![
                    spans![Span::name(&p.name)],
                    spans![Span::Bytes(side(&p.left))],
                    spans![Span::Bytes(side(&p.right))],
                    spans![Span::Delta(
                        p.difference.as_ref().and_then(|d| fig.difference(d).get(m))
                    )],
                    spans![Span::Ratio(
                        p.ratio.as_ref().and_then(|r| fig.ratio(r).get(m))
                    )],
                ]);
            }
            doc.heading(title).table(t).blank();
            if let Figure::Total = fig {
                let mut bars = Bars::new(
                    spans!["Total per image, ", m.name(), " bytes"],
                    "IMAGE",
                    Layout::Grouped,
                    vec![family(ln), family(rn)],
                );
                for p in &self.pairs {
                    bars.row(
                        spans![Span::name(&p.name)],
                        vec![side(&p.left), side(&p.right)],
                    );
                }
                doc.bars(bars).blank();
            }
        }

        if let Some(d) = &self.deploy {
            let mut t = paired("DEPLOY");
            t.row(vec![
                Spans::join(d.names.iter().map(Span::name), ","),
                b(&d.left),
                b(&d.right),
                spans![Span::Delta(d.difference.get(m))],
                spans![Span::Ratio(d.ratio.get(m))],
            ]);
            doc.heading("Deployment cost (dedup total of exactly these images)")
                .table(t)
                .blank();
            for (name, missing) in [(ln, &d.left_missing), (rn, &d.right_missing)] {
                if !missing.is_empty() {
                    let mut note = family(name);
                    note.push(" has no ")
                        .append(Spans::join(missing.iter().map(Span::name), ", "));
                    doc.note(note);
                }
            }
        }

        if let Some(c) = &self.common {
            doc.heading("Common content (file contents both families hold)");
            doc.line(spans![
                Span::Count(c.files),
                " distinct files, ",
                Span::size(c.bytes),
                " (each content once)",
            ]);
            if !c.top_directories.is_empty() {
                let mut t = Table::new(vec![Column::text("DIRECTORY"), Column::figure("BYTES")]);
                for d in &c.top_directories {
                    t.row(vec![
                        spans![Span::path(&d.path)],
                        spans![Span::size(d.bytes)],
                    ]);
                }
                doc.table(t);
            }
            doc.blank();
        }
        doc.line(spans![
            m.name(),
            " bytes; DIFF = ",
            Span::name(rn),
            " - ",
            Span::name(ln),
            ", RATIO = ",
            Span::name(rn),
            " / ",
            Span::name(ln),
            "; marginal: bytes of an image's layers its family's base lacks; fair share: unique bytes plus an even split of each shared layer",
        ]);
        for p in &self.pairs {
            let unpaired = |member: &Member, side: &String, other: &String| {
                spans![
                    "unpaired: ",
                    Span::name(&member.image),
                    " (",
                    Span::name(side),
                    ") has no ",
                    Span::name(other),
                    " match",
                ]
            };
            match (&p.left, &p.right) {
                (Some(l), None) => doc.note(unpaired(l, ln, rn)),
                (None, Some(r)) => doc.note(unpaired(r, rn, ln)),
                _ => &mut doc,
            };
        }
        notes::shallow(&mut doc, self.shallow);
        notes::lacking(&mut doc, &self.lacking);
        doc
    }
}
