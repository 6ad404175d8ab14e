//! The directory backend (`file://DIR`: NFS, a CI cache volume): the local
//! cache's layout (`layers/v<FORMAT>/sha256/<hex>.idx` and `.sum`, plus
//! `<hex>.mac` when entries are signed), the same checks on every read,
//! writes to a temporary renamed into place. Many runs of many strata
//! versions write there: nothing is ever deleted, and each format keeps to
//! its own directory.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::super::local::{read_capped, version_name, Local};
use super::super::root::{self, Made, Refused, Root};
use super::super::tier::{Found, Kept, Tier};
use super::entry::{self, Incoming, Key};
use super::registry::local_failure;
use super::{Backend, Fetched};
use crate::image::{Digest, LayerDesc};
use crate::layer::index::open_regular;
use crate::source::registry::artifact::{Failed, Problem};

/// A summary file is a few hundred bytes; a MAC file 64 hex digits.
const SUMMARY_LIMIT: u64 = 64 * 1024;
const MAC_LIMIT: u64 = 256;

pub struct Dir {
    /// As given (`file://DIR`): strata uses DIR, or DIR/strata when DIR
    /// holds files it did not make, as with `--cache-dir`.
    dir: PathBuf,
}

impl Dir {
    pub fn new(dir: PathBuf) -> Dir {
        Dir { dir }
    }

    /// The version directory entries are read from, if strata made one.
    fn layers(&self) -> Result<Option<PathBuf>, Failed> {
        match root::resolve(&self.dir) {
            Ok(Root::Ours(root)) => Ok(Some(root.join("layers").join(version_name()))),
            Ok(Root::Unmade(_)) => Ok(None),
            Err(Refused(why)) => Err(Failed::new(Problem::Refused, why)),
        }
    }

    /// The directory of `digest`'s entries, made (and marked) if need be.
    fn made(&self, digest: &Digest) -> Result<PathBuf, Failed> {
        let refused = |why: String| Failed::new(Problem::Refused, why);
        let root = root::open(&self.dir).map_err(|e| refused(e.to_string()))?;
        let layers = root.join("layers");
        let version = layers.join(version_name());
        let alg = version.join(digest.algorithm().name());
        for made in [
            root::ensure_dir(&layers),
            root::claim(&version),
            root::ensure_dir(&alg),
        ] {
            match made.map_err(|Refused(why)| refused(why))? {
                Made::Ready => {}
                Made::Unwritable(kind) => {
                    return Err(refused(format!(
                        "{}: {}",
                        alg.display(),
                        io::Error::from(kind)
                    )))
                }
            }
        }
        Ok(alg)
    }
}

fn name(digest: &Digest, ext: &str) -> String {
    format!("{}.{ext}", digest.hex())
}

/// Writes `bytes` (or what `r` yields) to `dir/name` through a temporary,
/// readable by the other users of the directory.
fn put(dir: &Path, name: &str, r: &mut dyn Read) -> io::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(".sum-")
        .permissions(fs::Permissions::from_mode(0o644))
        .tempfile_in(dir)?;
    io::copy(r, &mut tmp)?;
    tmp.flush()?;
    tmp.persist(dir.join(name)).map_err(|e| e.error)?;
    Ok(())
}

