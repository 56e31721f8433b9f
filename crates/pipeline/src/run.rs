//! A whole pipeline run: creates the run record, executes the steps in order, records the
//! outcome, and resumes a failed or killed run from its completed steps.

use std::path::PathBuf;
use std::time::Instant;

use serde::Serialize;
use store::{NewRun, RunStatus, Stores, Trigger};

use crate::config::PipelineConfig;
use crate::engine::{Engine, EngineOptions, StepOutcome};
use crate::error::PipelineError;
use crate::steps::{self, Context, StepName, Upstream};

/// The cause of a run, recorded with it.
#[derive(Debug, Clone)]
pub struct RunTrigger {
    pub kind: Trigger,
    pub reason: Option<String>,
}

impl Default for RunTrigger {
    fn default() -> Self {
        RunTrigger { kind: Trigger::Manual, reason: None }
    }
}

/// Options of one `topicops run`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub engine: EngineOptions,
    pub trigger: RunTrigger,
    /// The run this one resumes; its configuration is reused.
    pub resume: Option<String>,
    pub quiet: bool,
}

/// Outcome of a finished run: steps, gate, registration and headline metrics.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run_id: String,
    pub status: String,
    pub duration_ms: u64,
    pub steps: Vec<StepOutcome>,
    pub registration: Option<steps::Registration>,
    pub gate_passed: Option<bool>,
    pub gate_summary: Option<String>,
    /// Reasons of the gate checks that failed, one per test set, so a caller can show why a
    /// candidate was not registered.
    pub gate_failures: Vec<String>,
    /// Headline metrics per test set.
    pub metrics: std::collections::BTreeMap<String, f64>,
    pub report_dir: Option<PathBuf>,
}

/// Runs the whole pipeline and returns its summary. A run whose candidate fails the gate
/// returns `Ok` with `gate_passed == Some(false)`; the caller decides the exit code.
pub fn run_pipeline(
    stores: &Stores,
    store_root: &std::path::Path,
    config: PipelineConfig,
    options: RunOptions,
) -> Result<RunSummary, PipelineError> {
    let (config, trigger, parent) = match &options.resume {
        Some(previous) => {
            let run = stores.metadata.run(previous)?;
            if run.status == RunStatus::Succeeded {
                return Err(PipelineError::Config(format!(
                    "run `{previous}` already succeeded, so there is nothing to resume; start a new run without --resume \
                     (add --no-cache to recompute its steps)"
                )));
            }
            let config: PipelineConfig = serde_json::from_value(run.config.clone()).map_err(|error| {
                PipelineError::Config(format!("run `{previous}` has a configuration this version cannot read: {error}"))
            })?;
            let reason = format!("resumes run {previous} ({})", run.status.as_str());
            (config, RunTrigger { kind: Trigger::Resume, reason: Some(reason) }, Some(previous.clone()))
        }
        None => (config, options.trigger.clone(), None),
    };
    config.validate()?;

    let abandoned = stores.metadata.mark_abandoned_runs()?;
    if !abandoned.is_empty() {
        tracing::warn!(runs = ?abandoned, "marked runs whose process is gone as killed");
    }
    let run = stores.metadata.create_run(&NewRun {
        pipeline: "training".to_string(),
        topicops_version: env!("CARGO_PKG_VERSION").to_string(),
        code_version: option_env!("TOPICOPS_GIT_COMMIT").map(str::to_string),
        config: config.to_json(),
        trigger: trigger.kind,
        trigger_reason: trigger.reason.clone(),
        parent_run_id: parent,
    })?;
    let run_id = run.id.clone();
    tracing::info!(run = %run_id, "run started");
    stores.metadata.log_params(&run_id, &flatten_params(&config.to_json()))?;

    let started = Instant::now();
    let engine = Engine::new(stores, run_id.clone(), options.engine.clone());
    let context = Context::new(engine, config, options.quiet);
    let result = execute_all(&context);

    let mut summary = RunSummary {
        run_id: run_id.clone(),
        status: String::new(),
        duration_ms: started.elapsed().as_millis() as u64,
        steps: context.engine.outcomes(),
        registration: None,
        gate_passed: None,
        gate_summary: None,
        gate_failures: Vec::new(),
        metrics: Default::default(),
        report_dir: None,
    };
    match result {
        Ok(upstream) => {
            fill_summary(&context, &upstream, store_root, &mut summary)?;
            let status = if summary.gate_passed == Some(false) { RunStatus::GateFailed } else { RunStatus::Succeeded };
            stores.metadata.finish_run(&run_id, status, None)?;
            summary.status = status.as_str().to_string();
            Ok(summary)
        }
        Err(error) => {
            let message = error.to_string();
            stores.metadata.finish_run(&run_id, RunStatus::Failed, Some(&message))?;
            // The caller reports the error itself; this line serves logs of long-running callers.
            tracing::info!(run = %run_id, error = %message, "run failed");
            Err(error)
        }
    }
}

