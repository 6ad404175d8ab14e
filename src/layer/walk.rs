//! The tar walk: one pass over a layer's tar stream into index entries,
//! hashing the stream (diff_id, unless the blob digest already is it) and
//! every regular file's content (xxh3-128). Nothing per entry stays in
//! memory here: entries go straight to the index builder.

use std::io::{self, BufRead};

use xxhash_rust::xxh3::Xxh3;

use super::capture::{self, Budget, LIST_LIMIT, RECORD_COST};
use super::decode::stage_of;
use super::digest::HashingReader;
use super::index::{find_slash, rfind_slash, Entry, EntryKind, IndexBuilder, PackageDb};
use crate::error::{clip, Error};
use crate::image::{Algorithm, Digest};
use crate::tar_reader::{TarEntry, TarReader};
use tar::EntryType;

/// What the walk of one tar stream found besides its entries.
#[derive(Debug, Default)]
pub struct Walked {
    pub package_dbs: Vec<PackageDb>,
    /// Digest of the whole tar stream, padding included (None when not hashed).
    pub diff_id: Option<Digest>,
    pub uncompressed: u64,
}

const WHITEOUT_PREFIX: &[u8] = b".wh.";
const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";

/// Walks a tar stream to its end, pushing every entry into `index`.
/// `digest` names the layer in errors; `diff_alg` hashes the stream (None:
/// the caller already has its digest).
pub fn walk<R: BufRead>(
    stream: R,
    digest: &str,
    diff_alg: Option<Algorithm>,
    index: &mut IndexBuilder,
) -> Result<Walked, Error> {
    let mut tar = TarReader::new(HashingReader::maybe(stream, diff_alg));
    let mut out = Walked::default();
    // Bytes captured so far, by budget.
    let mut captured = [0u64; 3];
    // Bytes of the listing (paths and records), capped on its own.
    let mut listed = 0u64;
    let tar_err = |e: io::Error| corrupt(digest, e);
    while let Some(member) = tar.next_entry().map_err(tar_err)? {
        let path = clean_path(&member.path, digest)?;
        let mut entry = Entry {
            path,
            kind: EntryKind::Other,
            size: 0,
            mode: member.mode,
            uid: member.uid,
            gid: member.gid,
            mtime: member.mtime,
            link: None,
            hash: None,
        };
        let (dir, base) = split(&entry.path);
        let dir_len = dir.len();
        let opaque = base == OPAQUE_MARKER;
        let hidden = (base.len() > WHITEOUT_PREFIX.len() && base.starts_with(WHITEOUT_PREFIX))
            .then(|| base[WHITEOUT_PREFIX.len()..].to_vec());
        if opaque {
            entry.kind = EntryKind::OpaqueDir;
            entry.path.truncate(dir_len);
        } else if let Some(hidden) = hidden {
            entry.kind = EntryKind::Whiteout;
            entry.path.truncate(dir_len);
            if dir_len > 0 {
                entry.path.push(b'/');
            }
            entry.path.extend_from_slice(&hidden);
        } else {
            match member.kind {
                EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                    let catalog = capture::classify(&entry.path);
                    let name = catalog
                        .map(|_| String::from_utf8_lossy(&entry.path))
                        .filter(|name| listed + name.len() as u64 + RECORD_COST <= LIST_LIMIT);
                    let wanted = name.is_some();
                    let budget = catalog.map_or(Budget::Language, |c| c.budget);
                    let fits = member.size <= budget.file_limit()
                        && captured[budget as usize] + member.size <= budget.limit();
                    let capture = wanted && member.sparse.is_none() && fits;
                    let (hash, content) =
                        hash_content(&member, &mut tar, capture).map_err(tar_err)?;
                    entry.kind = EntryKind::File;
                    entry.size = member.size;
                    entry.hash = Some(hash);
                    if let Some(name) = name {
                        listed += name.len() as u64 + RECORD_COST;
                        let kept = content.as_ref().map_or(0, |c| c.len() as u64);
                        captured[budget as usize] += kept;
                        // Over budget: listed as skipped, never silently dropped.
                        out.package_dbs.push(PackageDb {
                            path: name.into_owned(),
                            skipped: content.is_none(),
                            content: content.unwrap_or_default(),
                            size: member.size,
                        });
                    }
                }
                EntryType::Link => {
                    let target = member.link.as_deref().unwrap_or_default();
                    entry.kind = EntryKind::HardLink;
                    entry.link = Some(clean_path(target, digest)?);
                }
                EntryType::Symlink => {
                    entry.kind = EntryKind::Symlink;
                    entry.link = member.link;
                }
                other => entry.kind = kind_of(other),
            }
        }
        index.push(entry).map_err(|e| Error::io("layer index", e))?;
    }
    let (diff_id, uncompressed) = tar.into_inner().finish().map_err(tar_err)?;
    out.diff_id = diff_id;
    out.uncompressed = uncompressed;
    Ok(out)
}

