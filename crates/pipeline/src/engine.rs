//! The step engine: runs one named step with caching, retries and tracking.
//!
//! A step's cache key is the BLAKE3 hash of its name, implementation version, canonical
//! parameters and the content hashes of its inputs. When a previous successful execution has
//! the same key and all its outputs are still in the artifact store with the right content,
//! the step is skipped and the run records a cache hit. A missing or corrupt cached output is
//! a miss: the step runs again. The engine does not know what steps compute; the pipeline
//! module wires them together.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde::Serialize;
use store::{ArtifactRef, NamedArtifact, StepStatus, StoreError, Stores};

use crate::error::PipelineError;

/// Identity of a step implementation. Bump `version` whenever the step's code changes what
/// it outputs, so that old cache entries stop matching.
#[derive(Debug, Clone, Copy)]
pub struct StepSpec {
    pub name: &'static str,
    pub version: u32,
}

/// Cache and retry settings of the engine.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Run every step, ignoring the cache (results are still recorded for later runs).
    pub no_cache: bool,
    /// Steps to rerun even when cached.
    pub refresh: BTreeSet<String>,
    /// Attempts of a step that fails transiently, counting the first.
    pub max_attempts: u32,
    /// Delay before the first retry; doubled for each further retry.
    pub retry_backoff: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            no_cache: false,
            refresh: BTreeSet::new(),
            max_attempts: 3,
            retry_backoff: Duration::from_millis(500),
        }
    }
}

/// Outcome of a step: its outputs, whether they came from the cache, and its timing.
#[derive(Debug, Clone, Serialize)]
pub struct StepOutcome {
    pub step: String,
    pub cached: bool,
    pub duration_ms: u64,
    pub attempts: u32,
    pub outputs: BTreeMap<String, ArtifactRef>,
}

impl StepOutcome {
    /// Returns the named output, or an error naming the step and the output.
    pub fn output(&self, name: &str) -> Result<&ArtifactRef, PipelineError> {
        self.outputs.get(name).ok_or_else(|| PipelineError::MissingOutput {
            step: self.step.clone(),
            output: name.to_string(),
        })
    }
}

/// Runs steps of one run against the stores.
pub struct Engine<'a> {
    stores: &'a Stores,
    run_id: String,
    options: EngineOptions,
    outcomes: RefCell<Vec<StepOutcome>>,
}

impl<'a> Engine<'a> {
    pub fn new(stores: &'a Stores, run_id: impl Into<String>, options: EngineOptions) -> Self {
        Engine { stores, run_id: run_id.into(), options, outcomes: RefCell::new(Vec::new()) }
    }

    pub fn stores(&self) -> &'a Stores {
        self.stores
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Outcomes of the steps executed so far, in order.
    pub fn outcomes(&self) -> Vec<StepOutcome> {
        self.outcomes.borrow().clone()
    }

    /// Executes `compute` for `spec`, or reuses a cached execution with the same cache key.
    ///
    /// `compute` writes its outputs into the artifact store and returns them by name. It may
    /// be called several times when it fails with an error that
    /// [`PipelineError::is_transient`] accepts.
    pub fn execute<F>(
        &self,
        spec: StepSpec,
        params: &serde_json::Value,
        inputs: &[NamedArtifact],
        mut compute: F,
    ) -> Result<StepOutcome, PipelineError>
    where
        F: FnMut() -> Result<Vec<NamedArtifact>, PipelineError>,
    {
        let cache_key = cache_key(spec, params, inputs);
        let metadata = &self.stores.metadata;

        if self.cache_allowed(spec.name) {
            if let Some(outcome) = self.reuse_cached(spec, &cache_key, inputs)? {
                self.outcomes.borrow_mut().push(outcome.clone());
                return Ok(outcome);
            }
        }

        let started = Instant::now();
        let mut attempt = 1;
        loop {
            let execution_id = metadata.start_step(&self.run_id, spec.name, Some(&cache_key), attempt)?;
            metadata.record_step_inputs(execution_id, inputs)?;
            tracing::debug!(step = spec.name, attempt, cache_key = %cache_key, "running step");

            match compute() {
                Ok(outputs) => {
                    metadata.finish_step(execution_id, StepStatus::Succeeded, &outputs, None)?;
                    let outcome = StepOutcome {
                        step: spec.name.to_string(),
                        cached: false,
                        duration_ms: started.elapsed().as_millis() as u64,
                        attempts: attempt,
                        outputs: outputs.into_iter().map(|o| (o.name, o.artifact)).collect(),
                    };
                    self.outcomes.borrow_mut().push(outcome.clone());
                    return Ok(outcome);
                }
                Err(error) => {
                    let message = error.to_string();
                    metadata.finish_step(execution_id, StepStatus::Failed, &[], Some(&message))?;
                    if !error.is_transient() || attempt >= self.options.max_attempts {
                        return Err(error);
                    }
                    let delay = self.options.retry_backoff * 2u32.saturating_pow(attempt - 1);
                    tracing::warn!(
                        step = spec.name,
                        attempt,
                        delay_ms = delay.as_millis() as u64,
                        error = %message,
                        "step failed transiently; retrying"
                    );
                    std::thread::sleep(delay);
                    attempt += 1;
                }
            }
        }
    }

