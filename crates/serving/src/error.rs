//! Errors of loading models, starting the server and batch scoring. HTTP request errors have
//! their own type, [`crate::http::ApiError`], because they map to a status and a JSON body.

use std::net::SocketAddr;
use std::path::PathBuf;

use thiserror::Error;

/// A failure outside a single HTTP request. Each message includes the underlying error,
/// which is therefore a field and not an error source, so chains print it once.
#[derive(Debug, Error)]
pub enum ServingError {
    /// The registry could not resolve the model reference or read the registry.
    #[error("failed to resolve model `{model}` at `{reference}`: {error}")]
    Resolve { model: String, reference: String, error: Box<store::StoreError> },
    /// The model file of a version is missing or does not match its hash.
    #[error("model `{model}` version {version}: {error}")]
    Artifact { model: String, version: u32, error: Box<store::StoreError> },
    /// The model file exists but the loader could not read it.
    #[error("failed to load model `{model}` version {version} from `{path}`: {message}")]
    Load { model: String, version: u32, path: PathBuf, message: String },
    /// The server would listen beyond this machine without a token.
    #[error(
        "refusing to listen on {addr} without a token: that address accepts connections from \
         other machines; pass --token or set TOPICOPS_TOKEN, or listen on 127.0.0.1"
    )]
    TokenRequired { addr: SocketAddr },
    /// An option has a value the server cannot use.
    #[error("invalid option `{option}`: {reason}")]
    InvalidOption { option: &'static str, reason: String },
    #[error("failed to bind {addr}: {error}")]
    Bind { addr: SocketAddr, error: std::io::Error },
    #[error("failed to start the async runtime: {error}")]
    Runtime { error: std::io::Error },
    #[error("failed to {action} `{path}`: {error}")]
    Io { action: &'static str, path: PathBuf, error: std::io::Error },
    /// A query or write on the alexandria3k database failed.
    #[error("alexandria3k database `{path}`: failed to {action}: {error}")]
    A3k { path: PathBuf, action: &'static str, error: rusqlite::Error },
    /// The model's labels cannot be stored as ASJC codes.
    #[error(
        "model label `{label}` is not a numeric ASJC code, so it cannot be written to the \
         alexandria3k table; write to --output instead"
    )]
    NonAsjcLabel { label: String },
    #[error("failed to write {format} output `{path}`: {message}")]
    Output { format: &'static str, path: PathBuf, message: String },
    #[error(transparent)]
    Corpus(#[from] corpus::CorpusError),
}