impl Backend for Dir {
    fn fetch(&self, layer: &LayerDesc, into: &Local, key: Option<&Key>) -> Fetched {
        let dir = match self.layers() {
            Ok(Some(layers)) => layers.join(layer.digest.algorithm().name()),
            Ok(None) => return Fetched::Miss,
            Err(f) => return Fetched::Failed(f),
        };
        let bytes = match read_capped(&dir.join(name(&layer.digest, "sum")), SUMMARY_LIMIT) {
            Found::Hit(bytes) => bytes,
            Found::Miss => return Fetched::Miss,
            Found::Damaged(why) => return Fetched::Damaged(why),
        };
        let Some(kept) = Kept::decode(&bytes) else {
            return Fetched::Damaged("summary checksum");
        };
        if let Err(why) = entry::answers(&kept, layer) {
            return Fetched::Damaged(why);
        }
        let mac = match key {
            None => None,
            Some(_) => match read_capped(&dir.join(name(&layer.digest, "mac")), MAC_LIMIT) {
                Found::Hit(bytes) => Some(String::from_utf8_lossy(&bytes).trim().to_owned()),
                _ => None,
            },
        };
        let file = match open_regular(&dir.join(name(&layer.digest, "idx"))) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Fetched::Damaged("its index is missing")
            }
            Err(_) => return Fetched::Damaged("not a readable regular file"),
        };
        if file.metadata().map(|m| m.len()).ok() != Some(kept.index.len) {
            return Fetched::Damaged("index length");
        }
        let scratch = into.scratch(&layer.digest);
        let mut incoming = match Incoming::new(&scratch, &kept, key) {
            Ok(i) => i,
            Err(e) => return Fetched::Failed(local_failure(&scratch, e)),
        };
        let mut r = file.take(kept.index.len + 1);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if incoming.write(&buf[..n]).is_err() {
                        return Fetched::Damaged("index length");
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Fetched::Damaged("unreadable"),
            }
        }
        let tmp = match incoming.finish(&kept, None, mac.as_deref()) {
            Ok(tmp) => tmp,
            Err(why) => return Fetched::Damaged(why),
        };
        match into.put(kept.summary, tmp) {
            Ok((kept, path)) => Fetched::Hit(kept, path),
            Err(e) => Fetched::Failed(local_failure(&scratch, e)),
        }
    }

    fn push(&self, kept: &Kept, index: &Path, key: Option<&Key>) -> Result<(), Failed> {
        let digest = &kept.summary.digest;
        let dir = self.made(digest)?;
        let write = |e: io::Error| {
            if root::cannot_write(&e) {
                Failed::new(Problem::Refused, format!("{}: {e}", dir.display()))
            } else {
                local_failure(&dir, e)
            }
        };
        // The copy is checked, not the source: what is renamed into place
        // is what the record and the MAC describe.
        let mut tmp = tempfile::Builder::new()
            .prefix(".idx-")
            .permissions(fs::Permissions::from_mode(0o644))
            .tempfile_in(&dir)
            .map_err(write)?;
        let mut source = open_regular(index).map_err(|e| local_failure(index, e))?;
        io::copy(&mut source, &mut tmp).map_err(write)?;
        tmp.flush().map_err(write)?;
        let checked =
            entry::outgoing(kept, open_regular(tmp.path()).map_err(write)?, key).map_err(write)?;
        let Some((_, mac)) = checked else {
            return Err(local_failure(
                index,
                io::Error::other("the local index changed before it was pushed"),
            ));
        };
        tmp.persist(dir.join(name(digest, "idx")))
            .map_err(|e| write(e.error))?;
        if let Some(mac) = mac {
            put(&dir, &name(digest, "mac"), &mut mac.as_bytes()).map_err(write)?;
        }
        // The summary last: a summary never names an index that is not there.
        put(&dir, &name(digest, "sum"), &mut &kept.encode()[..]).map_err(write)
    }

    fn has(&self, digests: &[Digest]) -> Vec<Result<bool, Failed>> {
        let layers = match self.layers() {
            Ok(l) => l,
            Err(f) => return digests.iter().map(|_| Err(f.clone())).collect(),
        };
        digests
            .iter()
            .map(|d| {
                Ok(layers.as_ref().is_some_and(|l| {
                    let path = l.join(d.algorithm().name()).join(name(d, "sum"));
                    root::regular_file(&path).is_some()
                }))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::tier::sample_summary;
    use super::*;
    use crate::image::Declared;
    use crate::layer::{Entry, EntryKind, Footer, IndexWriter, LayerSummary};

    /// A real index of three entries for `summary`, kept in `local`.
    fn kept_in(local: &Local) -> (Kept, PathBuf, LayerDesc) {
        let mut summary: LayerSummary = sample_summary();
        summary.entries = 3;
        let mut tmp = tempfile::NamedTempFile::new_in(local.scratch(&summary.digest)).unwrap();
        let mut w = IndexWriter::new(tmp.as_file_mut(), 3).unwrap();
        for p in ["a", "a/b", "c"] {
            w.push(&Entry::sample(p, EntryKind::File, 1)).unwrap();
        }
        w.finish(&Footer {
            summary: Some(summary.clone()),
            package_dbs: Vec::new(),
            entries: 3,
        })
        .unwrap();
        let layer = LayerDesc {
            digest: summary.digest.clone(),
            size: summary.compressed,
            diff_id: Some(summary.diff_id.clone()),
            declared: Declared::Sniff,
            history: None,
            foreign: None,
        };
        let (kept, path) = local.put(summary, tmp.into_temp_path()).unwrap();
        (kept, path, layer)
    }

    #[test]
    fn an_entry_pushed_reads_back_checked_and_a_tampered_or_unsigned_one_is_damaged() {
        let tmp = tempfile::tempdir().unwrap();
        let mine = Local::private().unwrap();
        let (kept, index, layer) = kept_in(&mine);
        let shared = Dir::new(tmp.path().join("team"));
        let key = Key::new(b"0123456789abcdef".to_vec());
        assert!(matches!(shared.fetch(&layer, &mine, None), Fetched::Miss));
        assert_eq!(shared.has(std::slice::from_ref(&layer.digest)), [Ok(false)]);
        shared.push(&kept, &index, Some(&key)).unwrap();
        assert_eq!(shared.has(std::slice::from_ref(&layer.digest)), [Ok(true)]);

        let other = Local::private().unwrap();
        match shared.fetch(&layer, &other, Some(&key)) {
            Fetched::Hit(k, path) => {
                assert_eq!(k, kept);
                assert_eq!(fs::read(path).unwrap(), fs::read(&index).unwrap());
            }
            _ => panic!("an intact signed entry is a hit"),
        }
        let wrong = Key::new(b"0123456789abcdeF".to_vec());
        assert!(matches!(
            shared.fetch(&layer, &other, Some(&wrong)),
            Fetched::Damaged("wrong MAC")
        ));
        let dir = tmp
            .path()
            .join("team/layers")
            .join(version_name())
            .join("sha256");
        let mac = dir.join(name(&layer.digest, "mac"));
        fs::rename(&mac, dir.join("aside")).unwrap();
        assert!(matches!(
            shared.fetch(&layer, &other, Some(&key)),
            Fetched::Damaged("no MAC (STRATA_SHARED_CACHE_KEY is set)")
        ));
        assert!(matches!(
            shared.fetch(&layer, &other, None),
            Fetched::Hit(..)
        ));
        let idx = dir.join(name(&layer.digest, "idx"));
        let mut bytes = fs::read(&idx).unwrap();
        bytes[20] ^= 1;
        fs::write(&idx, &bytes).unwrap();
        assert!(matches!(
            shared.fetch(&layer, &other, None),
            Fetched::Damaged("index checksum")
        ));
        let bigger = LayerDesc {
            size: layer.size + 1,
            ..layer.clone()
        };
        assert!(matches!(
            shared.fetch(&bigger, &other, None),
            Fetched::Damaged("another size than the layer's")
        ));
        // Pushed again: replaced, and nothing else in the directory was touched.
        shared.push(&kept, &index, None).unwrap();
        assert!(matches!(
            shared.fetch(&layer, &other, None),
            Fetched::Hit(..)
        ));
        assert!(dir.join("aside").exists());
    }
}