    fn cache_allowed(&self, step: &str) -> bool {
        !self.options.no_cache && !self.options.refresh.contains(step)
    }

    /// Returns the cached outcome when a previous execution matches and every output verifies.
    fn reuse_cached(
        &self,
        spec: StepSpec,
        cache_key: &str,
        inputs: &[NamedArtifact],
    ) -> Result<Option<StepOutcome>, PipelineError> {
        let Some(hit) = self.stores.metadata.find_cache_hit(spec.name, cache_key)? else {
            return Ok(None);
        };
        for output in &hit.outputs {
            match self.stores.verify_artifact(&output.artifact.hash) {
                Ok(()) => {}
                Err(error) if error.is_artifact_unusable() => {
                    tracing::warn!(
                        step = spec.name,
                        output = %output.name,
                        error = %error,
                        "cached output is missing or corrupt; running the step again"
                    );
                    return Ok(None);
                }
                Err(error) => return Err(error.into()),
            }
        }
        self.stores.metadata.record_cache_hit(&self.run_id, &hit, inputs)?;
        tracing::debug!(step = spec.name, from_run = %hit.run_id, "step served from cache");
        Ok(Some(StepOutcome {
            step: spec.name.to_string(),
            cached: true,
            duration_ms: 0,
            attempts: 0,
            outputs: hit.outputs.into_iter().map(|o| (o.name, o.artifact)).collect(),
        }))
    }
}

/// Computes a step's cache key: BLAKE3 of the canonical JSON of step name, version,
/// parameters and input hashes. `serde_json` maps keep keys sorted, so equal parameters
/// always serialise to the same bytes.
pub fn cache_key(spec: StepSpec, params: &serde_json::Value, inputs: &[NamedArtifact]) -> String {
    let mut sorted_inputs: Vec<(&str, &str)> =
        inputs.iter().map(|i| (i.name.as_str(), i.artifact.hash.as_str())).collect();
    sorted_inputs.sort_unstable();
    let material = serde_json::json!({
        "step": spec.name,
        "version": spec.version,
        "params": params,
        "inputs": sorted_inputs,
    });
    blake3::hash(material.to_string().as_bytes()).to_hex().to_string()
}

/// True for store errors that a later attempt may not meet.
pub(crate) fn store_error_is_transient(error: &StoreError) -> bool {
    matches!(error, StoreError::Busy { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, hash: &str) -> NamedArtifact {
        NamedArtifact::stored(name, ArtifactRef { hash: hash.to_string(), size_bytes: 1 }, "x")
    }

    const SPEC: StepSpec = StepSpec { name: "train", version: 1 };

    #[test]
    fn cache_key_ignores_input_order() {
        let params = serde_json::json!({"c": 1.0});
        let forward = cache_key(SPEC, &params, &[input("a", "11"), input("b", "22")]);
        let backward = cache_key(SPEC, &params, &[input("b", "22"), input("a", "11")]);
        assert_eq!(forward, backward);
    }

    #[test]
    fn cache_key_changes_with_each_part() {
        let params = serde_json::json!({"c": 1.0});
        let base = cache_key(SPEC, &params, &[input("a", "11")]);
        let other_param = cache_key(SPEC, &serde_json::json!({"c": 2.0}), &[input("a", "11")]);
        let other_input = cache_key(SPEC, &params, &[input("a", "12")]);
        let other_version = cache_key(StepSpec { version: 2, ..SPEC }, &params, &[input("a", "11")]);
        assert_ne!(base, other_param);
        assert_ne!(base, other_input);
        assert_ne!(base, other_version);
    }

    #[test]
    fn cache_key_ignores_parameter_key_order() {
        let first: serde_json::Value = serde_json::from_str(r#"{"a": 1, "b": 2}"#).unwrap();
        let second: serde_json::Value = serde_json::from_str(r#"{"b": 2, "a": 1}"#).unwrap();
        assert_eq!(cache_key(SPEC, &first, &[]), cache_key(SPEC, &second, &[]));
    }
}
