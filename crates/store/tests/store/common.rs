//! Helpers shared by the integration tests.

use std::path::PathBuf;

use store::{ArtifactRef, NamedArtifact, NewRun, Trigger};

/// Path of a field case file under the shared cases directory beside the repository.
pub fn case_path(file_name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/cases")
        .join(file_name)
}

/// Reads and parses a JSON field case.
pub fn read_case(file_name: &str) -> serde_json::Value {
    let path = case_path(file_name);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

pub fn new_run(pipeline: &str, config: serde_json::Value) -> NewRun {
    NewRun {
        pipeline: pipeline.to_string(),
        topicops_version: "0.1.0".to_string(),
        code_version: Some("git:0123abc".to_string()),
        config,
        trigger: Trigger::Manual,
        trigger_reason: None,
        parent_run_id: None,
    }
}

/// Returns an artifact description whose hash is that of `content`, without storing it.
pub fn named(name: &str, content: &[u8], media_type: &str) -> NamedArtifact {
    NamedArtifact::stored(
        name,
        ArtifactRef {
            hash: blake3::hash(content).to_hex().to_string(),
            size_bytes: content.len() as u64,
        },
        media_type,
    )
}
