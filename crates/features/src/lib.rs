//! Featurizer of scholarly works: tokenises title and abstract into word n-grams, adds
//! namespaced venue, publisher and work-type terms, and weights them with TF-IDF.
//!
//! [`Featurizer::fit`] learns the vocabulary and idf weights from training works only;
//! [`Featurizer::transform`] and [`Featurizer::transform_batch`] then map any work to a
//! sparse L2-normalised vector. The fitted featurizer is saved inside the model, so the
//! serving path computes exactly the training-time features.

mod analyze;
mod config;
mod error;
mod featurizer;
mod fit;
mod sparse;
mod stopwords;
mod tokenize;

pub use analyze::Namespace;
pub use config::{FeaturizerConfig, NamespaceConfig};
pub use error::FeatureError;
pub use featurizer::{DocumentStatus, EmptyReason, Featurizer, FeaturizerState};
pub use sparse::{CsrMatrix, SparseVector};
