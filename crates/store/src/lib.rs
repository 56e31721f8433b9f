//! The stores of topicops: where a run's files, records and models are kept.
//!
//! - [`ArtifactStore`]: immutable files named by their BLAKE3 hash (datasets, feature
//!   matrices, model weights, reports), written atomically.
//! - [`MetadataStore`]: one SQLite database with runs, parameters, metrics, step executions
//!   and their cache keys, artifact records, lineage, the model registry and named locks.
//!   Its tables are documented in [`metadata::schema`].
//! - [`Stores`]: both together under one directory (`.topicops/` by default), with the
//!   operations that need both, such as registering a model only if its file is stored.
//!
//! This crate has no notion of pipelines, models or data formats: callers decide what to
//! store and name it.

pub mod artifact;
mod error;
mod ids;
pub mod metadata;
mod names;
mod stores;

pub use artifact::{ArtifactRef, ArtifactStore, ArtifactWriter};
pub use error::StoreError;
pub use ids::current_user;
pub use metadata::{
    nonfinite_f64, nonfinite_map, parse_metric_value, AliasAction, AliasEvent, AliasMove,
    ArtifactRecord, CacheHit, Lineage, LineageArtifact, LineageEdge, LockInfo, MetadataStore,
    MetricPoint, ModelVersion, NamedArtifact, NewModelVersion, NewRun, NodeKind, Run,
    RunComparison, RunDetails, RunFilter, RunStatus, StepExecution, StepOutput, StepStatus,
    Trigger, VersionRegistration, VersionStatus,
};
pub use names::{validate_alias, validate_model_name};
pub use stores::{Stores, DEFAULT_DIR};
