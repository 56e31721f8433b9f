//! The slot holding the served model and the reloader that swaps a new version in when the
//! followed alias moves.
//!
//! Requests take an `Arc` of the current model when they start and keep it to the end, so a
//! swap never disturbs a request in flight: the old model is freed when its last request
//! finishes. Loading runs on a blocking thread, never on the async runtime. A version that
//! fails to load leaves the previous model serving.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwapOption;
use serde::Serialize;

use crate::metrics::Metrics;
use crate::registry::{LoadedModel, ModelSource};
use crate::ServingError;

/// The model currently served; empty until the first load succeeds.
#[derive(Default)]
pub struct ModelSlot {
    current: ArcSwapOption<LoadedModel>,
}

impl ModelSlot {
    pub fn new(initial: Option<LoadedModel>) -> ModelSlot {
        ModelSlot { current: ArcSwapOption::new(initial.map(Arc::new)) }
    }

    /// Returns the current model, to be held for the whole request.
    pub fn get(&self) -> Option<Arc<LoadedModel>> {
        self.current.load_full()
    }

    /// Replaces the current model and returns the previous one.
    pub fn swap(&self, model: LoadedModel) -> Option<Arc<LoadedModel>> {
        self.current.swap(Some(Arc::new(model)))
    }
}

/// The outcome of one registry check.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ReloadOutcome {
    /// The alias did not move, or still points at the served version.
    Unchanged { version: Option<u32> },
    /// A new version is serving.
    Swapped { from_version: Option<u32>, to_version: u32 },
    /// The new version could not be resolved or loaded; the previous one keeps serving.
    Failed { version: Option<u32>, error: String },
}

/// Checks the registry and swaps models. One check runs at a time.
pub struct Reloader {
    source: ModelSource,
    slot: Arc<ModelSlot>,
    metrics: Arc<Metrics>,
    /// Alias change token of the last completed check; `None` before the first.
    last_token: Mutex<Option<i64>>,
    /// Serialises checks from the poller and `POST /v1/reload`.
    running: tokio::sync::Mutex<()>,
    /// Summary of the last failed check, reported by `/v1/models`.
    last_error: Mutex<Option<String>>,
}

impl Reloader {
    pub fn new(source: ModelSource, slot: Arc<ModelSlot>, metrics: Arc<Metrics>) -> Reloader {
        Reloader {
            source,
            slot,
            metrics,
            last_token: Mutex::new(None),
            running: tokio::sync::Mutex::new(()),
            last_error: Mutex::new(None),
        }
    }

    pub fn source(&self) -> &ModelSource {
        &self.source
    }

    /// Returns the error of the last failed check, cleared by a successful one.
    pub fn last_error(&self) -> Option<String> {
        lock(&self.last_error).clone()
    }

    /// Checks the registry and loads the version the reference points at if it is not the
    /// one served. Without `force`, nothing is read beyond the change token while the token
    /// is unchanged, so polling costs one small query.
    pub async fn check(self: &Arc<Self>, force: bool) -> ReloadOutcome {
        let _running = self.running.lock().await;
        let reloader = Arc::clone(self);
        match tokio::task::spawn_blocking(move || reloader.check_blocking(force)).await {
            Ok(outcome) => outcome,
            Err(error) => {
                tracing::error!(%error, "the model reload task panicked; the previous model keeps serving");
                ReloadOutcome::Failed { version: None, error: "internal error".to_string() }
            }
        }
    }

    fn check_blocking(&self, force: bool) -> ReloadOutcome {
        let served = self.slot.get().map(|model| model.info.version);
        let token = match self.source.change_token() {
            Ok(token) => token,
            Err(error) => return self.fail(served, None, &error),
        };
        if !force && *lock(&self.last_token) == Some(token) {
            return ReloadOutcome::Unchanged { version: served };
        }

        let outcome = self.load_if_moved(served);
        // The token is recorded after failures too, so a version that cannot be loaded is
        // logged once instead of at every poll. The next alias move or a forced check tries
        // again.
        *lock(&self.last_token) = Some(token);
        outcome
    }

    fn load_if_moved(&self, served: Option<u32>) -> ReloadOutcome {
        let target = match self.source.resolve() {
            Ok(target) => target,
            Err(error) => return self.fail(served, None, &error),
        };
        let current = self.slot.get();
        if let Some(current) = &current {
            if current.info.version == target.version && current.info.artifact_hash == target.artifact.hash {
                *lock(&self.last_error) = None;
                return ReloadOutcome::Unchanged { version: served };
            }
        }

        tracing::info!(
            model = self.source.model(),
            reference = self.source.reference(),
            from_version = ?served,
            to_version = target.version,
            "loading a new model version"
        );
        match self.source.load_version(&target) {
            Ok(model) => {
                let to_version = model.info.version;
                self.slot.swap(model);
                self.metrics.record_reload(true);
                *lock(&self.last_error) = None;
                tracing::info!(
                    target: crate::LIFECYCLE_TARGET,
                    model = self.source.model(),
                    from_version = ?served,
                    to_version,
                    "swapped in the new model version"
                );
                ReloadOutcome::Swapped { from_version: served, to_version }
            }
            Err(error) => self.fail(served, Some(target.version), &error),
        }
    }

    fn fail(&self, served: Option<u32>, version: Option<u32>, error: &ServingError) -> ReloadOutcome {
        self.metrics.record_reload(false);
        if served.is_some() {
            tracing::error!(
                model = self.source.model(),
                reference = self.source.reference(),
                version = ?version,
                served_version = ?served,
                %error,
                "model reload failed; the previous model keeps serving"
            );
        } else {
            tracing::error!(
                model = self.source.model(),
                reference = self.source.reference(),
                version = ?version,
                %error,
                "model reload failed; no model is loaded yet, so /ready stays 503"
            );
        }
        // Clients get a summary; the error itself, which names files, goes to the log only.
        let summary = match version {
            Some(version) => format!("version {version} failed to load; the server log has the error"),
            None => "the registry could not be read or the reference did not resolve; the server log has the error".to_string(),
        };
        *lock(&self.last_error) = Some(summary.clone());
        ReloadOutcome::Failed { version, error: summary }
    }

    /// Checks the registry every `interval` until `shutdown` fires.
    pub async fn poll(self: Arc<Self>, interval: Duration, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    self.check(false).await;
                }
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// Locks a mutex, recovering the data if a thread panicked while holding it: every value
/// guarded here is replaced whole, so it is never left half-written.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
