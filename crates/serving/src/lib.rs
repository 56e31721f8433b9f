//! Serving the registered model: an HTTP server speaking MLflow's scoring protocol and a
//! native API, with hot swap when the followed alias moves, and batch scoring of corpora
//! into files or an alexandria3k database.
//!
//! The crate programs against the [`Scorer`] trait, which the `model` crate's classifier
//! implements, and [`classifier_loader`] reads the classifier's model file. Tests plug in
//! small scorers of their own through a [`ModelLoader`]. Training, the registry itself and corpus reading
//! belong to other crates.

pub mod batch;
mod classifier;
mod error;
pub mod hot_swap;
pub mod http;
pub mod metrics;
pub mod mlflow;
pub mod native;
pub mod prediction_log;
pub mod registry;
pub mod scorer;
pub mod work_input;

pub use classifier::classifier_loader;
pub use error::ServingError;
pub use hot_swap::{ModelSlot, ReloadOutcome, Reloader};
pub use http::{router, serve_until_signal, shutdown_signal, AppState, ServeConfig, Server};
pub use prediction_log::PredictionLogConfig;
pub use registry::{LoadedModel, ModelInfo, ModelLoader, ModelSource};
pub use scorer::{LabelScore, LabelSelection, Prediction, Scorer};

/// Target of the server's lifecycle lines: a model swapped in, a shutdown signal, stopping.
/// They are `info` events, so a subscriber shows them alongside warnings with a directive
/// such as `warn,serving::lifecycle=info`. Directives naming their modules do not match them.
pub const LIFECYCLE_TARGET: &str = "serving::lifecycle";