/// The index kind of a tar member's type (a whiteout or an opaque marker
/// is told by its name, not its type).
pub fn kind_of(kind: EntryType) -> EntryKind {
    match kind {
        EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => EntryKind::File,
        EntryType::Link => EntryKind::HardLink,
        EntryType::Symlink => EntryKind::Symlink,
        EntryType::Directory => EntryKind::Dir,
        EntryType::Char => EntryKind::CharDevice,
        EntryType::Block => EntryKind::BlockDevice,
        EntryType::Fifo => EntryKind::Fifo,
        _ => EntryKind::Other,
    }
}

/// `(dir, base)` of a path; dir is empty at the root.
fn split(path: &[u8]) -> (&[u8], &[u8]) {
    match rfind_slash(path) {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&[], path),
    }
}

/// No empty, `.` or `..` component and no `/` at either end: nothing to clean.
fn is_clean(raw: &[u8]) -> bool {
    let mut start = 0;
    loop {
        let end = find_slash(&raw[start..]).map_or(raw.len(), |i| start + i);
        if matches!(&raw[start..end], b"" | b"." | b"..") {
            return false;
        }
        if end == raw.len() {
            return true;
        }
        start = end + 1;
    }
}

/// Hashes a member's stored data (a sparse file: its map, then its chunks;
/// holes are never expanded), keeping it when it is a package database.
fn hash_content<R: BufRead>(
    member: &TarEntry,
    tar: &mut TarReader<R>,
    capture: bool,
) -> io::Result<([u8; 16], Option<Vec<u8>>)> {
    let mut hasher = Xxh3::new();
    if let Some(map) = &member.sparse {
        hasher.update(&member.size.to_le_bytes());
        for (offset, len) in map {
            hasher.update(&offset.to_le_bytes());
            hasher.update(&len.to_le_bytes());
        }
    }
    // Sized once (a captured file's size is within its budget): a doubling
    // Vec would hold up to twice the budget until the index is written.
    let mut kept = capture.then(|| Vec::with_capacity(member.stored as usize));
    tar.each_data_chunk(|chunk| {
        hasher.update(chunk);
        if let Some(kept) = kept.as_mut() {
            kept.extend_from_slice(chunk);
        }
    })?;
    Ok((hasher.digest128().to_be_bytes(), kept))
}

/// Normalises a tar path (drops `./` and trailing `/`), refusing absolute
/// paths and `..` components: such a layer is hostile and is never followed.
pub fn clean_path(raw: &[u8], digest: &str) -> Result<Vec<u8>, Error> {
    let hostile = |reason| Error::HostilePath {
        digest: digest.to_owned(),
        path: clip(&String::from_utf8_lossy(raw)),
        reason,
    };
    // A bare `/` is the layer root itself (kaniko writes one); any other
    // absolute path is hostile.
    if raw.first() == Some(&b'/') && !raw.iter().all(|&b| b == b'/') {
        return Err(hostile("absolute path"));
    }
    if is_clean(raw) {
        return Ok(raw.to_vec());
    }
    let mut out = Vec::with_capacity(raw.len());
    for part in raw.split(|&b| b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err(hostile("parent-directory component")),
            p => {
                if !out.is_empty() {
                    out.push(b'/');
                }
                out.extend_from_slice(p);
            }
        }
    }
    Ok(out)
}

