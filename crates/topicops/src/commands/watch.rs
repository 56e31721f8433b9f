//! `topicops watch` and `topicops retrain-if-needed`: continuous training. They retrain when
//! the source data changed since the champion was trained or when a cron schedule fires, run
//! the pipeline under the store's training lock, and let the gate decide on promotion; a
//! running `topicops serve` follows the `champion` alias by itself.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use pipeline::continuous::{data_change, data_change_for_key, retrain, RetrainOutcome};
use pipeline::steps::ingest_cache_key;
use pipeline::{PipelineConfig, RunOptions, RunTrigger};
use store::{Stores, Trigger};

use super::open_stores;
use super::run::{print_summary, resolve_config, ConfigArgs};
use crate::cli::GlobalArgs;
use crate::GoalNotMet;

#[derive(Debug, Args)]
pub struct RetrainArgs {
    #[command(flatten)]
    pub settings: ConfigArgs,
    /// Retrain even when the data has not changed.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub settings: ConfigArgs,
    /// Seconds between checks of the data directory.
    #[arg(long, default_value_t = 10)]
    pub interval_secs: u64,
    /// Also retrain on this cron schedule (seconds field first, e.g. `0 0 3 * * *` for 03:00 UTC daily).
    #[arg(long)]
    pub schedule: Option<String>,
    /// Also retrain when this batch (a corpus source, or the prediction log of `topicops
    /// serve`) drifts from the champion's reference profile or its quality drops. It is
    /// checked at start and whenever its files change.
    #[arg(long, value_name = "PATH")]
    pub monitor: Option<std::path::PathBuf>,
    /// Stop after this many checks (default: run until interrupted).
    #[arg(long)]
    pub max_checks: Option<u64>,
}

pub fn retrain_if_needed(global: &GlobalArgs, args: RetrainArgs) -> anyhow::Result<()> {
    let config = resolve_config(&args.settings)?;
    config.validate()?;
    let stores = open_stores(global)?;
    let reason = match data_change(&stores, &config)? {
        Some(reason) => reason,
        None if args.force => "forced with --force".to_string(),
        None => {
            println!("the champion was trained on the current data; nothing to do");
            return Ok(());
        }
    };
    attempt(global, &stores, config, Trigger::Watch, reason).map(|_| ())
}

pub fn watch(global: &GlobalArgs, args: WatchArgs) -> anyhow::Result<()> {
    let config = resolve_config(&args.settings)?;
    config.validate()?;
    let schedule = match &args.schedule {
        Some(text) => Some(cron::Schedule::from_str(text).map_err(|error| {
            anyhow::anyhow!("invalid --schedule `{text}`: {error}; use six fields, seconds first, e.g. `0 0 3 * * *`")
        })?),
        None => None,
    };
    let stores = open_stores(global)?;
    let interval = Duration::from_secs(args.interval_secs.max(1));
    let mut next_scheduled = schedule.as_ref().and_then(|s| s.upcoming(chrono::Utc).next());
    tracing::info!(data = ?config.data.path, interval_secs = interval.as_secs(), schedule = ?args.schedule, "watching for new data");

    let mut checks = 0u64;
    let mut monitored_state: Option<Vec<pipeline::fingerprint::SourceFile>> = None;
    // Ingest cache key of the data the last triggered run used. A failed run on that data is
    // not retried. A data change, drift or the schedule starts the next one.
    let mut attempted_key: Option<String> = None;
    loop {
        checks += 1;
        let scheduled_due = next_scheduled.is_some_and(|due| chrono::Utc::now() >= due);
        let drift = match &args.monitor {
            Some(path) => drift_reason(global, &config, path, &mut monitored_state),
            None => None,
        };
        let data_key = ingest_cache_key(&config.data);
        let data_reason = match &data_key {
            Ok(key) if attempted_key.as_ref() == Some(key) => {
                tracing::debug!("the data is unchanged since the last triggered run; waiting for a change");
                Ok(None)
            }
            Ok(key) => data_change_for_key(&stores, &config, key).map_err(anyhow::Error::from),
            Err(error) => Err(anyhow::anyhow!("{error}")),
        };
        let trigger = match data_reason {
            Ok(Some(reason)) => Some((Trigger::Watch, reason)),
            Ok(None) if drift.is_some() => drift.map(|reason| (Trigger::Drift, reason)),
            Ok(None) if scheduled_due => Some((Trigger::Schedule, format!("schedule `{}`", args.schedule.as_deref().unwrap_or("")))),
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "failed to check the data; retrying at the next check");
                None
            }
        };
        if scheduled_due {
            next_scheduled = schedule.as_ref().and_then(|s| s.upcoming(chrono::Utc).next());
        }
        if let Some((kind, reason)) = trigger {
            // A failed gate or run is logged and the watch goes on; the next change retries.
            match attempt(global, &stores, config.clone(), kind, reason) {
                Ok(Attempt::Ran) => attempted_key = data_key.ok(),
                Ok(Attempt::Busy) => {}
                Err(error) => {
                    attempted_key = data_key.ok();
                    tracing::warn!(error = %format!("{error:#}"), "triggered run did not produce a champion");
                }
            }
        }
        if args.max_checks.is_some_and(|max| checks >= max) {
            return Ok(());
        }
        std::thread::sleep(interval);
    }
}

