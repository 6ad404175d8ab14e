//! How the fleet's figures read as a report: one Doc per command (plan,
//! work, status, report, clear); JSON is the figures as they are.

use serde::Serialize;

use super::plan::Planned;
use super::report::FleetReport;
use super::status::Status;
use super::work::Worked;
use crate::analyze::sizes::Sizes;
use crate::report::{Column, Doc, Style, Table, View};
use crate::units;

/// `created_by` and errors in a cell.
const CELL: usize = 60;

impl View for Planned {
    const COMMAND: &'static str = "fleet plan";

    fn doc(&self, style: Style) -> Doc {
        let mut t = Table::new(vec![Column::text("PLAN"), Column::figure("COUNT")]);
        let n = |label: &str, v: usize| vec![label.to_owned(), v.to_string()];
        t.row(n("repositories", self.repositories));
        t.row(n("tags", self.tags));
        t.row(n("images", self.images));
        t.row(n("distinct layers", self.layers));
        t.row(n("new layers", self.new_layers));
        t.row(n("already in the shared cache", self.present));
        t.row(n("jobs added", self.jobs_added));
        let mut doc = Doc::new();
        doc.table(t).blank();
        doc.line(format!(
            "recorded in {} (fleet {}): {} per image, {} per new layer ({} and {} in all)",
            self.queue,
            self.fleet,
            style.size(self.record_bytes.per_image),
            style.size(self.record_bytes.per_layer),
            style.size(self.record_bytes.images),
            style.size(self.record_bytes.layers),
        ));
        if self.skipped_tags > 0 {
            doc.note(format!(
                "{} could not be read and are not recorded (see the warning)",
                units::count(self.skipped_tags, "tag")
            ));
        }
        doc
    }
}

impl View for Worked {
    const COMMAND: &'static str = "fleet work";

    fn doc(&self, _: Style) -> Doc {
        let mut t = Table::new(vec![Column::text("WORKER"), Column::figure("JOBS")]);
        let n = |label: &str, v: u64| vec![label.to_owned(), v.to_string()];
        t.row(n("done", self.jobs_done));
        t.row(n("scanned here", self.scanned));
        t.row(n("failed attempts", self.failures));
        t.row(n("dead-lettered", self.dead));
        let mut doc = Doc::new();
        doc.table(t).blank();
        let why = match self.stopped {
            "drained" => "no job left",
            _ => "asked to stop",
        };
        doc.line(format!(
            "{} of group {} on {} (fleet {}): stopped, {why}",
            self.consumer, self.group, self.queue, self.fleet
        ));
        doc
    }
}

impl View for Status {
    const COMMAND: &'static str = "fleet status";

    fn doc(&self, style: Style) -> Doc {
        let mut doc = Doc::new();
        let mut groups = Table::new(vec![
            Column::text("GROUP"),
            Column::figure("PENDING"),
            Column::figure("IN FLIGHT"),
            Column::figure("DONE"),
            Column::figure("DEAD"),
        ]);
        for g in &self.groups {
            groups.row(vec![
                g.name.clone(),
                g.pending.to_string(),
                g.in_flight.to_string(),
                g.done.to_string(),
                self.dead.to_string(),
            ]);
        }
        if self.groups.is_empty() {
            groups.row(vec![
                "(no worker yet)".into(),
                self.jobs.to_string(),
                "0".into(),
                "0".into(),
                self.dead.to_string(),
            ]);
        }
        doc.table(groups).blank();
        let mut workers = Table::new(vec![
            Column::text("GROUP"),
            Column::text("WORKER"),
            Column::figure("IN FLIGHT"),
            Column::figure("IDLE"),
        ]);
        for g in &self.groups {
            for c in &g.consumers {
                workers.row(vec![
                    g.name.clone(),
                    c.name.clone(),
                    c.in_flight.to_string(),
                    format!("{:.1}s", c.idle_ms as f64 / 1000.0),
                ]);
            }
        }
        if !workers.rows.is_empty() {
            doc.table(workers).blank();
        }
        if !self.last_dead.is_empty() {
            let mut dead = Table::new(vec![
                Column::text("DEAD LAYER"),
                Column::text("REPOSITORY"),
                Column::figure("ATTEMPTS"),
                Column::text("ERROR"),
            ]);
            for d in &self.last_dead {
                dead.row(vec![
                    units::cut(&d.digest, 19),
                    units::cut(&d.repository, CELL),
                    units::cut(&d.attempts, 4),
                    units::cut(&d.error, CELL * 2),
                ]);
            }
            doc.table(dead).blank();
        }
        let m = &self.memory;
        doc.line(format!(
            "{} and {} recorded, {} in the shared cache; {} jobs queued in all",
            units::count(self.tags as usize, "tag"),
            units::count(self.layers as usize, "distinct layer"),
            self.layers_done,
            self.jobs,
        ));
        doc.line(format!(
            "Redis holds {} for fleet {} on {}: {} per image, {} per layer",
            style.size(m.total),
            self.fleet,
            self.queue,
            style.size(m.per_image),
            style.size(m.per_layer),
        ));
        doc
    }
}

/// `strata fleet clear`: the keys removed.
#[derive(Debug, Serialize)]
pub struct Cleared {
    pub queue: String,
    pub fleet: String,
    pub keys_removed: u64,
}

impl View for Cleared {
    const COMMAND: &'static str = "fleet clear";

