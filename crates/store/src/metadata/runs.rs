//! Runs and what is logged against them: creating and finishing runs, write-once parameters,
//! metric values (non-finite ones included), and marking runs whose process died as killed.

use std::collections::BTreeMap;

use rusqlite::{params, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};

use super::text_enum::text_enum;
use super::{metric_value, MetadataStore, TxError, TxResult};
use crate::{ids, names, StoreError};

text_enum! {
    /// Outcome of a run.
    pub enum RunStatus in "runs"."status" {
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
        /// The pipeline ran to the end, but a quality gate rejected the model.
        GateFailed => "gate_failed",
        /// The process ended without recording an outcome.
        Killed => "killed",
    }
}

text_enum! {
    /// Cause of a run.
    pub enum Trigger in "runs"."trigger_kind" {
        Manual => "manual",
        Watch => "watch",
        Schedule => "schedule",
        Drift => "drift",
        Resume => "resume",
    }
}

/// Input to [`MetadataStore::create_run`]. The store fills in user, host, pid and times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewRun {
    pub pipeline: String,
    /// Version of the topicops binary, e.g. `env!("CARGO_PKG_VERSION")` of the CLI.
    pub topicops_version: String,
    /// Finer code identity when known, e.g. a git commit.
    pub code_version: Option<String>,
    /// The resolved pipeline configuration.
    pub config: serde_json::Value,
    pub trigger: Trigger,
    pub trigger_reason: Option<String>,
    /// The run this one resumes or was spawned from.
    pub parent_run_id: Option<String>,
}

/// A row of the `runs` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    pub pipeline: String,
    pub status: RunStatus,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub user: String,
    pub host: String,
    pub pid: u32,
    pub topicops_version: String,
    pub code_version: Option<String>,
    pub config: serde_json::Value,
    pub trigger: Trigger,
    pub trigger_reason: Option<String>,
    pub parent_run_id: Option<String>,
    pub error: Option<String>,
}

/// One logged metric value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    pub key: String,
    /// May be NaN or infinite; JSON carries those as `"NaN"`, `"Infinity"`, `"-Infinity"`.
    #[serde(with = "super::metric_value::nonfinite_f64")]
    pub value: f64,
    pub step: i64,
    pub logged_at: String,
}

pub(crate) const RUN_COLUMNS: &str = "id, pipeline, status, started_at, ended_at, user_name, host, pid, \
     topicops_version, code_version, config_json, trigger_kind, trigger_reason, parent_run_id, error";

