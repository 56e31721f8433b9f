//! The artifact store and the metadata store opened together from one directory, and the
//! operations that need both: registering a model only when its file is stored, and artifact
//! errors that name what the artifact is.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::{ArtifactStore, MetadataStore, NewModelVersion, StoreError, VersionRegistration};

/// Default directory of the stores, relative to the project directory.
pub const DEFAULT_DIR: &str = ".topicops";

/// Both stores of one project: `<root>/artifacts/` and `<root>/metadata.db`.
pub struct Stores {
    pub artifacts: ArtifactStore,
    pub metadata: MetadataStore,
}

impl Stores {
    /// Opens (creating if needed) the stores under `root`, e.g. `.topicops`.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        Ok(Stores {
            artifacts: ArtifactStore::open(Self::artifacts_dir(root))?,
            metadata: MetadataStore::open(Self::metadata_path(root))?,
        })
    }

    /// `<root>/artifacts`.
    pub fn artifacts_dir(root: &Path) -> PathBuf {
        root.join("artifacts")
    }

    /// `<root>/metadata.db`.
    pub fn metadata_path(root: &Path) -> PathBuf {
        root.join("metadata.db")
    }

    /// Registers a model version after checking that its file is in the artifact store with
    /// the recorded size, so no version can point at a missing object.
    pub fn register_version(&self, new_version: &NewModelVersion) -> Result<u32, StoreError> {
        self.check_model_file(new_version)?;
        self.metadata.register_version(new_version)
    }

    /// Returns the existing version with the same model file, or registers a new one, after
    /// the same file check as [`Stores::register_version`]. See
    /// [`MetadataStore::find_or_register_version`].
    pub fn find_or_register_version(
        &self,
        new_version: &NewModelVersion,
    ) -> Result<VersionRegistration, StoreError> {
        self.check_model_file(new_version)?;
        self.metadata.find_or_register_version(new_version)
    }

    /// Checks that the model file of `new_version` is stored with its recorded size.
    fn check_model_file(&self, new_version: &NewModelVersion) -> Result<(), StoreError> {
        let artifact = &new_version.artifact.artifact;
        let path = self
            .artifacts
            .path(&artifact.hash)
            .map_err(|e| e.with_artifact_description(format!("`{}`", new_version.artifact.name)))?;
        let size_bytes = std::fs::metadata(&path)
            .map_err(|e| StoreError::io("read the size of", &path, e))?
            .len();
        if size_bytes != artifact.size_bytes {
            return Err(StoreError::ArtifactCorrupt {
                hash: artifact.hash.clone(),
                actual_hash: format!(
                    "(unknown: size is {size_bytes} bytes, expected {})",
                    artifact.size_bytes
                ),
                path,
                description: Some(format!("`{}`", new_version.artifact.name)),
            });
        }
        Ok(())
    }

    /// Checks an artifact's content against its hash. A missing or corrupt artifact's error
    /// names what the artifact is when the metadata store has a record of it.
    pub fn verify_artifact(&self, hash: &str) -> Result<(), StoreError> {
        self.open_verified(hash).map(|_| ())
    }

    /// Opens an artifact after checking its content, as [`ArtifactStore::open_verified`], with
    /// errors naming what the artifact is.
    pub fn open_verified(&self, hash: &str) -> Result<File, StoreError> {
        self.artifacts
            .open_verified(hash)
            .map_err(|error| self.describe_artifact_error(hash, error))
    }

    /// Adds the artifact's recorded name and media type to a missing or corrupt artifact error.
    pub fn describe_artifact_error(&self, hash: &str, error: StoreError) -> StoreError {
        if !error.is_artifact_unusable() {
            return error;
        }
        match self.metadata.artifact(hash) {
            Ok(Some(record)) => error.with_artifact_description(record.describe()),
            _ => error,
        }
    }
}
