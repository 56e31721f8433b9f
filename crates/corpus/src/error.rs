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
}
