//! The artifact and metadata stores opened together: registration checks that the model
//! file is stored, and artifact errors name what the artifact is.

use std::collections::BTreeMap;

use store::{NamedArtifact, NewModelVersion, StoreError, Stores};

use crate::common::new_run;

fn open_stores() -> (tempfile::TempDir, Stores) {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::open(&dir.path().join(".topicops")).unwrap();
    (dir, stores)
}

fn version_of(artifact: NamedArtifact) -> NewModelVersion {
    NewModelVersion {
        model: "asjc-classifier".to_string(),
        artifact,
        run_id: None,
        metadata: serde_json::json!({}),
        metrics: BTreeMap::new(),
        built_from: Vec::new(),
    }
}

#[test]
fn register_requires_stored_file() {
    let (_dir, stores) = open_stores();
    let never_stored = crate::common::named(
        "model.safetensors",
        b"never written",
        "application/safetensors",
    );

    let error = stores
        .register_version(&version_of(never_stored.clone()))
        .unwrap_err();

    assert!(
        matches!(error, StoreError::ArtifactMissing { ref hash, .. } if *hash == never_stored.artifact.hash)
    );
    assert!(error.to_string().contains("`model.safetensors`"), "{error}");
    assert!(matches!(
        stores.metadata.list_versions("asjc-classifier"),
        Err(StoreError::ModelNotFound { .. })
    ));
}

#[test]
fn register_stored_file_succeeds() {
    let (_dir, stores) = open_stores();
    let stored = stores.artifacts.put_bytes(b"weights").unwrap();

    let version = stores
        .register_version(&version_of(NamedArtifact::stored(
            "model.safetensors",
            stored.clone(),
            "application/safetensors",
        )))
        .unwrap();

    assert_eq!(version, 1);
    let resolved = stores.metadata.resolve("asjc-classifier", "1").unwrap();
    assert_eq!(resolved.artifact, stored);
    assert_eq!(
        stores
            .artifacts
            .path(&resolved.artifact.hash)
            .unwrap()
            .parent()
            .unwrap()
            .file_name()
            .unwrap(),
        &stored.hash[..2]
    );
}

#[test]
fn corrupt_artifact_error_names_recorded_artifact() {
    let (_dir, stores) = open_stores();
    let run = stores
        .metadata
        .create_run(&new_run("train", serde_json::json!({})))
        .unwrap();
    let stored = stores.artifacts.put_bytes(b"feature matrix").unwrap();
    stores
        .metadata
        .record_artifact(
            Some(&run.id),
            &NamedArtifact::stored(
                "features",
                stored.clone(),
                "application/vnd.apache.arrow.file",
            ),
        )
        .unwrap();
    let path = stores.artifacts.path(&stored.hash).unwrap();
    let mut permissions = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&path, permissions).unwrap();
    std::fs::write(&path, b"feature matriX").unwrap();

    let error = stores.verify_artifact(&stored.hash).unwrap_err();

    assert!(
        matches!(error, StoreError::ArtifactCorrupt { .. }),
        "{error}"
    );
    assert!(error.is_artifact_unusable());
    let message = error.to_string();
    assert!(message.contains(&stored.hash), "{message}");
    assert!(
        message.contains("`features` (application/vnd.apache.arrow.file)"),
        "{message}"
    );
}

#[test]
fn deleted_artifact_reads_as_missing() {
    let (_dir, stores) = open_stores();
    let stored = stores.artifacts.put_bytes(b"vocabulary").unwrap();
    std::fs::remove_file(stores.artifacts.path(&stored.hash).unwrap()).unwrap();

    let error = stores.open_verified(&stored.hash).unwrap_err();

    assert!(
        matches!(error, StoreError::ArtifactMissing { ref hash, .. } if *hash == stored.hash),
        "{error}"
    );
    assert!(error.is_artifact_unusable());
}