/// Monitors `path` against the champion when its files changed since the last check, and
/// returns why to retrain when the batch drifted or the model's quality dropped on it.
fn drift_reason(
    global: &GlobalArgs,
    config: &PipelineConfig,
    path: &std::path::Path,
    last_state: &mut Option<Vec<pipeline::fingerprint::SourceFile>>,
) -> Option<String> {
    let state = match pipeline::fingerprint::SourceManifest::build(&[path], pipeline::fingerprint::FingerprintMode::Metadata) {
        Ok(manifest) => manifest.files,
        Err(error) => {
            tracing::warn!(error = %error, "failed to list the monitored batch; retrying at the next check");
            return None;
        }
    };
    if last_state.as_ref() == Some(&state) {
        return None;
    }
    *last_state = Some(state);

    let args = super::monitor::MonitorArgs {
        current: path.to_path_buf(),
        model: "champion".to_string(),
        name: config.registry.model_name.clone(),
        format: None,
        labels: config.data.labels.clone(),
        json: false,
        html: None,
        fail_on_drift: false,
        no_record: true,
        drift_config: None,
    };
    let report = match super::monitor::compute(global, &args) {
        Ok((_, _, report)) => report,
        Err(error) => {
            tracing::warn!(error = %format!("{error:#}"), "failed to monitor the batch; retrying when it changes");
            return None;
        }
    };
    if report.dataset_drift {
        let names = report.drifted_feature_names().join(", ");
        return Some(format!("`{}` drifted from the champion's reference profile ({names})", path.display()));
    }
    if let Some(drop) = report.quality_drop.as_ref().filter(|drop| drop.alert) {
        return Some(format!(
            "{} on `{}` fell from {:.4} to {:.4}",
            drop.metric,
            path.display(),
            drop.baseline,
            drop.current
        ));
    }
    None
}

/// Whether a triggered run started.
enum Attempt {
    /// The pipeline ran and its candidate passed the gate.
    Ran,
    /// Another process held the training lock, so nothing ran.
    Busy,
}

/// Runs the pipeline for one trigger and reports the outcome. A run that failed or whose
/// candidate failed the gate is an error.
fn attempt(global: &GlobalArgs, stores: &Stores, config: PipelineConfig, kind: Trigger, reason: String) -> anyhow::Result<Attempt> {
    tracing::info!(trigger = kind.as_str(), reason = %reason, "retraining");
    let options = RunOptions {
        trigger: RunTrigger { kind, reason: Some(reason.clone()) },
        quiet: global.quiet,
        ..RunOptions::default()
    };
    let outcome = retrain(stores, &global.store, config, options).context("the triggered run failed")?;
    match outcome {
        RetrainOutcome::Busy { holder } => {
            println!("another training run holds the lock ({holder}); not starting a second one");
            Ok(Attempt::Busy)
        }
        RetrainOutcome::Ran(summary) => {
            println!("triggered: {reason}");
            print_summary(&summary);
            if summary.gate_passed == Some(false) {
                return Err(GoalNotMet(format!("run {} failed the quality gate", summary.run_id)).into());
            }
            Ok(Attempt::Ran)
        }
    }
}
