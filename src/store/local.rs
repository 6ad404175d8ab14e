//! The local tier: layer indexes and their summaries in a directory strata
//! owns (the cache, or a private directory for one run), and image configs
//! beside them. Reads follow no link and check what they read; writes go to
//! a temporary renamed into place; an entry used is touched, so pruning
//! takes the least recently used first.

use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use tempfile::TempDir;

use super::root::{self, cannot_write, Made, Refused};
use super::tier::{Found, IndexCheck, Kept, Tier};
use crate::image::Digest;
use crate::layer::index::open_regular;
use crate::layer::{LayerSummary, FORMAT_VERSION};

/// A summary file is a few hundred bytes; anything longer is not one.
const SUMMARY_LIMIT: u64 = 64 * 1024;
/// An entry's time of last use is moved forward at most this often.
const TOUCH_AFTER: Duration = Duration::from_secs(3600);
/// The digest algorithms strata keeps entries for.
pub const ALGORITHMS: [&str; 2] = ["sha256", "sha512"];

/// `v5`: the directory of the current index format under `layers/`.
pub fn version_name() -> String {
    format!("v{FORMAT_VERSION}")
}

/// Is `name` a layer entry strata writes (`<hex>.idx`, `<hex>.sum`)?
pub fn is_layer_entry(alg: &str, name: &str) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(hex, ext)| matches!(ext, "idx" | "sum") && is_hex(alg, hex))
}

