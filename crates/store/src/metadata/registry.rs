//! The model registry: numbered versions of each model, aliases (such as `production`)
//! pointing at versions, and the audit trail of every alias move.
//!
//! Version numbers are `max + 1` computed inside the registering `BEGIN IMMEDIATE`
//! transaction, so concurrent processes get consecutive numbers without gaps or duplicates.
//! Every alias move writes its `alias_events` row in the same transaction as the move.

mod aliases;

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};

use aliases::current_alias_target;

use super::artifacts::{add_edge, load_artifact, upsert_artifact, NamedArtifact};
use super::metric_value::nonfinite_map;
use super::runs::{canonical_json, ensure_run_exists};
use super::text_enum::text_enum;
use super::{MetadataStore, TxError, TxResult};
use crate::artifact::{validate_hash, ArtifactRef};
use crate::{ids, names, StoreError};

pub use aliases::{AliasAction, AliasEvent, AliasMove};

text_enum! {
    /// Lifecycle state of a model version.
    pub enum VersionStatus in "model_versions"."status" {
        Registered => "registered",
        /// Kept for lineage, but no alias may point at it.
        Archived => "archived",
    }
}

/// Input to [`MetadataStore::register_version`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewModelVersion {
    pub model: String,
    /// The model file, already in the artifact store.
    pub artifact: NamedArtifact,
    /// The run that trained it.
    pub run_id: Option<String>,
    /// Free JSON, e.g. label set, thresholds, training data summary.
    pub metadata: serde_json::Value,
    /// Summary metrics. NaN and infinities are kept.
    #[serde(with = "nonfinite_map")]
    pub metrics: BTreeMap<String, f64>,
    /// Other recorded artifacts the version depends on (e.g. a vocabulary), by hash.
    pub built_from: Vec<String>,
}

/// Outcome of [`MetadataStore::find_or_register_version`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRegistration {
    pub version: u32,
    /// False when `version` already existed with the same model file.
    pub created: bool,
}

/// A registered model version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelVersion {
    pub model: String,
    pub version: u32,
    pub artifact: ArtifactRef,
    pub run_id: Option<String>,
    pub status: VersionStatus,
    pub metadata: serde_json::Value,
    #[serde(with = "nonfinite_map")]
    pub metrics: BTreeMap<String, f64>,
    pub created_at: String,
    pub created_by: String,
    /// Aliases pointing at this version, sorted.
    pub aliases: Vec<String>,
}

const VERSION_COLUMNS: &str =
    "v.model, v.version, v.artifact_hash, a.size_bytes, v.run_id, v.status, \
     v.metadata_json, v.metrics_json, v.created_at, v.created_by";

fn version_from_row(row: &Row) -> rusqlite::Result<ModelVersion> {
    let json_column = |index: usize| -> rusqlite::Result<serde_json::Value> {
        let text: String = row.get(index)?;
        serde_json::from_str(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(
                index,
                rusqlite::types::Type::Text,
                Box::new(e),
            )
        })
    };
    let metrics_json = json_column(7)?;
    let metrics = nonfinite_map::from_json(&metrics_json).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(7, rusqlite::types::Type::Text, e.into())
    })?;
    Ok(ModelVersion {
        model: row.get(0)?,
        version: row.get(1)?,
        artifact: ArtifactRef {
            hash: row.get(2)?,
            size_bytes: row.get(3)?,
        },
        run_id: row.get(4)?,
        status: row.get(5)?,
        metadata: json_column(6)?,
        metrics,
        created_at: row.get(8)?,
        created_by: row.get(9)?,
        aliases: Vec::new(),
    })
}

fn load_aliases_of(transaction: &Transaction, model: &str, version: u32) -> TxResult<Vec<String>> {
    let mut statement = transaction.prepare_cached(
        "SELECT alias FROM aliases WHERE model = ?1 AND version = ?2 ORDER BY alias",
    )?;
    let aliases = statement
        .query_map(params![model, version], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(aliases)
}

pub(crate) fn load_version(
    transaction: &Transaction,
    model: &str,
    version: u32,
) -> TxResult<ModelVersion> {
    ensure_model_exists(transaction, model)?;
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM model_versions v JOIN artifacts a ON a.hash = v.artifact_hash
         WHERE v.model = ?1 AND v.version = ?2"
    );
    let mut found = transaction
        .query_row(&sql, params![model, version], version_from_row)
        .optional()?
        .ok_or_else(|| {
            TxError::Store(StoreError::VersionNotFound {
                model: model.to_string(),
                version,
            })
        })?;
    found.aliases = load_aliases_of(transaction, model, version)?;
    Ok(found)
}

