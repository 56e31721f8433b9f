//! Finding and loading the model to serve: a registered model name and an alias or version
//! number, resolved through the metadata store, with the model file checked against its
//! hash before the loader reads it.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;
use store::{ModelVersion, Stores};

use crate::scorer::Scorer;
use crate::ServingError;

/// Reads a model file into a scorer. The binary passes the `model` crate's classifier
/// loader; tests pass small scorers of their own.
pub type ModelLoader =
    Arc<dyn Fn(&Path) -> Result<Arc<dyn Scorer>, Box<dyn std::error::Error + Send + Sync>> + Send + Sync>;

/// A model in memory, ready to score.
pub struct LoadedModel {
    pub info: ModelInfo,
    pub scorer: Arc<dyn Scorer>,
}

/// What is loaded, as `/v1/models` and the logs report it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    /// Registered model name.
    pub name: String,
    pub version: u32,
    /// The alias or version number the server follows.
    pub reference: String,
    pub run_id: Option<String>,
    /// BLAKE3 hash of the model file.
    pub artifact_hash: String,
    /// When this process loaded it (RFC 3339, UTC).
    pub loaded_at: String,
}

/// Where the served model comes from: `model` at `reference` (an alias such as `champion`, or
/// a version number) in the stores.
#[derive(Clone)]
pub struct ModelSource {
    stores: Arc<Stores>,
    model: String,
    reference: String,
    loader: ModelLoader,
}

impl ModelSource {
    pub fn new(stores: Arc<Stores>, model: &str, reference: &str, loader: ModelLoader) -> ModelSource {
        ModelSource { stores, model: model.to_string(), reference: reference.trim().to_string(), loader }
    }

    /// Registered model name.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The alias or version number.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// True when the reference is an alias, which can move; a version number never does.
    pub fn follows_alias(&self) -> bool {
        self.reference.parse::<u32>().is_err()
    }

    /// Returns a number that changes whenever an alias of the model moves.
    pub fn change_token(&self) -> Result<i64, ServingError> {
        self.stores.metadata.alias_change_token(&self.model).map_err(|source| self.resolve_error(source))
    }

    /// Resolves the reference to a registered version.
    pub fn resolve(&self) -> Result<ModelVersion, ServingError> {
        self.stores.metadata.resolve(&self.model, &self.reference).map_err(|source| self.resolve_error(source))
    }

    /// Checks the version's model file against its hash and loads it. Blocking: call it off
    /// the async runtime.
    pub fn load_version(&self, version: &ModelVersion) -> Result<LoadedModel, ServingError> {
        let hash = &version.artifact.hash;
        let artifact_error =
            |source| ServingError::Artifact { model: self.model.clone(), version: version.version, error: Box::new(source) };
        self.stores.open_verified(hash).map_err(artifact_error)?;
        let path = self.stores.artifacts.path(hash).map_err(artifact_error)?;

        let scorer = (self.loader)(&path).map_err(|error| ServingError::Load {
            model: self.model.clone(),
            version: version.version,
            path: path.clone(),
            message: error.to_string(),
        })?;
        let info = ModelInfo {
            name: self.model.clone(),
            version: version.version,
            reference: self.reference.clone(),
            run_id: version.run_id.clone(),
            artifact_hash: hash.clone(),
            loaded_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        };
        Ok(LoadedModel { info, scorer })
    }

    /// Resolves the reference and loads that version. Blocking.
    pub fn load(&self) -> Result<LoadedModel, ServingError> {
        let version = self.resolve()?;
        self.load_version(&version)
    }

    fn resolve_error(&self, source: store::StoreError) -> ServingError {
        ServingError::Resolve { model: self.model.clone(), reference: self.reference.clone(), error: Box::new(source) }
    }
}
