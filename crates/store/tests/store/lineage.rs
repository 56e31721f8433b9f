//! Lineage of a model version through a three-step pipeline, including a second run whose
//! steps all came from the cache.

use std::collections::BTreeMap;

use store::{ArtifactRef, MetadataStore, NamedArtifact, NewModelVersion, RunStatus, StepStatus};

use crate::common::{named, new_run};

fn source_file() -> NamedArtifact {
    let content = b"crossref works";
    NamedArtifact::source(
        "works",
        ArtifactRef {
            hash: blake3::hash(content).to_hex().to_string(),
            size_bytes: content.len() as u64,
        },
        "application/gzip",
        "/data/crossref/0001.json.gz",
    )
}

/// Runs ingest → features → fit in one run, and returns (run id, execution ids).
fn run_pipeline(store: &MetadataStore) -> (String, Vec<i64>) {
    let run = store
        .create_run(&new_run("train", serde_json::json!({"c": 4.0})))
        .unwrap();
    store
        .log_param(&run.id, "c", &serde_json::json!(4.0))
        .unwrap();
    store
        .log_param(&run.id, "min_df", &serde_json::json!(2))
        .unwrap();

    let ingest = store
        .start_step(&run.id, "ingest", Some("k-ingest"), 1)
        .unwrap();
    store.record_step_inputs(ingest, &[source_file()]).unwrap();
    store
        .finish_step(
            ingest,
            StepStatus::Succeeded,
            &[named(
                "works",
                b"works table",
                "application/vnd.apache.arrow.file",
            )],
            None,
        )
        .unwrap();

    let features = store
        .start_step(&run.id, "features", Some("k-features"), 1)
        .unwrap();
    store
        .record_step_inputs(
            features,
            &[named(
                "works",
                b"works table",
                "application/vnd.apache.arrow.file",
            )],
        )
        .unwrap();
    store
        .finish_step(
            features,
            StepStatus::Succeeded,
            &[
                named("matrix", b"tf-idf matrix", "application/octet-stream"),
                named("vocabulary", b"vocab", "application/json"),
            ],
            None,
        )
        .unwrap();

    let fit = store.start_step(&run.id, "fit", Some("k-fit"), 1).unwrap();
    store
        .record_step_inputs(
            fit,
            &[named(
                "matrix",
                b"tf-idf matrix",
                "application/octet-stream",
            )],
        )
        .unwrap();
    store
        .finish_step(
            fit,
            StepStatus::Succeeded,
            &[named("model", b"weights", "application/safetensors")],
            None,
        )
        .unwrap();

    (run.id, vec![ingest, features, fit])
}

fn register(store: &MetadataStore, run_id: &str) -> u32 {
    let vocabulary_hash = named("vocabulary", b"vocab", "application/json")
        .artifact
        .hash;
    store
        .register_version(&NewModelVersion {
            model: "asjc-classifier".to_string(),
            artifact: named("model", b"weights", "application/safetensors"),
            run_id: Some(run_id.to_string()),
            metadata: serde_json::json!({}),
            metrics: BTreeMap::new(),
            built_from: vec![vocabulary_hash],
        })
        .unwrap()
}

#[test]
fn lineage_reaches_source_data() {
    let store = MetadataStore::open_in_memory().unwrap();
    let (run_id, executions) = run_pipeline(&store);
    // An unrelated run whose artifacts must not appear.
    let other = store
        .create_run(&new_run("evaluate", serde_json::json!({})))
        .unwrap();
    let unrelated = store.start_step(&other.id, "report", None, 1).unwrap();
    store
        .finish_step(
            unrelated,
            StepStatus::Succeeded,
            &[named("report", b"report", "text/html")],
            None,
        )
        .unwrap();
    let version = register(&store, &run_id);

    let lineage = store
        .lineage_of_model_version("asjc-classifier", version)
        .unwrap();

    assert_eq!(lineage.run.as_ref().unwrap().id, run_id);
    assert_eq!(lineage.code_version.as_deref(), Some("git:0123abc"));
    assert_eq!(lineage.topicops_version.as_deref(), Some("0.1.0"));
    assert_eq!(lineage.params["c"], serde_json::json!(4.0));
    assert_eq!(lineage.params["min_df"], serde_json::json!(2));
    let sources: Vec<&str> = lineage
        .sources
        .iter()
        .map(|s| s.source_path.as_deref().unwrap())
        .collect();
    assert_eq!(sources, vec!["/data/crossref/0001.json.gz"]);
    let mut names: Vec<&str> = lineage
        .artifacts
        .iter()
        .map(|a| a.record.name.as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        vec!["matrix", "model", "vocabulary", "works", "works"]
    );
    let execution_ids: Vec<i64> = lineage.executions.iter().map(|e| e.id).collect();
    assert_eq!(execution_ids, executions);
    let model = lineage
        .artifacts
        .iter()
        .find(|a| a.record.name == "model")
        .unwrap();
    assert_eq!(model.produced_by, vec![executions[2]]);
}

#[test]
fn cached_run_lineage_reaches_original_steps() {
    let store = MetadataStore::open_in_memory().unwrap();
    let (first_run, executions) = run_pipeline(&store);
    register(&store, &first_run);
    store
        .finish_run(&first_run, RunStatus::Succeeded, None)
        .unwrap();

    let second = store
        .create_run(&new_run("train", serde_json::json!({"c": 4.0})))
        .unwrap();
    for (step, key) in [
        ("ingest", "k-ingest"),
        ("features", "k-features"),
        ("fit", "k-fit"),
    ] {
        let hit = store.find_cache_hit(step, key).unwrap().unwrap();
        store.record_cache_hit(&second.id, &hit, &[]).unwrap();
    }
    let version = register(&store, &second.id);

    let lineage = store
        .lineage_of_model_version("asjc-classifier", version)
        .unwrap();

    assert_eq!(version, 2);
    assert_eq!(lineage.run.as_ref().unwrap().id, second.id);
    assert_eq!(lineage.sources.len(), 1);
    let execution_ids: Vec<i64> = lineage.executions.iter().map(|e| e.id).collect();
    assert_eq!(execution_ids, executions);
}

#[test]
fn unknown_version_has_no_lineage() {
    let store = MetadataStore::open_in_memory().unwrap();
    let (run_id, _) = run_pipeline(&store);
    register(&store, &run_id);

    let error = store
        .lineage_of_model_version("asjc-classifier", 2)
        .unwrap_err();

    assert!(matches!(
        error,
        store::StoreError::VersionNotFound { version: 2, .. }
    ));
}
