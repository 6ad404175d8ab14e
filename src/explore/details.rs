//! The details line: for a layer, its digest and command; for a row of the
//! tree, its path, mode, owner, link target, content hash, the layers that
//! hold it and what becomes of it; for a wasted path or a package, the rest
//! of what its row could not show.

use super::classify::Status;
use super::listing::Own;
use super::lists::{copies_of, survives_in};
use super::state::{App, Pane};
use super::view::clean;
use crate::layer::EntryKind;
use crate::units;

/// The details line for the layers pane: the selected layer's digest and command.
pub fn layer_details(app: &App) -> String {
    let l = &app.facts.layers[app.lens.layer];
    format!(
        "#{} {} · {} (c: full)",
        app.lens.layer + 1,
        l.digest,
        clean(l.created_by.as_deref().unwrap_or("-"))
    )
}

fn mode_string(kind: EntryKind, mode: u32) -> String {
    let t = match kind {
        EntryKind::Dir => 'd',
        EntryKind::Symlink => 'l',
        EntryKind::HardLink => 'h',
        EntryKind::CharDevice => 'c',
        EntryKind::BlockDevice => 'b',
        EntryKind::Fifo => 'p',
        _ => '-',
    };
    let mut s = String::from(t);
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

fn own_details(o: &Own) -> String {
    let mut parts = vec![format!(
        "{} {}:{}",
        mode_string(o.kind, o.mode),
        o.uid,
        o.gid
    )];
    if let Some(l) = &o.link {
        parts.push(format!("→ {}", clean(l)));
    }
    if let Some(h) = o.hash {
        parts.push(format!("xxh3 {}", hex::encode(h)));
    }
    let held: Vec<String> = o.held[..o.held_len]
        .iter()
        .map(|l| format!("#{}", l + 1))
        .collect();
    let more = if o.held_count > o.held_len {
        format!(" +{}", o.held_count - o.held_len)
    } else {
        String::new()
    };
    parts.push(format!("in {}{more}", held.join(" ")));
    if o.status == Status::Removed {
        parts.push(format!("removed here (was #{})", o.layer + 1));
    } else {
        parts.push(format!("seen from #{}", o.layer + 1));
    }
    if let Some(by) = o.wasted_by {
        parts.push(format!("wasted by #{}", by + 1));
    }
    parts.join(" · ")
}

/// The details line for the right pane's selection.
pub fn right_details(app: &App) -> String {
    match app.pane {
        Pane::Tree => {
            let t = &app.tree;
            let Some((d, r, _)) = t.row(t.cursor) else {
                return String::new();
            };
            let mut path = String::new();
            for n in d.key.iter().chain(std::iter::once(&r.name)) {
                path.push('/');
                path.push_str(&String::from_utf8_lossy(
                    &n[..n.len().min(crate::analyze::path::NAME_CAP)],
                ));
            }
            let mut out = clean(&path);
            if r.is_dir() {
                out.push_str(&format!(
                    " · {}",
                    units::count(r.sums.files, "file", "files")
                ));
                if r.sums.removed > 0 {
                    out.push_str(&format!(" · {} removed", units::human(r.sums.removed)));
                }
                if r.sums.wasted > 0 {
                    out.push_str(&format!(" · {} wasted later", units::human(r.sums.wasted)));
                }
            }
            match &r.own {
                Some(o) => {
                    out.push_str(" · ");
                    out.push_str(&own_details(o));
                }
                None => out.push_str(" · (no entry of its own: implied by what is below)"),
            }
            out
        }
        Pane::Wasted => {
            let Some(p) = app
                .changes
                .as_ref()
                .and_then(|c| c.waste.top.get(app.wasted.cursor))
            else {
                return String::new();
            };
            format!(
                "{} · {} wasted · copies {} · survives {}",
                clean(&p.path),
                units::human(p.wasted),
                copies_of(p),
                survives_in(p)
            )
        }
        Pane::Packages => match &app.packages.result {
            Some(Ok(d)) => d
                .changes
                .get(app.packages.scroll.cursor)
                .map(|c| {
                    clean(&format!(
                        "{} {} · {} → {} · {} → {}",
                        c.ecosystem.name(),
                        c.name,
                        c.base_version.as_deref().unwrap_or("-"),
                        c.target_version.as_deref().unwrap_or("-"),
                        units::human(c.base_bytes),
                        units::human(c.target_bytes)
                    ))
                })
                .unwrap_or_default(),
            _ => String::new(),
        },
    }
}
