//! Drift and quality monitoring of topicops models.
//!
//! At training time the pipeline summarises the validation works and the model's predictions
//! on them into a [`ReferenceProfile`] (bounded: samples and top-k counts, whatever the
//! corpus size) and stores it with the model version. Later, [`CurrentBatchBuilder`] summarises
//! a batch of new works the same way and [`detect_drift`] compares the two: per-feature
//! statistical tests, a text-drift domain classifier, predicted-label and score drift, and
//! quality when the batch has gold labels. [`report`] renders the result as a terminal
//! summary, JSON or a self-contained HTML page, and [`record`] stores it against the model
//! version. [`detect_table_drift`] runs the same tests on two CSV tables of features.
//!
//! This crate neither trains nor scores: callers pass predictions as plain data.

pub mod drift;
mod error;
pub mod observe;
pub mod prediction_log;
pub mod profile;
pub mod quality;
pub mod record;
pub mod report;
pub mod sample;
pub mod stats;
mod table;

pub use drift::{detect_drift, detect_drift_with, Alert, AlertKind, CurrentBatch, CurrentBatchBuilder, DriftConfig, DriftReport, FeatureDrift, StatTest};
pub use error::MonitoringError;
pub use observe::{BatchSummary, LabelScore, PredictionRecord, SummaryConfig, VocabularyCoverage};
pub use profile::{ReferenceProfile, PROFILE_MEDIA_TYPE};
pub use quality::{QualityBaseline, QualityDrop, QualityMetrics};
pub use table::detect_table_drift;
