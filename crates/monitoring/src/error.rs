//! The error type of the monitoring crate.

use std::path::PathBuf;

/// Failure to build, read or store monitoring data. Drift itself is never an error.
#[derive(Debug, thiserror::Error)]
pub enum MonitoringError {
    #[error("failed to {action} `{path}`: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("invalid JSON in {what}: {source}")]
    Json {
        what: String,
        #[source]
        source: serde_json::Error,
    },

    #[error("{what} has {actual} rows, expected {expected} (one per work)")]
    RowCount { what: &'static str, expected: usize, actual: usize },

    #[error("reference profile {origin} has format version {found}, this build reads version {expected}; rebuild the profile by retraining the model")]
    ProfileVersion { origin: String, found: u32, expected: u32 },

    #[error("invalid CSV `{path}`: {source}")]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },

    #[error("CSV `{path}` has no header row; the first row must name the columns")]
    CsvHeader { path: PathBuf },

    #[error("the CSV tables share no column: reference `{reference}` and current `{current}`")]
    NoSharedColumns { reference: PathBuf, current: PathBuf },

    #[error("invalid prediction log `{path}` line {line}: {message}")]
    PredictionLog { path: PathBuf, line: u64, message: String },

    #[error("model {model} version {version} has no reference profile (metadata field `profile.hash`); retrain it with a pipeline that stores the profile")]
    NoProfile { model: String, version: u32 },

    #[error(transparent)]
    Store(#[from] store::StoreError),
}
