//! `strata footprint`: what a set of images costs together and each alone.

use std::io::Write;

use crate::analyze::footprint::{footprint, Footprint, LayerUse};
use crate::analyze::sizes::{table_measure, Measure, Sizes};
use crate::commands::layer_figures;
use crate::image::Digest;
use crate::reference::Reference;
use crate::report::{Column, Doc, Style, Table, View};
use crate::session::{Outcome, Session};
use crate::units;

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

    fn doc(&self, style: Style) -> Doc {
        let b = |n| style.bytes(n);
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
        for i in &self.images {
            // An image without the measure has no share of it either (not 0B).
            let share = |s: &Sizes| match i.total.get(self.measure) {
                Some(_) => b(s.get(self.measure)),
                None => "-".to_owned(),
            };
            images.row(vec![
                i.name.clone(),
                i.platform.clone().unwrap_or_else(|| "-".to_owned()),
                i.layers.to_string(),
                b(i.total.compressed),
                b(i.total.uncompressed),
                b(i.total.files),
                share(&i.shared),
                share(&i.unique),
                share(&i.fair_share),
            ]);
        }

        let mut set = Table::new(vec![
            Column::text("SET"),
            Column::figure("COMPRESSED"),
            Column::figure("UNCOMPRESSED"),
            Column::figure("FILES"),
        ]);
        let row = |label: &str, v: &Sizes| {
            vec![
                label.to_owned(),
                b(v.compressed),
                b(v.uncompressed),
                b(v.files),
            ]
        };
        let saved = |n: Option<u64>, p: Option<f64>| match (n, p) {
            (Some(n), Some(p)) => format!("{} ({})", b(Some(n)), units::percent(p)),
            _ => "-".to_owned(),
        };
        let s = &self.set;
        set.row(row("sum total", &s.sum_total));
        set.row(row("dedup total", &s.dedup_total));
        set.row(vec![
            "saved by sharing".into(),
            saved(s.saved.compressed, s.saved_percent.compressed),
            saved(s.saved.uncompressed, s.saved_percent.uncompressed),
            saved(s.saved.files, s.saved_percent.files),
        ]);

        let mut doc = Doc::new();
        doc.table(images).blank().table(set).blank();
        doc.line(format!(
            "{}, {}; SHARED/UNIQUE/FAIR in {} bytes; FAIR shares add up to the dedup total",
            units::count(s.images, "image"),
            units::count(s.distinct_layers, "distinct layer"),
            self.measure.name()
        ));
        if self.shallow {
            doc.line(
                "shallow: figures from manifests alone; `-` marks what only a layer scan can tell",
            );
        }
        if let Some(note) = self.lacking.note() {
            doc.note(note);
        }
        let foreign: Vec<&LayerUse> = self.layers.iter().filter(|l| l.foreign).collect();
        if !foreign.is_empty() {
            doc.note(format!(
                "foreign (non-distributable) layers, fetched from their URLs, not from registries: {}",
                foreign
                    .iter()
                    .map(|l| match l.uncompressed {
                        Some(_) => l.digest.short().to_owned(),
                        None => format!("{} (declared {}, not read)", l.digest.short(), b(l.compressed)),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        for sc in &self.same_content {
            doc.note(format!(
                "same content: {} layers ({}) share diff_id {}: {} uncompressed stored {} times, {} compressed extra",
                sc.digests.len(),
                sc.digests.iter().map(Digest::short).collect::<Vec<_>>().join(", "),
                sc.diff_id.short(),
                b(sc.uncompressed),
                sc.digests.len(),
                b(sc.extra_compressed),
            ));
        }
        doc
    }
}
