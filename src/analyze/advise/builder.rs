//! The findings of one image, built as its merged filesystem streams by:
//! each hidden version of a path goes to *deleted later*, *overwritten
//! later* or a *metadata-only copy*; the visible one to the path rule it
//! falls under, to *big file*, to *duplicate content* (one size per
//! distinct content hash) and to the tool whose package owns it. A finding
//! counts every file and keeps its first paths (every path spilled for
//! JSON); a version counted by two findings is noted, so the headline
//! counts it once. Findings, subjects and overlaps are capped.

use std::collections::HashMap;

use super::matcher::Matcher;
use super::spill::Spill;
use super::{Finding, Kind, PathBytes, Settings};
use crate::analyze::merged::Sink;
use crate::analyze::overlay::{HiddenBy, Node};
use crate::analyze::path::show;
use crate::layer::EntryKind;

/// Findings one image may have; past it, new ones fold into their kind and
/// layer (no subject, no later layer).
pub const MAX_FINDINGS: usize = 4096;
/// Distinct roots (test folders) named; past it, they share their rule's label.
pub const MAX_ROOTS: usize = 1024;
/// Distinct sets of findings one version stands in; past it, the headline
/// is an upper bound (`overlaps_complete` false).
pub const MAX_OVERLAPS: usize = 65_536;
/// Bytes of root paths named.
const ROOT_BYTES: usize = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Subject {
    None,
    /// A path rule's label.
    Rule(u16),
    /// A per-root rule's root (by its index in `roots`) and its rule.
    Root(u32, u16),
    /// A tooling finding, by its index in the tool plan.
    Tool(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Key {
    pub kind: Kind,
    /// 0-based layer to blame.
    pub layer: usize,
    /// 0-based layer that deleted or overwrote it.
    pub later: Option<usize>,
    pub subject: Subject,
}

struct Acc {
    key: Key,
    bytes: u64,
    files: u64,
    paths: Vec<PathBytes>,
}

/// What one pass found: the findings (unsorted, by id), and the versions
/// standing in several findings.
pub struct Built {
    pub findings: Vec<Finding>,
    pub overlaps: Vec<(Vec<u32>, u64)>,
    pub overlaps_complete: bool,
}

pub struct AdviseBuilder<'s> {
    settings: &'s Settings,
    matcher: Matcher<'s>,
    ids: HashMap<Key, u32>,
    accs: Vec<Acc>,
    roots: HashMap<Vec<u8>, u32>,
    root_names: Vec<String>,
    root_bytes: usize,
    /// Content hash -> the size of its first copy.
    seen: HashMap<[u8; 16], u64>,
    overlaps: HashMap<Vec<u32>, u64>,
    overlaps_complete: bool,
    spill: Option<Spill>,
    /// Tooling finding (by its index in the plan) -> finding id.
    tools: Vec<u32>,
    members: Vec<u32>,
}

impl<'s> AdviseBuilder<'s> {
    pub fn new(settings: &'s Settings) -> std::io::Result<AdviseBuilder<'s>> {
        Ok(AdviseBuilder {
            settings,
            matcher: Matcher::new(&settings.rules),
            ids: HashMap::new(),
            accs: Vec::new(),
            roots: HashMap::new(),
            root_names: Vec::new(),
            root_bytes: 0,
            seen: HashMap::new(),
            overlaps: HashMap::new(),
            overlaps_complete: true,
            spill: if settings.all_paths {
                Some(Spill::new()?)
            } else {
                None
            },
            tools: Vec::new(),
            members: Vec::new(),
        })
    }

    /// Registers `n` tooling findings (ids before any other).
    pub fn tools(&mut self, n: usize) {
        self.tools = (0..n)
            .map(|k| {
                self.id(Key {
                    kind: Kind::DevTooling,
                    layer: 0,
                    later: None,
                    subject: Subject::Tool(k as u32),
                })
            })
            .collect();
    }

    /// The id of a finding, folded past `MAX_FINDINGS`.
    fn id(&mut self, key: Key) -> u32 {
        if let Some(&id) = self.ids.get(&key) {
            return id;
        }
        let key = if self.accs.len() >= MAX_FINDINGS && !matches!(key.subject, Subject::Tool(_)) {
            let folded = Key {
                later: None,
                subject: Subject::None,
                ..key
            };
            if let Some(&id) = self.ids.get(&folded) {
                return id;
            }
            folded
        } else {
            key
        };
        let id = self.accs.len() as u32;
        self.ids.insert(key, id);
        self.accs.push(Acc {
            key,
            bytes: 0,
            files: 0,
            paths: Vec::new(),
        });
        id
    }

    /// Counts a version of `path` (`bytes`) in finding `id`.
    fn count(&mut self, id: u32, path: &[u8], bytes: u64) {
        let keep = self.settings.keep;
        let acc = &mut self.accs[id as usize];
        acc.bytes += bytes;
        acc.files += 1;
        let listed = acc.paths.len() < keep;
        if !listed && self.spill.is_none() {
            return;
        }
        let shown = show(path);
        if let Some(spill) = self.spill.as_mut() {
            spill.add(id, bytes, &shown);
        }
        if listed {
            acc.paths.push(PathBytes { path: shown, bytes });
        }
    }

    fn found(&mut self, key: Key, path: &[u8], bytes: u64) -> Option<u32> {
        if !self.settings.enabled(key.kind) {
            return None;
        }
        let id = self.id(key);
        self.count(id, path, bytes);
        Some(id)
    }

    /// The subject of a per-root rule's root.
    fn root(&mut self, root: &[u8], rule: u16) -> Subject {
        if let Some(&i) = self.roots.get(root) {
            return Subject::Root(i, rule);
        }
        if self.roots.len() >= MAX_ROOTS || self.root_bytes + root.len() > ROOT_BYTES {
            return Subject::Rule(rule);
        }
        let i = self.root_names.len() as u32;
        self.root_bytes += root.len();
        self.roots.insert(root.to_vec(), i);
        self.root_names.push(show(root));
        Subject::Root(i, rule)
    }

    /// Takes the next node (in index order); `tool`: the tooling finding
    /// (by its index in the plan) whose package owns its visible file.
    pub fn add(&mut self, node: &Node, tool: Option<u32>) {
        let at = node.path.as_slice();
        for h in &node.hidden {
            let e = &h.version.entry;
            if e.kind != EntryKind::File || e.size == 0 {
                continue;
            }
            let (kind, layer, later) = match h.how {
                HiddenBy::Deleted | HiddenBy::Ancestor => {
                    (Kind::DeletedLater, h.version.layer, Some(h.by))
                }
                HiddenBy::Overwritten => {
                    let same = node.visible.as_ref().is_some_and(|v| {
                        v.layer == h.by && v.entry.hash == e.hash && v.entry.size == e.size
                    });
                    if same {
                        // The later copy differs only in mode, owner or mtime: blame the copier.
                        (Kind::MetadataOnlyCopy, h.by, None)
                    } else {
                        (Kind::OverwrittenLater, h.version.layer, Some(h.by))
                    }
                }
            };
            let key = Key {
                kind,
                layer,
                later,
                subject: Subject::None,
            };
            self.found(key, at, e.size);
        }
        let Some(v) = &node.visible else { return };
        if v.entry.kind != EntryKind::File || v.entry.size == 0 {
            return;
        }
        let (size, layer) = (v.entry.size, v.layer);
        let mut members = std::mem::take(&mut self.members);
        members.clear();
        let plain = |kind| Key {
            kind,
            layer,
            later: None,
            subject: Subject::None,
        };
        let settings = self.settings;
        if let Some(hit) = self.matcher.file(at) {
            let rule = &settings.rules.rules[hit.rule];
            let subject = if rule.per_root {
                self.root(&at[..hit.root_len], hit.rule as u16)
            } else {
                Subject::Rule(hit.rule as u16)
            };
            let key = Key {
                subject,
                ..plain(rule.kind)
            };
            members.extend(self.found(key, at, size));
        }
        if size >= self.settings.big {
            members.extend(self.found(plain(Kind::BigFile), at, size));
        }
        if let Some(hash) = v.entry.hash {
            match self.seen.get(&hash) {
                Some(first) if *first == size => {
                    members.extend(self.found(plain(Kind::DuplicateContent), at, size));
                }
                Some(_) => {}
                None => {
                    self.seen.insert(hash, size);
                }
            }
        }
        if let Some(&id) = tool.and_then(|t| self.tools.get(t as usize)) {
            self.count(id, at, size);
            members.push(id);
        }
        if members.len() > 1 {
            members.sort_unstable();
            if let Some(b) = self.overlaps.get_mut(&members) {
                *b += size;
            } else if self.overlaps.len() < MAX_OVERLAPS {
                self.overlaps.insert(members.clone(), size);
            } else {
                self.overlaps_complete = false;
            }
        }
        self.members = members;
    }

    /// The findings, by id (tooling first, as registered).
    pub fn finish(self) -> std::io::Result<Built> {
        let mut all: Vec<Option<super::AllPaths>> = match self.spill {
            Some(spill) => spill.finish()?.into_iter().map(Some).collect(),
            None => Vec::new(),
        };
        all.resize_with(self.accs.len(), || None);
        let rules = &self.settings.rules.rules;
        let root_names = self.root_names;
        let findings = self
            .accs
            .into_iter()
            .zip(all)
            .enumerate()
            .map(|(id, (a, all_paths))| Finding {
                kind: a.key.kind,
                subject: match a.key.subject {
                    Subject::None | Subject::Tool(_) => None,
                    Subject::Rule(r) => Some(rules[r as usize].label.clone()),
                    Subject::Root(i, _) => Some(root_names[i as usize].clone()),
                },
                bytes: a.bytes,
                files: a.files,
                layer: a.key.layer + 1,
                later: a.key.later.map(|l| l + 1),
                paths: a.paths,
                all_paths,
                packages: Vec::new(),
                id: id as u32,
            })
            .collect();
        Ok(Built {
            findings,
            overlaps: self.overlaps.into_iter().collect(),
            overlaps_complete: self.overlaps_complete,
        })
    }
}

impl Sink for AdviseBuilder<'_> {
    fn add(&mut self, node: &Node) {
        AdviseBuilder::add(self, node, None);
    }
}
