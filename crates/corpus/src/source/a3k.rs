//! alexandria3k SQLite databases (`a3k populate DB crossref ...`) to [`Work`].
//!
//! The database is opened read-only. `works` is read in `id` order and merged with
//! `work_subjects` (names, labelled through [`LabelSources::label_work`]) and, where present,
//! `works_asjcs` (codes, [`LabelSource::A3kWorksAsjcs`]) read in `work_id` order, so rows
//! stream without an index and without holding a table in memory. alexandria3k creates its
//! tables without column types, so every value is read tolerantly.
//!
//! NOTE: the three `ORDER BY` queries make SQLite sort each table (in temporary files when
//! it is large) before the first row arrives.

use std::path::Path;
use std::sync::Arc;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Row};

use super::fields::{normalize_doi, push_issn};
use super::record::{emit_work, Parsed};
use super::{FileStatus, FileSummary, Origin, Record};
use crate::clean::clean_markup;
use crate::labels::LabelSources;
use crate::validate::{Problem, ProblemKind};
use crate::{CorpusError, Label, LabelSource, Work};

const WORKS_QUERY: &str = "SELECT id, doi, title, abstract, container_title, publisher, type, published_year, \
     issn_print, issn_electronic FROM works ORDER BY id";
const SUBJECTS_QUERY: &str = "SELECT work_id, name FROM work_subjects ORDER BY work_id";
const ASJCS_QUERY: &str = "SELECT work_id, asjc_id FROM works_asjcs ORDER BY work_id";

/// Opens an alexandria3k database read-only (`mode=ro` URI and the read-only flag), so that
/// reading can never change the user's file.
pub fn open_read_only(path: &Path) -> Result<Connection, CorpusError> {
    let uri = format!("file:{}?mode=ro", percent_encode_path(&path.to_string_lossy()));
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Connection::open_with_flags(uri, flags).map_err(|source| CorpusError::A3kOpen { path: path.to_path_buf(), source })
}

/// Escapes the characters that end or alter a path inside an SQLite URI (`%` first, so
/// the escapes themselves are not escaped again).
fn percent_encode_path(path: &str) -> String {
    path.replace('%', "%25").replace('?', "%3F").replace('#', "%23")
}

/// Reads every work of the database at `path` into `sink`.
pub(crate) fn read_database(path: &Path, labels: &LabelSources, sink: &mut dyn FnMut(Record) -> bool) {
    let file: Arc<Path> = Arc::from(path);
    let mut records = 0u64;
    let outcome = open_read_only(path).and_then(|connection| read_rows(&connection, &file, labels, &mut records, sink));
    let status = match outcome {
        Ok(true) => FileStatus::Complete,
        Ok(false) => return,
        Err(error) => {
            let problem = Problem::new(ProblemKind::UnreadableFile, path, format!("{error}; {records} works were read before"));
            if !sink(Record::Problem(problem)) {
                return;
            }
            if records == 0 {
                FileStatus::Failed
            } else {
                FileStatus::Incomplete
            }
        }
    };
    sink(Record::FileDone(FileSummary { path: path.to_path_buf(), status, records, layout: None }));
}

fn query_error(table: &'static str) -> impl Fn(rusqlite::Error) -> CorpusError {
    move |source| CorpusError::A3kQuery { table: table.to_string(), source }
}

fn table_exists(connection: &Connection, table: &str) -> Result<bool, CorpusError> {
    connection
        .query_row("SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name = ?1", [table], |row| row.get::<_, i64>(0))
        .map(|count| count > 0)
        .map_err(|source| CorpusError::A3kQuery { table: table.to_string(), source })
}

/// A sorted `(work_id, value)` cursor merged against the works in id order.
struct SideTable<'s> {
    rows: Option<rusqlite::Rows<'s>>,
    table: &'static str,
    /// The next row: its work id ([`row_id`]) and value.
    peeked: Option<(Option<i64>, Option<String>)>,
}

