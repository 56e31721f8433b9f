//! The schema of record of the metadata database, and its versioned migrations.
//!
//! `PRAGMA user_version` contains the number of the last migration applied. Each migration runs
//! in its own `BEGIN IMMEDIATE` transaction that first re-reads the version, so when several
//! processes open a fresh file at once, one applies it and the others find it done. Every
//! applied migration adds a row to `schema_migrations`.
//!
//! All timestamps are RFC 3339 UTC text with milliseconds (`2025-03-01T12:00:00.000Z`), so
//! text order is time order. JSON columns hold compact JSON text. Artifact hashes are BLAKE3,
//! 64 lowercase hex digits.
//!
//! ## Tables (schema version 1)
//!
//! `schema_migrations`: one row per applied migration.
//! - `version` INTEGER PK: migration number, equal to `user_version` after it ran.
//! - `description` TEXT: what the migration does.
//! - `applied_at` TEXT: when it ran.
//! - `applied_by` TEXT: `user@host pid N` of the process that ran it.
//!
//! `runs`: one row per pipeline run.
//! - `id` TEXT PK: `YYYYMMDD-HHMMSS-<6 hex>` in UTC, sortable by start second.
//! - `pipeline` TEXT: pipeline name.
//! - `status` TEXT: `running`, `succeeded`, `failed`, `gate_failed` (ran, but a quality gate
//!   rejected the model) or `killed` (the process ended without recording an outcome).
//! - `started_at`, `ended_at` TEXT: `ended_at` is NULL while running.
//! - `user_name` TEXT: `$USER` of the process. `host` TEXT, `pid` INTEGER: where it ran.
//! - `topicops_version` TEXT: version of the topicops binary. `code_version` TEXT NULL: finer
//!   code identity when known (e.g. a git commit).
//! - `config_json` TEXT: the resolved pipeline configuration.
//! - `trigger_kind` TEXT: `manual`, `watch`, `schedule`, `drift` or `resume`.
//!   `trigger_reason` TEXT NULL: free text, e.g. the new file that a watch saw.
//! - `parent_run_id` TEXT NULL → `runs.id`: the run this one resumes or was spawned from.
//! - `error` TEXT NULL: the failure message of a failed, gate-failed or killed run.
//!
//! `params`: write-once run parameters. PK (`run_id` → `runs.id`, `key`).
//! - `value_json` TEXT: canonical JSON (object keys sorted, no spaces).
//!
//! `metrics`: metric values logged during a run, any number per key and step.
//! - `id` INTEGER PK: insertion order.
//! - `run_id` TEXT → `runs.id`. `key` TEXT. `step` INTEGER: training step or epoch.
//! - `value` REAL NULL: the value when finite, else NULL.
//! - `value_kind` TEXT: `finite`, `nan`, `inf` or `-inf`. SQLite stores NaN as NULL, so this
//!   column keeps non-finite values exact.
//! - `logged_at` TEXT.
//!
//! `step_executions`: one row per attempt at a pipeline step, including cache hits.
//! - `id` INTEGER PK. `run_id` TEXT → `runs.id`. `step` TEXT: step name.
//! - `cache_key` TEXT NULL: the hash of the step's inputs, code and parameters; NULL for
//!   steps that are never cached.
//! - `cached` INTEGER 0/1: 1 when the outputs were reused from `cached_from`.
//! - `cached_from` INTEGER NULL → `step_executions.id`.
//! - `status` TEXT: `running`, `succeeded`, `failed`, `skipped` or `killed`.
//! - `attempt` INTEGER ≥ 1. `started_at`, `ended_at` TEXT. `duration_ms` INTEGER NULL.
//! - `error` TEXT NULL.
//!
//! `artifacts`: what each stored (or source) file is. PK `hash`.
//! - `size_bytes` INTEGER. `media_type` TEXT (e.g. `application/vnd.apache.arrow.file`).
//! - `name` TEXT: the name it was first recorded under (e.g. `features.arrow`).
//! - `source_path` TEXT NULL: for source data recorded by hash but not copied into the
//!   artifact store, the path it was read from.
//! - `run_id` TEXT NULL → `runs.id`, `execution_id` INTEGER NULL → `step_executions.id`: the
//!   first run and execution that produced it (NULL for source data).
//! - `created_at` TEXT.
//!
//! `step_outputs`: named outputs of an execution, which the cache lookup returns.
//! PK (`execution_id` → `step_executions.id`, `name`); `artifact_hash` → `artifacts.hash`.
//!
//! `lineage_edges`: directed edges from what was used to what was made.
//! - `id` INTEGER PK.
//! - `from_kind` TEXT (`artifact`, `execution` or `run`), `from_id` TEXT.
//! - `to_kind` TEXT (`artifact`, `execution` or `model_version`), `to_id` TEXT.
//!   Ids are an artifact hash, an execution id in decimal, a run id, or `<model>@<version>`.
//! - `relation` TEXT: `consumed` (artifact → execution), `produced` (execution → artifact),
//!   `built_from` (artifact → model_version) or `trained_by` (run → model_version).
//! - `name` TEXT NULL: the input or output name. `created_at` TEXT.
//! - UNIQUE (`from_kind`, `from_id`, `to_kind`, `to_id`, `relation`).
//!
//! `models`: registered model names. PK `name`; `created_at` TEXT.
//!
//! `model_versions`: PK (`model` → `models.name`, `version`).
//! - `version` INTEGER ≥ 1, numbered per model without gaps.
//! - `artifact_hash` TEXT → `artifacts.hash`: the model file.
//! - `run_id` TEXT NULL → `runs.id`: the run that registered it.
//! - `status` TEXT: `registered` or `archived`.
//! - `metadata_json` TEXT, `metrics_json` TEXT: free JSON objects (the metrics are a summary,
//!   non-finite values as the strings `NaN`, `Infinity`, `-Infinity`).
//! - `created_at` TEXT. `created_by` TEXT: `$USER` of the registering process.
//!
//! `aliases`: PK (`model`, `alias`); (`model`, `version`) → `model_versions`.
//! - `updated_at` TEXT.
//!
//! `alias_events`: audit trail of every alias move, written in the move's transaction.
//! - `id` INTEGER PK AUTOINCREMENT: never reused, so the newest id per model is a change
//!   token.
//! - `model` TEXT → `models.name`, `alias` TEXT.
//! - `action` TEXT: `set`, `promote`, `rollback` or `delete`.
//! - `from_version`, `to_version` INTEGER NULL: NULL when the alias did not exist before, or
//!   no longer exists after.
//! - `actor` TEXT, `reason` TEXT, `at` TEXT.
//!
//! `locks`: named leases. PK `name`.
//! - `holder` TEXT: who holds it (e.g. `watch@host pid N`). `acquired_at` TEXT.
//! - `expires_at_ms` INTEGER: Unix epoch milliseconds after which anyone may take it.

