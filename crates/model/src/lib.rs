//! Multi-label one-vs-rest linear classifier for scholarly works.
//!
//! [`train`] fits a [`features::Featurizer`] on the training works and trains one linear
//! classifier per label by dual coordinate descent ([`solver`]): an L2-loss SVM by default,
//! or an L1-loss SVM or logistic regression. It then calibrates each label on the
//! validation works. A Platt sigmoid maps decision values to scores in [0, 1], and a
//! per-label threshold on that scale maximises validation F1 ([`calibration`]). The
//! resulting [`Classifier`] predicts single works or batches and saves to a single
//! versioned safetensors file ([`Classifier::save`], documented in `FORMAT.md`).

pub mod calibration;
mod classifier;
mod config;
mod error;
mod format;
mod logistic;
pub mod solver;
mod train;

pub use classifier::{Classifier, Prediction, ScoredLabel};
pub use config::TrainConfig;
pub use error::ModelError;
pub use format::{FORMAT_NAME, FORMAT_VERSION};
pub use solver::Loss;
pub use train::{train, train_with_featurizer, DroppedLabel, LabelSummary, LabelledWorks, TrainSummary, TrainTimings};