/// Maps a row selected with [`RUN_COLUMNS`].
pub(crate) fn run_from_row(row: &Row) -> rusqlite::Result<Run> {
    let config_text: String = row.get(10)?;
    let config = serde_json::from_str(&config_text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(10, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(Run {
        id: row.get(0)?,
        pipeline: row.get(1)?,
        status: row.get(2)?,
        started_at: row.get(3)?,
        ended_at: row.get(4)?,
        user: row.get(5)?,
        host: row.get(6)?,
        pid: row.get(7)?,
        topicops_version: row.get(8)?,
        code_version: row.get(9)?,
        config,
        trigger: row.get(11)?,
        trigger_reason: row.get(12)?,
        parent_run_id: row.get(13)?,
        error: row.get(14)?,
    })
}

/// Fails with [`StoreError::RunNotFound`] unless the run exists.
pub(crate) fn ensure_run_exists(transaction: &Transaction, run_id: &str) -> TxResult<()> {
    let found = transaction
        .query_row("SELECT 1 FROM runs WHERE id = ?1", [run_id], |_| Ok(()))
        .optional()?;
    match found {
        Some(()) => Ok(()),
        None => Err(TxError::Store(StoreError::RunNotFound {
            run_id: run_id.to_string(),
        })),
    }
}

pub(crate) fn load_run(transaction: &Transaction, run_id: &str) -> TxResult<Run> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1");
    transaction
        .query_row(&sql, [run_id], run_from_row)
        .optional()?
        .ok_or_else(|| {
            TxError::Store(StoreError::RunNotFound {
                run_id: run_id.to_string(),
            })
        })
}

/// Returns the run's parameters, keys sorted.
pub(crate) fn load_params(
    transaction: &Transaction,
    run_id: &str,
) -> TxResult<BTreeMap<String, serde_json::Value>> {
    let mut statement =
        transaction.prepare("SELECT key, value_json FROM params WHERE run_id = ?1")?;
    let rows = statement.query_map([run_id], |row| {
        Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
    })?;
    let mut params = BTreeMap::new();
    for row in rows {
        let (key, text) = row?;
        let value = serde_json::from_str(&text).map_err(|source| StoreError::Json {
            item: "a stored parameter",
            source,
        })?;
        params.insert(key, value);
    }
    Ok(params)
}

/// Returns the run's metric values ordered by key, step and logging order.
pub(crate) fn load_metrics(transaction: &Transaction, run_id: &str) -> TxResult<Vec<MetricPoint>> {
    let mut statement = transaction.prepare(
        "SELECT key, value, value_kind, step, logged_at FROM metrics
         WHERE run_id = ?1 ORDER BY key, step, id",
    )?;
    let rows = statement.query_map([run_id], |row| {
        Ok((
            row.get::<_, String>(0)?,
            row.get::<_, Option<f64>>(1)?,
            row.get::<_, String>(2)?,
            row.get::<_, i64>(3)?,
            row.get::<_, String>(4)?,
        ))
    })?;
    let mut metrics = Vec::new();
    for row in rows {
        let (key, value, kind, step, logged_at) = row?;
        metrics.push(MetricPoint {
            key,
            value: metric_value::decode(value, &kind)?,
            step,
            logged_at,
        });
    }
    Ok(metrics)
}

/// Returns JSON text with object keys sorted at every level and no whitespace, so equal
/// values always compare equal as text.
pub(crate) fn canonical_json(value: &serde_json::Value) -> String {
    fn sorted(value: &serde_json::Value) -> serde_json::Value {
        match value {
            serde_json::Value::Object(map) => {
                let mut entries: Vec<(&String, &serde_json::Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                serde_json::Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            serde_json::Value::Array(items) => {
                serde_json::Value::Array(items.iter().map(sorted).collect())
            }
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

impl MetadataStore {
    /// Records a new run with status `running` and returns it.
    pub fn create_run(&self, new_run: &NewRun) -> Result<Run, StoreError> {
        names::validate_key("pipeline name", &new_run.pipeline)?;
        let config_json = canonical_json(&new_run.config);
        let user = ids::current_user();
        let host = ids::current_host();
        let pid = std::process::id();

        self.write("create a run", |transaction| {
            if let Some(parent) = &new_run.parent_run_id {
                ensure_run_exists(transaction, parent)?;
            }
            // Two runs started in the same second get the same id with odds of 1 in 16.7
            // million per pair. After a collision the loop draws a new suffix.
            let mut id = ids::new_run_id();
            while transaction
                .query_row("SELECT 1 FROM runs WHERE id = ?1", [&id], |_| Ok(()))
                .optional()?
                .is_some()
            {
                id = ids::new_run_id();
            }

            let started_at = ids::now_rfc3339();
            transaction.execute(
                "INSERT INTO runs (id, pipeline, status, started_at, user_name, host, pid,
                         topicops_version, code_version, config_json, trigger_kind, trigger_reason,
                         parent_run_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    id,
                    new_run.pipeline,
                    RunStatus::Running,
                    started_at,
                    user,
                    host,
                    pid,
                    new_run.topicops_version,
                    new_run.code_version,
                    config_json,
                    new_run.trigger,
                    new_run.trigger_reason,
                    new_run.parent_run_id,
                ],
            )?;
            load_run(transaction, &id)
        })
    }

    /// Records the end of a run. `status` must not be `running`; `error` is the failure
    /// message for a failed, gate-failed or killed run. Step executions of the run still
    /// marked `running` are marked `killed`. Fails with [`StoreError::RunNotRunning`] when the
    /// run has already ended.
    pub fn finish_run(
        &self,
        run_id: &str,
        status: RunStatus,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        if status == RunStatus::Running {
            return Err(StoreError::RunNotRunning {
                run_id: run_id.to_string(),
                status: "running (finish_run needs a final status)".to_string(),
            });
        }

        self.write("finish a run", |transaction| {
            let run = load_run(transaction, run_id)?;
            if run.status != RunStatus::Running {
                return Err(TxError::Store(StoreError::RunNotRunning {
                    run_id: run_id.to_string(),
                    status: run.status.to_string(),
                }));
            }
            let now = ids::now_rfc3339();
            transaction.execute(
                "UPDATE runs SET status = ?2, ended_at = ?3, error = ?4 WHERE id = ?1",
                params![run_id, status, now, error],
            )?;
            transaction.execute(
                "UPDATE step_executions SET status = 'killed', ended_at = ?2,
                     error = 'the run ended while this step was still marked running'
                 WHERE run_id = ?1 AND status = 'running'",
                params![run_id, now],
            )?;
            Ok(())
        })
    }

    /// Returns one run.
    pub fn run(&self, run_id: &str) -> Result<Run, StoreError> {
        self.read("read a run", |transaction| load_run(transaction, run_id))
    }

    /// Records one parameter. Parameters are write-once: logging the same value again is a
    /// no-op, a different value fails with [`StoreError::ParamConflict`].
    pub fn log_param(
        &self,
        run_id: &str,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let mut params = BTreeMap::new();
        params.insert(key.to_string(), value.clone());
        self.log_params(run_id, &params)
    }

    /// Records several parameters in one transaction (all or none), with the rules of
    /// [`MetadataStore::log_param`].
    pub fn log_params(
        &self,
        run_id: &str,
        params: &BTreeMap<String, serde_json::Value>,
    ) -> Result<(), StoreError> {
        let mut encoded = Vec::with_capacity(params.len());
        for (key, value) in params {
            names::validate_key("parameter name", key)?;
            encoded.push((key.as_str(), canonical_json(value)));
        }

        self.write("log parameters", |transaction| {
            ensure_run_exists(transaction, run_id)?;
            for (key, value_json) in &encoded {
                let existing: Option<String> = transaction
                    .query_row(
                        "SELECT value_json FROM params WHERE run_id = ?1 AND key = ?2",
                        params![run_id, key],
                        |row| row.get(0),
                    )
                    .optional()?;
                match existing {
                    Some(existing) if &existing == value_json => {}
                    Some(existing) => {
                        return Err(TxError::Store(StoreError::ParamConflict {
                            run_id: run_id.to_string(),
                            key: key.to_string(),
                            existing,
                            new: value_json.clone(),
                        }))
                    }
                    None => {
                        transaction.execute(
                            "INSERT INTO params (run_id, key, value_json) VALUES (?1, ?2, ?3)",
                            params![run_id, key, value_json],
                        )?;
                    }
                }
            }
            Ok(())
        })
    }

    /// Records one metric value at a step. NaN and infinities are stored exactly.
    pub fn log_metric(
        &self,
        run_id: &str,
        key: &str,
        value: f64,
        step: i64,
    ) -> Result<(), StoreError> {
        self.log_metrics(run_id, step, &[(key, value)])
    }

    /// Records several metric values at one step in one transaction.
    pub fn log_metrics(
        &self,
        run_id: &str,
        step: i64,
        values: &[(&str, f64)],
    ) -> Result<(), StoreError> {
        for (key, _) in values {
            names::validate_key("metric name", key)?;
        }

        self.write("log metrics", |transaction| {
            ensure_run_exists(transaction, run_id)?;
            let logged_at = ids::now_rfc3339();
            let mut insert = transaction.prepare_cached(
                "INSERT INTO metrics (run_id, key, value, value_kind, step, logged_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for (key, value) in values {
                let (column, kind) = metric_value::encode(*value);
                insert.execute(params![run_id, key, column, kind, step, logged_at])?;
            }
            Ok(())
        })
    }

    /// Returns a run's metric values ordered by key, step and logging order.
    pub fn metrics(&self, run_id: &str) -> Result<Vec<MetricPoint>, StoreError> {
        self.read("read metrics", |transaction| {
            ensure_run_exists(transaction, run_id)?;
            load_metrics(transaction, run_id)
        })
    }

    /// Returns a run's parameters, keys sorted.
    pub fn params(&self, run_id: &str) -> Result<BTreeMap<String, serde_json::Value>, StoreError> {
        self.read("read parameters", |transaction| {
            ensure_run_exists(transaction, run_id)?;
            load_params(transaction, run_id)
        })
    }

    /// Marks as `killed` the runs of this host still `running` whose process no longer
    /// exists, with their running step executions, and returns their ids.
    ///
    /// NOTE: works on Linux only (it checks `/proc/<pid>`), and a reused pid makes a dead
    /// run look alive until that process ends too.
    pub fn mark_abandoned_runs(&self) -> Result<Vec<String>, StoreError> {
        let host = ids::current_host();
        self.write("mark abandoned runs", |transaction| {
            let mut statement = transaction
                .prepare("SELECT id, pid FROM runs WHERE status = 'running' AND host = ?1")?;
            let candidates: Vec<(String, u32)> = statement
                .query_map([&host], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;

            let now = ids::now_rfc3339();
            let mut killed = Vec::new();
            for (run_id, pid) in candidates {
                if ids::process_is_running(pid) != Some(false) {
                    continue;
                }
                let message = format!("process {pid} on {host} ended without recording an outcome");
                transaction.execute(
                    "UPDATE runs SET status = 'killed', ended_at = ?2, error = ?3 WHERE id = ?1",
                    params![run_id, now, message],
                )?;
                transaction.execute(
                    "UPDATE step_executions SET status = 'killed', ended_at = ?2, error = ?3
                     WHERE run_id = ?1 AND status = 'running'",
                    params![run_id, now, message],
                )?;
                killed.push(run_id);
            }
            Ok(killed)
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
