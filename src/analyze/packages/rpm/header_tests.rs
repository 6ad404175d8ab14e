//! Header parsing on hand-built headers: the good case and every malformed
//! shape (truncated, offsets past the end, huge counts) as an error.

use super::*;

/// What the reader takes from a header: the package, then its files.
#[derive(Debug, PartialEq, Eq)]
struct Full {
    name: String,
    version: String,
    arch: Option<String>,
    size: Option<u64>,
    files: Vec<Vec<u8>>,
}

fn full(h: &Header<'_>) -> Result<Full, HeaderError> {
    let p = h.package()?;
    let mut files = Vec::new();
    h.each_file(|f| files.push(f.to_vec()))?;
    Ok(Full {
        name: p.name,
        version: p.version,
        arch: p.arch,
        size: p.size,
        files,
    })
}

enum Value<'a> {
    Str(&'a str),
    Strs(&'a [&'a str]),
    I16(&'a [u16]),
    I32(&'a [u32]),
    I64(&'a [u64]),
}

/// A header blob (no magic) with the given tags, in order.
fn blob(tags: &[(u32, Value<'_>)]) -> Vec<u8> {
    let (mut index, mut data) = (Vec::new(), Vec::new());
    for (tag, value) in tags {
        let (kind, count, bytes): (u32, usize, Vec<u8>) = match value {
            Value::Str(s) => (kind::STRING, 1, [s.as_bytes(), b"\0"].concat()),
            Value::Strs(v) => (
                kind::STRING_ARRAY,
                v.len(),
                v.iter()
                    .flat_map(|s| [s.as_bytes(), b"\0"].concat())
                    .collect(),
            ),
            Value::I16(v) => (
                kind::INT16,
                v.len(),
                v.iter().flat_map(|n| n.to_be_bytes()).collect(),
            ),
            Value::I32(v) => (
                kind::INT32,
                v.len(),
                v.iter().flat_map(|n| n.to_be_bytes()).collect(),
            ),
            Value::I64(v) => (
                kind::INT64,
                v.len(),
                v.iter().flat_map(|n| n.to_be_bytes()).collect(),
            ),
        };
        for n in [*tag, kind, data.len() as u32, count as u32] {
            index.extend(n.to_be_bytes());
        }
        data.extend(bytes);
    }
    let mut out = Vec::new();
    out.extend((tags.len() as u32).to_be_bytes());
    out.extend((data.len() as u32).to_be_bytes());
    out.extend(index);
    out.extend(data);
    out
}

fn sample() -> Vec<u8> {
    blob(&[
        (tag::NAME, Value::Str("bash")),
        (tag::VERSION, Value::Str("5.1.8")),
        (tag::RELEASE, Value::Str("9.el9")),
        (tag::EPOCH, Value::I32(&[1])),
        (tag::ARCH, Value::Str("x86_64")),
        (tag::SIZE, Value::I32(&[1234])),
        (
            tag::DIRNAMES,
            Value::Strs(&["/usr/bin/", "/etc/", "/usr/share/bash/"]),
        ),
        (tag::BASENAMES, Value::Strs(&["bash", "bashrc", "bash"])),
        (tag::DIRINDEXES, Value::I32(&[0, 1, 0])),
        (tag::FILEMODES, Value::I16(&[0o100755, 0o100644, 0o040755])),
        (tag::FILESIZES, Value::I32(&[1000, 234, 0])),
    ])
}

#[test]
fn a_header_gives_name_epoch_version_release_arch_size_and_non_directory_files() {
    let pkg = full(&Header::parse(&sample()).unwrap()).unwrap();
    assert_eq!(
        pkg,
        Full {
            name: "bash".into(),
            version: "1:5.1.8-9.el9".into(),
            arch: Some("x86_64".into()),
            size: Some(1234),
            files: vec![b"usr/bin/bash".to_vec(), b"etc/bashrc".to_vec()],
        }
    );
}

#[test]
fn no_epoch_no_release_longsize_and_no_size_fall_back_in_order() {
    let h = blob(&[
        (tag::NAME, Value::Str("a")),
        (tag::VERSION, Value::Str("1")),
        (tag::LONGSIZE, Value::I64(&[1 << 40])),
        (tag::SIZE, Value::I32(&[5])),
    ]);
    let pkg = full(&Header::parse(&h).unwrap()).unwrap();
    assert_eq!(
        (pkg.version.as_str(), pkg.size, pkg.arch),
        ("1", Some(1 << 40), None)
    );
    let h = blob(&[
        (tag::NAME, Value::Str("a")),
        (tag::VERSION, Value::Str("1")),
        (tag::RELEASE, Value::Str("2")),
        (tag::DIRNAMES, Value::Strs(&["/"])),
        (tag::BASENAMES, Value::Strs(&["x", "y"])),
        (tag::DIRINDEXES, Value::I32(&[0, 0])),
        (tag::LONGFILESIZES, Value::I64(&[7, 8])),
    ]);
    let pkg = full(&Header::parse(&h).unwrap()).unwrap();
    assert_eq!((pkg.version.as_str(), pkg.size), ("1-2", Some(15)));
    assert_eq!(pkg.files, [b"x".to_vec(), b"y".to_vec()]);
}

#[test]
fn every_truncation_of_a_header_is_an_error_never_a_panic() {
    let whole = sample();
    for cut in 0..whole.len() {
        let parsed = Header::parse(&whole[..cut]).and_then(|h| full(&h));
        assert!(parsed.is_err(), "cut at {cut} parsed");
    }
}

#[test]
fn huge_counts_and_offsets_past_the_end_are_errors() {
    let mut h = sample();
    h[..4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        Header::parse(&h).err(),
        Some(HeaderError::TooManyEntries(u32::MAX))
    );
    let mut h = sample();
    h[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        Header::parse(&h).err(),
        Some(HeaderError::Truncated("data store"))
    );
    // Entry 7 (BASENAMES): a count of 2^32 - 1 strings.
    let mut h = sample();
    let at = 8 + 7 * 16 + 12;
    h[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(full(&Header::parse(&h).unwrap()).is_err());
    // Entry 7 (BASENAMES): more files than the cap, though all present.
    let many = vec!["f"; MAX_FILES + 1];
    let h = blob(&[
        (tag::NAME, Value::Str("a")),
        (tag::VERSION, Value::Str("1")),
        (tag::BASENAMES, Value::Strs(&many)),
    ]);
    assert!(matches!(
        full(&Header::parse(&h).unwrap()),
        Err(HeaderError::BadTag {
            tag: tag::BASENAMES,
            ..
        })
    ));
    // Entry 8 (DIRINDEXES): a count of 2^32 - 1 numbers.
    let mut h = sample();
    let at = 8 + 8 * 16 + 12;
    h[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(full(&Header::parse(&h).unwrap()).is_err());
    // Entry 0 (NAME): an offset past the store reads as no NAME.
    let mut h = sample();
    h[8 + 8..8 + 12].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        full(&Header::parse(&h).unwrap()).err(),
        Some(HeaderError::Missing("NAME"))
    );
}

#[test]
fn wrong_types_and_dangling_directory_indexes_are_errors() {
    let h = blob(&[
        (tag::NAME, Value::I32(&[1])),
        (tag::VERSION, Value::Str("1")),
    ]);
    assert!(full(&Header::parse(&h).unwrap()).is_err());
    let h = blob(&[
        (tag::NAME, Value::Str("a")),
        (tag::VERSION, Value::Str("1")),
        (tag::DIRNAMES, Value::Strs(&["/"])),
        (tag::BASENAMES, Value::Strs(&["x"])),
        (tag::DIRINDEXES, Value::I32(&[3])),
    ]);
    assert!(full(&Header::parse(&h).unwrap()).is_err());
    let h = blob(&[
        (tag::NAME, Value::Str("a")),
        (tag::VERSION, Value::Str("1")),
        (tag::BASENAMES, Value::Strs(&["x"])),
    ]);
    assert!(full(&Header::parse(&h).unwrap()).is_err());
}

#[test]
fn a_shared_long_directory_cannot_spell_more_path_bytes_than_the_cap() {
    // One 4 000-byte directory named by 200 000 one-byte files: an 800 MB
    // file list from a 1.2 MB header.
    let dir = format!("/{}/", "d".repeat(3998));
    let bases = vec!["f"; 200_000];
    let index = vec![0u32; bases.len()];
    let h = blob(&[
        (tag::NAME, Value::Str("a")),
        (tag::VERSION, Value::Str("1")),
        (tag::DIRNAMES, Value::Strs(&[&dir])),
        (tag::BASENAMES, Value::Strs(&bases)),
        (tag::DIRINDEXES, Value::I32(&index)),
    ]);
    assert_eq!(
        full(&Header::parse(&h).unwrap()).err(),
        Some(HeaderError::BadTag {
            tag: tag::BASENAMES,
            what: "more path bytes than strata reads in one package"
        })
    );
    let long = format!("/{}/", "d".repeat(MAX_PATH));
    let h = blob(&[
        (tag::NAME, Value::Str("a")),
        (tag::VERSION, Value::Str("1")),
        (tag::DIRNAMES, Value::Strs(&[&long])),
        (tag::BASENAMES, Value::Strs(&["f"])),
        (tag::DIRINDEXES, Value::I32(&[0])),
    ]);
    assert!(full(&Header::parse(&h).unwrap()).is_err());
}

#[test]
fn huge_string_arrays_and_number_lists_are_read_as_far_as_needed() {
    // NAME as 2 million strings, EPOCH and FILEMODES as 2 million INT16s,
    // DIRNAMES as 2 million directories for one file: once 16 bytes a
    // string and 8 a number, now only what is used.
    let names = vec!["n"; 2_000_000];
    let numbers = vec![7u16; 2_000_000];
    let dirs = vec!["/d/"; 2_000_000];
    let h = blob(&[
        (tag::NAME, Value::Strs(&names)),
        (tag::VERSION, Value::Str("1")),
        (tag::EPOCH, Value::I16(&numbers)),
        (tag::FILESIZES, Value::I16(&numbers)),
        (tag::FILEMODES, Value::I16(&numbers)),
        (tag::DIRNAMES, Value::Strs(&dirs)),
        (tag::BASENAMES, Value::Strs(&["f"])),
        (tag::DIRINDEXES, Value::I32(&[0])),
    ]);
    let p = full(&Header::parse(&h).unwrap()).unwrap();
    assert_eq!((p.name.as_str(), p.version.as_str()), ("n", "7:1"));
    assert_eq!(p.size, Some(14_000_000));
    assert_eq!(p.files, [b"d/f".to_vec()]);
}

#[test]
fn a_dribble_entry_after_the_region_replaces_the_region_s_copy_as_in_rpm() {
    let h = blob(&[
        (tag::NAME, Value::Str("a")),
        (tag::VERSION, Value::Str("1")),
        (tag::VERSION, Value::Str("2")),
    ]);
    assert_eq!(full(&Header::parse(&h).unwrap()).unwrap().version, "2");
}

#[test]
fn a_header_claiming_two_to_the_31_entries_is_refused_before_any_allocation() {
    let mut h = sample();
    h[..4].copy_from_slice(&(1u32 << 31).to_be_bytes());
    assert_eq!(
        Header::parse(&h).err(),
        Some(HeaderError::TooManyEntries(1 << 31))
    );
    // At the cap, the index itself must be present.
    let mut h = sample();
    h[..4].copy_from_slice(&MAX_ENTRIES.to_be_bytes());
    assert_eq!(
        Header::parse(&h).err(),
        Some(HeaderError::Truncated("index"))
    );
}
