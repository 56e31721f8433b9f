//! Errors of the corpus layer. Each variant carries the file, line or record it concerns.

use std::path::PathBuf;

/// An error that stops reading a whole file or table (a bad record is reported, not raised).
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("failed to open `{path}`: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid table `{path}` at line {line}: {message}")]
    Table {
        path: PathBuf,
        line: u64,
        message: String,
    },
    /// A query on an alexandria3k database failed (missing table or column, locked file).
    #[error("failed to read table `{table}` of the alexandria3k database: {source}")]
    A3kQuery {
        table: String,
        #[source]
        source: rusqlite::Error,
    },
    /// A table of an alexandria3k database is empty or holds an invalid row.
    #[error("invalid table `{table}` of the alexandria3k database: {message}")]
    A3kTable { table: String, message: String },
    /// The input directory holds no data file.
    #[error("no data files under `{path}`: expected files ending in .json, .jsonl, .ndjson (optionally .gz) or .gz")]
    NoInputFiles { path: PathBuf },
    /// The source format of a file could not be detected from its content.
    #[error("cannot tell the format of `{path}`: {detail}; pass the format explicitly with --format or `data.format` (crossref, a3k, openalex, arxiv or labelled)")]
    UnknownFormat { path: PathBuf, detail: String },
    /// An alexandria3k database could not be opened read-only.
    #[error("failed to open the alexandria3k database `{path}` read-only: {source}")]
    A3kOpen {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// Strict mode stopped at the first problem.
    #[error("{problem}; strict mode stops at the first problem (run without --strict, or with `data.strict = false`, to skip and count bad records)")]
    Strict { problem: Box<crate::validate::Problem> },
    /// Writing the corpus artifact or the quarantine file failed.
    #[error("failed to write `{path}`: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Encoding or decoding the Arrow IPC corpus artifact failed.
    #[error("failed to read or write the corpus artifact `{path}`: {source}")]
    Arrow {
        path: PathBuf,
        #[source]
        source: arrow_schema::ArrowError,
    },
    /// A corpus artifact lacks a column or holds a value of the wrong type.
    #[error("invalid corpus artifact `{path}`: {message}")]
    InvalidArtifact { path: PathBuf, message: String },
    /// Labels are required but no work of the input has one.
    #[error(
        "none of the {works} works read from `{path}` has a label; supply an ISSN-to-ASJC table \
         (alexandria3k's `issn_subject_codes` layout: `issn,subject_code`) or use records that \
         carry Crossref `subject` names"
    )]
    NoLabelledWorks { path: PathBuf, works: u64 },
}