    fn doc(&self, _: Style) -> Doc {
        let mut doc = Doc::new();
        doc.line(format!(
            "fleet {} on {}: {} removed",
            self.fleet,
            self.queue,
            units::count(self.keys_removed as usize, "key")
        ));
        doc
    }
}

impl View for FleetReport {
    const COMMAND: &'static str = "fleet report";

    fn doc(&self, style: Style) -> Doc {
        let b = |n: Option<u64>| style.bytes(n);
        let sizes =
            |label: String, s: &Sizes| vec![label, b(s.compressed), b(s.uncompressed), b(s.files)];
        let r = &self.registry;
        let mut doc = Doc::new();
        doc.heading("Registry");
        let mut set = Table::new(vec![
            Column::text("REGISTRY"),
            Column::figure("COMPRESSED"),
            Column::figure("UNCOMPRESSED"),
            Column::figure("FILES"),
        ]);
        set.row(sizes("sum total".into(), &r.sum_total));
        set.row(sizes("dedup total".into(), &r.dedup_total));
        set.row(sizes("saved by sharing".into(), &r.saved));
        doc.table(set);
        doc.line(format!(
            "{}, {}, {}, {}",
            match r.repositories {
                1 => "1 repository".to_owned(),
                n => format!("{n} repositories"),
            },
            units::count(r.tags, "tag"),
            units::count(r.images, "image"),
            units::count(r.distinct_layers, "distinct layer"),
        ));
        if !self.complete {
            doc.note(format!(
                "incomplete: {} no entry in the shared cache yet (jobs pending or dead: see `strata fleet status`); their uncompressed and file bytes are unknown (-)",
                match self.unscanned_layers {
                    1 => "1 layer has".to_owned(),
                    n => format!("{n} layers have"),
                }
            ));
        }
        if self.skipped_tags > 0 {
            doc.note(format!(
                "{} could not be read by the last plan and are not counted",
                units::count(self.skipped_tags as usize, "tag")
            ));
        }
        doc.blank().heading("Repositories");
        let mut repos = Table::new(vec![
            Column::text("REPOSITORY"),
            Column::figure("TAGS"),
            Column::figure("LAYERS"),
            Column::figure("SUM"),
            Column::figure("DEDUP"),
            Column::figure("UNIQUE"),
        ]);
        for repo in self.repositories.iter().take(self.top) {
            repos.row(vec![
                repo.name.clone(),
                repo.tags.to_string(),
                repo.distinct_layers.to_string(),
                b(repo.sum_total.compressed),
                b(repo.dedup_total.compressed),
                b(repo.unique.compressed),
            ]);
        }
        doc.table(repos);
        if self.repositories.len() > self.top {
            doc.line(format!(
                "… and {} more (--top, or --format json for all); compressed bytes",
                self.repositories.len() - self.top
            ));
        }
        doc.blank().heading("Most shared layers");
        let mut shared = Table::new(vec![
            Column::text("LAYER"),
            Column::figure("COMPRESSED"),
            Column::figure("REPOSITORIES"),
            Column::figure("IMAGES"),
            Column::text("CREATED BY"),
        ]);
        for l in &self.shared_layers {
            shared.row(vec![
                l.digest.short().to_owned(),
                b(l.sizes.compressed),
                l.repositories.to_string(),
                l.images.to_string(),
                units::cut(l.created_by.as_deref().unwrap_or("-"), CELL),
            ]);
        }
        doc.table(shared);
        if !self.same_content.is_empty() {
            doc.blank().heading("Same content, different digests");
            let mut same = Table::new(vec![
                Column::text("DIFF_ID"),
                Column::figure("COPIES"),
                Column::figure("EXTRA"),
                Column::text("REPOSITORIES"),
            ]);
            for sc in self.same_content.iter().take(self.top) {
                let repos: Vec<String> = sc
                    .copies
                    .iter()
                    .map(|c| {
                        format!(
                            "{} ({})",
                            c.repositories.first().map_or("-", String::as_str),
                            c.repository_count
                        )
                    })
                    .collect();
                same.row(vec![
                    sc.diff_id.short().to_owned(),
                    sc.copies.len().to_string(),
                    style.size(sc.extra_compressed),
                    units::cut(&repos.join(", "), CELL * 2),
                ]);
            }
            doc.table(same);
        }
        if !self.waste.is_empty() {
            doc.blank().heading("Most wasted");
            let mut waste = Table::new(vec![
                Column::text("IMAGE"),
                Column::figure("WASTED"),
                Column::figure("EFFICIENCY"),
                Column::text("TOP PATH"),
            ]);
            for w in &self.waste {
                waste.row(vec![
                    w.image.clone(),
                    style.size(w.wasted_bytes),
                    units::percent(w.efficiency * 100.0),
                    units::cut(w.top_path.as_deref().unwrap_or("-"), CELL),
                ]);
            }
            doc.table(waste);
        }
        if !self.findings.is_empty() {
            doc.blank().heading("Biggest findings");
            let mut f = Table::new(vec![
                Column::text("KIND"),
                Column::figure("BYTES"),
                Column::text("LAYER"),
                Column::figure("IMAGES"),
                Column::text("FIRST IMAGE"),
                Column::text("CREATED BY"),
            ]);
            for row in &self.findings {
                f.row(vec![
                    row.kind.name().to_owned(),
                    style.size(row.bytes),
                    row.digest.short().to_owned(),
                    row.images.to_string(),
                    format!("{} (#{})", row.image, row.layer),
                    units::cut(row.created_by.as_deref().unwrap_or("-"), CELL),
                ]);
            }
            doc.table(f);
        }
        doc
    }
}
