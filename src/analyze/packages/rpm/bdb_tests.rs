//! The Berkeley DB reader on the committed fixtures (both byte orders) and
//! on damaged copies: truncated, looping and over-long overflow chains.

use super::*;

const LE: &[u8] = include_bytes!("../../../../fixtures/rpm/Packages");
const BE: &[u8] = include_bytes!("../../../../fixtures/rpm/Packages.be");
const SQLITE: &[u8] = include_bytes!("../../../../fixtures/rpm/rpmdb.sqlite");

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

/// Page numbers of the overflow pages of a little-endian fixture copy.
fn overflow_pages(file: &[u8]) -> Vec<usize> {
    (1..file.len() / 4096)
        .filter(|p| file[p * 4096 + 25] == page::OVERFLOW)
        .collect()
}

#[test]
fn both_byte_orders_hold_the_sqlite_fixture_s_header_blobs() {
    let expected = sorted(super::super::sqlite::blobs(SQLITE).unwrap());
    assert_eq!(sorted(values(LE).unwrap()), expected);
    assert_eq!(sorted(values(BE).unwrap()), expected);
    // One header (libdemo's, ~9.7 KB) spans a chain of several 4 KiB pages.
    assert!(expected.iter().any(|b| b.len() > 2 * 4096));
    assert!(overflow_pages(LE).len() > expected.len());
}

#[test]
fn truncated_or_foreign_files_are_errors() {
    for cut in [0, 12, 100, 4096, LE.len() - 1] {
        assert!(values(&LE[..cut]).is_err(), "cut at {cut}");
    }
    assert_eq!(values(&[0u8; 4096]), Err(BdbError::NotHash));
    let mut odd = LE.to_vec();
    odd[20..24].copy_from_slice(&1000u32.to_le_bytes());
    assert_eq!(values(&odd), Err(BdbError::PageSize(1000)));
    let mut huge = LE.to_vec();
    huge[32..36].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(values(&huge), Err(BdbError::Truncated(u32::MAX)));
}

#[test]
fn a_looping_or_dangling_overflow_chain_is_an_error() {
    for p in overflow_pages(LE) {
        let at = p * 4096 + 16;
        let mut looped = LE.to_vec();
        looped[at..at + 4].copy_from_slice(&(p as u32).to_le_bytes());
        assert!(values(&looped).is_err(), "page {p} looping");
        let mut dangling = LE.to_vec();
        dangling[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(values(&dangling).is_err(), "page {p} dangling");
        let mut long = LE.to_vec();
        long[p * 4096 + 22..p * 4096 + 24].copy_from_slice(&u16::MAX.to_le_bytes());
        assert!(values(&long).is_err(), "page {p} over-long");
    }
}

#[test]
fn any_single_corrupted_byte_gives_values_or_an_error_never_a_panic() {
    for at in (0..LE.len()).step_by(7) {
        let mut bad = LE.to_vec();
        bad[at] ^= 0xa5;
        let _ = values(&bad);
    }
}

/// A little-endian hash file of 512-byte pages: `hash` hash pages of 27
/// pairs, every value an empty overflow item starting at the first of
/// `chain` overflow pages that hold nothing and link to the next.
fn shared_chain(hash: usize, chain: usize) -> Vec<u8> {
    const PS: usize = 512;
    let last = hash + chain;
    let mut f = vec![0u8; (last + 1) * PS];
    f[12..16].copy_from_slice(&HASH_MAGIC.to_le_bytes());
    f[20..24].copy_from_slice(&(PS as u32).to_le_bytes());
    f[25] = page::HASH_META;
    f[32..36].copy_from_slice(&(last as u32).to_le_bytes());
    let first = hash as u32 + 1;
    for pg in 1..=hash {
        let p = &mut f[pg * PS..(pg + 1) * PS];
        p[25] = page::HASH;
        p[20..22].copy_from_slice(&54u16.to_le_bytes());
        let mut end = PS;
        for i in 0..54 {
            let item: Vec<u8> = if i % 2 == 0 {
                vec![item::KEYDATA, 1]
            } else {
                let mut v = vec![item::OFFPAGE, 0, 0, 0];
                v.extend(first.to_le_bytes());
                v.extend(0u32.to_le_bytes());
                v
            };
            end -= item.len();
            p[end..end + item.len()].copy_from_slice(&item);
            p[HEADER + 2 * i..HEADER + 2 * i + 2].copy_from_slice(&(end as u16).to_le_bytes());
        }
    }
    for pg in hash + 1..=last {
        let p = &mut f[pg * PS..(pg + 1) * PS];
        p[25] = page::OVERFLOW;
        let next = if pg == last { 0 } else { pg as u32 + 1 };
        p[16..20].copy_from_slice(&next.to_le_bytes());
    }
    f
}

#[test]
fn items_sharing_one_long_overflow_chain_stop_after_the_file_s_pages() {
    // Two items may walk a chain the length of the file; 27 000 items over
    // a 1 000-page chain once took 27 million page reads.
    assert_eq!(values(&shared_chain(1, 3)), Err(BdbError::SharedOverflow));
    assert_eq!(
        values(&shared_chain(1_000, 1_000)),
        Err(BdbError::SharedOverflow)
    );
}

#[test]
fn a_huge_page_size_or_item_count_is_an_error() {
    for size in [1u32 << 31, 1 << 17, 256, 0] {
        let mut odd = LE.to_vec();
        odd[20..24].copy_from_slice(&size.to_le_bytes());
        assert_eq!(values(&odd), Err(BdbError::PageSize(size)));
    }
    // Page 1 (a hash page) claiming 65 535 items, then 2 047 (past the page).
    for n in [u16::MAX, 2047, 2048] {
        let mut bad = shared_chain(1, 1);
        bad[512 + 20..512 + 22].copy_from_slice(&n.to_le_bytes());
        assert!(
            matches!(values(&bad), Err(BdbError::BadPage { page: 1, .. })),
            "{n}"
        );
    }
}
