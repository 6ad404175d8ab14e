//! The tar reader's tests: archives written by the tar crate and by hand.

use super::*;

fn archive(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    build(&mut b);
    b.into_inner().unwrap()
}

fn file(b: &mut tar::Builder<Vec<u8>>, path: &str, content: &[u8]) {
    let mut h = Header::new_gnu();
    h.set_size(content.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(EntryType::Regular);
    b.append_data(&mut h, path, content).unwrap();
}

fn all(bytes: &[u8]) -> io::Result<Vec<(TarEntry, Vec<u8>)>> {
    let mut r = TarReader::new(bytes);
    let mut out = Vec::new();
    while let Some(e) = r.next_entry()? {
        let mut data = Vec::new();
        r.data().read_to_end(&mut data)?;
        out.push((e, data));
    }
    Ok(out)
}

#[test]
fn reads_members_long_names_and_pax_paths() {
    let long = format!("{}/f", "d".repeat(300));
    let bytes = archive(|b| {
        file(b, "a.txt", b"hello");
        file(b, &long, b"x");
    });
    let got = all(&bytes).unwrap();
    assert_eq!(got[0].0.path, b"a.txt");
    assert_eq!(got[0].1, b"hello");
    assert_eq!(got[1].0.path, long.as_bytes());
    assert_eq!(got[1].0.size, 1);
}

#[test]
fn pax_records_may_hold_newlines() {
    let p = Pax::parse(b"18 path=a\nb/c.txt\n12 uid=1000\n").unwrap();
    assert_eq!(p.path.as_deref(), Some(&b"a\nb/c.txt"[..]));
    assert_eq!(p.uid, Some(1000));
    assert!(Pax::parse(b"99 path=x\n").is_err());
}

#[test]
fn a_huge_declared_long_name_is_refused_before_it_is_read() {
    let mut h = Header::new_gnu();
    h.set_entry_type(EntryType::GNULongName);
    h.set_size(1 << 30);
    h.set_cksum();
    let mut bytes = h.as_bytes().to_vec();
    bytes.extend_from_slice(&[b'a'; 4096]);
    let err = all(&bytes).unwrap_err().to_string();
    assert!(err.contains("GNU long name of 1073741824 bytes"), "{err}");
}

#[test]
fn a_member_after_a_lone_zero_block_is_refused() {
    let one = archive(|b| file(b, "a", b"1"));
    let two = archive(|b| file(b, "b", b"2"));
    let mut bytes = one[..1024].to_vec();
    bytes.extend_from_slice(&[0u8; 512]);
    bytes.extend_from_slice(&two);
    let err = all(&bytes).unwrap_err().to_string();
    assert!(err.contains("lone zero block"), "{err}");
    // Two zero blocks end the archive; what follows is padding.
    assert_eq!(all(&one).unwrap().len(), 1);
}

#[test]
fn a_sparse_file_is_sized_by_its_map_and_never_expanded() {
    let mut h = Header::new_gnu();
    h.set_entry_type(EntryType::GNUSparse);
    h.set_size(4);
    h.set_mode(0o644);
    {
        let gnu = h.as_gnu_mut().unwrap();
        gnu.set_real_size(1 << 60);
        gnu.sparse[0].set_offset(1 << 59);
        gnu.sparse[0].set_length(4);
    }
    h.set_path("holes").unwrap();
    h.set_cksum();
    let mut bytes = h.as_bytes().to_vec();
    let mut data = b"data".to_vec();
    data.resize(512, 0);
    bytes.extend_from_slice(&data);
    bytes.extend_from_slice(&[0u8; 1024]);
    let got = all(&bytes).unwrap();
    assert_eq!(got[0].0.size, 1 << 60);
    assert_eq!(got[0].0.stored, 4);
    assert_eq!(got[0].0.sparse.as_deref(), Some(&[(1u64 << 59, 4u64)][..]));
    assert_eq!(got[0].1, b"data");
}

#[test]
fn truncated_archives_say_so() {
    let bytes = archive(|b| file(b, "a", &[7u8; 2000]));
    let err = all(&bytes[..1000]).unwrap_err().to_string();
    assert!(err.contains("archive ends in the middle"), "{err}");
}

/// Data handed out in place, a byte at a time, then skipped members and
/// padding: the hashing reader below sees every byte of the stream once.
#[test]
fn data_in_place_and_skips_pass_every_byte_once() {
    use crate::image::{Algorithm, Digest};
    use crate::layer::digest::HashingReader;
    let bytes = archive(|b| {
        file(b, "a", &[1u8; 1000]);
        file(b, "b", &[2u8; 513]);
        file(b, "c", b"");
        file(b, "d", &[3u8; 5]);
    });
    for capacity in [1, 7, 512, 1 << 16] {
        let inner = io::BufReader::with_capacity(capacity, &bytes[..]);
        let mut r = TarReader::new(HashingReader::new(inner, Algorithm::Sha256));
        let mut seen = Vec::new();
        while let Some(e) = r.next_entry().unwrap() {
            // "b" is skipped by next_entry; the others are read in place.
            if e.path != b"b" {
                let mut data = Vec::new();
                r.each_data_chunk(|c| data.extend_from_slice(c)).unwrap();
                seen.push((e.path, data.len()));
            }
        }
        assert_eq!(
            seen,
            [
                (b"a".to_vec(), 1000),
                (b"c".to_vec(), 0),
                (b"d".to_vec(), 5)
            ]
        );
        let (digest, count) = r.into_inner().finish().unwrap();
        assert_eq!(count, bytes.len() as u64, "capacity {capacity}");
        assert_eq!(digest, Some(Digest::sha256_of(&bytes)));
    }
}

#[test]
fn data_in_place_of_a_truncated_member_says_so() {
    let bytes = archive(|b| file(b, "a", &[7u8; 2000]));
    let mut r = TarReader::new(io::BufReader::with_capacity(3, &bytes[..1000]));
    r.next_entry().unwrap().unwrap();
    let err = r.each_data_chunk(|_| {}).unwrap_err().to_string();
    assert!(err.contains("archive ends in the middle"), "{err}");
}
