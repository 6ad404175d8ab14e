//! Notes more than one view prints: the measure some images lack, and what a
//! shallow run cannot tell.

use crate::analyze::sizes::{Lacking, Measure};
use crate::report::{Doc, Span, Spans};
use crate::spans;

/// Images named in the note before `and N more`.
const SHOWN: usize = 3;

/// The one note the tables carry about images lacking the measure, if any.
pub fn lacking(doc: &mut Doc, l: &Lacking) {
    if l.images.is_empty() {
        return;
    }
    let measure = l.measure.name();
    let mut note = spans!["no ", measure, " size for "];
    let names = l.images.iter().take(SHOWN).map(|n| Span::name(n.clone()));
    note.append(Spans::join(names, ", "));
    if l.images.len() > SHOWN {
        note.push(" and ")
            .push(Span::Count((l.images.len() - SHOWN) as u64))
            .push(" more");
    }
    if l.measure == Measure::Compressed {
        note.push(" (an engine keeps its layers uncompressed)");
    }
    if l.fell_back {
        note.push(": the tables show uncompressed bytes (--measure picks another)");
    } else {
        note.push(": ").push(measure).push(" figures show `-`");
    }
    doc.note(note);
}

/// The caveat under a shallow run's figures.
pub fn shallow(doc: &mut Doc, shallow: bool) {
    if shallow {
        doc.line(
            "shallow: figures from manifests alone; `-` marks what only a layer scan can tell",
        );
    }
}
