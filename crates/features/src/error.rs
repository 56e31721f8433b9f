//! Errors of fitting and loading a featurizer.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum FeatureError {
    /// The training works yield no feature that passes the filters.
    #[error(
        "no usable tokens in {documents} training works: every title and abstract is empty, \
         one-letter words, numbers or markup, or no term reaches min_df = {min_df}; \
         supply works with text or lower min_df"
    )]
    NoUsableTokens { documents: usize, min_df: u32 },
    #[error("invalid featurizer config: `{field}` {reason}")]
    InvalidConfig { field: &'static str, reason: String },
    #[error("invalid saved vocabulary: {reason}")]
    InvalidVocabulary { reason: String },
}
