//! Errors of training, saving and loading a classifier.

use std::path::PathBuf;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum ModelError {
    #[error(transparent)]
    Features(#[from] features::FeatureError),
    /// Works and label lists of one split differ in length.
    #[error("{split} split has {works} works but {labels} label lists; pass one label list per work")]
    LengthMismatch { split: &'static str, works: usize, labels: usize },
    /// No training work carries a label.
    #[error("no labelled training works among {works}; attach labels (for Crossref, an ISSN-to-ASJC table) before training")]
    NoLabelledWorks { works: usize },
    /// Every label has fewer positive training works than `min_label_support`.
    #[error(
        "no label has at least {min_label_support} positive training works (most frequent: {most_frequent}); \
         supply more labelled works or lower min_label_support"
    )]
    NoTrainableLabels { min_label_support: usize, most_frequent: String },
    #[error("invalid training config: `{field}` {reason}")]
    InvalidConfig { field: &'static str, reason: String },
    #[error("failed to build a thread pool of {threads} threads: {message}")]
    ThreadPool { threads: usize, message: String },
    #[error("failed to {action} model file `{path}`: {source}")]
    Io { action: &'static str, path: PathBuf, source: std::io::Error },
    /// The file is not a readable safetensors file.
    #[error("model file `{path}` is not a valid safetensors file: {message}")]
    Safetensors { path: PathBuf, message: String },
    /// The file is a safetensors file but not a topicops model of a supported version.
    #[error("model file `{path}` {problem}")]
    Format { path: PathBuf, problem: String },
    #[error("model file `{path}` is corrupt: {what} checksum is {actual}, expected {expected}; re-copy or retrain the model")]
    ChecksumMismatch { path: PathBuf, what: &'static str, expected: String, actual: String },
    #[error("model file `{path}`: tensor `{tensor}` has shape {actual:?}, expected {expected:?}")]
    Shape { path: PathBuf, tensor: &'static str, expected: Vec<usize>, actual: Vec<usize> },
}