impl<'s> SideTable<'s> {
    /// Returns the values of rows whose work id is `work_id`, skipping rows of lower ids
    /// (rows whose work is missing from `works`). A work without an integer id gets no
    /// rows, and rows without one are skipped.
    fn take_for(&mut self, work_id: Option<i64>) -> Result<Vec<String>, CorpusError> {
        let mut values = Vec::new();
        let Some(work_id) = work_id else {
            return Ok(values);
        };
        loop {
            if self.peeked.is_none() {
                let Some(rows) = self.rows.as_mut() else {
                    return Ok(values);
                };
                let next = rows.next().map_err(|source| CorpusError::A3kQuery { table: self.table.to_string(), source })?;
                match next {
                    Some(row) => self.peeked = Some((row_id(row, 0), text(row, 1))),
                    None => {
                        self.rows = None;
                        return Ok(values);
                    }
                }
            }
            let Some((id, _)) = &self.peeked else {
                return Ok(values);
            };
            // SQLite sorts rows without an integer id (NULL before the numbers, text after
            // them) apart from the numbers, so they match no work and are dropped.
            if id.is_some_and(|id| id > work_id) {
                return Ok(values);
            }
            if let Some((id, value)) = self.peeked.take() {
                if id == Some(work_id) {
                    values.extend(value);
                }
            }
        }
    }
}