/// Environment variable that makes the process abort right after the named step, as a kill
/// would, so tests can check resumption. Used by the end-to-end tests only.
pub const ABORT_AFTER_ENV: &str = "TOPICOPS_TEST_ABORT_AFTER";

fn execute_all(context: &Context) -> Result<Upstream, PipelineError> {
    let abort_after = std::env::var(ABORT_AFTER_ENV).ok();
    let mut upstream = Upstream::default();
    for step in StepName::ALL {
        let outcome = steps::run_step(context, step, &upstream)?;
        upstream.insert(step, &outcome);
        if abort_after.as_deref() == Some(step.as_str()) {
            eprintln!("{ABORT_AFTER_ENV}={step}: aborting");
            std::process::abort();
        }
    }
    Ok(upstream)
}

/// Runs one step of an existing run against the outputs its earlier steps recorded.
pub fn run_single_step(
    stores: &Stores,
    run_id: &str,
    step: StepName,
    engine_options: EngineOptions,
    quiet: bool,
) -> Result<StepOutcome, PipelineError> {
    let run = stores.metadata.run(run_id)?;
    let config: PipelineConfig = serde_json::from_value(run.config.clone())
        .map_err(|error| PipelineError::Config(format!("run `{run_id}` has an unreadable configuration: {error}")))?;
    let details = stores.metadata.get_run(run_id)?;
    let mut upstream = Upstream::default();
    for execution in &details.steps {
        if execution.status != store::StepStatus::Succeeded {
            continue;
        }
        let Ok(name) = execution.step.parse::<StepName>() else { continue };
        for output in &execution.outputs {
            upstream.insert_output(name, &output.name, output.artifact.clone());
        }
    }
    let engine = Engine::new(stores, run_id, engine_options);
    let context = Context::new(engine, config, quiet);
    steps::run_step(&context, step, &upstream)
}

fn fill_summary(
    context: &Context,
    upstream: &Upstream,
    store_root: &std::path::Path,
    summary: &mut RunSummary,
) -> Result<(), PipelineError> {
    let run_id = context.run_id();
    let registration: steps::Registration =
        context.get_json("registration", upstream.get(&run_id, StepName::Register, "registration")?)?;
    let decision: steps::StoredDecision = context.get_json("decision", upstream.get(&run_id, StepName::Gate, "decision")?)?;
    summary.gate_passed = Some(decision.decision.passed);
    summary.gate_summary = Some(decision.decision.summary.clone());
    let failed_checks = decision.decision.checks.iter().filter(|check| !check.passed);
    summary.gate_failures = failed_checks.map(|check| check.reason.clone()).collect();
    summary.registration = Some(registration);

    let evaluations: std::collections::BTreeMap<String, evaluation::Evaluation> =
        context.get_json("evaluation", upstream.get(&run_id, StepName::Evaluate, "evaluation")?)?;
    for (test_set, evaluation) in &evaluations {
        for name in ["micro_f1", "macro_f1", "p_at_1"] {
            if let Some(value) = evaluation.metric(name) {
                summary.metrics.insert(format!("{test_set}.{name}"), value);
            }
        }
    }
    summary.report_dir = Some(export_report(context, upstream, store_root)?);
    Ok(())
}

/// Copies the report files of a run to `<store>/reports/<run id>/` for people to open.
fn export_report(context: &Context, upstream: &Upstream, store_root: &std::path::Path) -> Result<PathBuf, PipelineError> {
    let run_id = context.run_id();
    let directory = store_root.join("reports").join(&run_id);
    std::fs::create_dir_all(&directory)
        .map_err(|source| PipelineError::Io { action: "create", path: directory.clone(), source })?;
    for (name, artifact) in upstream.outputs_of(StepName::Report) {
        let Some(file_name) = name.strip_prefix("report/") else { continue };
        let source = context.artifact_path(&artifact)?;
        let target = directory.join(file_name);
        std::fs::copy(&source, &target).map_err(|source| PipelineError::Io { action: "write", path: target, source })?;
    }
    Ok(directory)
}

/// Flattens the configuration into `section.key` parameters for the run record.
fn flatten_params(config: &serde_json::Value) -> std::collections::BTreeMap<String, serde_json::Value> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut std::collections::BTreeMap<String, serde_json::Value>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                    walk(&path, inner, out);
                }
            }
            other => {
                out.insert(prefix.to_string(), other.clone());
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk("", config, &mut out);
    out
}
