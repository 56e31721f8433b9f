//! The training pipeline: a graph of named, cached, resumable steps from a corpus source to a
//! registered model, with every run, parameter, metric and artifact tracked.

pub mod config;
pub mod continuous;
pub mod engine;
pub mod error;
pub mod fingerprint;
pub mod run;
pub mod split;
pub mod steps;

pub use engine::{Engine, EngineOptions, StepOutcome, StepSpec};
pub use error::PipelineError;
pub use config::PipelineConfig;
pub use run::{run_pipeline, run_single_step, RunOptions, RunSummary, RunTrigger};

/// The actor recorded in audit events: the login name ([`store::current_user`]).
pub fn actor() -> String {
    store::current_user()
}
