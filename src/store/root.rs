//! The cache root: the directory strata may use, proved its own by a marker
//! it writes when it makes the directory, and the only cleanup it does there
//! (its stale temporaries, its old version directories, file by file, by the
//! names it gives). Nothing below the root is followed: each directory is
//! checked with `symlink_metadata`, each file opened with O_NOFOLLOW.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::layer::index::open_regular;

/// The marker: the Cache Directory Tagging standard's file (backup tools
/// skip the directory), with strata's own comment line.
pub const MARKER: &str = "CACHEDIR.TAG";
const MARKER_TEXT: &[u8] = b"Signature: 8a477f597d28d172789f06886806bc55\n\
# A cache made by strata. strata deletes only the files it made here.\n";
/// The directory strata makes for itself inside a directory it did not make.
pub const SUBDIR: &str = "strata";
/// Temporaries older than this are left over from a killed run.
pub const STALE: Duration = Duration::from_secs(3600);
/// How strata's temporaries start: an index being written (`layer::scan`),
/// a sorter's spilled run (`IndexBuilder`), a summary, a config, a marker,
/// a write probe.
const TEMPORARIES: [&str; 6] = [".idx-", ".run-", ".sum-", ".cfg-", ".tag-", ".probe-"];

/// Why a directory cannot serve as the cache, for the one warning that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// Which directory strata uses for a `--cache-dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// Marked: strata made it.
    Ours(PathBuf),
    /// Missing or empty: strata makes it its own on first use.
    Unmade(PathBuf),
}

impl Root {
    pub fn path(&self) -> &Path {
        match self {
            Root::Ours(p) | Root::Unmade(p) => p,
        }
    }
}

/// The directory strata would use for `dir`, changing nothing: `dir` when
/// strata made it (or may make it), else its own `dir/strata`.
pub fn resolve(dir: &Path) -> Result<Root, Refused> {
    match state(dir)? {
        State::Marked => Ok(Root::Ours(dir.to_owned())),
        State::Missing | State::Empty => Ok(Root::Unmade(dir.to_owned())),
        State::Foreign => {
            let sub = dir.join(SUBDIR);
            match state(&sub)? {
                State::Marked => Ok(Root::Ours(sub)),
                State::Missing | State::Empty => Ok(Root::Unmade(sub)),
                State::Foreign => Err(Refused(format!(
                    "{} holds files strata did not make, and so does its {SUBDIR}/",
                    dir.display()
                ))),
            }
        }
    }
}

/// The cache root for `dir`, made and marked if strata is the one to make it.
pub fn open(dir: &Path) -> Result<PathBuf, io::Error> {
    let root = match resolve(dir) {
        Ok(Root::Ours(p)) => return Ok(p),
        Ok(Root::Unmade(p)) => p,
        Err(Refused(reason)) => return Err(io::Error::other(reason)),
    };
    if let Some(parent) = root.parent() {
        fs::create_dir_all(parent)?;
    }
    match fs::create_dir(&root) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    // Another run may have made it in between: mark it only if it is still
    // strata's to mark.
    match resolve(dir) {
        Ok(Root::Ours(p)) => Ok(p),
        Ok(Root::Unmade(p)) if p == root => {
            mark(&root)?;
            Ok(root)
        }
        Ok(other) => Err(io::Error::other(format!(
            "{} changed while strata opened it",
            other.path().display()
        ))),
        Err(Refused(reason)) => Err(io::Error::other(reason)),
    }
}

enum State {
    Missing,
    /// No entry but strata's own marker temporaries.
    Empty,
    Marked,
    Foreign,
}

fn state(dir: &Path) -> Result<State, Refused> {
    let meta = match fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(State::Missing),
        Err(e) => return Err(Refused(format!("{}: {e}", dir.display()))),
    };
    check_dir(dir, &meta)?;
    if is_marked(dir) {
        return Ok(State::Marked);
    }
    let entries = fs::read_dir(dir).map_err(|e| Refused(format!("{}: {e}", dir.display())))?;
    for e in entries {
        let e = e.map_err(|e| Refused(format!("{}: {e}", dir.display())))?;
        if !e.file_name().to_string_lossy().starts_with(".tag-") {
            return Ok(State::Foreign);
        }
    }
    Ok(State::Empty)
}

