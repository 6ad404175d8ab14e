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
