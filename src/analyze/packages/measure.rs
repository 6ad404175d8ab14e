//! The measuring pass: the merged filesystem and the packages' file claims,
//! both in path order, walked side by side; each regular file goes to its
//! owner (an exact claim, the first package's; else the deepest directory
//! claim) or to no package.

use std::collections::HashMap;
use std::io;

use super::runs::Merged;
use super::Tally;
use crate::analyze::overlay::Overlay;
use crate::layer::{Entry, EntryKind};

/// A list no package kept (dropped over budget, or an orphan).
pub(super) const NO_OWNER: u32 = u32::MAX;

pub(super) struct Measured {
    /// Per package: what it owns, and the latest layer of its files.
    pub owned: Vec<(Tally, Option<usize>)>,
    /// Per package: the first package that took a file it claimed.
    pub lost_to: Vec<Option<u32>>,
    pub unowned: Tally,
    pub total: Tally,
}

/// Walks `nodes` (the merged filesystem) beside `claims`; `owners` maps a
/// list to its package, `dirs` a directory claim to its package.
pub(super) fn measure<I>(
    nodes: Overlay<I>,
    mut claims: Merged,
    owners: &[u32],
    dirs: &HashMap<Vec<u8>, u32>,
    packages: usize,
) -> io::Result<Measured>
where
    I: Iterator<Item = io::Result<Entry>>,
{
    let mut out = Measured {
        owned: vec![(Tally::default(), None); packages],
        lost_to: vec![None; packages],
        unowned: Tally::default(),
        total: Tally::default(),
    };
    let mut lists = Vec::new();
    let mut claimants = Vec::new();
    for node in nodes {
        let node = node?;
        let Some(v) = node.visible else { continue };
        if v.entry.kind != EntryKind::File {
            continue;
        }
        out.total.add(v.entry.size);
        claims.claims_of(&node.path, &mut lists)?;
        claimants.clear();
        claimants.extend(
            lists
                .iter()
                .filter_map(|&l| owners.get(l as usize).copied())
                .filter(|&p| p != NO_OWNER),
        );
        let exact = claimants.iter().copied().min();
        let dir = deepest_dir(&node.path, dirs);
        let Some(winner) = exact.or(dir) else {
            out.unowned.add(v.entry.size);
            continue;
        };
        for &loser in claimants.iter().chain(dir.iter()) {
            if loser != winner {
                out.lost_to[loser as usize].get_or_insert(winner);
            }
        }
        let (tally, latest) = &mut out.owned[winner as usize];
        tally.add(v.entry.size);
        *latest = (*latest).max(Some(v.layer));
    }
    Ok(out)
}

/// The package of the deepest directory claim above `path`.
fn deepest_dir(path: &[u8], dirs: &HashMap<Vec<u8>, u32>) -> Option<u32> {
    if dirs.is_empty() {
        return None;
    }
    let mut end = path.len();
    while let Some(cut) = path[..end].iter().rposition(|&b| b == b'/') {
        if let Some(&i) = dirs.get(&path[..cut]) {
            return Some(i);
        }
        end = cut;
    }
    None
}