/// Is `name` a digest's hex for `alg` (a config entry's name)?
pub fn is_hex(alg: &str, name: &str) -> bool {
    let len = match alg {
        "sha256" => 64,
        "sha512" => 128,
        _ => return false,
    };
    name.len() == len && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub struct Local {
    root: PathBuf,
    /// `<root>/layers/v<FORMAT_VERSION>`
    layers: PathBuf,
    configs: PathBuf,
    writable: AtomicBool,
    /// The private directory of a run, removed with the tier.
    _private: Option<TempDir>,
}

/// A cache opened: the tier, and why it cannot be written if it cannot.
pub struct Opened {
    pub local: Local,
    pub unwritable: Option<io::ErrorKind>,
}

impl Local {
    /// The cache in `dir` (or in strata's own `dir/strata`), made and
    /// cleaned as strata may; refused when it is not strata's to use.
    pub fn open(dir: &Path) -> Result<Opened, Refused> {
        let root = root::open(dir).map_err(|e| {
            Refused(if cannot_write(&e) {
                format!("{}: cannot be made: {e}", dir.display())
            } else {
                e.to_string()
            })
        })?;
        let local = Local::at(root, None);
        let mut unwritable = None;
        let mut note = |made: Made| {
            if let Made::Unwritable(kind) = made {
                unwritable.get_or_insert(kind);
            }
        };
        note(root::ensure_dir(&local.root.join("layers"))?);
        note(root::claim(&local.layers)?);
        note(root::ensure_dir(&local.configs)?);
        for alg in ALGORITHMS {
            note(root::ensure_dir(&local.layers.join(alg))?);
            note(root::ensure_dir(&local.configs.join(alg))?);
        }
        if unwritable.is_none() {
            let probe = tempfile::Builder::new()
                .prefix(".probe-")
                .tempfile_in(local.layers.join(ALGORITHMS[0]));
            match probe {
                Ok(_) => {}
                Err(e) if cannot_write(&e) => unwritable = Some(e.kind()),
                Err(e) => return Err(Refused(format!("{}: {e}", local.layers.display()))),
            }
        }
        local
            .writable
            .store(unwritable.is_none(), Ordering::Relaxed);
        if unwritable.is_none() {
            local.clean();
        }
        Ok(Opened { local, unwritable })
    }

    /// A private directory for one run (`--no-cache`, or a cache that
    /// cannot be used or written), gone when the tier is dropped.
    pub fn private() -> io::Result<Local> {
        let dir = tempfile::Builder::new().prefix("strata-").tempdir()?;
        let local = Local::at(dir.path().to_owned(), Some(dir));
        for alg in ALGORITHMS {
            fs::create_dir_all(local.layers.join(alg))?;
            fs::create_dir_all(local.configs.join(alg))?;
        }
        Ok(local)
    }

    fn at(root: PathBuf, private: Option<TempDir>) -> Local {
        Local {
            layers: root.join("layers").join(version_name()),
            configs: root.join("configs"),
            root,
            writable: AtomicBool::new(true),
            _private: private,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn writable(&self) -> bool {
        self.writable.load(Ordering::Relaxed)
    }

    /// The cache was found full or read-only mid-run: write no more to it.
    pub fn stop_writing(&self) {
        self.writable.store(false, Ordering::Relaxed);
    }

    /// Where a scan of `digest` writes its temporaries (beside where its
    /// index will be renamed to).
    pub fn scratch(&self, digest: &Digest) -> PathBuf {
        self.layers.join(digest.algorithm().name())
    }

    pub(super) fn index_path(&self, digest: &Digest) -> PathBuf {
        self.scratch(digest).join(format!("{}.idx", digest.hex()))
    }

    fn summary_path(&self, digest: &Digest) -> PathBuf {
        self.scratch(digest).join(format!("{}.sum", digest.hex()))
    }

    fn config_path(&self, digest: &Digest) -> PathBuf {
        self.configs
            .join(digest.algorithm().name())
            .join(digest.hex())
    }

    /// What killed runs and older formats left: stale temporaries, and the
    /// version directories strata marked, file by file.
    fn clean(&self) {
        for alg in ALGORITHMS {
            root::clear_stale(&self.layers.join(alg));
            root::clear_stale(&self.configs.join(alg));
        }
        root::clear_stale(&self.layers);
        root::clear_stale(&self.root);
        let current = version_name();
        let Ok(versions) = fs::read_dir(self.root.join("layers")) else {
            return;
        };
        for v in versions.flatten() {
            let name = v.file_name().to_string_lossy().into_owned();
            let numbered = name.len() > 1
                && name.starts_with('v')
                && name[1..].bytes().all(|b| b.is_ascii_digit());
            if numbered && name != current {
                root::remove_version(&v.path(), is_layer_entry);
            }
        }
    }

    /// An image config by digest: only a regular file of at most `limit`
    /// bytes that still hashes to its digest.
    pub fn config(&self, digest: &Digest, limit: u64) -> Found<Vec<u8>> {
        let path = self.config_path(digest);
        let bytes = match read_capped(&path, limit) {
            Found::Hit(bytes) => bytes,
            Found::Miss => return Found::Miss,
            Found::Damaged(why) => return Found::Damaged(why),
        };
        if Digest::compute(digest.algorithm(), &bytes) != *digest {
            return Found::Damaged("does not hash to its digest");
        }
        self.touch(&path);
        Found::Hit(bytes)
    }

    /// Keeps a verified config (best effort: a cache that cannot be written
    /// changes no figure).
    pub fn put_config(&self, digest: &Digest, bytes: &[u8]) {
        if !self.writable() {
            return;
        }
        let dest = self.config_path(digest);
        let Some(dir) = dest.parent() else { return };
        let _ = tempfile::Builder::new()
            .prefix(".cfg-")
            .tempfile_in(dir)
            .and_then(|mut tmp| {
                tmp.write_all(bytes)?;
                tmp.persist(&dest).map(|_| ()).map_err(|e| e.error)
            });
    }

    /// Moves an entry's time of last use to now (at most hourly).
    fn touch(&self, path: &Path) {
        if !self.writable() {
            return;
        }
        let now = SystemTime::now();
        let recent = root::regular_file(path)
            .and_then(|m| m.modified().ok())
            .is_some_and(|t| now.duration_since(t).unwrap_or_default() < TOUCH_AFTER);
        if recent {
            return;
        }
        let _ = fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
            .and_then(|f| f.set_modified(now));
    }
}

/// A small file read whole, following no link: Miss when absent.
pub(super) fn read_capped(path: &Path, limit: u64) -> Found<Vec<u8>> {
    let file = match open_regular(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Found::Miss,
        Err(_) => return Found::Damaged("not a readable regular file"),
    };
    let mut bytes = Vec::new();
    match file.take(limit + 1).read_to_end(&mut bytes) {
        Ok(_) if bytes.len() as u64 > limit => Found::Damaged("longer than any entry"),
        Ok(_) => Found::Hit(bytes),
        Err(_) => Found::Damaged("unreadable"),
    }
}

impl Tier for Local {
    fn summary(&self, digest: &Digest) -> Found<Kept> {
        let path = self.summary_path(digest);
        let bytes = match read_capped(&path, SUMMARY_LIMIT) {
            Found::Hit(bytes) => bytes,
            Found::Miss => return Found::Miss,
            Found::Damaged(why) => return Found::Damaged(why),
        };
        let Some(kept) = Kept::decode(&bytes) else {
            return Found::Damaged("summary checksum");
        };
        if kept.summary.digest != *digest {
            return Found::Damaged("another layer's summary");
        }
        self.touch(&path);
        Found::Hit(kept)
    }

    fn index(&self, kept: &Kept) -> Found<PathBuf> {
        let path = self.index_path(&kept.summary.digest);
        let file = match open_regular(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Found::Miss,
            Err(_) => return Found::Damaged("not a readable regular file"),
        };
        if file.metadata().map(|m| m.len()).ok() != Some(kept.index.len) {
            return Found::Damaged("index length");
        }
        match IndexCheck::of(file) {
            Ok(check) if check == kept.index => Found::Hit(path),
            Ok(_) => Found::Damaged("index checksum"),
            Err(_) => Found::Damaged("unreadable"),
        }
    }

    fn put(&self, summary: LayerSummary, index: tempfile::TempPath) -> io::Result<(Kept, PathBuf)> {
        let check = IndexCheck::of(open_regular(&index)?)?;
        let digest = summary.digest.clone();
        let index_path = self.index_path(&digest);
        index.persist(&index_path).map_err(|e| e.error)?;
        let kept = Kept {
            summary,
            index: check,
        };
        // The summary last: a summary never names an index that is not there.
        let mut tmp = tempfile::Builder::new()
            .prefix(".sum-")
            .tempfile_in(self.scratch(&digest))?;
        tmp.write_all(&kept.encode())?;
        tmp.persist(self.summary_path(&digest))
            .map_err(|e| e.error)?;
        Ok((kept, index_path))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tier::sample_summary;
    use super::*;

    fn put_sample(local: &Local) -> (Kept, PathBuf) {
        let s = sample_summary();
        let mut tmp = tempfile::NamedTempFile::new_in(local.scratch(&s.digest)).unwrap();
        tmp.write_all(b"STRATAIX index bytes").unwrap();
        local.put(s, tmp.into_temp_path()).unwrap()
    }

    #[test]
    fn a_kept_layer_reads_back_and_any_flipped_byte_is_damage() {
        let tmp = tempfile::tempdir().unwrap();
        let local = Local::open(&tmp.path().join("c")).unwrap().local;
        let (kept, path) = put_sample(&local);
        let digest = kept.summary.digest.clone();
        assert_eq!(local.summary(&digest), Found::Hit(kept.clone()));
        assert_eq!(local.index(&kept), Found::Hit(path.clone()));
        let bytes = fs::read(&path).unwrap();
        for i in [0, 7, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[i] ^= 0x20;
            fs::write(&path, &bad).unwrap();
            assert!(matches!(local.index(&kept), Found::Damaged(_)), "byte {i}");
        }
        fs::remove_file(&path).unwrap();
        assert_eq!(local.index(&kept), Found::Miss, "absent is a miss");
        let sum = local.summary_path(&digest);
        let mut bad = fs::read(&sum).unwrap();
        bad[3] ^= 1;
        fs::write(&sum, &bad).unwrap();
        assert!(matches!(local.summary(&digest), Found::Damaged(_)));
        fs::remove_file(&sum).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", &sum).unwrap();
        assert!(matches!(local.summary(&digest), Found::Damaged(_)));
    }

    #[test]
    fn opening_clears_strata_old_versions_and_keeps_a_persons_directories() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("c");
        drop(Local::open(&dir).unwrap());
        let old = dir.join("layers/v1");
        fs::create_dir_all(old.join("sha256")).unwrap();
        root::mark(&old).unwrap();
        fs::write(
            old.join("sha256").join(format!("{}.idx", "0".repeat(64))),
            b"x",
        )
        .unwrap();
        for mine in ["layers/v2", "layers/vendor-notes"] {
            fs::create_dir_all(dir.join(mine)).unwrap();
            fs::write(dir.join(mine).join("notes.txt"), b"mine").unwrap();
        }
        drop(Local::open(&dir).unwrap());
        assert!(!old.exists(), "strata's own old version is cleared");
        for mine in ["layers/v2", "layers/vendor-notes"] {
            assert!(dir.join(mine).join("notes.txt").exists(), "{mine}");
        }
    }

    #[test]
    fn a_symlinked_layers_directory_is_refused_and_nothing_is_written_through() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("c");
        drop(Local::open(&dir).unwrap());
        let elsewhere = tmp.path().join("elsewhere");
        fs::create_dir_all(elsewhere.join("v1")).unwrap();
        fs::write(elsewhere.join("v1/keep"), b"mine").unwrap();
        fs::remove_dir_all(dir.join("layers")).unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.join("layers")).unwrap();
        let Err(Refused(why)) = Local::open(&dir) else {
            panic!("a linked layers/ is used")
        };
        assert!(why.contains("symbolic link"), "{why}");
        assert!(elsewhere.join("v1/keep").exists());
        assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 1);
    }

    #[test]
    fn a_config_is_a_hit_only_while_it_hashes_to_its_digest() {
        let tmp = tempfile::tempdir().unwrap();
        let local = Local::open(&tmp.path().join("c")).unwrap().local;
        let bytes = br#"{"architecture":"amd64"}"#;
        let digest = Digest::compute(crate::image::Algorithm::Sha256, bytes);
        assert_eq!(local.config(&digest, 1024), Found::Miss);
        local.put_config(&digest, bytes);
        assert_eq!(local.config(&digest, 1024), Found::Hit(bytes.to_vec()));
        assert!(matches!(local.config(&digest, 4), Found::Damaged(_)));
        let path = local.config_path(&digest);
        let mut bad = fs::read(&path).unwrap();
        bad[0] ^= 1;
        fs::write(&path, bad).unwrap();
        assert!(matches!(local.config(&digest, 1024), Found::Damaged(_)));
    }

    #[test]
    fn entry_names_are_strata_own_only() {
        let hex = "ab".repeat(32);
        assert!(is_layer_entry("sha256", &format!("{hex}.idx")));
        assert!(is_layer_entry("sha256", &format!("{hex}.sum")));
        assert!(!is_layer_entry("sha256", &format!("{hex}.txt")));
        assert!(!is_layer_entry("sha512", &format!("{hex}.idx")));
        assert!(!is_layer_entry("sha256", "notes.idx"));
        assert!(!is_hex("sha256", &hex.to_uppercase()));
    }
}