/// A directory strata uses must be a real one, never a link to elsewhere.
fn check_dir(dir: &Path, meta: &fs::Metadata) -> Result<(), Refused> {
    if meta.file_type().is_symlink() {
        return Err(Refused(format!(
            "{} is a symbolic link (strata follows none in its cache)",
            dir.display()
        )));
    }
    if !meta.is_dir() {
        return Err(Refused(format!("{} is not a directory", dir.display())));
    }
    Ok(())
}

/// Does `dir` carry strata's marker (a regular file, not a link)?
pub fn is_marked(dir: &Path) -> bool {
    let Ok(file) = open_regular(&dir.join(MARKER)) else {
        return false;
    };
    let mut text = Vec::new();
    file.take(MARKER_TEXT.len() as u64 + 1)
        .read_to_end(&mut text)
        .is_ok()
        && text == MARKER_TEXT
}

/// Writes the marker into `dir`, atomically.
pub fn mark(dir: &Path) -> io::Result<()> {
    let mut tmp = tempfile::NamedTempFile::with_prefix_in(".tag-", dir)?;
    tmp.write_all(MARKER_TEXT)?;
    tmp.persist(dir.join(MARKER)).map_err(|e| e.error)?;
    Ok(())
}

/// What became of a directory strata keeps things in.
#[derive(Debug, PartialEq, Eq)]
pub enum Made {
    /// It is there (strata made it now or before).
    Ready,
    /// Missing, and it cannot be made (a read-only or full cache).
    Unwritable(io::ErrorKind),
}

/// Makes `dir` (one level) and marks it, or finds it marked; an empty one
/// is marked now. One holding files strata did not make is refused.
pub fn claim(dir: &Path) -> Result<Made, Refused> {
    if let State::Missing = state(dir)? {
        if let Made::Unwritable(kind) = ensure_dir(dir)? {
            return Ok(Made::Unwritable(kind));
        }
    }
    match state(dir)? {
        State::Marked => Ok(Made::Ready),
        State::Empty => match mark(dir) {
            Ok(()) => Ok(Made::Ready),
            Err(e) if cannot_write(&e) => Ok(Made::Unwritable(e.kind())),
            Err(e) => Err(Refused(format!("{}: {e}", dir.display()))),
        },
        State::Missing => Err(Refused(format!("{} keeps changing", dir.display()))),
        State::Foreign => Err(Refused(format!(
            "{} holds files strata did not make",
            dir.display()
        ))),
    }
}

/// Makes `path` (one level) unless it is there; refuses a symbolic link or
/// anything but a directory in its place.
pub fn ensure_dir(path: &Path) -> Result<Made, Refused> {
    for _ in 0..2 {
        match fs::symlink_metadata(path) {
            Ok(meta) => {
                check_dir(path, &meta)?;
                return Ok(Made::Ready);
            }
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(Refused(format!("{}: {e}", path.display())))
            }
            Err(_) => match fs::create_dir(path) {
                Ok(()) => return Ok(Made::Ready),
                // Made by another run meanwhile: check what it is.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) if cannot_write(&e) => return Ok(Made::Unwritable(e.kind())),
                Err(e) => return Err(Refused(format!("{}: {e}", path.display()))),
            },
        }
    }
    Err(Refused(format!("{} keeps changing", path.display())))
}

/// An error that says the cache cannot be written (rather than that it is broken).
pub fn cannot_write(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        PermissionDenied | ReadOnlyFilesystem | StorageFull | QuotaExceeded
    )
}

