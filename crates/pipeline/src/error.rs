//! Errors of the pipeline. Each says which step, file or setting failed and what to do.

use std::path::PathBuf;

use store::StoreError;

/// A failure that stops a pipeline run or one of its steps.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("failed to {action} `{path}`: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("invalid input: {0}")]
    Input(String),
    #[error("step `{step}` recorded no output named `{output}`; rerun it with --refresh {step}")]
    MissingOutput { step: String, output: String },
    #[error("step `{step}` failed: {message}")]
    Step { step: &'static str, message: String },
    #[error("run `{run_id}` has no completed `{step}` step to read `{output}` from; run the pipeline (or `topicops step {step} --run {run_id}`) first")]
    UpstreamMissing { run_id: String, step: String, output: String },
}

impl PipelineError {
    /// True when the error may not recur on a later attempt (a busy database).
    pub fn is_transient(&self) -> bool {
        match self {
            PipelineError::Store(error) => crate::engine::store_error_is_transient(error),
            PipelineError::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::Interrupted | std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ),
            _ => false,
        }
    }

    /// True when the user can fix the error by changing input or settings (exit code 2).
    pub fn is_user_error(&self) -> bool {
        matches!(self, PipelineError::Config(_) | PipelineError::Input(_))
    }
}
