use super::*;
use crate::metadata::runs::tests::new_run;

fn artifact(byte: u8, name: &str) -> NamedArtifact {
    let bytes = [byte; 4];
    NamedArtifact::stored(
        name,
        ArtifactRef {
            hash: blake3::hash(&bytes).to_hex().to_string(),
            size_bytes: 4,
        },
        "application/octet-stream",
    )
}

#[test]
fn finished_step_lists_outputs() {
    let store = MetadataStore::open_in_memory().unwrap();
    let run = store.create_run(&new_run("train")).unwrap();
    let execution_id = store
        .start_step(&run.id, "features", Some("key-1"), 1)
        .unwrap();

    store
        .finish_step(
            execution_id,
            StepStatus::Succeeded,
            &[artifact(2, "vocabulary"), artifact(1, "matrix")],
            None,
        )
        .unwrap();

    let execution = store.step_execution(execution_id).unwrap();
    assert_eq!(execution.status, StepStatus::Succeeded);
    assert!(!execution.cached);
    assert!(execution.duration_ms.is_some());
    let names: Vec<&str> = execution.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, vec!["matrix", "vocabulary"]);
    let record = store
        .artifact(&artifact(1, "matrix").artifact.hash)
        .unwrap()
        .unwrap();
    assert_eq!(record.run_id.as_deref(), Some(run.id.as_str()));
    assert_eq!(record.execution_id, Some(execution_id));
}

#[test]
fn cache_hit_returns_previous_outputs() {
    let store = MetadataStore::open_in_memory().unwrap();
    let first_run = store.create_run(&new_run("train")).unwrap();
    let first = store
        .start_step(&first_run.id, "features", Some("key-1"), 1)
        .unwrap();
    store
        .finish_step(first, StepStatus::Succeeded, &[artifact(1, "matrix")], None)
        .unwrap();
    let second_run = store.create_run(&new_run("train")).unwrap();

    let hit = store.find_cache_hit("features", "key-1").unwrap().unwrap();
    let cached_id = store
        .record_cache_hit(&second_run.id, &hit, &[artifact(9, "works")])
        .unwrap();

    assert_eq!(hit.execution_id, first);
    assert_eq!(hit.run_id, first_run.id);
    assert_eq!(
        hit.outputs,
        vec![StepOutput {
            name: "matrix".to_string(),
            artifact: artifact(1, "matrix").artifact
        }]
    );
    let cached = store.step_execution(cached_id).unwrap();
    assert!(cached.cached);
    assert_eq!(cached.cached_from, Some(first));
    assert_eq!(cached.duration_ms, Some(0));
    assert_eq!(cached.outputs, hit.outputs);
}

#[test]
fn cache_ignores_failed_and_other_keys() {
    let store = MetadataStore::open_in_memory().unwrap();
    let run = store.create_run(&new_run("train")).unwrap();
    let failed = store
        .start_step(&run.id, "features", Some("key-1"), 1)
        .unwrap();
    store
        .finish_step(failed, StepStatus::Failed, &[], Some("disk full"))
        .unwrap();
    let other = store
        .start_step(&run.id, "features", Some("key-2"), 1)
        .unwrap();
    store
        .finish_step(other, StepStatus::Succeeded, &[artifact(1, "matrix")], None)
        .unwrap();

    assert_eq!(store.find_cache_hit("features", "key-1").unwrap(), None);
    assert_eq!(store.find_cache_hit("fit", "key-2").unwrap(), None);
    assert!(store.find_cache_hit("features", "key-2").unwrap().is_some());
}

#[test]
fn step_finishes_only_once() {
    let store = MetadataStore::open_in_memory().unwrap();
    let run = store.create_run(&new_run("train")).unwrap();
    let execution_id = store.start_step(&run.id, "fit", None, 2).unwrap();
    store
        .finish_step(execution_id, StepStatus::Failed, &[], Some("diverged"))
        .unwrap();

    let error = store
        .finish_step(execution_id, StepStatus::Succeeded, &[], None)
        .unwrap_err();

    assert!(matches!(error, StoreError::ExecutionNotRunning { status, .. } if status == "failed"));
    let execution = store.step_execution(execution_id).unwrap();
    assert_eq!(execution.attempt, 2);
    assert_eq!(execution.error.as_deref(), Some("diverged"));
}

#[test]
fn unknown_execution_is_reported() {
    let store = MetadataStore::open_in_memory().unwrap();

    let error = store
        .finish_step(42, StepStatus::Succeeded, &[], None)
        .unwrap_err();

    assert!(matches!(
        error,
        StoreError::ExecutionNotFound { execution_id: 42 }
    ));
}

#[test]
fn elapsed_ms_between_timestamps() {
    assert_eq!(
        elapsed_ms("2025-03-01T12:00:00.000Z", "2025-03-01T12:00:01.250Z"),
        Some(1250)
    );
    assert_eq!(
        elapsed_ms("2025-03-01T12:00:01.000Z", "2025-03-01T12:00:00.000Z"),
        Some(0)
    );
    assert_eq!(elapsed_ms("yesterday", "2025-03-01T12:00:00.000Z"), None);
}