/// Returns the versions registered by a run, ordered by model and version.
pub(crate) fn load_run_versions(
    transaction: &Transaction,
    run_id: &str,
) -> TxResult<Vec<ModelVersion>> {
    let sql = format!(
        "SELECT {VERSION_COLUMNS} FROM model_versions v JOIN artifacts a ON a.hash = v.artifact_hash
         WHERE v.run_id = ?1 ORDER BY v.model, v.version"
    );
    let mut statement = transaction.prepare(&sql)?;
    let mut versions: Vec<ModelVersion> = statement
        .query_map([run_id], version_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    for version in &mut versions {
        version.aliases = load_aliases_of(transaction, &version.model, version.version)?;
    }
    Ok(versions)
}

/// Columns of a new `model_versions` row that are computed before its transaction.
struct VersionRow {
    metadata_json: String,
    metrics_json: String,
    created_by: String,
}

impl VersionRow {
    /// Validates the names and hashes of `new_version` and encodes its JSON columns.
    fn prepare(new_version: &NewModelVersion) -> Result<VersionRow, StoreError> {
        names::validate_model_name(&new_version.model)?;
        new_version.artifact.validate()?;
        for hash in &new_version.built_from {
            validate_hash(hash)?;
        }
        Ok(VersionRow {
            metadata_json: canonical_json(&new_version.metadata),
            metrics_json: canonical_json(&nonfinite_map::to_json(&new_version.metrics)),
            created_by: ids::current_user(),
        })
    }
}

/// Inserts the next version of `new_version.model`, with its lineage edges, and returns its
/// number.
fn insert_version(
    transaction: &Transaction,
    new_version: &NewModelVersion,
    row: &VersionRow,
) -> TxResult<u32> {
    if let Some(run_id) = &new_version.run_id {
        ensure_run_exists(transaction, run_id)?;
    }
    for hash in &new_version.built_from {
        if load_artifact(transaction, hash)?.is_none() {
            return Err(TxError::Store(StoreError::ArtifactNotRecorded {
                hash: hash.clone(),
            }));
        }
    }

    let now = ids::now_rfc3339();
    transaction.execute(
        "INSERT OR IGNORE INTO models (name, created_at) VALUES (?1, ?2)",
        params![new_version.model, now],
    )?;
    upsert_artifact(
        transaction,
        &new_version.artifact,
        new_version.run_id.as_deref(),
        None,
    )?;
    let version: u32 = transaction.query_row(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE model = ?1",
        [&new_version.model],
        |row| row.get(0),
    )?;
    transaction.execute(
        "INSERT INTO model_versions (model, version, artifact_hash, run_id, status, metadata_json,
             metrics_json, created_at, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            new_version.model,
            version,
            new_version.artifact.artifact.hash,
            new_version.run_id,
            VersionStatus::Registered,
            row.metadata_json,
            row.metrics_json,
            now,
            row.created_by,
        ],
    )?;

    let node = format!("{}@{version}", new_version.model);
    let model_node = ("model_version", node.as_str());
    add_edge(
        transaction,
        ("artifact", &new_version.artifact.artifact.hash),
        model_node,
        "built_from",
        Some(&new_version.artifact.name),
    )?;
    for hash in &new_version.built_from {
        add_edge(
            transaction,
            ("artifact", hash),
            model_node,
            "built_from",
            None,
        )?;
    }
    if let Some(run_id) = &new_version.run_id {
        add_edge(transaction, ("run", run_id), model_node, "trained_by", None)?;
    }
    Ok(version)
}

fn ensure_model_exists(transaction: &Transaction, model: &str) -> TxResult<()> {
    let found = transaction
        .query_row("SELECT 1 FROM models WHERE name = ?1", [model], |_| Ok(()))
        .optional()?;
    found.ok_or_else(|| {
        TxError::Store(StoreError::ModelNotFound {
            model: model.to_string(),
        })
    })
}

