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
}
