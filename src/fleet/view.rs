//! How the fleet's figures read as a report: one Doc per command (plan,
//! work, status, report, clear) of typed spans — the renderers format,
//! escape and cut; JSON is the figures as they are.

use serde::Serialize;

use super::plan::Planned;
use super::report::FleetReport;
use super::status::Status;
use super::work::Worked;
use crate::analyze::sizes::Sizes;
use crate::image::Digest;
use crate::report::{Column, Doc, Span, Spans, Table, View};
use crate::spans;

fn count(n: impl TryInto<u64>) -> Span {
    Span::Count(n.try_into().unwrap_or(u64::MAX))
}

fn counted(n: impl TryInto<u64>, one: &'static str, many: &'static str) -> Span {
    Span::Counted(n.try_into().unwrap_or(u64::MAX), one, many)
}

/// `label  COUNT` rows.
fn counts(header: &'static str, rows: &[(&'static str, u64)]) -> Table {
    let mut t = Table::new(vec![Column::text(header), Column::figure("COUNT")]);
    for (label, n) in rows {
        t.row(vec![spans![*label], spans![count(*n)]]);
    }
    t
}

/// `on QUEUE (fleet NAME)`.
fn on(queue: &str, fleet: &str) -> Spans {
    spans![
        " on ",
        Span::Local(queue.to_owned()),
        " (fleet ",
        Span::name(fleet),
        ")"
    ]
}

impl View for Planned {
    const COMMAND: &'static str = "fleet plan";

    fn doc(&self) -> Doc {
        let n = |v: usize| v as u64;
        let mut doc = Doc::new();
        doc.table(counts(
            "PLAN",
            &[
                ("repositories", n(self.repositories)),
                ("tags", n(self.tags)),
                ("images", n(self.images)),
                ("distinct layers", n(self.layers)),
                ("new layers", n(self.new_layers)),
                ("already in the shared cache", n(self.present)),
                ("jobs added", n(self.jobs_added)),
            ],
        ))
        .blank();
        let mut line = spans!["recorded"];
        line.append(on(&self.queue, &self.fleet)).append(spans![
            ": ",
            Span::size(self.record_bytes.per_image),
            " per image, ",
            Span::size(self.record_bytes.per_layer),
            " per new layer (",
            Span::size(self.record_bytes.images),
            " and ",
            Span::size(self.record_bytes.layers),
            " in all)"
        ]);
        doc.line(line);
        if self.skipped_tags > 0 {
            doc.note(spans![
                counted(self.skipped_tags, "tag", "tags"),
                " could not be read and are not recorded (see the warning)"
            ]);
        }
        doc
    }
}

impl View for Worked {
    const COMMAND: &'static str = "fleet work";

    fn doc(&self) -> Doc {
        let mut doc = Doc::new();
        doc.table(counts(
            "WORKER",
            &[
                ("jobs done", self.jobs_done),
                ("scanned here", self.scanned),
                ("failed attempts", self.failures),
                ("dead-lettered", self.dead),
            ],
        ))
        .blank();
        let why = match self.stopped {
            "drained" => ": stopped, no job left",
            _ => ": stopped, asked to stop",
        };
        let mut line = spans![
            Span::name(&self.consumer),
            " of group ",
            Span::name(&self.group)
        ];
        line.append(on(&self.queue, &self.fleet)).push(why);
        doc.line(line);
        doc
    }
}

/// A dead job's digest as recorded: a digest when it is one.
fn digest_or_name(text: &str) -> Span {
    Digest::parse(text, "dead job").map_or_else(|_| Span::name(text), Span::Digest)
}

impl View for Status {
    const COMMAND: &'static str = "fleet status";