/// Is `path` a real directory (not a link)?
pub fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// Is `path` a regular file (not a link)? Its metadata if so.
pub fn regular_file(path: &Path) -> Option<fs::Metadata> {
    fs::symlink_metadata(path).ok().filter(|m| m.is_file())
}

/// Is `name` one of strata's temporaries?
pub fn is_temporary(name: &str) -> bool {
    TEMPORARIES.iter().any(|p| name.starts_with(p))
}

/// Removes strata's temporaries older than STALE from `dir` (regular files only).
pub fn clear_stale(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for e in entries.flatten() {
        if !is_temporary(&e.file_name().to_string_lossy()) {
            continue;
        }
        let stale = regular_file(&e.path())
            .and_then(|m| m.modified().ok())
            .is_some_and(|t| now.duration_since(t).unwrap_or_default() > STALE);
        if stale {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Removes from `dir` the regular files `own` names as strata's, then `dir`
/// itself if nothing else is left in it. Returns the bytes removed.
pub fn remove_own(dir: &Path, own: impl Fn(&str) -> bool) -> u64 {
    let mut bytes = 0;
    if !is_real_dir(dir) {
        return 0;
    }
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !own(&name) {
                continue;
            }
            if let Some(meta) = regular_file(&e.path()) {
                if fs::remove_file(e.path()).is_ok() {
                    bytes += meta.len();
                }
            }
        }
    }
    let _ = fs::remove_dir(dir);
    bytes
}

/// Removes a version directory strata marked, by the files it made there:
/// its digest directories' entries (`own_entry`), then the directories and
/// the marker if nothing a person put there is left.
pub fn remove_version(dir: &Path, own_entry: impl Fn(&str, &str) -> bool) -> u64 {
    if !is_real_dir(dir) || !is_marked(dir) {
        return 0;
    }
    let mut bytes = 0;
    for alg in ["sha256", "sha512"] {
        bytes += remove_own(&dir.join(alg), |name| {
            own_entry(alg, name) || is_temporary(name)
        });
    }
    let only_marker = fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .all(|e| e.file_name().to_string_lossy() == MARKER)
    });
    if only_marker {
        let _ = fs::remove_file(dir.join(MARKER));
        let _ = fs::remove_dir(dir);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_empty_directory_is_strata_to_make_and_a_full_one_gets_a_subdirectory() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("new");
        assert_eq!(resolve(&missing), Ok(Root::Unmade(missing.clone())));
        assert_eq!(open(&missing).unwrap(), missing);
        assert!(is_marked(&missing));
        assert_eq!(resolve(&missing), Ok(Root::Ours(missing.clone())));

        let full = tmp.path().join("full");
        fs::create_dir_all(full.join("layers/v2")).unwrap();
        fs::write(full.join("layers/v2/notes.txt"), b"mine").unwrap();
        let sub = full.join(SUBDIR);
        assert_eq!(resolve(&full), Ok(Root::Unmade(sub.clone())));
        assert_eq!(open(&full).unwrap(), sub);
        assert!(is_marked(&sub) && !is_marked(&full));
        assert_eq!(resolve(&full), Ok(Root::Ours(sub)));
    }

    #[test]
    fn a_symlinked_root_a_file_or_a_foreign_subdirectory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("target");
        fs::create_dir(&target).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(resolve(&link).unwrap_err().0.contains("symbolic link"));
        assert!(open(&link).is_err());
        assert!(
            fs::read_dir(&target).unwrap().next().is_none(),
            "nothing written through"
        );

        let file = tmp.path().join("file");
        fs::write(&file, b"x").unwrap();
        assert!(resolve(&file).unwrap_err().0.contains("not a directory"));

        let full = tmp.path().join("full");
        fs::create_dir_all(full.join(SUBDIR)).unwrap();
        fs::write(full.join("x"), b"x").unwrap();
        fs::write(full.join(SUBDIR).join("y"), b"y").unwrap();
        assert!(resolve(&full).is_err());
    }

    #[test]
    fn a_marker_is_only_a_regular_file_with_strata_text() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        fs::write(
            d.join(MARKER),
            b"Signature: 8a477f597d28d172789f06886806bc55\n",
        )
        .unwrap();
        assert!(!is_marked(d), "another tool's tag is not strata's");
        let real = tmp.path().join("real");
        fs::create_dir(&real).unwrap();
        mark(&real).unwrap();
        fs::remove_file(d.join(MARKER)).unwrap();
        std::os::unix::fs::symlink(real.join(MARKER), d.join(MARKER)).unwrap();
        assert!(!is_marked(d), "a linked marker proves nothing");
    }

    #[test]
    fn claiming_marks_a_new_or_empty_directory_and_refuses_a_persons() {
        let tmp = tempfile::tempdir().unwrap();
        let new = tmp.path().join("v5");
        assert_eq!(claim(&new), Ok(Made::Ready));
        assert!(is_marked(&new));
        let empty = tmp.path().join("empty");
        fs::create_dir(&empty).unwrap();
        assert_eq!(claim(&empty), Ok(Made::Ready));
        assert!(is_marked(&empty));
        let theirs = tmp.path().join("theirs");
        fs::create_dir(&theirs).unwrap();
        fs::write(theirs.join("x"), b"x").unwrap();
        assert!(claim(&theirs).is_err());
        assert!(!is_marked(&theirs) && theirs.join("x").exists());
    }

    #[test]
    fn ensure_dir_makes_a_directory_and_refuses_a_link() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("d");
        assert_eq!(ensure_dir(&d), Ok(Made::Ready));
        assert_eq!(ensure_dir(&d), Ok(Made::Ready));
        let l = tmp.path().join("l");
        std::os::unix::fs::symlink(&d, &l).unwrap();
        assert!(ensure_dir(&l).is_err());
    }

    #[test]
    fn removing_a_version_takes_only_strata_files_and_keeps_a_persons() {
        let tmp = tempfile::tempdir().unwrap();
        let v = tmp.path().join("v4");
        fs::create_dir_all(v.join("sha256")).unwrap();
        mark(&v).unwrap();
        let hex = "ab".repeat(32);
        fs::write(v.join("sha256").join(format!("{hex}.idx")), b"12345").unwrap();
        fs::write(v.join("sha256").join(format!("{hex}.sum")), b"12").unwrap();
        fs::write(v.join("sha256/notes.txt"), b"mine").unwrap();
        let own = |_: &str, n: &str| n.ends_with(".idx") || n.ends_with(".sum");
        assert_eq!(remove_version(&v, own), 7);
        assert!(v.join("sha256/notes.txt").exists() && is_marked(&v));
        fs::remove_file(v.join("sha256/notes.txt")).unwrap();
        remove_version(&v, own);
        assert!(!v.exists(), "an emptied version directory goes");

        let unmarked = tmp.path().join("v3");
        fs::create_dir_all(unmarked.join("sha256")).unwrap();
        fs::write(unmarked.join("sha256").join(format!("{hex}.idx")), b"x").unwrap();
        assert_eq!(remove_version(&unmarked, own), 0, "not strata's: untouched");
        assert!(unmarked.join("sha256").join(format!("{hex}.idx")).exists());
    }

    #[test]
    fn stale_temporaries_go_and_fresh_ones_and_other_files_stay() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        for name in [".idx-killed", ".idx-running", ".notes", "x.idx"] {
            fs::write(d.join(name), b"x").unwrap();
        }
        let old = SystemTime::now() - 2 * STALE;
        for name in [".idx-killed", ".notes", "x.idx"] {
            let f = fs::File::options().write(true).open(d.join(name)).unwrap();
            f.set_modified(old).unwrap();
        }
        clear_stale(d);
        assert!(!d.join(".idx-killed").exists());
        for kept in [".idx-running", ".notes", "x.idx"] {
            assert!(d.join(kept).exists(), "{kept}");
        }
    }
}
