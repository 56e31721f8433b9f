//! Read models for the command line: listing runs with filters, one run in full, and
//! several runs side by side for comparison.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::types::ToSql;
use serde::{Deserialize, Serialize};

use super::artifacts::{load_run_artifacts, ArtifactRecord};
use super::registry::{load_run_versions, ModelVersion};
use super::runs::{
    load_metrics, load_params, load_run, run_from_row, MetricPoint, Run, RunStatus, Trigger,
    RUN_COLUMNS,
};
use super::steps::{load_run_executions, StepExecution};
use super::MetadataStore;
use crate::StoreError;

/// Conditions for [`MetadataStore::list_runs`]; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFilter {
    pub pipeline: Option<String>,
    pub status: Option<RunStatus>,
    pub trigger: Option<Trigger>,
    /// Only runs started at or after this RFC 3339 UTC time (compared as text, so use the
    /// `2025-03-01T12:00:00.000Z` form, or a prefix such as `2025-03-01`).
    pub started_after: Option<String>,
}

/// One run with everything recorded against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetails {
    pub run: Run,
    pub params: BTreeMap<String, serde_json::Value>,
    /// Ordered by key, step and logging order.
    pub metrics: Vec<MetricPoint>,
    /// In start order, with outputs.
    pub steps: Vec<StepExecution>,
    /// Artifacts this run produced first.
    pub artifacts: Vec<ArtifactRecord>,
    /// Model versions this run registered.
    pub model_versions: Vec<ModelVersion>,
}

/// Several runs side by side. Every vector inside has one entry per run, in `runs` order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunComparison {
    pub runs: Vec<Run>,
    /// Parameter key → value in each run (`None` where the run lacks it).
    pub params: BTreeMap<String, Vec<Option<serde_json::Value>>>,
    /// Metric key → the value at the highest step of each run (the last logged one on ties).
    pub metrics: BTreeMap<String, Vec<Option<MetricPoint>>>,
    /// Parameter keys whose values are not the same in all runs, sorted.
    pub differing_params: Vec<String>,
}

impl MetadataStore {
    /// Returns up to `limit` runs matching `filter`, newest first.
    pub fn list_runs(&self, filter: &RunFilter, limit: usize) -> Result<Vec<Run>, StoreError> {
        let mut conditions: Vec<&str> = Vec::new();
        let mut values: Vec<&dyn ToSql> = Vec::new();
        if let Some(pipeline) = &filter.pipeline {
            conditions.push("pipeline = ?");
            values.push(pipeline);
        }
        if let Some(status) = &filter.status {
            conditions.push("status = ?");
            values.push(status);
        }
        if let Some(trigger) = &filter.trigger {
            conditions.push("trigger_kind = ?");
            values.push(trigger);
        }
        if let Some(started_after) = &filter.started_after {
            conditions.push("started_at >= ?");
            values.push(started_after);
        }
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        values.push(&limit);

        let where_clause = if conditions.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", conditions.join(" AND "))
        };
        // Only fixed column conditions are formatted into the SQL; every value is bound.
        let sql = format!("SELECT {RUN_COLUMNS} FROM runs {where_clause} ORDER BY started_at DESC, id DESC LIMIT ?");

        self.read("list runs", |transaction| {
            let mut statement = transaction.prepare(&sql)?;
            let runs = statement
                .query_map(values.as_slice(), run_from_row)?
                .collect::<rusqlite::Result<_>>()?;
            Ok(runs)
        })
    }

    /// Returns one run with its parameters, metrics, steps, artifacts and model versions, all
    /// read from one snapshot.
    pub fn get_run(&self, run_id: &str) -> Result<RunDetails, StoreError> {
        self.read("read a run", |transaction| {
            Ok(RunDetails {
                run: load_run(transaction, run_id)?,
                params: load_params(transaction, run_id)?,
                metrics: load_metrics(transaction, run_id)?,
                steps: load_run_executions(transaction, run_id)?,
                artifacts: load_run_artifacts(transaction, run_id)?,
                model_versions: load_run_versions(transaction, run_id)?,
            })
        })
    }

    /// Returns the parameters and final metrics of several runs side by side. Fails with
    /// [`StoreError::RunNotFound`] naming the first unknown id.
    pub fn compare_runs(&self, run_ids: &[&str]) -> Result<RunComparison, StoreError> {
        self.read("compare runs", |transaction| {
            let mut runs = Vec::with_capacity(run_ids.len());
            let mut run_params = Vec::with_capacity(run_ids.len());
            let mut run_metrics = Vec::with_capacity(run_ids.len());
            for run_id in run_ids {
                runs.push(load_run(transaction, run_id)?);
                run_params.push(load_params(transaction, run_id)?);
                run_metrics.push(final_metrics(load_metrics(transaction, run_id)?));
            }

            let param_keys: BTreeSet<&String> = run_params.iter().flat_map(|p| p.keys()).collect();
            let metric_keys: BTreeSet<&String> =
                run_metrics.iter().flat_map(|m| m.keys()).collect();

            let mut params = BTreeMap::new();
            let mut differing_params = Vec::new();
            for key in param_keys {
                let values: Vec<Option<serde_json::Value>> =
                    run_params.iter().map(|p| p.get(key).cloned()).collect();
                if values.windows(2).any(|pair| pair[0] != pair[1]) {
                    differing_params.push(key.clone());
                }
                params.insert(key.clone(), values);
            }
            let metrics = metric_keys
                .into_iter()
                .map(|key| {
                    (
                        key.clone(),
                        run_metrics.iter().map(|m| m.get(key).cloned()).collect(),
                    )
                })
                .collect();

            Ok(RunComparison {
                runs,
                params,
                metrics,
                differing_params,
            })
        })
    }
}

/// Keeps, per key, the point with the highest step; `points` come ordered by key, step and
/// logging order, so the last one seen wins ties.
fn final_metrics(points: Vec<MetricPoint>) -> BTreeMap<String, MetricPoint> {
    let mut last = BTreeMap::new();
    for point in points {
        last.insert(point.key.clone(), point);
    }
    last
}
