//! The tar walk: one pass over a layer's tar stream into entries and totals,
//! hashing the stream (diff_id) and every regular file's content (xxh3-128).

use std::collections::HashMap;
use std::io::{self, Read};

use tar::EntryType;
use xxhash_rust::xxh3::Xxh3;

use super::decode::stage_of;
use super::digest::HashingReader;
use super::index::{is_package_db, Entry, EntryKind, PackageDb, PACKAGE_DB_LIMIT};
use crate::error::Error;
use crate::image::{Algorithm, Digest};

/// What the walk of one tar stream found.
#[derive(Debug, Default)]
pub struct Walked {
    pub entries: Vec<Entry>,
    pub package_dbs: Vec<PackageDb>,
    pub files: u64,
    /// `sha256:<hex>` of the whole tar stream, padding included.
    pub diff_id: Option<Digest>,
    pub uncompressed: u64,
}

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// Walks a tar stream to its end. `digest` names the layer in errors.
pub fn walk<R: Read>(stream: R, digest: &str, alg: Algorithm) -> Result<Walked, Error> {
    let mut archive = tar::Archive::new(HashingReader::new(stream, alg));
    let mut out = Walked::default();
    // Regular-file sizes by path, so hard links can carry their target's size.
    let mut file_sizes: HashMap<String, u64> = HashMap::new();
    let mut buf = vec![0u8; 64 * 1024];

    let tar_err = |e: io::Error| corrupt(digest, e);
    for entry in archive.entries().map_err(tar_err)? {
        let mut entry = entry.map_err(tar_err)?;
        let raw_path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = clean_path(&raw_path, digest)?;
        let header = entry.header();
        let mode = header.mode().unwrap_or(0);
        let uid = header.uid().unwrap_or(0);
        let gid = header.gid().unwrap_or(0);
        let mtime = header.mtime().unwrap_or(0);
        let entry_type = header.entry_type();
        let link = entry
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).into_owned());

        let (name_dir, base) = match path.rsplit_once('/') {
            Some((dir, base)) => (dir, base),
            None => ("", path.as_str()),
        };
        let mut record = Entry {
            path: path.clone(),
            kind: EntryKind::Other,
            size: 0,
            mode,
            uid,
            gid,
            mtime,
            link: None,
            hash: None,
        };
        if base == OPAQUE_MARKER {
            record.kind = EntryKind::OpaqueDir;
            record.path = name_dir.to_owned();
        } else if let Some(hidden) = base.strip_prefix(WHITEOUT_PREFIX) {
            record.kind = EntryKind::Whiteout;
            record.path = join(name_dir, hidden);
        } else {
            match entry_type {
                EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                    let size = entry.size();
                    let capture = is_package_db(&path) && size <= PACKAGE_DB_LIMIT;
                    let (hash, content) =
                        hash_content(&mut entry, &mut buf, capture).map_err(tar_err)?;
                    record.kind = EntryKind::File;
                    record.size = size;
                    record.hash = Some(hash);
                    out.files += size;
                    if let Some(content) = content {
                        out.package_dbs.push(PackageDb {
                            path: path.clone(),
                            content: String::from_utf8_lossy(&content).into_owned(),
                        });
                    }
                    file_sizes.insert(path.clone(), size);
                }
                EntryType::Link => {
                    let target = clean_path(link.as_deref().unwrap_or(""), digest)?;
                    record.kind = EntryKind::HardLink;
                    record.size = file_sizes.get(&target).copied().unwrap_or(0);
                    record.link = Some(target);
                }
                EntryType::Symlink => {
                    record.kind = EntryKind::Symlink;
                    record.link = link;
                }
                EntryType::Directory => record.kind = EntryKind::Dir,
                EntryType::Char => record.kind = EntryKind::CharDevice,
                EntryType::Block => record.kind = EntryKind::BlockDevice,
                EntryType::Fifo => record.kind = EntryKind::Fifo,
                _ => record.kind = EntryKind::Other,
            }
        }
        out.entries.push(record);
    }
    let (diff_id, uncompressed) = archive.into_inner().finish().map_err(tar_err)?;
    out.diff_id = Some(diff_id);
    out.uncompressed = uncompressed;
    Ok(out)
}

fn hash_content<R: Read>(
    r: &mut R,
    buf: &mut [u8],
    capture: bool,
) -> io::Result<(String, Option<Vec<u8>>)> {
    let mut hasher = Xxh3::new();
    let mut kept = capture.then(Vec::new);
    loop {
        let n = r.read(buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        if let Some(kept) = kept.as_mut() {
            kept.extend_from_slice(&buf[..n]);
        }
    }
    Ok((format!("{:032x}", hasher.digest128()), kept))
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// Normalises a tar path (drops `./` and trailing `/`), refusing absolute
/// paths and `..` components: such a layer is hostile and is never followed.
pub fn clean_path(raw: &str, digest: &str) -> Result<String, Error> {
    let hostile = |reason| Error::HostilePath {
        digest: digest.to_owned(),
        path: raw.to_owned(),
        reason,
    };
    // A bare `/` is the layer root itself (kaniko writes one); any other
    // absolute path is hostile.
    if raw.starts_with('/') && !raw.bytes().all(|b| b == b'/') {
        return Err(hostile("absolute path"));
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(hostile("parent-directory component")),
            p => parts.push(p),
        }
    }
    Ok(parts.join("/"))
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

    #[test]
    fn clean_path_normalises_and_refuses_escapes() {
        assert_eq!(clean_path("./etc/passwd", "d").unwrap(), "etc/passwd");
        assert_eq!(clean_path("usr/bin/", "d").unwrap(), "usr/bin");
        assert_eq!(clean_path("./", "d").unwrap(), "");
        assert_eq!(clean_path("/", "d").unwrap(), "");
        assert!(matches!(
            clean_path("../etc/passwd", "d"),
            Err(Error::HostilePath { .. })
        ));
        assert!(matches!(
            clean_path("a/../../b", "d"),
            Err(Error::HostilePath { .. })
        ));
        assert!(matches!(
            clean_path("/etc/shadow", "d"),
            Err(Error::HostilePath { .. })
        ));
    }
}
