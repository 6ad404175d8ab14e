//! Findings: what could go from an image, the bytes each fix saves and the
//! layer to blame — from one pass over the merged filesystem. Each finding
//! counts every file and keeps the first few paths (what a person reads);
//! duplicates are found through one size per distinct content hash.

use std::collections::HashMap;
use std::io;

use serde::Serialize;

use super::merged::Sink;
use super::overlay::{HiddenBy, Node};
use super::path::show;
use crate::layer::EntryKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    DeletedLater,
    MetadataOnlyCopy,
    PackageManagerLeftovers,
    BuildOnlyContent,
    DuplicateContent,
    BigFile,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::DeletedLater,
        Kind::MetadataOnlyCopy,
        Kind::PackageManagerLeftovers,
        Kind::BuildOnlyContent,
        Kind::DuplicateContent,
        Kind::BigFile,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::DeletedLater => "deleted later",
            Kind::MetadataOnlyCopy => "metadata-only copy",
            Kind::PackageManagerLeftovers => "package manager leftovers",
            Kind::BuildOnlyContent => "build-only content",
            Kind::DuplicateContent => "duplicate content",
            Kind::BigFile => "big single file",
        }
    }

    /// The snake_case key JSON and policies use.
    pub fn key(self) -> &'static str {
        match self {
            Kind::DeletedLater => "deleted_later",
            Kind::MetadataOnlyCopy => "metadata_only_copy",
            Kind::PackageManagerLeftovers => "package_manager_leftovers",
            Kind::BuildOnlyContent => "build_only_content",
            Kind::DuplicateContent => "duplicate_content",
            Kind::BigFile => "big_file",
        }
    }

    pub fn fix(self) -> &'static str {
        match self {
            Kind::DeletedLater => "delete in the step that creates the files, or copy only what is needed from a build stage (multi-stage build)",
            Kind::MetadataOnlyCopy => "set owner and mode where the files are created (COPY --chown/--chmod) instead of a later chown/chmod/touch",
            Kind::PackageManagerLeftovers => "clean the package manager's cache in the same RUN (apt-get clean && rm -rf /var/lib/apt/lists/*, apk --no-cache, pip --no-cache-dir, npm cache clean --force)",
            Kind::BuildOnlyContent => "build in a separate stage and copy only the runtime files; drop docs, headers and static libraries",
            Kind::DuplicateContent => "keep one copy (a hard link or a symlink), or copy the file once",
            Kind::BigFile => "check that the file is needed at runtime; fetch or mount it instead of baking it in",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub kind: Kind,
    /// File bytes the fix saves.
    pub bytes: u64,
    pub files: u64,
    /// 1-based layer to blame (the one that wrote the bytes, or copied them again).
    pub layer: usize,
    /// The first paths involved, in path order (`files` counts them all).
    pub paths: Vec<String>,
}

/// Which paths hold package-manager caches only its clean command removes.
fn leftover(path: &str) -> bool {
    const PREFIXES: [&str; 12] = [
        "var/lib/apt/lists/",
        "var/cache/apt/",
        "var/cache/apk/",
        "var/cache/dnf/",
        "var/cache/yum/",
        "var/cache/zypp/",
        "root/.cache/pip/",
        "root/.npm/_cacache/",
        "usr/local/share/.cache/yarn/",
        "root/.cache/yarn/",
        "root/.gem/specs/",
        "usr/local/bundle/cache/",
    ];
    PREFIXES.iter().any(|p| path.starts_with(p))
        && !path.ends_with("/lock")
        && !path.ends_with("/partial")
}

/// Content a running program does not need.
fn build_only(path: &str) -> bool {
    path.starts_with("usr/include/")
        || path.starts_with("usr/share/doc/")
        || path.starts_with("usr/share/man/")
        || path.starts_with("usr/share/info/")
        || (path.starts_with("usr/share/locale/") && !path.contains("/en/"))
        || path.contains("/.git/")
        || path.starts_with(".git/")
        || path.ends_with(".a") && path.contains("/lib")
        || path.contains("/site-packages/") && path.contains("/tests/")
        || path.contains("/node_modules/")
            && (path.contains("/test/") || path.contains("/__tests__/"))
}

