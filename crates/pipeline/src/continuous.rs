//! Continuous training: decides whether the model needs retraining (its source data changed
//! since the champion was trained, a schedule fired, monitoring found drift) and runs the
//! pipeline under a lock in the metadata store, so two trainers never overlap.
//!
//! The registry's alias moves are atomic, so a trainer killed mid-run leaves the old champion
//! in place; its lock lapses after [`LOCK_TTL`] and the next trainer takes over.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use store::{StoreError, Stores};

use crate::config::PipelineConfig;
use crate::error::PipelineError;
use crate::run::{run_pipeline, RunOptions, RunSummary};
use crate::steps::ingest_cache_key;

/// Name of the lock that serialises training runs started by `watch` and `retrain-if-needed`.
pub const TRAINING_LOCK: &str = "training";

/// Lifetime of the training lock; the running trainer renews it every third of this.
pub const LOCK_TTL: Duration = Duration::from_secs(60);

/// Outcome of a retraining attempt.
#[derive(Debug)]
pub enum RetrainOutcome {
    /// Another process holds the training lock.
    Busy { holder: String },
    /// The pipeline ran; see the summary for the gate and registration.
    Ran(Box<RunSummary>),
}

/// Returns why the model should be retrained on new data, or `None` when the champion was
/// trained on exactly the source files the configuration names now.
///
/// The comparison uses the cache key of the `ingest` step: the same files, label tables and
/// ingest settings give the same key.
pub fn data_change(stores: &Stores, config: &PipelineConfig) -> Result<Option<String>, PipelineError> {
    let current = ingest_cache_key(&config.data)?;
    data_change_for_key(stores, config, &current)
}

/// Returns why the model should be retrained, as [`data_change`] does, given the `ingest`
/// cache key of the current data (see [`ingest_cache_key`]). A watcher computes the key once
/// per check and passes it here.
pub fn data_change_for_key(stores: &Stores, config: &PipelineConfig, current: &str) -> Result<Option<String>, PipelineError> {
    let name = &config.registry.model_name;
    let champion = match stores.metadata.resolve(name, "champion") {
        Ok(version) => version,
        Err(StoreError::ModelNotFound { .. } | StoreError::AliasNotFound { .. }) => {
            return Ok(Some(format!("`{name}` has no champion yet")));
        }
        Err(error) => return Err(error.into()),
    };
    let Some(run_id) = &champion.run_id else {
        return Ok(Some(format!("champion version {} has no recorded run", champion.version)));
    };
    let trained_on = stores
        .metadata
        .step_executions(run_id)?
        .into_iter()
        .filter(|execution| execution.step == "ingest" && execution.status == store::StepStatus::Succeeded)
        .find_map(|execution| execution.cache_key);
    if trained_on.as_deref() == Some(current) {
        return Ok(None);
    }
    Ok(Some(format!(
        "source data changed since champion version {} was trained in run {run_id}",
        champion.version
    )))
}

/// Identifies this process as a lock holder.
fn lock_holder() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    format!("{}@{} pid {}", crate::actor(), host.trim(), std::process::id())
}

/// Runs the pipeline while holding the training lock, renewing it until the run ends.
pub fn retrain(
    stores: &Stores,
    store_root: &Path,
    config: PipelineConfig,
    options: RunOptions,
) -> Result<RetrainOutcome, PipelineError> {
    let holder = lock_holder();
    if !stores.metadata.try_lock(TRAINING_LOCK, &holder, LOCK_TTL)? {
        let holder = stores.metadata.lock_info(TRAINING_LOCK)?.map(|info| info.holder).unwrap_or_default();
        return Ok(RetrainOutcome::Busy { holder });
    }
    tracing::info!(holder = %holder, reason = ?options.trigger.reason, "acquired the training lock");

    let finished = AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        scope.spawn(|| renew_lock(stores, &holder, &finished));
        let result = run_pipeline(stores, store_root, config, options);
        finished.store(true, Ordering::Release);
        result
    });

    if let Err(error) = stores.metadata.release(TRAINING_LOCK, &holder) {
        tracing::warn!(error = %error, "failed to release the training lock; it lapses on its own");
    }
    Ok(RetrainOutcome::Ran(Box::new(result?)))
}

fn renew_lock(stores: &Stores, holder: &str, finished: &AtomicBool) {
    let step = Duration::from_millis(200);
    let renew_every = LOCK_TTL / 3;
    let mut waited = Duration::ZERO;
    while !finished.load(Ordering::Acquire) {
        std::thread::sleep(step);
        waited += step;
        if waited < renew_every {
            continue;
        }
        waited = Duration::ZERO;
        match stores.metadata.try_lock(TRAINING_LOCK, holder, LOCK_TTL) {
            Ok(true) => {}
            Ok(false) => tracing::warn!(holder, "lost the training lock to another process"),
            Err(error) => tracing::warn!(error = %error, "failed to renew the training lock"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_champion_is_a_reason_to_train() {
        let directory = tempfile::tempdir().unwrap();
        let stores = Stores::open(&directory.path().join("store")).unwrap();
        let data = directory.path().join("works.jsonl");
        std::fs::write(&data, "{}\n").unwrap();
        let mut config = PipelineConfig::default();
        config.data.path = Some(data);
        let reason = data_change(&stores, &config).unwrap();
        assert_eq!(reason.as_deref(), Some("`asjc-classifier` has no champion yet"));
    }

    #[test]
    fn held_lock_reports_busy() {
        let directory = tempfile::tempdir().unwrap();
        let root = directory.path().join("store");
        let stores = Stores::open(&root).unwrap();
        assert!(stores.metadata.try_lock(TRAINING_LOCK, "someone else", LOCK_TTL).unwrap());
        let mut config = PipelineConfig::default();
        config.data.path = Some(directory.path().to_path_buf());
        let outcome = retrain(&stores, &root, config, RunOptions::default()).unwrap();
        match outcome {
            RetrainOutcome::Busy { holder } => assert_eq!(holder, "someone else"),
            RetrainOutcome::Ran(_) => panic!("ran while another process held the lock"),
        }
    }
}
