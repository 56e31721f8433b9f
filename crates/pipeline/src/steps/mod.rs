//! The pipeline's steps and how their outputs feed each other.
//!
//! ```text
//! ingest -> validate -> split -> featurize -> train -> evaluate -> gate -> register
//!                                                          \-> report
//! ```
//! Each step reads its inputs from the artifact store by hash and writes its outputs there,
//! so any step can run alone against the artifacts of an earlier run.

mod assess;
mod context;
mod ingest;
mod learn;
mod prepare;
mod register;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use store::ArtifactRef;

pub use assess::StoredDecision;
pub use context::{read_works, Context};
pub use prepare::SplitAssignment;
pub use ingest::{ingest_cache_key, label_sources, taxonomy};
pub use register::Registration;

use crate::engine::StepOutcome;
use crate::error::PipelineError;

/// The steps of the training pipeline, in execution order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StepName {
    Ingest,
    Validate,
    Split,
    Featurize,
    Train,
    Evaluate,
    Gate,
    Register,
    Report,
}

impl StepName {
    pub const ALL: [StepName; 9] = [
        StepName::Ingest,
        StepName::Validate,
        StepName::Split,
        StepName::Featurize,
        StepName::Train,
        StepName::Evaluate,
        StepName::Gate,
        StepName::Register,
        StepName::Report,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StepName::Ingest => "ingest",
            StepName::Validate => "validate",
            StepName::Split => "split",
            StepName::Featurize => "featurize",
            StepName::Train => "train",
            StepName::Evaluate => "evaluate",
            StepName::Gate => "gate",
            StepName::Register => "register",
            StepName::Report => "report",
        }
    }

    /// The upstream outputs this step reads, as (step, output name).
    pub fn inputs(self) -> &'static [(StepName, &'static str)] {
        use StepName::*;
        match self {
            Ingest => &[],
            Validate => &[(Ingest, "corpus")],
            Split => &[(Validate, "dataset")],
            Featurize => &[(Validate, "dataset"), (Split, "splits")],
            Train => &[(Validate, "dataset"), (Split, "splits"), (Featurize, "featurizer")],
            Evaluate => &[(Validate, "dataset"), (Split, "splits"), (Train, "model")],
            Gate => &[(Validate, "dataset"), (Split, "splits"), (Evaluate, "evaluation")],
            Register => &[(Train, "model"), (Evaluate, "evaluation"), (Evaluate, "profile"), (Gate, "decision")],
            Report => &[
                (Ingest, "ingest_report"),
                (Validate, "validation_report"),
                (Evaluate, "evaluation"),
                (Gate, "decision"),
            ],
        }
    }
}

impl fmt::Display for StepName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StepName {
    type Err = String;

    fn from_str(text: &str) -> Result<StepName, String> {
        StepName::ALL.into_iter().find(|step| step.as_str() == text).ok_or_else(|| {
            let names: Vec<&str> = StepName::ALL.iter().map(|s| s.as_str()).collect();
            format!("unknown step `{text}`; steps are {}", names.join(", "))
        })
    }
}

/// Outputs of the steps run so far, by (step, output name).
#[derive(Debug, Default, Clone)]
pub struct Upstream {
    outputs: BTreeMap<(StepName, String), ArtifactRef>,
}

impl Upstream {
    /// Records every output of a finished step.
    pub fn insert(&mut self, step: StepName, outcome: &StepOutcome) {
        for (name, artifact) in &outcome.outputs {
            self.outputs.insert((step, name.clone()), artifact.clone());
        }
    }

    /// Records one output.
    pub fn insert_output(&mut self, step: StepName, name: &str, artifact: ArtifactRef) {
        self.outputs.insert((step, name.to_string()), artifact);
    }

    /// All outputs of one step, by name.
    pub fn outputs_of(&self, step: StepName) -> Vec<(String, ArtifactRef)> {
        self.outputs
            .iter()
            .filter(|((s, _), _)| *s == step)
            .map(|((_, name), artifact)| (name.clone(), artifact.clone()))
            .collect()
    }

    /// Returns an upstream output, or an error naming what is missing.
    pub fn get(&self, run_id: &str, step: StepName, name: &str) -> Result<&ArtifactRef, PipelineError> {
        self.outputs.get(&(step, name.to_string())).ok_or_else(|| PipelineError::UpstreamMissing {
            run_id: run_id.to_string(),
            step: step.as_str().to_string(),
            output: name.to_string(),
        })
    }
}

/// Runs one step with its upstream outputs and returns its outcome.
pub fn run_step(context: &Context, step: StepName, upstream: &Upstream) -> Result<StepOutcome, PipelineError> {
    match step {
        StepName::Ingest => ingest::run(context),
        StepName::Validate => prepare::validate(context, upstream),
        StepName::Split => prepare::split(context, upstream),
        StepName::Featurize => learn::featurize(context, upstream),
        StepName::Train => learn::train(context, upstream),
        StepName::Evaluate => assess::evaluate(context, upstream),
        StepName::Gate => assess::gate(context, upstream),
        StepName::Register => register::run(context, upstream),
        StepName::Report => assess::report(context, upstream),
    }
}
