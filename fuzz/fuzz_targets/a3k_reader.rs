//! Fuzzes the alexandria3k SQLite reader in one of two modes, chosen by bit 0 of the first
//! byte.
//!
//! - File mode (bit 0 clear): the rest of the input is the database file. Seeded with a small
//!   valid alexandria3k database, so mutations reach damaged pages and changed cells rather
//!   than stopping at SQLite's header check.
//! - Table mode (bit 0 set): the rest of the input lists the cells of `works`,
//!   `work_subjects` and `works_asjcs`, which the target writes into a new database before
//!   reading it. Any cell may hold any SQLite storage class, and inputs reach the reader's
//!   row handling without having to form a valid database file. Bits 1 and 2 create
//!   `work_subjects` and `works_asjcs`, and bit 3 leaves out `works`.
//!
//! Table-mode layout: byte 0x1E separates the three tables' sections, in the order above,
//! and byte 0x1F separates cells. Cells fill rows left to right (10 columns for `works`, the
//! ones the reader selects, and 2 for the others), and a short last row is padded with NULL.
//! A cell's first byte picks its type: `n` NULL, `i` integer, `r` real, `b` blob, `t` text
//! of the bytes after the tag. An integer or real that does not parse stores the bytes after
//! its tag as text, and a cell starting with any other byte is text as a whole, so most DOIs
//! and names need no tag.
//!
//! NOTE: the bundled SQLite is C code built without coverage instrumentation, so libFuzzer
//! counts a file-mode mutation as new coverage only when it changes what the Rust reader
//! does. File mode therefore keeps few inputs, and table mode does most of the exploring.

#![no_main]

use corpus::SourceFormat;
use libfuzzer_sys::fuzz_target;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};
use topicops_fuzz::{read_back, scratch_path, write_input, Layout};

/// Separates the sections of the three tables.
const TABLE_SEPARATOR: u8 = 0x1E;
/// Separates the cells of one table.
const CELL_SEPARATOR: u8 = 0x1F;
/// Maximum rows written to each table, so that building the database stays a small part of
/// each run.
const MAX_ROWS_PER_TABLE: usize = 64;

/// The `works` columns the reader selects, in the alexandria3k schema's names.
const WORKS_COLUMNS: [&str; 10] = [
    "id",
    "doi",
    "title",
    "abstract",
    "container_title",
    "publisher",
    "type",
    "published_year",
    "issn_print",
    "issn_electronic",
];
const SUBJECTS_COLUMNS: [&str; 2] = ["work_id", "name"];
const ASJCS_COLUMNS: [&str; 2] = ["work_id", "asjc_id"];

/// One value to store, in any of SQLite's storage classes.
enum Cell<'a> {
    Null,
    Integer(i64),
    Real(f64),
    /// Bytes stored as TEXT without a UTF-8 check, as SQLite allows.
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl<'a> Cell<'a> {
    /// Decodes one cell of the table-mode layout.
    fn decode(bytes: &'a [u8]) -> Cell<'a> {
        let Some((&tag, payload)) = bytes.split_first() else {
            return Cell::Text(bytes);
        };
        let number = std::str::from_utf8(payload).ok();
        match tag {
            b'n' => Cell::Null,
            b'i' => number
                .and_then(|text| text.parse().ok())
                .map_or(Cell::Text(payload), Cell::Integer),
            b'r' => number
                .and_then(|text| text.parse().ok())
                .map_or(Cell::Text(payload), Cell::Real),
            b'b' => Cell::Blob(payload),
            b't' => Cell::Text(payload),
            _ => Cell::Text(bytes),
        }
    }
}

impl ToSql for Cell<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        let value = match *self {
            Cell::Null => ValueRef::Null,
            Cell::Integer(value) => ValueRef::Integer(value),
            Cell::Real(value) => ValueRef::Real(value),
            Cell::Text(bytes) => ValueRef::Text(bytes),
            Cell::Blob(bytes) => ValueRef::Blob(bytes),
        };
        Ok(ToSqlOutput::Borrowed(value))
    }
}

/// Creates `table` without column types, as alexandria3k does, and fills it with `cells`.
fn write_table(connection: &Connection, table: &str, columns: &[&str], cells: &[u8]) {
    let create = format!("CREATE TABLE {table}({})", columns.join(", "));
    connection
        .execute(&create, [])
        .expect("a fuzz table is created");
    if cells.is_empty() {
        return;
    }

    let placeholders = vec!["?"; columns.len()].join(", ");
    let insert = format!("INSERT INTO {table} VALUES ({placeholders})");
    let mut statement = connection
        .prepare(&insert)
        .expect("the insert statement is prepared");
    let values: Vec<Cell<'_>> = cells
        .split(|&byte| byte == CELL_SEPARATOR)
        .map(Cell::decode)
        .collect();
    for row in values.chunks(columns.len()).take(MAX_ROWS_PER_TABLE) {
        let mut parameters: Vec<&dyn ToSql> = row.iter().map(|cell| cell as &dyn ToSql).collect();
        parameters.resize(columns.len(), &Cell::Null);
        statement
            .execute(parameters.as_slice())
            .expect("a fuzz row is inserted");
    }
}

/// Writes the tables that `flags` and `sections` describe into a new database and returns
/// its path.
fn build_database(flags: u8, sections: &[u8]) -> std::path::PathBuf {
    let path = scratch_path("works.db");
    let connection = Connection::open(&path).expect("the fuzz database is created");
    connection
        .execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN")
        .expect("the fuzz database is set up");

    let parts: Vec<&[u8]> = sections
        .splitn(3, |&byte| byte == TABLE_SEPARATOR)
        .collect();
    let section = |index: usize| parts.get(index).copied().unwrap_or_default();
    if flags & 0b1000 == 0 {
        write_table(&connection, "works", &WORKS_COLUMNS, section(0));
    }
    if flags & 0b0010 != 0 {
        write_table(&connection, "work_subjects", &SUBJECTS_COLUMNS, section(1));
    }
    if flags & 0b0100 != 0 {
        write_table(&connection, "works_asjcs", &ASJCS_COLUMNS, section(2));
    }
    connection
        .execute_batch("COMMIT")
        .expect("the fuzz rows are committed");
    path
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let path = if flags & 1 == 0 {
        write_input("works.db", Layout::Plain, rest)
    } else {
        build_database(flags, rest)
    };
    read_back(&path, Some(SourceFormat::A3k));
});
