//! Evaluation of multi-label classifiers for topicops. It computes metrics from plain label
//! strings and scores, so any model's output can be evaluated, and validates gold labels.
//! The quality gate decides whether a candidate may replace the champion, and the run report
//! renders everything as Markdown and HTML with hand-written SVG plots.
//!
//! Metric definitions follow scikit-learn 1.9 with `zero_division=0`; each field of
//! [`AggregateMetrics`] names the scikit-learn call it equals. This crate does not train,
//! predict or read corpora.

mod aggregate;
mod cooccurrence;
mod curve;
mod error;
mod gate;
mod gold;
mod input;
mod metrics;
pub mod report;

pub use aggregate::{AggregateMetrics, Scores};
pub use cooccurrence::CoOccurrence;
pub use curve::{BestThreshold, PrPoint};
pub use error::EvaluationError;
pub use gate::{gate, GateCheck, GateConfig, GateDecision};
pub use gold::{
    validate_gold, GoldIssues, LabelOccurrences, RejectedGold, UnseenLabels, ValidatedGold,
};
pub use input::{EvaluationInput, EvaluationOptions};
pub use metrics::{evaluate, evaluate_with, Evaluation, LabelMetrics, METRIC_NAMES};
