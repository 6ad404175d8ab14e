//! `rpmdb.sqlite`: the header blobs of its `Packages` table, read from an
//! in-memory, read-only copy of the database (nothing touches the disk).

use rusqlite::{Connection, OpenFlags, MAIN_DB};

use super::MAX_HEADERS;

/// Why a file is not a readable rpm sqlite database.
#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    /// SQLite's description of its result code (its messages may quote
    /// names from the file, so they are not shown).
    #[error("sqlite: {0}")]
    Sqlite(&'static str),
    #[error("no Packages table")]
    NoPackages,
    #[error("more than {MAX_HEADERS} headers")]
    TooMany,
    #[error("Packages has columns computed on read")]
    Computed,
    #[error("headers larger than the file (shared pages)")]
    TooLarge,
}

impl From<rusqlite::Error> for SqliteError {
    fn from(e: rusqlite::Error) -> Self {
        SqliteError::Sqlite(match e {
            rusqlite::Error::SqliteFailure(f, _) => rusqlite::ffi::code_to_str(f.extended_code),
            _ => "unexpected result",
        })
    }
}

const MAGIC: &[u8] = b"SQLite format 3\0";

/// The header blobs of `content`, in `hnum` order.
pub fn blobs(content: &[u8]) -> Result<Vec<Vec<u8>>, SqliteError> {
    // A WAL-mode database (rpm's default) opens in the in-memory VFS only
    // as a rollback-journal one: same pages, the version bytes say so. The
    // -wal file is not captured; rpm checkpoints it on every transaction end.
    // Only the 100-byte file header is copied to patch them: SQLite takes
    // its own copy of the rest.
    let (head, rest) = content.split_at(content.len().min(100));
    let mut head = head.to_vec();
    if head.starts_with(MAGIC) && head.len() >= 20 && head[18] == 2 && head[19] == 2 {
        head[18] = 1;
        head[19] = 1;
    }
    let mut db = Connection::open_in_memory_with_flags(
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let len = content.len();
    db.deserialize_read_exact(MAIN_DB, std::io::Read::chain(&head[..], rest), len, true)?;
    // Nothing the file declares (views, triggers, functions in its schema)
    // may run, nothing may be written, and a sort spills to memory only.
    db.pragma_update(None, "trusted_schema", "OFF")?;
    db.pragma_update(None, "query_only", "ON")?;
    db.pragma_update(None, "temp_store", "MEMORY")?;
    // table_list tells an ordinary table from a view or a virtual one (FTS,
    // R-tree, dbstat: modules whose hostile shadow tables need not be read).
    let table: Option<String> = db
        .query_row(
            "SELECT type FROM pragma_table_list WHERE schema = 'main' AND name = 'Packages'",
            [],
            |row| row.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    if table.as_deref() != Some("table") {
        return Err(SqliteError::NoPackages);
    }
    // A generated (virtual) column runs its expression on every read.
    let computed: i64 = db.query_row(
        "SELECT count(*) FROM pragma_table_xinfo('Packages', 'main') WHERE hidden != 0",
        [],
        |row| row.get(0),
    )?;
    if computed > 0 {
        return Err(SqliteError::Computed);
    }
    // rpm's hnum is the rowid (INTEGER PRIMARY KEY), so a plain scan is in
    // hnum order; an ORDER BY would sort a hostile table's every row (and
    // blob) in memory before the first reached the caps below.
    let mut stmt = db.prepare("SELECT blob FROM Packages")?;
    let mut rows = stmt.query([])?;
    let (mut out, mut total) = (Vec::new(), 0usize);
    while let Some(row) = rows.next()? {
        if out.len() == MAX_HEADERS {
            return Err(SqliteError::TooMany);
        }
        // A NULL or non-blob value is skipped as an empty header.
        let blob: Option<Vec<u8>> = row.get(0).ok();
        let blob = blob.unwrap_or_default();
        // SQLite keeps one value within the file; a corrupt b-tree naming
        // one page many times could still repeat it without end.
        total += blob.len();
        if total > len {
            return Err(SqliteError::TooLarge);
        }
        out.push(blob);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &[u8] = include_bytes!("../../../../fixtures/rpm/rpmdb.sqlite");

    #[test]
    fn the_fixture_has_four_headers_three_packages_and_a_key() {
        let blobs = blobs(FIXTURE).unwrap();
        assert_eq!(blobs.len(), 4);
        assert!(blobs.iter().all(|b| b.len() > 1000));
    }

    #[test]
    fn a_wal_mode_copy_reads_the_same() {
        let mut wal = FIXTURE.to_vec();
        wal[18] = 2;
        wal[19] = 2;
        assert_eq!(blobs(&wal).unwrap(), blobs(FIXTURE).unwrap());
    }

    /// A database made in memory by `sql`, as file bytes.
    fn made(sql: &str) -> Vec<u8> {
        let mut db = Connection::open_in_memory().unwrap();
        db.execute_batch(sql).unwrap();
        db.serialize(MAIN_DB).unwrap().to_vec()
    }

    #[test]
    fn a_packages_view_or_no_packages_table_is_refused() {
        let view = made("CREATE VIEW Packages AS SELECT 1 AS hnum, x'00' AS blob;");
        assert!(matches!(blobs(&view), Err(SqliteError::NoPackages)));
        for module in ["fts3(hnum, blob)", "fts5(hnum, blob)", "rtree(hnum, a, b)"] {
            let sql = format!("CREATE VIRTUAL TABLE Packages USING {module};");
            assert!(matches!(blobs(&made(&sql)), Err(SqliteError::NoPackages)));
        }
        let none = made("CREATE TABLE Other (x);");
        assert!(matches!(blobs(&none), Err(SqliteError::NoPackages)));
        let null = made("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB); INSERT INTO Packages VALUES (1, NULL);");
        assert_eq!(blobs(&null).unwrap(), [Vec::<u8>::new()]);
        let odd = made("CREATE TABLE Packages (hnum, blob); INSERT INTO Packages VALUES (1, 'text'), (2, 7), (3, 1.5), (4, x'01');");
        assert_eq!(blobs(&odd).unwrap(), [vec![], vec![], vec![], vec![1u8]]);
    }

    #[test]
    fn errors_name_sqlite_s_result_code_never_names_from_the_file() {
        let mut evil = made("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB); CREATE TABLE \"\x1b[31mevil\" (x);");
        // Break the evil table's schema text: SQLite's message quotes its name.
        let at = evil
            .windows(15)
            .position(|w| w == b"CREATE TABLE \"\x1b")
            .unwrap();
        evil[at] = b'X';
        let e = blobs(&evil).unwrap_err().to_string();
        assert!(!e.contains("evil"), "{e}");
    }

    #[test]
    fn a_b_tree_naming_one_leaf_many_times_cannot_read_more_than_the_file() {
        let mut db = made(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);
             INSERT INTO Packages (blob) VALUES (zeroblob(400000));
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 150)
             INSERT INTO Packages (blob) SELECT zeroblob(3000) FROM n;",
        );
        assert_eq!(blobs(&db).unwrap().len(), 151);
        // Point every child of the table's interior root at its first leaf.
        let root: i64 = {
            let mut c = Connection::open_in_memory().unwrap();
            c.deserialize_read_exact(MAIN_DB, db.as_slice(), db.len(), true)
                .unwrap();
            c.query_row(
                "SELECT rootpage FROM sqlite_schema WHERE name = 'Packages'",
                [],
                |r| r.get(0),
            )
            .unwrap()
        };
        let root = root as usize;
        let page = &mut db[(root - 1) * 4096..root * 4096];
        assert_eq!(page[0], 0x05, "an interior table page");
        let cells = usize::from(u16::from_be_bytes([page[3], page[4]]));
        let ptrs: Vec<usize> = (0..cells)
            .map(|i| usize::from(u16::from_be_bytes([page[12 + 2 * i], page[13 + 2 * i]])))
            .collect();
        let first: [u8; 4] = page[ptrs[0]..ptrs[0] + 4].try_into().unwrap();
        for at in ptrs {
            page[at..at + 4].copy_from_slice(&first);
        }
        page[8..12].copy_from_slice(&first);
        assert!(matches!(blobs(&db), Err(SqliteError::TooLarge)));
    }

    #[test]
    fn past_max_headers_rows_the_table_is_refused() {
        let many = made(&format!(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {})
             INSERT INTO Packages (blob) SELECT NULL FROM n;",
            MAX_HEADERS + 1
        ));
        assert!(matches!(blobs(&many), Err(SqliteError::TooMany)));
    }

    #[test]
    fn a_generated_column_is_refused_and_a_default_stays_a_literal() {
        // A column computed on every read: a 900 MB blob from an 8 KiB file.
        let generated = made(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, x, blob AS (zeroblob(900000000)));
             INSERT INTO Packages (x) VALUES (1);",
        );
        assert!(matches!(blobs(&generated), Err(SqliteError::Computed)));
        // Rows shorter than the schema read its default, but SQLite takes
        // only a literal there (a call reads as NULL): nothing grows.
        let short = made(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, x);
             INSERT INTO Packages (x) VALUES (1);
             PRAGMA writable_schema = ON;
             UPDATE sqlite_schema SET sql = 'CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, x, blob DEFAULT (zeroblob(900000000)))' WHERE name = 'Packages';",
        );
        let len = short.len();
        assert!(blobs(&short).map_or(true, |b| b.iter().all(|b| b.len() <= len)));
    }

    #[test]
    fn garbage_truncation_and_a_foreign_database_are_errors() {
        assert!(blobs(b"SQLite format 3\0").is_err());
        assert!(blobs(b"").is_err());
        assert!(blobs(&FIXTURE[..FIXTURE.len() / 3]).is_err());
        assert!(blobs(&[0xffu8; 4096]).is_err());
    }

    #[test]
    fn any_single_corrupted_byte_gives_blobs_or_an_error_never_a_panic() {
        for at in (0..FIXTURE.len()).step_by(61) {
            let mut bad = FIXTURE.to_vec();
            bad[at] ^= 0x5a;
            let _ = blobs(&bad);
        }
    }
}
