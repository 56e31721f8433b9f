//! Records of what each artifact is: its name, media type, size, and the run and step
//! execution that first produced it. The bytes themselves live in the artifact store.

use rusqlite::{params, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};

use super::{MetadataStore, TxResult};
use crate::artifact::{validate_hash, ArtifactRef};
use crate::{ids, names, StoreError};

/// An artifact with the name and media type it is recorded under, as passed to the step,
/// registry and artifact methods of [`MetadataStore`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedArtifact {
    /// Output or input name within its step, e.g. `features` or `model`.
    pub name: String,
    pub artifact: ArtifactRef,
    /// MIME type or a short kind, e.g. `application/vnd.apache.arrow.file`.
    pub media_type: String,
    /// For source data recorded by hash but not copied into the artifact store: the path it
    /// was read from. `None` for stored artifacts.
    pub source_path: Option<String>,
}

impl NamedArtifact {
    /// Describes an artifact kept in the artifact store.
    pub fn stored(
        name: impl Into<String>,
        artifact: ArtifactRef,
        media_type: impl Into<String>,
    ) -> Self {
        NamedArtifact {
            name: name.into(),
            artifact,
            media_type: media_type.into(),
            source_path: None,
        }
    }

    /// Describes a source file identified by its hash but left where it is.
    pub fn source(
        name: impl Into<String>,
        artifact: ArtifactRef,
        media_type: impl Into<String>,
        path: impl Into<String>,
    ) -> Self {
        NamedArtifact {
            name: name.into(),
            artifact,
            media_type: media_type.into(),
            source_path: Some(path.into()),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), StoreError> {
        names::validate_key("artifact name", &self.name)?;
        validate_hash(&self.artifact.hash)
    }
}

/// A row of the `artifacts` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRecord {
    pub hash: String,
    pub size_bytes: u64,
    pub media_type: String,
    /// The name it was first recorded under.
    pub name: String,
    pub source_path: Option<String>,
    /// The first run that produced it; `None` for source data.
    pub run_id: Option<String>,
    /// The first step execution that produced it.
    pub execution_id: Option<i64>,
    pub created_at: String,
}

impl ArtifactRecord {
    /// Returns a short description for messages, e.g. "`features` (application/vnd.apache.arrow.file)".
    pub fn describe(&self) -> String {
        format!("`{}` ({})", self.name, self.media_type)
    }

    pub fn artifact_ref(&self) -> ArtifactRef {
        ArtifactRef {
            hash: self.hash.clone(),
            size_bytes: self.size_bytes,
        }
    }
}

pub(crate) const ARTIFACT_COLUMNS: &str =
    "hash, size_bytes, media_type, name, source_path, run_id, execution_id, created_at";

/// Maps a row selected with [`ARTIFACT_COLUMNS`], optionally prefixed by a table alias.
pub(crate) fn artifact_from_row(row: &Row) -> rusqlite::Result<ArtifactRecord> {
    Ok(ArtifactRecord {
        hash: row.get(0)?,
        size_bytes: row.get(1)?,
        media_type: row.get(2)?,
        name: row.get(3)?,
        source_path: row.get(4)?,
        run_id: row.get(5)?,
        execution_id: row.get(6)?,
        created_at: row.get(7)?,
    })
}

/// Inserts the artifact's record if it is new. For a known hash, only a missing producer is
/// filled in, so the record keeps naming the first producer.
pub(crate) fn upsert_artifact(
    transaction: &Transaction,
    artifact: &NamedArtifact,
    run_id: Option<&str>,
    execution_id: Option<i64>,
) -> TxResult<()> {
    transaction.execute(
        "INSERT INTO artifacts (hash, size_bytes, media_type, name, source_path, run_id, execution_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (hash) DO UPDATE SET
             run_id = COALESCE(artifacts.run_id, excluded.run_id),
             execution_id = COALESCE(artifacts.execution_id, excluded.execution_id)",
        params![
            artifact.artifact.hash,
            artifact.artifact.size_bytes,
            artifact.media_type,
            artifact.name,
            artifact.source_path,
            run_id,
            execution_id,
            ids::now_rfc3339(),
        ],
    )?;
    Ok(())
}

pub(crate) fn load_artifact(
    transaction: &Transaction,
    hash: &str,
) -> TxResult<Option<ArtifactRecord>> {
    let sql = format!("SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE hash = ?1");
    Ok(transaction
        .query_row(&sql, [hash], artifact_from_row)
        .optional()?)
}

/// Adds a lineage edge unless the same edge exists already.
pub(crate) fn add_edge(
    transaction: &Transaction,
    from: (&str, &str),
    to: (&str, &str),
    relation: &str,
    name: Option<&str>,
) -> TxResult<()> {
    transaction.execute(
        "INSERT OR IGNORE INTO lineage_edges (from_kind, from_id, to_kind, to_id, relation, name, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![from.0, from.1, to.0, to.1, relation, name, ids::now_rfc3339()],
    )?;
    Ok(())
}

impl MetadataStore {
    /// Records an artifact made outside a step (e.g. a report), with the run that made it.
    /// The caller stores the bytes in the artifact store first.
    pub fn record_artifact(
        &self,
        run_id: Option<&str>,
        artifact: &NamedArtifact,
    ) -> Result<(), StoreError> {
        artifact.validate()?;
        self.write("record an artifact", |transaction| {
            if let Some(run_id) = run_id {
                super::runs::ensure_run_exists(transaction, run_id)?;
            }
            upsert_artifact(transaction, artifact, run_id, None)?;
            if let Some(run_id) = run_id {
                add_edge(
                    transaction,
                    ("run", run_id),
                    ("artifact", &artifact.artifact.hash),
                    "produced",
                    Some(&artifact.name),
                )?;
            }
            Ok(())
        })
    }

    /// Returns the record of an artifact, or `None` when it was never recorded.
    pub fn artifact(&self, hash: &str) -> Result<Option<ArtifactRecord>, StoreError> {
        validate_hash(hash)?;
        self.read("read an artifact record", |transaction| {
            load_artifact(transaction, hash)
        })
    }

    /// Returns the records of the artifacts first produced by a run, by name.
    pub fn artifacts_of_run(&self, run_id: &str) -> Result<Vec<ArtifactRecord>, StoreError> {
        self.read("read a run's artifacts", |transaction| {
            load_run_artifacts(transaction, run_id)
        })
    }
}

pub(crate) fn load_run_artifacts(
    transaction: &Transaction,
    run_id: &str,
) -> TxResult<Vec<ArtifactRecord>> {
    let sql =
        format!("SELECT {ARTIFACT_COLUMNS} FROM artifacts WHERE run_id = ?1 ORDER BY name, hash");
    let mut statement = transaction.prepare(&sql)?;
    let records = statement
        .query_map([run_id], artifact_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(records)
}