/// Streams the works; returns Ok(false) when the sink stopped reading.
fn read_rows(
    connection: &Connection,
    file: &Arc<Path>,
    labels: &LabelSources,
    records: &mut u64,
    sink: &mut dyn FnMut(Record) -> bool,
) -> Result<bool, CorpusError> {
    let mut works_statement = connection.prepare(WORKS_QUERY).map_err(query_error("works"))?;
    let mut subjects_statement = match table_exists(connection, "work_subjects")? {
        true => Some(connection.prepare(SUBJECTS_QUERY).map_err(query_error("work_subjects"))?),
        false => None,
    };
    let mut asjcs_statement = match table_exists(connection, "works_asjcs")? {
        true => Some(connection.prepare(ASJCS_QUERY).map_err(query_error("works_asjcs"))?),
        false => None,
    };

    let mut subjects = SideTable { rows: None, table: "work_subjects", peeked: None };
    if let Some(statement) = subjects_statement.as_mut() {
        subjects.rows = Some(statement.query([]).map_err(query_error("work_subjects"))?);
    }
    let mut asjcs = SideTable { rows: None, table: "works_asjcs", peeked: None };
    if let Some(statement) = asjcs_statement.as_mut() {
        asjcs.rows = Some(statement.query([]).map_err(query_error("works_asjcs"))?);
    }

    let mut rows = works_statement.query([]).map_err(query_error("works"))?;
    while let Some(row) = rows.next().map_err(query_error("works"))? {
        *records += 1;
        let work_id = row_id(row, 0);
        let names = dedup(subjects.take_for(work_id)?);
        let codes = asjcs.take_for(work_id)?;
        if !emit_row(row, work_id, names, codes, file, labels, sink) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Builds the work of one `works` row and emits it (or its problem).
fn emit_row(
    row: &Row<'_>,
    work_id: Option<i64>,
    subject_names: Vec<String>,
    asjc_codes: Vec<String>,
    file: &Arc<Path>,
    labels: &LabelSources,
    sink: &mut dyn FnMut(Record) -> bool,
) -> bool {
    let cleaned = |index: usize| text(row, index).map(|value| clean_markup(&value)).filter(|value| !value.is_empty());
    let Some(id) = text(row, 1).as_deref().and_then(normalize_doi) else {
        let raw = serde_json::json!({"id": work_id, "doi": text(row, 1), "title": text(row, 2)}).to_string();
        let shown_id = work_id.map_or_else(|| "NULL".to_string(), |id| id.to_string());
        let problem = Problem::new(ProblemKind::MissingId, file.as_ref(), format!("row with `works.id` {shown_id} has no DOI")).with_raw(raw);
        return sink(Record::Problem(problem));
    };

    let mut issns = Vec::new();
    for index in [8, 9] {
        if let Some(issn) = text(row, index) {
            push_issn(&mut issns, &issn);
        }
    }
    let mut work_labels: Vec<Label> = Vec::new();
    for code in asjc_codes {
        let code = code.trim().to_string();
        if !code.is_empty() && !work_labels.iter().any(|label| label.code == code) {
            work_labels.push(Label { code, source: LabelSource::A3kWorksAsjcs });
        }
    }
    let year = integer(row, 7).and_then(|year| i32::try_from(year).ok()).filter(|year| *year > 0);
    let work = Work {
        id,
        title: cleaned(2),
        abstract_text: cleaned(3),
        venue: cleaned(4),
        issns,
        publisher: cleaned(5),
        work_type: text(row, 6).map(|value| value.trim().to_string()).filter(|value| !value.is_empty()),
        year,
        indexed_ms: None,
        labels: work_labels,
    };
    let raw_id = work.id.clone();
    let parsed = Parsed { work, subjects: Some(subject_names), warnings: Vec::new() };
    let origin = Origin { file: Arc::clone(file), line: None };
    emit_work(parsed, origin, labels, || serde_json::json!({"id": work_id, "doi": raw_id}).to_string(), sink)
}

fn dedup(names: Vec<String>) -> Vec<String> {
    let mut unique: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let trimmed = name.trim();
        if !trimmed.is_empty() && !unique.iter().any(|seen| seen == trimmed) {
            unique.push(trimmed.to_string());
        }
    }
    unique
}

/// Reads a column as text whatever its storage class (alexandria3k declares no types).
fn text(row: &Row<'_>, index: usize) -> Option<String> {
    match row.get_ref(index).ok()? {
        ValueRef::Null => None,
        ValueRef::Integer(value) => Some(value.to_string()),
        ValueRef::Real(value) => Some(value.to_string()),
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// Reads an id column as SQLite's `ORDER BY` sorts it among numbers: an integer or a whole
/// real. Text, even text holding a number, sorts after every number, so it is no id here.
fn row_id(row: &Row<'_>, index: usize) -> Option<i64> {
    match row.get_ref(index).ok()? {
        ValueRef::Integer(value) => Some(value),
        ValueRef::Real(value) if value.fract() == 0.0 => Some(value as i64),
        _ => None,
    }
}

/// Reads a column as an integer: an integer, a whole real, or text holding one.
fn integer(row: &Row<'_>, index: usize) -> Option<i64> {
    match row.get_ref(index).ok()? {
        ValueRef::Integer(value) => Some(value),
        ValueRef::Real(value) if value.fract() == 0.0 => Some(value as i64),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes).ok()?.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_escapes_query_characters() {
        assert_eq!(percent_encode_path("/data/a?b#c%d.db"), "/data/a%3Fb%23c%25d.db");
        assert_eq!(percent_encode_path("/données/x?.db"), "/données/x%3F.db");
    }

    #[test]
    fn side_rows_join_integer_ids_only() {
        // SQLite sorts NULL before numbers and text after them, and an SQL join would never
        // match NULL; the merge must not pair NULL with NULL or text with a number.
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("a3k.db");
        let connection = Connection::open(&path).unwrap();
        connection
            .execute_batch(
                "CREATE TABLE works (id, doi, title, abstract, container_title, publisher, type, published_year, issn_print, issn_electronic);
                 CREATE TABLE work_subjects (work_id, name);
                 INSERT INTO works (id, doi, title) VALUES (NULL, '10.1/null', 'N'), (1, '10.1/one', 'O'), ('1', '10.1/text', 'T');
                 INSERT INTO work_subjects VALUES (NULL, 'Ecology'), (1, 'Dermatology'), ('1', 'Oncology');",
            )
            .unwrap();
        drop(connection);

        let labels = LabelSources::new(crate::taxonomy::Taxonomy::builtin());
        let mut subjects: Vec<(String, Vec<String>)> = Vec::new();
        read_database(&path, &labels, &mut |record| {
            if let Record::Work(work) = record {
                subjects.push((work.work.id, work.subjects));
            }
            true
        });
        assert_eq!(
            subjects,
            vec![
                ("10.1/null".to_string(), vec![]),
                ("10.1/one".to_string(), vec!["Dermatology".to_string()]),
                ("10.1/text".to_string(), vec![]),
            ]
        );
    }

    #[test]
    fn missing_database_is_an_open_error() {
        let directory = tempfile::tempdir().unwrap();
        let error = open_read_only(&directory.path().join("absent.db")).unwrap_err();
        assert!(matches!(error, CorpusError::A3kOpen { .. }), "{error}");
    }
}
