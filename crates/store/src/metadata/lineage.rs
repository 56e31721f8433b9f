//! Lineage queries: which data, code and parameters made a model version. The walk follows
//! `lineage_edges` upstream from the version (artifact ← producing execution ← consumed
//! artifact ← …) until it reaches source data that no execution produced.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{params, Transaction};
use serde::{Deserialize, Serialize};

use super::artifacts::{load_artifact, ArtifactRecord};
use super::registry::{load_version, ModelVersion};
use super::runs::{load_params, load_run, Run};
use super::steps::{load_execution, StepExecution};
use super::text_enum::text_enum;
use super::{MetadataStore, TxResult};
use crate::StoreError;

text_enum! {
    /// Kind of node a lineage edge connects.
    pub enum NodeKind in "lineage_edges"."from_kind" {
        Artifact => "artifact",
        Execution => "execution",
        Run => "run",
        ModelVersion => "model_version",
    }
}

/// A row of `lineage_edges`: `from` was used to make `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineageEdge {
    pub from_kind: NodeKind,
    pub from_id: String,
    pub to_kind: NodeKind,
    pub to_id: String,
    /// `consumed`, `produced`, `built_from` or `trained_by`.
    pub relation: String,
    /// Input or output name, when the edge has one.
    pub name: Option<String>,
}

/// An artifact upstream of a model version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineageArtifact {
    pub record: ArtifactRecord,
    /// Executions on the walk that produced it, in id order. Empty for source data. Content
    /// produced identically by several executions lists them all, with their inputs upstream.
    pub produced_by: Vec<i64>,
}

/// Everything a model version was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lineage {
    pub model_version: ModelVersion,
    /// The run that registered the version, when known.
    pub run: Option<Run>,
    /// The parameters of that run, keys sorted.
    pub params: BTreeMap<String, serde_json::Value>,
    /// `topicops_version` of the run, when known.
    pub topicops_version: Option<String>,
    /// `code_version` of the run, when recorded.
    pub code_version: Option<String>,
    /// Every artifact upstream of the version (the model file included), sorted by hash.
    pub artifacts: Vec<LineageArtifact>,
    /// The upstream artifacts that no execution produced: the source data.
    pub sources: Vec<ArtifactRecord>,
    /// Executions on the walk, in id order, with their outputs.
    pub executions: Vec<StepExecution>,
    /// The edges walked, in insertion order.
    pub edges: Vec<LineageEdge>,
}

/// Returns the edges upstream of `start`, following `to → from` until no edge leads further.
/// `UNION` drops repeated nodes, so the walk ends even if the edges form a cycle.
fn upstream_edges(
    transaction: &Transaction,
    start_kind: NodeKind,
    start_id: &str,
) -> TxResult<Vec<LineageEdge>> {
    let mut statement = transaction.prepare(
        "WITH RECURSIVE upstream(kind, id) AS (
             SELECT ?1, ?2
             UNION
             SELECT e.from_kind, e.from_id
             FROM lineage_edges e JOIN upstream u ON e.to_kind = u.kind AND e.to_id = u.id
         )
         SELECT e.from_kind, e.from_id, e.to_kind, e.to_id, e.relation, e.name
         FROM lineage_edges e
         WHERE (e.to_kind, e.to_id) IN (SELECT kind, id FROM upstream)
         ORDER BY e.id",
    )?;
    let edges = statement
        .query_map(params![start_kind, start_id], |row| {
            Ok(LineageEdge {
                from_kind: row.get(0)?,
                from_id: row.get(1)?,
                to_kind: row.get(2)?,
                to_id: row.get(3)?,
                relation: row.get(4)?,
                name: row.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(edges)
}

impl MetadataStore {
    /// Returns which data, code and parameters made `model` version `version`: the
    /// registering run with its parameters and code version, every upstream artifact back to
    /// the source data, and the executions in between.
    pub fn lineage_of_model_version(
        &self,
        model: &str,
        version: u32,
    ) -> Result<Lineage, StoreError> {
        self.read("read model lineage", |transaction| {
            let model_version = load_version(transaction, model, version)?;
            let node_id = format!("{model}@{version}");
            let edges = upstream_edges(transaction, NodeKind::ModelVersion, &node_id)?;

            let run = match &model_version.run_id {
                Some(run_id) => Some(load_run(transaction, run_id)?),
                None => None,
            };
            let params = match &run {
                Some(run) => load_params(transaction, &run.id)?,
                None => BTreeMap::new(),
            };

            let mut artifact_hashes = BTreeSet::new();
            let mut execution_ids = BTreeSet::new();
            let mut producers: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
            for edge in &edges {
                for (kind, id) in [(edge.from_kind, &edge.from_id), (edge.to_kind, &edge.to_id)] {
                    match kind {
                        NodeKind::Artifact => {
                            artifact_hashes.insert(id.as_str());
                        }
                        NodeKind::Execution => {
                            if let Ok(execution_id) = id.parse::<i64>() {
                                execution_ids.insert(execution_id);
                            }
                        }
                        NodeKind::Run | NodeKind::ModelVersion => {}
                    }
                }
                if edge.relation == "produced" && edge.from_kind == NodeKind::Execution {
                    if let Ok(execution_id) = edge.from_id.parse::<i64>() {
                        producers
                            .entry(edge.to_id.as_str())
                            .or_default()
                            .insert(execution_id);
                    }
                }
            }

            let mut artifacts = Vec::new();
            let mut sources = Vec::new();
            for hash in artifact_hashes {
                let Some(record) = load_artifact(transaction, hash)? else {
                    continue;
                };
                let produced_by: Vec<i64> = producers
                    .get(hash)
                    .map(|ids| ids.iter().copied().collect())
                    .unwrap_or_default();
                if produced_by.is_empty() && record.run_id.is_none() {
                    sources.push(record.clone());
                }
                artifacts.push(LineageArtifact {
                    record,
                    produced_by,
                });
            }
            let executions = execution_ids
                .into_iter()
                .map(|execution_id| load_execution(transaction, execution_id))
                .collect::<TxResult<Vec<_>>>()?;

            Ok(Lineage {
                topicops_version: run.as_ref().map(|r| r.topicops_version.clone()),
                code_version: run.as_ref().and_then(|r| r.code_version.clone()),
                model_version,
                run,
                params,
                artifacts,
                sources,
                executions,
                edges,
            })
        })
    }
}
