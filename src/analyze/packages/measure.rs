//! The measuring pass: the merged filesystem and the packages' file claims,
//! both in path order, walked side by side; each regular file goes to its
//! owner (an exact claim, the first package's; else the deepest directory
//! claim) or to no package.

use std::collections::HashMap;
use std::io;

use super::runs::Merged;
use super::Tally;
use crate::analyze::overlay::Node;
use crate::layer::EntryKind;

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

/// Walks the merged filesystem beside the claims, one node at a time;
/// `owners` maps a list to its package, `dirs` a directory claim to its package.
pub(super) struct Measurer {
    claims: Merged,
    owners: Vec<u32>,
    dirs: HashMap<Vec<u8>, u32>,
    out: Measured,
    lists: Vec<u32>,
    claimants: Vec<u32>,
    /// The directory of the last file and its deepest directory claim:
    /// files come by directory, so each directory is looked up once.
    last_dir: Option<(Vec<u8>, Option<u32>)>,
}

impl Measurer {
    pub(super) fn new(
        claims: Merged,
        owners: Vec<u32>,
        dirs: HashMap<Vec<u8>, u32>,
        packages: usize,
    ) -> Measurer {
        Measurer {
            claims,
            owners,
            dirs,
            out: Measured {
                owned: vec![(Tally::default(), None); packages],
                lost_to: vec![None; packages],
                unowned: Tally::default(),
                total: Tally::default(),
            },
            lists: Vec::new(),
            claimants: Vec::new(),
            last_dir: None,
        }
    }

    /// Measures the next node (in index order); returns the package that
    /// owns its regular file, if any.
    pub(super) fn add(&mut self, node: &Node) -> io::Result<Option<u32>> {
        let Some(v) = &node.visible else {
            return Ok(None);
        };
        if v.entry.kind != EntryKind::File {
            return Ok(None);
        }
        let out = &mut self.out;
        out.total.add(v.entry.size);
        self.claims.claims_of(&node.path, &mut self.lists)?;
        self.claimants.clear();
        let owners = &self.owners;
        self.claimants.extend(
            self.lists
                .iter()
                .filter_map(|&l| owners.get(l as usize).copied())
                .filter(|&p| p != NO_OWNER),
        );
        let exact = self.claimants.iter().copied().min();
        let parent = &node.path[..node.path.iter().rposition(|&b| b == b'/').unwrap_or(0)];
        let dir = match &self.last_dir {
            Some((d, owner)) if d.as_slice() == parent => *owner,
            _ => {
                let owner = deepest_dir(&node.path, &self.dirs);
                self.last_dir = Some((parent.to_vec(), owner));
                owner
            }
        };
        let Some(winner) = exact.or(dir) else {
            out.unowned.add(v.entry.size);
            return Ok(None);
        };
        for &loser in self.claimants.iter().chain(dir.iter()) {
            if loser != winner {
                out.lost_to[loser as usize].get_or_insert(winner);
            }
        }
        let (tally, latest) = &mut out.owned[winner as usize];
        tally.add(v.entry.size);
        *latest = (*latest).max(Some(v.layer));
        Ok(Some(winner))
    }

    pub(super) fn finish(self) -> Measured {
        self.out
    }
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
