//! Step executions: starting and finishing a pipeline step, its inputs and named outputs,
//! and the cache lookup that finds a previous successful execution with the same cache key.

use rusqlite::{params, OptionalExtension, Row, Transaction};
use serde::{Deserialize, Serialize};

use super::artifacts::{add_edge, upsert_artifact, NamedArtifact};
use super::runs::ensure_run_exists;
use super::text_enum::text_enum;
use super::{MetadataStore, TxError, TxResult};
use crate::artifact::ArtifactRef;
use crate::{ids, names, StoreError};

text_enum! {
    /// State of one step execution.
    pub enum StepStatus in "step_executions"."status" {
        Running => "running",
        Succeeded => "succeeded",
        Failed => "failed",
        /// Not run because an earlier step failed.
        Skipped => "skipped",
        /// The process ended while the step was running.
        Killed => "killed",
    }
}

/// A named output of a step execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepOutput {
    pub name: String,
    pub artifact: ArtifactRef,
}

/// A row of `step_executions` with its outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepExecution {
    pub id: i64,
    pub run_id: String,
    pub step: String,
    pub cache_key: Option<String>,
    /// True when the outputs were reused from execution `cached_from`.
    pub cached: bool,
    pub cached_from: Option<i64>,
    pub status: StepStatus,
    pub attempt: u32,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub duration_ms: Option<u64>,
    pub error: Option<String>,
    /// Outputs ordered by name.
    pub outputs: Vec<StepOutput>,
}

/// A previous successful execution whose outputs a step may reuse. The caller must still
/// check that each output exists in the artifact store, and treat a missing or corrupt one as
/// a cache miss.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheHit {
    pub execution_id: i64,
    pub run_id: String,
    pub step: String,
    pub cache_key: String,
    /// Outputs ordered by name.
    pub outputs: Vec<StepOutput>,
}

const EXECUTION_COLUMNS: &str =
    "id, run_id, step, cache_key, cached, cached_from, status, attempt, \
     started_at, ended_at, duration_ms, error";

fn execution_from_row(row: &Row) -> rusqlite::Result<StepExecution> {
    Ok(StepExecution {
        id: row.get(0)?,
        run_id: row.get(1)?,
        step: row.get(2)?,
        cache_key: row.get(3)?,
        cached: row.get(4)?,
        cached_from: row.get(5)?,
        status: row.get(6)?,
        attempt: row.get(7)?,
        started_at: row.get(8)?,
        ended_at: row.get(9)?,
        duration_ms: row.get(10)?,
        error: row.get(11)?,
        outputs: Vec::new(),
    })
}

