//! Loaders for alexandria3k's ASJC table: its `Code;Field;Subject area` file and the
//! `asjcs`, `asjc_general_fields` and `asjc_subject_areas` tables of its databases.
//!
//! alexandria3k lists some codes twice with different spellings ("Archaeology" and
//! "Archeology" for `1204`); the first row of a code gives its primary name and later rows
//! alternative spellings. General fields appear as `General Medicine`; their short name
//! ("Medicine") comes from `asjc_general_fields` or, in the file, from dropping `General `.

use std::path::Path;

use rusqlite::types::Value;

use super::{area_code_for, Draft, Level, Taxonomy};
use crate::CorpusError;

/// Header columns that the file must start with, compared case-insensitively.
const CSV_HEADER: [&str; 3] = ["Code", "Field", "Subject area"];

impl Taxonomy {
    /// Loads alexandria3k's `Code;Field;Subject area` table (semicolon-separated, with a
    /// header row; further columns are ignored).
    pub fn from_a3k_csv(path: &Path) -> Result<Taxonomy, CorpusError> {
        let table_error = |line: u64, message: String| CorpusError::Table {
            path: path.to_path_buf(),
            line,
            message,
        };
        let csv_error = |error: csv::Error| {
            let line = error.position().map_or(0, |position| position.line());
            match error.into_kind() {
                csv::ErrorKind::Io(source) => CorpusError::Open {
                    path: path.to_path_buf(),
                    source,
                },
                kind => table_error(line, format!("{kind:?}")),
            }
        };

        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b';')
            .flexible(true)
            .from_path(path)
            .map_err(csv_error)?;
        let header = reader.headers().map_err(csv_error)?.clone();
        let header_matches = CSV_HEADER.iter().enumerate().all(|(column, expected)| {
            header
                .get(column)
                .is_some_and(|found| found.trim().eq_ignore_ascii_case(expected))
        });
        if !header_matches {
            return Err(table_error(
                1,
                format!(
                    "expected the header `Code;Field;Subject area`, found `{}`",
                    header.iter().collect::<Vec<_>>().join(";")
                ),
            ));
        }

        let mut draft = Draft::default();
        for record in reader.records() {
            let record = record.map_err(csv_error)?;
            let line = record.position().map_or(0, |position| position.line());
            let (Some(code), Some(name), Some(area)) =
                (record.get(0), record.get(1), record.get(2))
            else {
                return Err(table_error(
                    line,
                    "expected 3 columns: code, name, subject area".into(),
                ));
            };
            add_row(&mut draft, code.trim(), name, area)
                .map_err(|message| table_error(line, message))?;
        }
        draft.build().map_err(|message| table_error(0, message))
    }

    /// Loads the ASJC tables that `a3k populate DB asjcs` creates in an alexandria3k
    /// database: `asjcs(id, field, subject_area_id, general_field_id)`,
    /// `asjc_general_fields(id, name)` and `asjc_subject_areas(id, name)`.
    pub fn from_a3k_database(conn: &rusqlite::Connection) -> Result<Taxonomy, CorpusError> {
        let areas = query_pairs(
            conn,
            "asjc_subject_areas",
            "SELECT id, name FROM asjc_subject_areas",
        )?;
        let fields = query_pairs(
            conn,
            "asjc_general_fields",
            "SELECT id, name FROM asjc_general_fields",
        )?;
        let rows = query_rows(
            conn,
            "asjcs",
            "SELECT id, field, subject_area_id, general_field_id FROM asjcs",
        )?;
        let invalid = |message: String| CorpusError::A3kTable {
            table: "asjcs".into(),
            message,
        };
        if rows.is_empty() {
            return Err(invalid(
                "the table is empty; run `a3k populate DATABASE asjcs` to fill it".into(),
            ));
        }

        let mut draft = Draft::default();
        // Short field names first, so that they become the primary names of the fields.
        for (id, name) in &fields {
            let code = four_digit_code(id).ok_or_else(|| CorpusError::A3kTable {
                table: "asjc_general_fields".into(),
                message: format!("invalid general field id `{id}`"),
            })?;
            let area = rows
                .iter()
                .find(|row| four_digit_code(&row[0]).as_deref() == Some(code.as_str()))
                .and_then(|row| areas.iter().find(|(area_id, _)| *area_id == row[2]))
                .map(|(_, area_name)| area_name.as_str())
                .ok_or_else(|| {
                    invalid(format!(
                        "general field `{code}` has no row with a known subject area"
                    ))
                })?;
            draft.add(Level::Area, &area_code_for(area), None, area);
            draft.add(Level::Field, &code, Some(&area_code_for(area)), name);
        }
        for row in &rows {
            let [id, field, area_id, _] = row;
            let code =
                four_digit_code(id).ok_or_else(|| invalid(format!("invalid ASJC code `{id}`")))?;
            let area = areas
                .iter()
                .find(|(known, _)| known == area_id)
                .map(|(_, name)| name.as_str())
                .ok_or_else(|| {
                    invalid(format!(
                        "code `{code}` names unknown subject area `{area_id}`"
                    ))
                })?;
            add_row(&mut draft, &code, field, area).map_err(invalid)?;
        }
        draft.build().map_err(invalid)
    }
}

/// Adds one row of alexandria3k's table: a general field when the code ends in `00`, a
/// subject code below the field of its first two digits otherwise.
fn add_row(draft: &mut Draft, code: &str, name: &str, area: &str) -> Result<(), String> {
    let code = four_digit_code(code).ok_or_else(|| format!("invalid ASJC code `{code}`"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("code `{code}` has an empty name"));
    }
    if code.ends_with("00") {
        let area_code = area_code_for(area);
        draft.add(Level::Area, &area_code, None, area);
        let short_name = name.strip_prefix("General ").unwrap_or(name);
        draft.add(Level::Field, &code, Some(&area_code), short_name);
        draft.add(Level::Field, &code, Some(&area_code), name);
    } else {
        let field = format!("{}00", &code[..2]);
        draft.add(Level::Subject, &code, Some(&field), name);
    }
    Ok(())
}

/// Returns `text` as a four-digit ASJC code, or None when it is anything else.
fn four_digit_code(text: &str) -> Option<String> {
    let text = text.trim();
    (text.len() == 4 && text.bytes().all(|byte| byte.is_ascii_digit())).then(|| text.to_string())
}

/// Renders an SQLite value as text; alexandria3k stores codes as text in some tables and
/// as integers in others.
fn value_text(value: Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Integer(number) => number.to_string(),
        Value::Real(number) => number.to_string(),
        Value::Text(text) => text,
        Value::Blob(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn query_pairs(
    conn: &rusqlite::Connection,
    table: &str,
    sql: &str,
) -> Result<Vec<(String, String)>, CorpusError> {
    let rows = query_rows::<2>(conn, table, sql)?;
    Ok(rows.into_iter().map(|[id, name]| (id, name)).collect())
}

fn query_rows<const N: usize>(
    conn: &rusqlite::Connection,
    table: &str,
    sql: &str,
) -> Result<Vec<[String; N]>, CorpusError> {
    let query_error = |source| CorpusError::A3kQuery {
        table: table.to_string(),
        source,
    };
    let mut statement = conn.prepare(sql).map_err(query_error)?;
    let rows = statement
        .query_map([], |row| {
            let mut values: [String; N] = std::array::from_fn(|_| String::new());
            for (column, value) in values.iter_mut().enumerate() {
                *value = value_text(row.get::<_, Value>(column)?);
            }
            Ok(values)
        })
        .map_err(query_error)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(query_error)
}
