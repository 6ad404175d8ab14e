//! `strata compare`: two image families side by side, paired by name.

use std::io::Write;

use crate::analyze::compare::common::common_content;
use crate::analyze::compare::{
    compare, Compare, Differences, FamilyInput, Member, PairedBy, Ratio, Ratios, Signed,
};
use crate::analyze::sizes::{table_measure, Measure, Sizes};
use crate::commands::layer_figures;
use crate::error::Error;
use crate::image::Image;
use crate::reference::Reference;
use crate::report::{Column, Doc, Style, Table, View};
use crate::session::{Outcome, Session};

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

fn signed(style: Style, n: Option<i64>) -> String {
    match n {
        None => "-".to_owned(),
        Some(n) if n < 0 => format!("-{}", style.size(n.unsigned_abs())),
        Some(n) => format!("+{}", style.size(n as u64)),
    }
}

fn ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x"))
}

impl View for Compare {
    const COMMAND: &'static str = "compare";

    fn doc(&self, style: Style) -> Doc {
        let m = self.measure;
        let b = |s: &Sizes| style.bytes(s.get(m));
        let (ln, rn) = (&self.left.name, &self.right.name);
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
                f.name.clone(),
                f.images.to_string(),
                b(&f.sum_total),
                b(&f.dedup_total),
                f.base
                    .image
                    .clone()
                    .unwrap_or_else(|| "common prefix".to_owned()),
                f.base.layers.len().to_string(),
                b(&f.base.size),
            ]);
        }
        doc.heading("Families").table(families).blank();

        let figures = [
            ("Total per image", Figure::Total),
            ("Marginal over the family's base", Figure::Marginal),
            ("Fair share of the family's dedup total", Figure::FairShare),
        ];
        for (title, fig) in figures {
            let mut t = Table::new(vec![
                Column::text("IMAGE"),
                Column::figure(ln),
                Column::figure(rn),
                Column::figure("DIFF"),
                Column::figure("RATIO"),
            ]);
            for p in &self.pairs {
                let side =
                    |s: &Option<Member>| s.as_ref().map_or("-".to_owned(), |x| b(&fig.of(x)));
                t.row(vec![
                    p.name.clone(),
                    side(&p.left),
                    side(&p.right),
                    p.difference
                        .as_ref()
                        .map_or("-".to_owned(), |d| signed(style, fig.difference(d).get(m))),
                    p.ratio
                        .as_ref()
                        .map_or("-".to_owned(), |r| ratio(fig.ratio(r).get(m))),
                ]);
            }
            doc.heading(title).table(t).blank();
        }

        if let Some(d) = &self.deploy {
            let mut t = Table::new(vec![
                Column::text("DEPLOY"),
                Column::figure(ln),
                Column::figure(rn),
                Column::figure("DIFF"),
                Column::figure("RATIO"),
            ]);
            t.row(vec![
                d.names.join(","),
                b(&d.left),
                b(&d.right),
                signed(style, d.difference.get(m)),
                ratio(d.ratio.get(m)),
            ]);
            doc.heading("Deployment cost (dedup total of exactly these images)")
                .table(t)
                .blank();
            for (family, missing) in [(ln, &d.left_missing), (rn, &d.right_missing)] {
                if !missing.is_empty() {
                    doc.note(format!("{family} has no {}", missing.join(", ")));
                }
            }
        }

        if let Some(c) = &self.common {
            doc.heading("Common content (file contents both families hold)");
            doc.line(format!(
                "{} distinct files, {} (each content once)",
                c.files,
                style.size(c.bytes)
            ));
            if !c.top_directories.is_empty() {
                let mut t = Table::new(vec![Column::text("DIRECTORY"), Column::figure("BYTES")]);
                for d in &c.top_directories {
                    t.row(vec![d.path.clone(), style.size(d.bytes)]);
                }
                doc.table(t);
            }
            doc.blank();
        }
        doc.line(format!(
            "{} bytes; DIFF = {rn} - {ln}, RATIO = {rn} / {ln}; marginal: bytes of an image's layers its family's base lacks; fair share: unique bytes plus an even split of each shared layer",
            m.name()
        ));
        for p in &self.pairs {
            match (&p.left, &p.right) {
                (Some(l), None) => {
                    doc.note(format!("unpaired: {} ({ln}) has no {rn} match", l.image))
                }
                (None, Some(r)) => {
                    doc.note(format!("unpaired: {} ({rn}) has no {ln} match", r.image))
                }
                _ => &mut doc,
            };
        }
        if self.shallow {
            doc.line(
                "shallow: figures from manifests alone; `-` marks what only a layer scan can tell",
            );
        }
        if let Some(note) = self.lacking.note() {
            doc.note(note);
        }
        doc
    }
}