fn load_outputs(transaction: &Transaction, execution_id: i64) -> TxResult<Vec<StepOutput>> {
    let mut statement = transaction.prepare_cached(
        "SELECT o.name, o.artifact_hash, a.size_bytes
         FROM step_outputs o JOIN artifacts a ON a.hash = o.artifact_hash
         WHERE o.execution_id = ?1 ORDER BY o.name",
    )?;
    let outputs = statement
        .query_map([execution_id], |row| {
            Ok(StepOutput {
                name: row.get(0)?,
                artifact: ArtifactRef {
                    hash: row.get(1)?,
                    size_bytes: row.get(2)?,
                },
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(outputs)
}

pub(crate) fn load_execution(
    transaction: &Transaction,
    execution_id: i64,
) -> TxResult<StepExecution> {
    let sql = format!("SELECT {EXECUTION_COLUMNS} FROM step_executions WHERE id = ?1");
    let mut execution = transaction
        .query_row(&sql, [execution_id], execution_from_row)
        .optional()?
        .ok_or(TxError::Store(StoreError::ExecutionNotFound {
            execution_id,
        }))?;
    execution.outputs = load_outputs(transaction, execution_id)?;
    Ok(execution)
}

/// Returns a run's step executions in the order they started, with their outputs.
pub(crate) fn load_run_executions(
    transaction: &Transaction,
    run_id: &str,
) -> TxResult<Vec<StepExecution>> {
    let sql =
        format!("SELECT {EXECUTION_COLUMNS} FROM step_executions WHERE run_id = ?1 ORDER BY id");
    let mut statement = transaction.prepare(&sql)?;
    let mut executions: Vec<StepExecution> = statement
        .query_map([run_id], execution_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    for execution in &mut executions {
        execution.outputs = load_outputs(transaction, execution.id)?;
    }
    Ok(executions)
}

/// Returns the milliseconds between two RFC 3339 timestamps, or 0 when the clock went back.
fn elapsed_ms(started_at: &str, ended_at: &str) -> Option<u64> {
    let started = chrono::DateTime::parse_from_rfc3339(started_at).ok()?;
    let ended = chrono::DateTime::parse_from_rfc3339(ended_at).ok()?;
    Some((ended - started).num_milliseconds().max(0) as u64)
}

impl MetadataStore {
    /// Records the start of a step execution and returns its id. `cache_key` is `None` for
    /// steps that are never cached; `attempt` counts from 1.
    pub fn start_step(
        &self,
        run_id: &str,
        step: &str,
        cache_key: Option<&str>,
        attempt: u32,
    ) -> Result<i64, StoreError> {
        names::validate_key("step name", step)?;
        let attempt = attempt.max(1);

        self.write("start a step", |transaction| {
            ensure_run_exists(transaction, run_id)?;
            transaction.execute(
                "INSERT INTO step_executions (run_id, step, cache_key, cached, status, attempt, started_at)
                 VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6)",
                params![run_id, step, cache_key, StepStatus::Running, attempt, ids::now_rfc3339()],
            )?;
            Ok(transaction.last_insert_rowid())
        })
    }

    /// Records the artifacts a step execution read, as lineage edges. Inputs not produced by
    /// an earlier step (source data) are recorded as artifacts without a producer.
    pub fn record_step_inputs(
        &self,
        execution_id: i64,
        inputs: &[NamedArtifact],
    ) -> Result<(), StoreError> {
        for input in inputs {
            input.validate()?;
        }
        self.write("record step inputs", |transaction| {
            load_execution(transaction, execution_id)?;
            insert_inputs(transaction, execution_id, inputs)
        })
    }

    /// Records the end of a step execution with its outputs, which must already be in the
    /// artifact store. `status` must not be `running`. Outputs, records and lineage edges are
    /// written in one transaction.
    pub fn finish_step(
        &self,
        execution_id: i64,
        status: StepStatus,
        outputs: &[NamedArtifact],
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        if status == StepStatus::Running {
            return Err(StoreError::ExecutionNotRunning {
                execution_id,
                status: "running (finish_step needs a final status)".to_string(),
            });
        }
        for output in outputs {
            output.validate()?;
        }

        self.write("finish a step", |transaction| {
            let execution = load_execution(transaction, execution_id)?;
            if execution.status != StepStatus::Running {
                return Err(TxError::Store(StoreError::ExecutionNotRunning {
                    execution_id,
                    status: execution.status.to_string(),
                }));
            }

            let ended_at = ids::now_rfc3339();
            let duration_ms = elapsed_ms(&execution.started_at, &ended_at);
            transaction.execute(
                "UPDATE step_executions SET status = ?2, ended_at = ?3, duration_ms = ?4, error = ?5
                 WHERE id = ?1",
                params![execution_id, status, ended_at, duration_ms, error],
            )?;

            let execution_key = execution_id.to_string();
            for output in outputs {
                upsert_artifact(transaction, output, Some(&execution.run_id), Some(execution_id))?;
                transaction.execute(
                    "INSERT INTO step_outputs (execution_id, name, artifact_hash) VALUES (?1, ?2, ?3)",
                    params![execution_id, output.name, output.artifact.hash],
                )?;
                add_edge(
                    transaction,
                    ("execution", &execution_key),
                    ("artifact", &output.artifact.hash),
                    "produced",
                    Some(&output.name),
                )?;
            }
            Ok(())
        })
    }

    /// Returns the newest successful execution of `step` with this cache key that recorded
    /// outputs, or `None`.
    pub fn find_cache_hit(
        &self,
        step: &str,
        cache_key: &str,
    ) -> Result<Option<CacheHit>, StoreError> {
        self.read("look up the step cache", |transaction| {
            let found: Option<(i64, String)> = transaction
                .query_row(
                    "SELECT e.id, e.run_id FROM step_executions e
                     WHERE e.step = ?1 AND e.cache_key = ?2 AND e.status = 'succeeded'
                       AND EXISTS (SELECT 1 FROM step_outputs o WHERE o.execution_id = e.id)
                     ORDER BY e.id DESC LIMIT 1",
                    params![step, cache_key],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?;
            let Some((execution_id, run_id)) = found else {
                return Ok(None);
            };
            Ok(Some(CacheHit {
                execution_id,
                run_id,
                step: step.to_string(),
                cache_key: cache_key.to_string(),
                outputs: load_outputs(transaction, execution_id)?,
            }))
        })
    }

    /// Records that a step of `run_id` reused the outputs of `hit` instead of running, and
    /// returns the new execution's id. The execution is `succeeded`, `cached`, lasts 0 ms and
    /// lists the same outputs; `inputs` become lineage edges as for a real run.
    pub fn record_cache_hit(
        &self,
        run_id: &str,
        hit: &CacheHit,
        inputs: &[NamedArtifact],
    ) -> Result<i64, StoreError> {
        for input in inputs {
            input.validate()?;
        }
        self.write("record a cache hit", |transaction| {
            ensure_run_exists(transaction, run_id)?;
            load_execution(transaction, hit.execution_id)?;

            let now = ids::now_rfc3339();
            transaction.execute(
                "INSERT INTO step_executions (run_id, step, cache_key, cached, cached_from, status, attempt,
                     started_at, ended_at, duration_ms)
                 VALUES (?1, ?2, ?3, 1, ?4, ?5, 1, ?6, ?6, 0)",
                params![run_id, hit.step, hit.cache_key, hit.execution_id, StepStatus::Succeeded, now],
            )?;
            let execution_id = transaction.last_insert_rowid();
            transaction.execute(
                "INSERT INTO step_outputs (execution_id, name, artifact_hash)
                 SELECT ?1, name, artifact_hash FROM step_outputs WHERE execution_id = ?2",
                params![execution_id, hit.execution_id],
            )?;
            insert_inputs(transaction, execution_id, inputs)?;
            Ok(execution_id)
        })
    }

    /// Returns one step execution with its outputs.
    pub fn step_execution(&self, execution_id: i64) -> Result<StepExecution, StoreError> {
        self.read("read a step execution", |transaction| {
            load_execution(transaction, execution_id)
        })
    }

    /// Returns a run's step executions in the order they started.
    pub fn step_executions(&self, run_id: &str) -> Result<Vec<StepExecution>, StoreError> {
        self.read("read step executions", |transaction| {
            ensure_run_exists(transaction, run_id)?;
            load_run_executions(transaction, run_id)
        })
    }
}

fn insert_inputs(
    transaction: &Transaction,
    execution_id: i64,
    inputs: &[NamedArtifact],
) -> TxResult<()> {
    let execution_key = execution_id.to_string();
    for input in inputs {
        upsert_artifact(transaction, input, None, None)?;
        add_edge(
            transaction,
            ("artifact", &input.artifact.hash),
            ("execution", &execution_key),
            "consumed",
            Some(&input.name),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