impl MetadataStore {
    /// Registers a new version of `new_version.model` (creating the model on first use) and
    /// returns its number: 1 for the first, then one more than the highest, also when several
    /// processes register at once. A file already registered gets another version.
    ///
    /// Contract: the model file is already in the artifact store. This method cannot check
    /// that; [`crate::Stores::register_version`] does.
    pub fn register_version(&self, new_version: &NewModelVersion) -> Result<u32, StoreError> {
        let row = VersionRow::prepare(new_version)?;
        self.write("register a model version", |transaction| {
            insert_version(transaction, new_version, &row)
        })
    }

    /// Returns the oldest version of `new_version.model` whose model file has the same hash,
    /// or registers a new one as [`MetadataStore::register_version`] does. The lookup and the
    /// insert share one transaction, so concurrent registrations of one file create one
    /// version. An archived version with the same file is returned too.
    ///
    /// Contract: the model file is already in the artifact store; see
    /// [`crate::Stores::find_or_register_version`].
    pub fn find_or_register_version(
        &self,
        new_version: &NewModelVersion,
    ) -> Result<VersionRegistration, StoreError> {
        let row = VersionRow::prepare(new_version)?;
        self.write("register a model version", |transaction| {
            let existing: Option<u32> = transaction.query_row(
                "SELECT MIN(version) FROM model_versions WHERE model = ?1 AND artifact_hash = ?2",
                params![new_version.model, new_version.artifact.artifact.hash],
                |row| row.get(0),
            )?;
            if let Some(version) = existing {
                return Ok(VersionRegistration {
                    version,
                    created: false,
                });
            }
            let version = insert_version(transaction, new_version, &row)?;
            Ok(VersionRegistration {
                version,
                created: true,
            })
        })
    }

    /// Returns one version of a model.
    pub fn model_version(&self, model: &str, version: u32) -> Result<ModelVersion, StoreError> {
        self.read("read a model version", |transaction| {
            load_version(transaction, model, version)
        })
    }

    /// Resolves `alias_or_version`: digits name a version number, anything else an alias.
    pub fn resolve(&self, model: &str, alias_or_version: &str) -> Result<ModelVersion, StoreError> {
        let reference = alias_or_version.trim();
        if let Ok(version) = reference.parse::<u32>() {
            return self.model_version(model, version);
        }
        names::validate_alias(reference)?;

        self.read("resolve a model alias", |transaction| {
            ensure_model_exists(transaction, model)?;
            let version =
                current_alias_target(transaction, model, reference)?.ok_or_else(|| {
                    TxError::Store(StoreError::AliasNotFound {
                        model: model.to_string(),
                        alias: reference.to_string(),
                    })
                })?;
            load_version(transaction, model, version)
        })
    }

    /// Returns the registered model names, sorted.
    pub fn list_models(&self) -> Result<Vec<String>, StoreError> {
        self.read("list models", |transaction| {
            let mut statement = transaction.prepare("SELECT name FROM models ORDER BY name")?;
            let models = statement
                .query_map([], |row| row.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(models)
        })
    }

    /// Returns every version of a model, oldest first.
    pub fn list_versions(&self, model: &str) -> Result<Vec<ModelVersion>, StoreError> {
        self.read("list model versions", |transaction| {
            ensure_model_exists(transaction, model)?;
            let sql = format!(
                "SELECT {VERSION_COLUMNS} FROM model_versions v JOIN artifacts a ON a.hash = v.artifact_hash
                 WHERE v.model = ?1 ORDER BY v.version"
            );
            let mut statement = transaction.prepare(&sql)?;
            let mut versions: Vec<ModelVersion> = statement
                .query_map([model], version_from_row)?
                .collect::<rusqlite::Result<_>>()?;
            for version in &mut versions {
                version.aliases = load_aliases_of(transaction, model, version.version)?;
            }
            Ok(versions)
        })
    }

    /// Archives or restores a version. Fails with [`StoreError::VersionInUse`] when archiving
    /// a version an alias still points at.
    pub fn set_version_status(
        &self,
        model: &str,
        version: u32,
        status: VersionStatus,
    ) -> Result<(), StoreError> {
        self.write("change a model version's status", |transaction| {
            let current = load_version(transaction, model, version)?;
            if status == VersionStatus::Archived && !current.aliases.is_empty() {
                return Err(TxError::Store(StoreError::VersionInUse {
                    model: model.to_string(),
                    version,
                    aliases: current.aliases.join(", "),
                }));
            }
            transaction.execute(
                "UPDATE model_versions SET status = ?3 WHERE model = ?1 AND version = ?2",
                params![model, version, status],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests;