#[derive(Default)]
struct Acc {
    bytes: u64,
    files: u64,
    paths: Vec<String>,
}

impl Acc {
    fn add(&mut self, path: &[u8], bytes: u64, keep: usize) {
        self.bytes += bytes;
        self.files += 1;
        if self.paths.len() < keep {
            self.paths.push(show(path));
        }
    }
}

/// The findings of one image, built as its merged filesystem streams by.
pub struct AdviseBuilder {
    big: u64,
    keep: usize,
    acc: HashMap<(Kind, usize), Acc>,
    /// Content hash -> the size of its first copy.
    seen: HashMap<[u8; 16], u64>,
}

impl AdviseBuilder {
    /// `big`: the size from which a single file is a finding; `keep`: paths
    /// kept per finding.
    pub fn new(big: u64, keep: usize) -> AdviseBuilder {
        AdviseBuilder {
            big,
            keep,
            acc: HashMap::new(),
            seen: HashMap::new(),
        }
    }

    pub fn add(&mut self, node: &Node) {
        let keep = self.keep;
        let at = node.path.as_slice();
        let mut found = |kind: Kind, layer: usize, bytes: u64| {
            self.acc
                .entry((kind, layer))
                .or_default()
                .add(at, bytes, keep);
        };
        for h in &node.hidden {
            let e = &h.version.entry;
            if e.kind != EntryKind::File || e.size == 0 {
                continue;
            }
            match h.how {
                HiddenBy::Deleted | HiddenBy::Ancestor => {
                    found(Kind::DeletedLater, h.version.layer, e.size)
                }
                HiddenBy::Overwritten => {
                    let same = node.visible.as_ref().is_some_and(|v| {
                        v.layer == h.by && v.entry.hash == e.hash && v.entry.size == e.size
                    });
                    if same {
                        // The later copy differs only in mode, owner or mtime: blame the copier.
                        found(Kind::MetadataOnlyCopy, h.by, e.size)
                    } else {
                        found(Kind::DeletedLater, h.version.layer, e.size)
                    }
                }
            }
        }
        let Some(v) = &node.visible else { return };
        if v.entry.kind != EntryKind::File || v.entry.size == 0 {
            return;
        }
        let size = v.entry.size;
        let path = String::from_utf8_lossy(&node.path);
        if leftover(&path) {
            found(Kind::PackageManagerLeftovers, v.layer, size);
        } else if build_only(&path) {
            found(Kind::BuildOnlyContent, v.layer, size);
        }
        if size >= self.big {
            found(Kind::BigFile, v.layer, size);
        }
        if let Some(hash) = v.entry.hash {
            match self.seen.get(&hash) {
                Some(first_size) if *first_size == size => {
                    found(Kind::DuplicateContent, v.layer, size)
                }
                Some(_) => {}
                None => {
                    self.seen.insert(hash, size);
                }
            }
        }
    }

    /// The findings, biggest saving first.
    pub fn finish(self) -> Vec<Finding> {
        let mut findings: Vec<Finding> = self
            .acc
            .into_iter()
            .map(|((kind, layer), a)| Finding {
                kind,
                bytes: a.bytes,
                files: a.files,
                layer: layer + 1,
                paths: a.paths,
            })
            .collect();
        findings.sort_by(|a, b| {
            b.bytes
                .cmp(&a.bytes)
                .then(a.kind.cmp(&b.kind))
                .then(a.layer.cmp(&b.layer))
        });
        findings
    }
}

impl Sink for AdviseBuilder {
    fn add(&mut self, node: &Node) {
        AdviseBuilder::add(self, node);
    }
}

/// Findings of one image, biggest saving first. `big`: the size from which a
/// single file is a finding; `keep`: paths kept per finding.
pub fn advise<I: Iterator<Item = io::Result<Node>>>(
    nodes: I,
    big: u64,
    keep: usize,
) -> io::Result<Vec<Finding>> {
    let mut b = AdviseBuilder::new(big, keep);
    for node in nodes {
        b.add(&node?);
    }
    Ok(b.finish())
}