/// Maps an io::Error met while walking to the stage that caused it.
pub(crate) fn corrupt(digest: &str, e: io::Error) -> Error {
    let (stage, reason) = match stage_of(&e) {
        Some(tagged) => (tagged.stage, tagged.message.clone()),
        None => ("tar", e.to_string()),
    };
    Error::CorruptLayer {
        digest: digest.to_owned(),
        stage,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, content) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(content.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, path, &content[..]).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn package_databases_over_budget_are_recorded_as_skipped() {
        let big = vec![b'x'; capture::FILE_LIMIT as usize + 1];
        let rpm = vec![b'r'; capture::FILE_LIMIT as usize + 1];
        let too_big_rpm = vec![b'r'; (Budget::Rpm.limit() - capture::FILE_LIMIT) as usize];
        let tar = tar_of(&[
            ("var/lib/dpkg/status", b"Package: a\n".to_vec()),
            ("lib/apk/db/installed", big),
            ("etc/passwd", b"root\n".to_vec()),
            // An rpm database over the others' per-file limit fits its own
            // budget; a second one that would pass that budget does not.
            ("var/lib/rpm/Packages", rpm),
            ("var/lib/rpm/rpmdb.sqlite", too_big_rpm),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let mut index = IndexBuilder::new(dir.path());
        let walked = walk(&tar[..], "d", None, &mut index).unwrap();
        let dbs: Vec<(&str, usize, u64, bool)> = walked
            .package_dbs
            .iter()
            .map(|d| (d.path.as_str(), d.content.len(), d.size, d.skipped))
            .collect();
        assert_eq!(
            dbs,
            [
                ("var/lib/dpkg/status", 11, 11, false),
                ("lib/apk/db/installed", 0, capture::FILE_LIMIT + 1, true),
                (
                    "var/lib/rpm/Packages",
                    capture::FILE_LIMIT as usize + 1,
                    capture::FILE_LIMIT + 1,
                    false
                ),
                (
                    "var/lib/rpm/rpmdb.sqlite",
                    0,
                    Budget::Rpm.limit() - capture::FILE_LIMIT,
                    true
                ),
            ]
        );
    }

    /// Python metadata that fills its own budget first (it sorts before
    /// `var/` in a tar) never pushes dpkg's database over budget.
    #[test]
    fn language_metadata_cannot_crowd_out_the_system_package_database() {
        let chunk = vec![b'm'; (capture::FILE_LIMIT / 2) as usize];
        let n = (Budget::Language.limit() / (capture::FILE_LIMIT / 2)) as usize + 1;
        let mut files: Vec<(String, Vec<u8>)> = (0..n)
            .map(|i| {
                (
                    format!("usr/lib/python3/dist-packages/p{i}.dist-info/RECORD"),
                    chunk.clone(),
                )
            })
            .collect();
        files.push(("var/lib/dpkg/status".into(), b"Package: a\n".to_vec()));
        let refs: Vec<(&str, Vec<u8>)> =
            files.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
        let tar = tar_of(&refs);
        let dir = tempfile::tempdir().unwrap();
        let mut index = IndexBuilder::new(dir.path());
        let walked = walk(&tar[..], "d", None, &mut index).unwrap();
        let skipped: Vec<&str> = walked
            .package_dbs
            .iter()
            .filter(|d| d.skipped)
            .map(|d| d.path.as_str())
            .collect();
        // The last RECORD passes the language budget; dpkg's status does not.
        assert_eq!(skipped, [files[n - 1].0.as_str()]);
        let status = walked.package_dbs.last().unwrap();
        assert_eq!(
            (status.path.as_str(), status.skipped),
            ("var/lib/dpkg/status", false)
        );
    }

    /// A hostile layer of empty package-database-named files with long names
    /// (each costs nothing of the capture budgets) is listed only as far as
    /// the listing budget: the walk's memory stays bounded.
    #[test]
    fn the_listing_of_package_databases_is_bounded_however_many_there_are() {
        let name = "n".repeat(4000);
        let count = (LIST_LIMIT / 4000) as usize + 100;
        let files: Vec<(String, Vec<u8>)> = (0..count)
            .map(|i| (format!("srv/{name}{i}.egg-info"), Vec::new()))
            .collect();
        let files: Vec<(&str, Vec<u8>)> =
            files.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
        let mut all = vec![("var/lib/dpkg/status", b"Package: a\n".to_vec())];
        all.extend(files);
        let tar = tar_of(&all);
        let dir = tempfile::tempdir().unwrap();
        let mut index = IndexBuilder::new(dir.path());
        let walked = walk(&tar[..], "d", None, &mut index).unwrap();
        let listed: u64 = walked
            .package_dbs
            .iter()
            .map(|d| d.path.len() as u64 + RECORD_COST + d.content.len() as u64)
            .sum();
        assert!(listed <= LIST_LIMIT + 11, "{listed}");
        assert!(
            walked.package_dbs.len() < count,
            "{}",
            walked.package_dbs.len()
        );
        assert!(walked.package_dbs.len() > count / 2);
        assert_eq!(walked.package_dbs[0].content, b"Package: a\n");
        // Every file is still in the index, hashed.
        let sorted = {
            let mut w = crate::layer::IndexWriter::new(Vec::new(), 1).unwrap();
            index.finish(&mut w).unwrap()
        };
        assert_eq!(sorted.entries, count as u64 + 1);
    }

    /// Captured content stays in memory until the index is written: it
    /// holds what the file has, not a doubling Vec's slack (up to 2x).
    #[test]
    fn captured_content_read_in_small_chunks_holds_no_slack() {
        let status = b"Package: a\n".repeat(10_000);
        let tar = tar_of(&[("var/lib/dpkg/status", status.clone())]);
        let dir = tempfile::tempdir().unwrap();
        let mut index = IndexBuilder::new(dir.path());
        let chunked = io::BufReader::with_capacity(4096, &tar[..]);
        let walked = walk(chunked, "d", None, &mut index).unwrap();
        let content = &walked.package_dbs[0].content;
        assert_eq!(content, &status);
        assert_eq!(content.capacity(), status.len());
    }

    #[test]
    fn clean_path_normalises_and_refuses_escapes() {
        assert_eq!(clean_path(b"./etc/passwd", "d").unwrap(), b"etc/passwd");
        assert_eq!(clean_path(b"usr/bin/", "d").unwrap(), b"usr/bin");
        assert_eq!(clean_path(b"./", "d").unwrap(), b"");
        assert_eq!(clean_path(b"/", "d").unwrap(), b"");
        assert_eq!(clean_path(b"caf\xe9", "d").unwrap(), b"caf\xe9");
        assert_eq!(clean_path(b"a/./b//c/", "d").unwrap(), b"a/b/c");
        assert_eq!(clean_path(b"a/b.c/..d", "d").unwrap(), b"a/b.c/..d");
        for bad in [&b"../etc/passwd"[..], b"a/../../b", b"/etc/shadow"] {
            assert!(matches!(
                clean_path(bad, "d"),
                Err(Error::HostilePath { .. })
            ));
        }
    }
}
