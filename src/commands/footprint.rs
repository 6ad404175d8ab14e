//! `strata footprint`: what a set of images costs together and each alone.

use std::io::Write;

use crate::analyze::footprint::{footprint, Footprint};
use crate::analyze::sizes::{table_measure, Measure, Sizes};
use crate::commands::{layer_figures, notes};
use crate::reference::Reference;
use crate::report::{Bars, Column, Doc, Layout, Span, Spans, Table, View};
use crate::session::{Outcome, Session};
use crate::spans;

#[derive(Debug)]
pub struct Args {
    pub refs: Vec<Reference>,
    /// `--measure`; None: the default.
    pub measure: Option<Measure>,
}

pub fn run(session: &Session, args: &Args, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let images = session.load(&args.refs)?;
    let shallow = session.shallow();
    let figures = layer_figures(session, &images)?;
    let mut fp = footprint(&images, &figures, Measure::default(), shallow);
    let totals = fp.images.iter().map(|i| (i.name.clone(), i.total));
    (fp.measure, fp.lacking) = table_measure(args.measure, totals);
    session.render(out, &fp)?;
    Ok(Outcome::Ok)
}

impl View for Footprint {
    const COMMAND: &'static str = "footprint";

    fn doc(&self) -> Doc {
        let m = self.measure;
        let mut images = Table::new(vec![
            Column::text("IMAGE"),
            Column::text("PLATFORM"),
            Column::figure("LAYERS"),
            Column::figure("COMPRESSED"),
            Column::figure("UNCOMPRESSED"),
            Column::figure("FILES"),
            Column::figure("SHARED"),
            Column::figure("UNIQUE"),
            Column::figure("FAIR"),
        ]);
        let mut bars = Bars::new(
            spans!["Shared and unique ", m.name(), " bytes per image"],
            "IMAGE",
            Layout::Stacked,
            vec![spans!["shared"], spans!["unique"]],
        );
        bars.mark = Some(spans!["fair share"]);
        for i in &self.images {
            // An image without the measure has no share of it either (not 0B).
            let share = |s: &Sizes| i.total.get(m).and(s.get(m));
            images.row(vec![
                spans![Span::name(&i.name)],
                spans![Span::or_dash(i.platform.as_deref())],
                spans![Span::Count(i.layers as u64)],
                spans![Span::Bytes(i.total.compressed)],
                spans![Span::Bytes(i.total.uncompressed)],
                spans![Span::Bytes(i.total.files)],
                spans![Span::Bytes(share(&i.shared))],
                spans![Span::Bytes(share(&i.unique))],
                spans![Span::Bytes(share(&i.fair_share))],
            ]);
            bars.row(
                spans![Span::name(&i.name)],
                vec![share(&i.shared), share(&i.unique)],
            )
            .mark = share(&i.fair_share);
        }

        let mut set = Table::new(vec![
            Column::text("SET"),
            Column::figure("COMPRESSED"),
            Column::figure("UNCOMPRESSED"),
            Column::figure("FILES"),
        ]);
        let row = |label: &'static str, v: &Sizes| {
            vec![
                spans![label],
                spans![Span::Bytes(v.compressed)],
                spans![Span::Bytes(v.uncompressed)],
                spans![Span::Bytes(v.files)],
            ]
        };
        let saved = |n: Option<u64>, p: Option<f64>| match (n, p) {
            (Some(n), Some(p)) => spans![Span::size(n), " (", Span::percent(p), ")"],
            _ => spans!["-"],
        };
        let s = &self.set;
        set.row(row("sum total", &s.sum_total));
        set.row(row("dedup total", &s.dedup_total));
        set.row(vec![
            spans!["saved by sharing"],
            saved(s.saved.compressed, s.saved_percent.compressed),
            saved(s.saved.uncompressed, s.saved_percent.uncompressed),
            saved(s.saved.files, s.saved_percent.files),
        ]);

        let mut doc = Doc::new();
        doc.table(images)
            .blank()
            .bars(bars)
            .blank()
            .table(set)
            .blank();
        doc.line(spans![
            Span::Counted(s.images as u64, "image", "images"),
            ", ",
            Span::Counted(
                s.distinct_layers as u64,
                "distinct layer",
                "distinct layers"
            ),
            "; SHARED/UNIQUE/FAIR in ",
            m.name(),
            " bytes; FAIR shares add up to the dedup total",
        ]);
        notes::shallow(&mut doc, self.shallow);
        notes::lacking(&mut doc, &self.lacking);
        let foreign = self.layers.iter().filter(|l| l.foreign).map(|l| {
            let mut layer = spans![Span::digest(&l.digest)];
            if l.uncompressed.is_none() {
                layer.append(spans![
                    " (declared ",
                    Span::Bytes(l.compressed),
                    ", not read)"
                ]);
            }
            layer
        });
        let foreign = Spans::join(foreign, ", ");
        if !foreign.is_empty() {
            let mut note =
                spans!["foreign (non-distributable) layers, fetched from their URLs, not from registries: "];
            note.append(foreign);
            doc.note(note);
        }
        for sc in &self.same_content {
            let n = sc.digests.len() as u64;
            let mut note = spans!["same content: ", Span::Count(n), " layers ("];
            note.append(Spans::join(sc.digests.iter().map(Span::digest), ", "));
            note.append(spans![
                ") share diff_id ",
                Span::digest(&sc.diff_id),
                ": ",
                Span::Bytes(sc.uncompressed),
                " uncompressed stored ",
                Span::Count(n),
                " times, ",
                Span::Bytes(sc.extra_compressed),
                " compressed extra",
            ]);
            doc.note(note);
        }
        doc
    }
}
