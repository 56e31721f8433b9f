//! Storing profiles and drift reports in the topicops stores.
//!
//! The store has no monitoring table, so a monitoring result is kept as a run of the
//! `monitor` pipeline. Its parameters name the model and version, and its metrics contain the
//! headline numbers, so `topicops runs` lists and compares them. The full report is an
//! artifact produced by that run. A model version finds its profile through its metadata field
//! `profile.hash`.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::json;
use store::{ArtifactRef, ModelVersion, NamedArtifact, NewRun, RunStatus, Stores, Trigger};

use crate::drift::DriftReport;
use crate::profile::{ReferenceProfile, PROFILE_MEDIA_TYPE};
use crate::MonitoringError;

/// Pipeline name of monitoring runs.
pub const MONITOR_PIPELINE: &str = "monitor";

/// Artifact name of a stored drift report.
pub const REPORT_ARTIFACT: &str = "drift_report.json";

/// Artifact name of a stored HTML drift report.
pub const HTML_ARTIFACT: &str = "drift_report.html";

/// Artifact name of a reference profile.
pub const PROFILE_ARTIFACT: &str = "reference_profile.json.gz";

/// Run and artifacts of a stored monitoring result.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedReport {
    pub run_id: String,
    pub report: ArtifactRef,
    pub html: Option<ArtifactRef>,
}

/// Stores a profile in the artifact store and records it (produced by `run_id`, typically
/// the training run). The pipeline then writes `{"profile": {"hash": ...}}` into the model
/// version's metadata.
pub fn store_profile(stores: &Stores, profile: &ReferenceProfile, run_id: Option<&str>) -> Result<NamedArtifact, MonitoringError> {
    let bytes = profile.to_bytes()?;
    let artifact = stores.artifacts.put_bytes(&bytes)?;
    let named = NamedArtifact::stored(PROFILE_ARTIFACT, artifact, PROFILE_MEDIA_TYPE);
    stores.metadata.record_artifact(run_id, &named)?;
    Ok(named)
}

/// Returns the profile hash recorded in a model version's metadata, if any.
pub fn profile_hash(version: &ModelVersion) -> Option<&str> {
    version.metadata.get("profile")?.get("hash")?.as_str()
}

/// Loads the reference profile of a model version after checking its content hash.
pub fn load_profile(stores: &Stores, version: &ModelVersion) -> Result<ReferenceProfile, MonitoringError> {
    let hash = profile_hash(version)
        .ok_or_else(|| MonitoringError::NoProfile { model: version.model.clone(), version: version.version })?;
    let mut file = stores.open_verified(hash)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|source| MonitoringError::Io { action: "read", path: format!("artifact {hash}").into(), source })?;
    ReferenceProfile::from_bytes(&bytes, &format!("artifact {hash}"))
}

/// Records a drift report against a model version as a finished `monitor` run with its
/// parameters, headline metrics and the report (and HTML page, if given) as artifacts.
/// `source` names the current batch, e.g. its path.
pub fn record_report(
    stores: &Stores,
    version: &ModelVersion,
    report: &DriftReport,
    html: Option<&str>,
    source: &str,
    trigger: Trigger,
) -> Result<RecordedReport, MonitoringError> {
    let new_run = NewRun {
        pipeline: MONITOR_PIPELINE.to_string(),
        topicops_version: env!("CARGO_PKG_VERSION").to_string(),
        code_version: None,
        config: json!({ "model": version.model, "version": version.version, "current": source, "drift": report.config }),
        trigger,
        trigger_reason: Some(format!("monitor {}@{} on {source}", version.model, version.version)),
        parent_run_id: None,
    };
    let run = stores.metadata.create_run(&new_run)?;
    let result = write_run_contents(stores, &run.id, version, report, html, source);
    let (status, error) = match &result {
        Ok(_) => (RunStatus::Succeeded, None),
        Err(error) => (RunStatus::Failed, Some(error.to_string())),
    };
    stores.metadata.finish_run(&run.id, status, error.as_deref())?;
    let (report_ref, html_ref) = result?;
    Ok(RecordedReport { run_id: run.id, report: report_ref, html: html_ref })
}

fn write_run_contents(
    stores: &Stores,
    run_id: &str,
    version: &ModelVersion,
    report: &DriftReport,
    html: Option<&str>,
    source: &str,
) -> Result<(ArtifactRef, Option<ArtifactRef>), MonitoringError> {
    let mut params = BTreeMap::new();
    params.insert("model".to_string(), json!(version.model));
    params.insert("model_version".to_string(), json!(version.version));
    params.insert("current".to_string(), json!(source));
    stores.metadata.log_params(run_id, &params)?;
    let metrics = headline_metrics(report);
    let metric_refs: Vec<(&str, f64)> = metrics.iter().map(|(key, value)| (key.as_str(), *value)).collect();
    stores.metadata.log_metrics(run_id, 0, &metric_refs)?;

    let json = serde_json::to_vec_pretty(report).map_err(|source| MonitoringError::Json { what: "the drift report".into(), source })?;
    let report_ref = stores.artifacts.put_bytes(&json)?;
    stores.metadata.record_artifact(Some(run_id), &NamedArtifact::stored(REPORT_ARTIFACT, report_ref.clone(), "application/json"))?;
    let html_ref = match html {
        Some(html) => {
            let reference = stores.artifacts.put_bytes(html.as_bytes())?;
            stores.metadata.record_artifact(Some(run_id), &NamedArtifact::stored(HTML_ARTIFACT, reference.clone(), "text/html"))?;
            Some(reference)
        }
        None => None,
    };
    Ok((report_ref, html_ref))
}

/// Returns the numbers logged as run metrics: dataset drift (1 or 0), drifted share and counts, each
/// tested column's score as `drift.<column>`, the text AUC and quality when present.
pub fn headline_metrics(report: &DriftReport) -> Vec<(String, f64)> {
    let mut metrics = vec![
        ("dataset_drift".to_string(), f64::from(u8::from(report.dataset_drift))),
        ("drifted_share".to_string(), report.drifted_share),
        ("drifted_columns".to_string(), report.drifted_columns as f64),
        ("tested_columns".to_string(), report.tested_columns as f64),
        ("current_works".to_string(), report.current_works as f64),
    ];
    for feature in report.features.iter().chain(&report.predicted_labels).chain(&report.label_prior) {
        if let Some(score) = feature.score {
            metrics.push((format!("drift.{}", feature.name), score));
        }
    }
    if let Some(auc) = report.text.as_ref().and_then(|t| t.auc) {
        metrics.push(("drift.text_auc".to_string(), auc));
    }
    if let Some(quality) = &report.quality {
        metrics.push(("quality.micro_f1".to_string(), quality.micro_f1));
        metrics.push(("quality.macro_f1".to_string(), quality.macro_f1));
    }
    if let Some(drop) = &report.quality_drop {
        metrics.push(("quality.drop".to_string(), drop.drop));
    }
    metrics
}
