//! The `register` step: a candidate that passed the gate becomes a new version of the model
//! in the registry and, unless configured otherwise, the `champion`. A candidate whose model
//! file is already registered (an identical rerun) resolves to that version, registers
//! nothing new and moves no alias. The registry looks the file up in the transaction that
//! would insert it, so concurrent identical runs also share one version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use store::{NamedArtifact, NewModelVersion};

use evaluation::Evaluation;

use super::assess::StoredDecision;
use super::{Context, StepName, Upstream};
use crate::engine::{StepOutcome, StepSpec};
use crate::error::PipelineError;

/// Registration never comes from the cache: it changes the registry, which may have moved
/// since an earlier run.
const REGISTER: StepSpec = StepSpec { name: "register", version: 1 };

/// Outcome of the `register` step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registration {
    pub model: String,
    /// The version holding the candidate's model file; `None` when the gate failed.
    pub version: Option<u32>,
    /// True when this run created the version.
    pub created: bool,
    /// True when this run moved `champion` to the version.
    pub promoted: bool,
    pub gate_passed: bool,
}

pub fn run(context: &Context, upstream: &Upstream) -> Result<StepOutcome, PipelineError> {
    let run_id = context.run_id();
    let model_artifact = upstream.get(&run_id, StepName::Train, "model")?.clone();
    let evaluation_artifact = upstream.get(&run_id, StepName::Evaluate, "evaluation")?.clone();
    let decision_artifact = upstream.get(&run_id, StepName::Gate, "decision")?.clone();
    let inputs = vec![
        NamedArtifact::stored("model", model_artifact.clone(), "application/vnd.topicops.model+safetensors"),
        NamedArtifact::stored("evaluation", evaluation_artifact.clone(), "application/json"),
        NamedArtifact::stored("decision", decision_artifact.clone(), "application/json"),
        NamedArtifact::stored(
            "profile",
            upstream.get(&run_id, StepName::Evaluate, "profile")?.clone(),
            monitoring::PROFILE_MEDIA_TYPE,
        ),
    ];
    let name = context.config.registry.model_name.clone();
    // A per-run parameter makes the cache key unique, so the step always runs.
    let params = serde_json::json!({ "run": run_id, "registry": context.config.registry });

    context.engine.execute(REGISTER, &params, &inputs, || {
        let decision: StoredDecision = context.get_json("decision", &decision_artifact)?;
        let stores = context.engine.stores();
        let metadata = &stores.metadata;
        let mut registration = Registration {
            model: name.clone(),
            version: None,
            created: false,
            promoted: false,
            gate_passed: decision.decision.passed,
        };
        if !decision.decision.passed {
            tracing::warn!(model = %name, summary = %decision.decision.summary, "candidate failed the gate; not registered");
            return Ok(vec![context.put_json("registration", &registration)?]);
        }

        let evaluations: BTreeMap<String, Evaluation> = context.get_json("evaluation", &evaluation_artifact)?;
        let mut metrics = BTreeMap::new();
        for (test_set, evaluation) in &evaluations {
            for metric in evaluation::METRIC_NAMES {
                if let Some(value) = evaluation.metric(metric) {
                    metrics.insert(format!("{test_set}.{metric}"), value);
                }
            }
        }
        let classifier = context.model(&model_artifact)?;
        let mut metadata_json = serde_json::json!({
            "labels": classifier.labels(),
            "level": context.config.data.level,
            "data": context.config.data.path,
        });
        let profile = upstream.get(&run_id, StepName::Evaluate, "profile")?;
        metadata_json["profile"] = serde_json::to_value(profile).unwrap_or_default();
        let registered = stores.find_or_register_version(&NewModelVersion {
            model: name.clone(),
            artifact: NamedArtifact::stored("model", model_artifact.clone(), "application/vnd.topicops.model+safetensors"),
            run_id: Some(run_id.clone()),
            metadata: metadata_json,
            metrics,
            built_from: vec![
                evaluation_artifact.hash.clone(),
                decision_artifact.hash.clone(),
                upstream.get(&run_id, StepName::Evaluate, "profile")?.hash.clone(),
            ],
        })?;
        let version = registered.version;
        registration.version = Some(version);
        registration.created = registered.created;
        if !registered.created {
            tracing::info!(model = %name, version, "model file already registered; nothing new");
            return Ok(vec![context.put_json("registration", &registration)?]);
        }
        tracing::info!(model = %name, version, "registered model version");

        if context.config.registry.promote {
            let reason = format!("passed the quality gate in run {run_id}: {}", decision.decision.summary);
            metadata.promote(&name, "champion", version, &crate::actor(), &reason)?;
            registration.promoted = true;
            tracing::info!(model = %name, version, "promoted to champion");
        }
        Ok(vec![context.put_json("registration", &registration)?])
    })
}
