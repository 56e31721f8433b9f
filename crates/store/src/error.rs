//! The one error type of the store crate. Every variant carries the path, hash, run id or
//! model name it is about, and its message states what to do next.

use std::path::PathBuf;

/// Failure of an artifact store, metadata store or registry operation.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file system operation failed.
    #[error("failed to {action} `{path}`: {source}")]
    Io {
        /// The operation that failed, e.g. "create the temporary file".
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// No object with this hash is in the artifact store. Cached steps treat it as a miss.
    #[error(
        "artifact {hash}{} is missing from the artifact store (expected at `{path}`); \
         re-run the step that produces it or restore the store from a backup",
        describe(description)
    )]
    ArtifactMissing {
        hash: String,
        path: PathBuf,
        /// Name and media type of the artifact, when the metadata store has a record of it.
        description: Option<String>,
    },

    /// The object's content no longer hashes to its name. Cached steps treat it as a miss.
    #[error(
        "artifact {hash}{} is corrupt: `{path}` now hashes to {actual_hash}; \
         delete the file and re-run the step that produces it",
        describe(description)
    )]
    ArtifactCorrupt {
        hash: String,
        actual_hash: String,
        path: PathBuf,
        /// Name and media type of the artifact, when the metadata store has a record of it.
        description: Option<String>,
    },

    /// A string passed as an artifact hash is not 64 lowercase hexadecimal digits.
    #[error("invalid artifact hash `{hash}`: expected 64 lowercase hexadecimal digits (BLAKE3)")]
    InvalidHash { hash: String },

    /// SQLite returned an error.
    #[error("metadata store `{path}`: failed to {action}: {source}")]
    Sqlite {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: rusqlite::Error,
    },

    /// SQLite could not write because the file system holding the database is (nearly) full.
    #[error(
        "metadata store `{path}`: failed to {action}: the file system holding it has \
         {available_bytes} bytes free; free some space there, or point --store elsewhere, and retry"
    )]
    NoSpace {
        path: PathBuf,
        action: &'static str,
        available_bytes: u64,
        #[source]
        source: rusqlite::Error,
    },

    /// SQLite kept returning "database is locked" past the retry budget.
    #[error(
        "metadata store `{path}` stayed locked for {waited_ms} ms while trying to {action}; \
         another process holds a long write transaction: wait for it or stop it and retry"
    )]
    Busy {
        path: PathBuf,
        action: &'static str,
        waited_ms: u64,
    },

    /// The database was migrated by a newer topicops than this one.
    #[error(
        "metadata store `{path}` has schema version {found}, but this topicops supports up \
         to {supported}; upgrade topicops or point it at another store"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    /// A column contains a value this version cannot interpret.
    #[error("metadata store: invalid value `{value}` in {table}.{column}; the file may have been edited by hand")]
    InvalidRecord {
        table: &'static str,
        column: &'static str,
        value: String,
    },

    #[error(
        "run `{run_id}` not found in the metadata store; check the id against the list of runs"
    )]
    RunNotFound { run_id: String },

    /// The run has already ended, so it cannot be finished again.
    #[error("run `{run_id}` has already ended with status `{status}`")]
    RunNotRunning { run_id: String, status: String },

    #[error("step execution {execution_id} not found")]
    ExecutionNotFound { execution_id: i64 },

    /// The step execution has already ended, so it cannot be finished again.
    #[error("step execution {execution_id} has already ended with status `{status}`")]
    ExecutionNotRunning { execution_id: i64, status: String },

    /// Parameters are write-once per run.
    #[error(
        "run `{run_id}` already has parameter `{key}` = {existing}, refusing to overwrite \
         it with {new}; parameters are write-once per run, start a new run instead"
    )]
    ParamConflict {
        run_id: String,
        key: String,
        existing: String,
        new: String,
    },

    #[error("model `{model}` not found in the registry; register a version first")]
    ModelNotFound { model: String },

    #[error("model `{model}` has no version {version}; list the model's versions to pick an existing one")]
    VersionNotFound { model: String, version: u32 },

    #[error("model `{model}` has no alias `{alias}`; set the alias to a version first")]
    AliasNotFound { model: String, alias: String },

    /// A version to register depends on an artifact the metadata store has no record of.
    #[error(
        "artifact {hash} is not recorded in the metadata store; record it (as a step output \
         or with record_artifact) before registering a model version built from it"
    )]
    ArtifactNotRecorded { hash: String },

    /// Archiving a version that an alias points at would leave the alias dangling.
    #[error(
        "model `{model}` version {version} is still the target of alias(es) {aliases}; \
         move those aliases to another version first"
    )]
    VersionInUse {
        model: String,
        version: u32,
        aliases: String,
    },

    /// A rollback found no earlier version to return to.
    #[error(
        "cannot roll back alias `{alias}` of model `{model}`: it has never pointed to \
         another version; set it to a version explicitly instead"
    )]
    NoPreviousVersion { model: String, alias: String },

    /// An alias may not point to an archived version.
    #[error("model `{model}` version {version} is archived; un-archive it before pointing an alias at it")]
    VersionArchived { model: String, version: u32 },

    /// A model, alias, step, parameter or metric name breaks the naming rules.
    #[error("invalid {kind} `{name}`: {reason}")]
    InvalidName {
        kind: &'static str,
        name: String,
        reason: &'static str,
    },

    /// A JSON value passed in or read back could not be encoded or decoded.
    #[error("failed to encode or decode {item} as JSON: {source}")]
    Json {
        item: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

/// Below this many free bytes, an SQLite I/O error is taken for a full disk: SQLite needs
/// 32 KiB for the shared-memory index of a WAL database and a few pages per transaction.
const LOW_SPACE_BYTES: u64 = 1 << 20;

impl StoreError {
    /// Wraps an SQLite error about the database at `path`. A write that failed for lack of
    /// space (`SQLITE_FULL`, or an I/O error while the file system is nearly full) becomes
    /// [`StoreError::NoSpace`], which reports the free bytes.
    pub(crate) fn sqlite(
        path: &std::path::Path,
        action: &'static str,
        source: rusqlite::Error,
    ) -> Self {
        use rusqlite::ErrorCode;
        let code = source.sqlite_error_code();
        if matches!(
            code,
            Some(ErrorCode::DiskFull | ErrorCode::SystemIoFailure | ErrorCode::CannotOpen)
        ) {
            if let Some(available_bytes) = available_space(path) {
                if code == Some(ErrorCode::DiskFull) || available_bytes < LOW_SPACE_BYTES {
                    return StoreError::NoSpace {
                        path: path.to_path_buf(),
                        action,
                        available_bytes,
                        source,
                    };
                }
            }
        }
        StoreError::Sqlite {
            path: path.to_path_buf(),
            action,
            source,
        }
    }

    /// Returns true when the error means an artifact cannot be used as-is (missing or corrupt),
    /// so a cached step should run again instead of failing.
    pub fn is_artifact_unusable(&self) -> bool {
        matches!(
            self,
            StoreError::ArtifactMissing { .. } | StoreError::ArtifactCorrupt { .. }
        )
    }

    /// Adds what an artifact is (e.g. "`model.safetensors` (application/safetensors)") to a
    /// missing or corrupt artifact error. Other errors are returned unchanged.
    pub fn with_artifact_description(mut self, description: impl Into<String>) -> Self {
        match &mut self {
            StoreError::ArtifactMissing {
                description: slot, ..
            }
            | StoreError::ArtifactCorrupt {
                description: slot, ..
            } => {
                *slot = Some(description.into());
            }
            _ => {}
        }
        self
    }

    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        StoreError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

fn describe(description: &Option<String>) -> String {
    match description {
        Some(description) => format!(" ({description})"),
        None => String::new(),
    }
}

/// Bytes an unprivileged process may still write on the file system holding `path` (or its
/// directory, when `path` does not exist yet).
#[cfg(unix)]
fn available_space(path: &std::path::Path) -> Option<u64> {
    let probe = if path.exists() {
        path
    } else {
        path.parent()
            .filter(|parent| !parent.as_os_str().is_empty())?
    };
    let stats = rustix::fs::statvfs(probe).ok()?;
    Some(stats.f_bavail.saturating_mul(stats.f_frsize))
}

#[cfg(not(unix))]
fn available_space(_path: &std::path::Path) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_artifact_message_names_hash_and_description() {
        let error = StoreError::ArtifactMissing {
            hash: "ab".repeat(32),
            path: PathBuf::from("/s/objects/ab/cd"),
            description: None,
        }
        .with_artifact_description("`model.safetensors`");

        let message = error.to_string();

        assert!(message.starts_with(&format!(
            "artifact {} (`model.safetensors`) is missing",
            "ab".repeat(32)
        )));
        assert!(message.contains("/s/objects/ab/cd"));
        assert!(error.is_artifact_unusable());
    }

    #[test]
    fn description_ignored_for_other_errors() {
        let error = StoreError::RunNotFound {
            run_id: "r1".to_string(),
        }
        .with_artifact_description("x");

        assert!(!error.is_artifact_unusable());
        assert_eq!(
            error.to_string(),
            "run `r1` not found in the metadata store; check the id against the list of runs"
        );
    }
}