use super::{MetadataStore, TxError};
use crate::ids;
use crate::StoreError;

/// One schema change, applied once.
struct Migration {
    version: i64,
    description: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "create the tracking, lineage, registry and lock tables",
    sql: SCHEMA_V1,
}];

/// The schema version this build creates and reads.
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA_V1: &str = "
CREATE TABLE schema_migrations (
    version     INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at  TEXT NOT NULL,
    applied_by  TEXT NOT NULL
);

CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    pipeline         TEXT NOT NULL,
    status           TEXT NOT NULL
        CHECK (status IN ('running', 'succeeded', 'failed', 'gate_failed', 'killed')),
    started_at       TEXT NOT NULL,
    ended_at         TEXT,
    user_name        TEXT NOT NULL,
    host             TEXT NOT NULL,
    pid              INTEGER NOT NULL,
    topicops_version TEXT NOT NULL,
    code_version     TEXT,
    config_json      TEXT NOT NULL,
    trigger_kind     TEXT NOT NULL
        CHECK (trigger_kind IN ('manual', 'watch', 'schedule', 'drift', 'resume')),
    trigger_reason   TEXT,
    parent_run_id    TEXT REFERENCES runs(id),
    error            TEXT
) WITHOUT ROWID;
CREATE INDEX runs_by_start ON runs(started_at);
CREATE INDEX runs_by_pipeline ON runs(pipeline, started_at);
CREATE INDEX runs_by_status ON runs(status);