    fn doc(&self) -> Doc {
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
                spans![Span::name(&g.name)],
                spans![count(g.pending)],
                spans![count(g.in_flight)],
                spans![count(g.done)],
                spans![count(self.dead)],
            ]);
        }
        if self.groups.is_empty() {
            groups.row(vec![
                spans!["(no worker yet)"],
                spans![count(self.jobs)],
                spans![count(0u64)],
                spans![count(0u64)],
                spans![count(self.dead)],
            ]);
        }
        doc.table(groups).blank();
        let mut workers = Table::new(vec![
            Column::text("GROUP"),
            Column::text("WORKER"),
            Column::figure("IN FLIGHT"),
            Column::text("LAST READ"),
        ]);
        for g in &self.groups {
            for c in &g.consumers {
                workers.row(vec![
                    spans![Span::name(&g.name)],
                    spans![Span::name(&c.name)],
                    spans![count(c.in_flight)],
                    spans![Span::Ago(Some(c.idle_ms / 1000))],
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
                    spans![digest_or_name(&d.digest)],
                    spans![Span::name(&d.repository)],
                    spans![d
                        .attempts
                        .parse::<u64>()
                        .map_or_else(|_| Span::name(&d.attempts), Span::Count)],
                    spans![Span::command(&d.error)],
                ]);
            }
            doc.table(dead).blank();
        }
        let m = &self.memory;
        doc.line(spans![
            counted(self.tags, "tag", "tags"),
            " and ",
            counted(self.layers, "distinct layer", "distinct layers"),
            " recorded, ",
            count(self.layers_done),
            " in the shared cache; ",
            counted(self.jobs, "job", "jobs"),
            " queued in all"
        ]);
        let mut line = spans!["Redis holds ", Span::size(m.total)];
        line.append(on(&self.queue, &self.fleet)).append(spans![
            ": ",
            Span::size(m.per_image),
            " per image, ",
            Span::size(m.per_layer),
            " per layer"
        ]);
        doc.line(line);
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

    fn doc(&self) -> Doc {
        let mut doc = Doc::new();
        let mut line = spans![counted(self.keys_removed, "key", "keys"), " removed"];
        line.append(on(&self.queue, &self.fleet));
        doc.line(line);
        doc
    }
}

fn sizes(label: &'static str, s: &Sizes) -> Vec<Spans> {
    vec![
        spans![label],
        spans![Span::Bytes(s.compressed)],
        spans![Span::Bytes(s.uncompressed)],
        spans![Span::Bytes(s.files)],
    ]
}

impl View for FleetReport {
    const COMMAND: &'static str = "fleet report";

    fn doc(&self) -> Doc {
        let r = &self.registry;
        let mut doc = Doc::new();
        doc.heading("Registry");
        let mut set = Table::new(vec![
            Column::text("REGISTRY"),
            Column::figure("COMPRESSED"),
            Column::figure("UNCOMPRESSED"),
            Column::figure("FILES"),
        ]);
        set.row(sizes("sum total", &r.sum_total));
        set.row(sizes("dedup total", &r.dedup_total));
        set.row(sizes("saved by sharing", &r.saved));
        doc.table(set);
        doc.line(spans![
            counted(r.repositories, "repository", "repositories"),
            ", ",
            counted(r.tags, "tag", "tags"),
            ", ",
            counted(r.images, "image", "images"),
            ", ",
            counted(r.distinct_layers, "distinct layer", "distinct layers"),
        ]);
        if !self.complete {
            doc.note(spans![
                "incomplete: ",
                counted(self.unscanned_layers, "layer has", "layers have"),
                " no entry in the shared cache yet (jobs pending or dead: see `strata fleet status`); their uncompressed and file bytes are unknown (-)"
            ]);
        }
        if self.skipped_tags > 0 {
            doc.note(spans![
                counted(self.skipped_tags, "tag", "tags"),
                " could not be read by the last plan and are not counted"
            ]);
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
                spans![Span::name(&repo.name)],
                spans![count(repo.tags)],
                spans![count(repo.distinct_layers)],
                spans![Span::Bytes(repo.sum_total.compressed)],
                spans![Span::Bytes(repo.dedup_total.compressed)],
                spans![Span::Bytes(repo.unique.compressed)],
            ]);
        }
        doc.table(repos);
        if self.repositories.len() > self.top {
            doc.line(spans![
                "… and ",
                count(self.repositories.len() - self.top),
                " more (--top, or --format json for all); compressed bytes"
            ]);
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
                spans![Span::digest(&l.digest)],
                spans![Span::Bytes(l.sizes.compressed)],
                spans![count(l.repositories)],
                spans![count(l.images)],
                spans![Span::command_or_dash(l.created_by.as_deref())],
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
                let repos = Spans::join(
                    sc.copies.iter().map(|c| {
                        spans![
                            Span::or_dash(c.repositories.first().map(String::as_str)),
                            " (",
                            count(c.repository_count),
                            ")"
                        ]
                    }),
                    ", ",
                );
                same.row(vec![
                    spans![Span::digest(&sc.diff_id)],
                    spans![count(sc.copies.len())],
                    spans![Span::size(sc.extra_compressed)],
                    repos,
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
                    spans![Span::name(&w.image)],
                    spans![Span::size(w.wasted_bytes)],
                    spans![Span::percent(w.efficiency * 100.0)],
                    spans![w.top_path.as_ref().map_or(Span::Text("-"), Span::path)],
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
                    spans![row.kind.name()],
                    spans![Span::size(row.bytes)],
                    spans![Span::digest(&row.digest)],
                    spans![count(row.images)],
                    spans![Span::name(&row.image), " (", Span::Layer(row.layer), ")"],
                    spans![Span::command_or_dash(row.created_by.as_deref())],
                ]);
            }
            doc.table(f);
        }
        doc
    }
}