CREATE TABLE params (
    run_id     TEXT NOT NULL REFERENCES runs(id),
    key        TEXT NOT NULL,
    value_json TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE TABLE metrics (
    id         INTEGER PRIMARY KEY,
    run_id     TEXT NOT NULL REFERENCES runs(id),
    key        TEXT NOT NULL,
    value      REAL,
    value_kind TEXT NOT NULL CHECK (value_kind IN ('finite', 'nan', 'inf', '-inf')),
    step       INTEGER NOT NULL,
    logged_at  TEXT NOT NULL,
    CHECK ((value_kind = 'finite') = (value IS NOT NULL))
);
CREATE INDEX metrics_by_run_key ON metrics(run_id, key, step);

CREATE TABLE step_executions (
    id          INTEGER PRIMARY KEY,
    run_id      TEXT NOT NULL REFERENCES runs(id),
    step        TEXT NOT NULL,
    cache_key   TEXT,
    cached      INTEGER NOT NULL CHECK (cached IN (0, 1)),
    cached_from INTEGER REFERENCES step_executions(id),
    status      TEXT NOT NULL
        CHECK (status IN ('running', 'succeeded', 'failed', 'skipped', 'killed')),
    attempt     INTEGER NOT NULL CHECK (attempt >= 1),
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    duration_ms INTEGER,
    error       TEXT
);
CREATE INDEX step_executions_by_run ON step_executions(run_id, id);
CREATE INDEX step_executions_by_cache_key ON step_executions(cache_key, status);

CREATE TABLE artifacts (
    hash         TEXT PRIMARY KEY,
    size_bytes   INTEGER NOT NULL CHECK (size_bytes >= 0),
    media_type   TEXT NOT NULL,
    name         TEXT NOT NULL,
    source_path  TEXT,
    run_id       TEXT REFERENCES runs(id),
    execution_id INTEGER REFERENCES step_executions(id),
    created_at   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX artifacts_by_run ON artifacts(run_id);

CREATE TABLE step_outputs (
    execution_id  INTEGER NOT NULL REFERENCES step_executions(id),
    name          TEXT NOT NULL,
    artifact_hash TEXT NOT NULL REFERENCES artifacts(hash),
    PRIMARY KEY (execution_id, name)
) WITHOUT ROWID;

CREATE TABLE lineage_edges (
    id         INTEGER PRIMARY KEY,
    from_kind  TEXT NOT NULL CHECK (from_kind IN ('artifact', 'execution', 'run')),
    from_id    TEXT NOT NULL,
    to_kind    TEXT NOT NULL CHECK (to_kind IN ('artifact', 'execution', 'model_version')),
    to_id      TEXT NOT NULL,
    relation   TEXT NOT NULL
        CHECK (relation IN ('consumed', 'produced', 'built_from', 'trained_by')),
    name       TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (from_kind, from_id, to_kind, to_id, relation)
);
CREATE INDEX lineage_edges_by_target ON lineage_edges(to_kind, to_id);

CREATE TABLE models (
    name       TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE model_versions (
    model         TEXT NOT NULL REFERENCES models(name),
    version       INTEGER NOT NULL CHECK (version >= 1),
    artifact_hash TEXT NOT NULL REFERENCES artifacts(hash),
    run_id        TEXT REFERENCES runs(id),
    status        TEXT NOT NULL CHECK (status IN ('registered', 'archived')),
    metadata_json TEXT NOT NULL,
    metrics_json  TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    PRIMARY KEY (model, version)
) WITHOUT ROWID;
CREATE INDEX model_versions_by_run ON model_versions(run_id);

CREATE TABLE aliases (
    model      TEXT NOT NULL,
    alias      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (model, alias),
    FOREIGN KEY (model, version) REFERENCES model_versions(model, version)
) WITHOUT ROWID;

CREATE TABLE alias_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    model        TEXT NOT NULL REFERENCES models(name),
    alias        TEXT NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('set', 'promote', 'rollback', 'delete')),
    from_version INTEGER,
    to_version   INTEGER,
    actor        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX alias_events_by_alias ON alias_events(model, alias, id);

CREATE TABLE locks (
    name          TEXT PRIMARY KEY,
    holder        TEXT NOT NULL,
    acquired_at   TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
";

/// Applies every migration newer than the database's `user_version`, each in its own
/// `BEGIN IMMEDIATE` transaction. Fails with [`StoreError::SchemaTooNew`] when a newer
/// topicops has migrated the file past what this build supports.
pub(crate) fn migrate(store: &MetadataStore) -> Result<(), StoreError> {
    for migration in MIGRATIONS {
        let applied = store.write("apply a schema migration", |transaction| {
            let current: i64 =
                transaction.pragma_query_value(None, "user_version", |row| row.get(0))?;
            if current > SCHEMA_VERSION {
                return Err(TxError::Store(StoreError::SchemaTooNew {
                    path: store.path().to_path_buf(),
                    found: current,
                    supported: SCHEMA_VERSION,
                }));
            }
            if current >= migration.version {
                return Ok(false);
            }

            transaction.execute_batch(migration.sql)?;
            transaction.execute(
                "INSERT INTO schema_migrations (version, description, applied_at, applied_by)
                 VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![
                    migration.version,
                    migration.description,
                    ids::now_rfc3339(),
                    format!(
                        "{}@{} pid {}",
                        ids::current_user(),
                        ids::current_host(),
                        std::process::id()
                    ),
                ],
            )?;
            // PRAGMA takes no bound parameters; the value is a compile-time constant.
            transaction.pragma_update(None, "user_version", migration.version)?;
            Ok(true)
        })?;

        if applied {
            tracing::info!(path = %store.path().display(), version = migration.version, "applied metadata schema migration");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_twice_apply_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metadata.db");

        let first = MetadataStore::open(&path).unwrap();
        migrate(&first).unwrap();
        drop(first);
        let second = MetadataStore::open(&path).unwrap();
        migrate(&second).unwrap();

        let connection = second.lock_connection();
        let applied: i64 = connection
            .query_row("SELECT count(*) FROM schema_migrations", [], |row| {
                row.get(0)
            })
            .unwrap();
        let version: i64 = connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        let journal_mode: String = connection
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .unwrap();
        assert_eq!(applied, 1);
        assert_eq!(version, SCHEMA_VERSION);
        assert_eq!(journal_mode, "wal");
    }

    #[test]
    fn newer_schema_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metadata.db");
        drop(MetadataStore::open(&path).unwrap());
        let connection = rusqlite::Connection::open(&path).unwrap();
        connection.pragma_update(None, "user_version", 99).unwrap();
        drop(connection);

        let error = MetadataStore::open(&path).err().unwrap();

        assert!(
            matches!(
                error,
                StoreError::SchemaTooNew {
                    found: 99,
                    supported: SCHEMA_VERSION,
                    ..
                }
            ),
            "{error}"
        );
    }
}
