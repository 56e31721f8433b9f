//! The command line's reads: filtered run lists, one run in full, and run comparison.

use store::{MetadataStore, RunFilter, RunStatus, StepStatus, StoreError, Trigger};

use crate::common::{named, new_run};

#[test]
fn list_runs_filters_and_limits() {
    let store = MetadataStore::open_in_memory().unwrap();
    let first = store
        .create_run(&new_run("train", serde_json::json!({})))
        .unwrap();
    let mut watched = new_run("train", serde_json::json!({}));
    watched.trigger = Trigger::Watch;
    let second = store.create_run(&watched).unwrap();
    let third = store
        .create_run(&new_run("evaluate", serde_json::json!({})))
        .unwrap();
    store
        .finish_run(&first.id, RunStatus::Failed, Some("bad input"))
        .unwrap();

    let all = store.list_runs(&RunFilter::default(), 10).unwrap();
    let train = store
        .list_runs(
            &RunFilter {
                pipeline: Some("train".to_string()),
                ..Default::default()
            },
            10,
        )
        .unwrap();
    let failed = store
        .list_runs(
            &RunFilter {
                status: Some(RunStatus::Failed),
                ..Default::default()
            },
            10,
        )
        .unwrap();
    let by_watch = store
        .list_runs(
            &RunFilter {
                trigger: Some(Trigger::Watch),
                ..Default::default()
            },
            10,
        )
        .unwrap();
    let future = store
        .list_runs(
            &RunFilter {
                started_after: Some("2999-01-01".to_string()),
                ..Default::default()
            },
            10,
        )
        .unwrap();
    let limited = store.list_runs(&RunFilter::default(), 2).unwrap();

    assert_eq!(all.len(), 3);
    let mut train_ids: Vec<&str> = train.iter().map(|r| r.id.as_str()).collect();
    train_ids.sort_unstable();
    let mut expected_train = vec![first.id.as_str(), second.id.as_str()];
    expected_train.sort_unstable();
    assert_eq!(train_ids, expected_train);
    assert_eq!(
        failed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec![first.id.as_str()]
    );
    assert_eq!(
        by_watch.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec![second.id.as_str()]
    );
    assert!(future.is_empty());
    assert_eq!(limited.len(), 2);
    assert!(all.iter().any(|r| r.id == third.id));
}

#[test]
fn list_runs_newest_first() {
    let store = MetadataStore::open_in_memory().unwrap();
    let ids: Vec<String> = (0..3)
        .map(|_| {
            store
                .create_run(&new_run("train", serde_json::json!({})))
                .unwrap()
                .id
        })
        .collect();

    let listed = store.list_runs(&RunFilter::default(), 10).unwrap();

    // Runs started in the same millisecond tie on started_at and are then ordered by id, so
    // compare against the same (started_at, id) order computed here.
    let mut expected: Vec<(String, String)> = ids
        .iter()
        .map(|id| (store.run(id).unwrap().started_at, id.clone()))
        .collect();
    expected.sort_unstable_by(|a, b| b.cmp(a));
    let listed_ids: Vec<&String> = listed.iter().map(|r| &r.id).collect();
    let expected_ids: Vec<&String> = expected.iter().map(|(_, id)| id).collect();
    assert_eq!(listed_ids, expected_ids);
}

#[test]
fn get_run_collects_everything() {
    let store = MetadataStore::open_in_memory().unwrap();
    let run = store
        .create_run(&new_run("train", serde_json::json!({"c": 1})))
        .unwrap();
    store
        .log_param(&run.id, "c", &serde_json::json!(1))
        .unwrap();
    store
        .log_metrics(&run.id, 1, &[("loss", 0.5), ("f1", 0.4)])
        .unwrap();
    let fit = store.start_step(&run.id, "fit", Some("k"), 1).unwrap();
    store
        .finish_step(
            fit,
            StepStatus::Succeeded,
            &[named("model", b"w", "application/safetensors")],
            None,
        )
        .unwrap();
    store
        .record_artifact(Some(&run.id), &named("report", b"r", "text/html"))
        .unwrap();

    let details = store.get_run(&run.id).unwrap();

    assert_eq!(details.run.id, run.id);
    assert_eq!(details.params.len(), 1);
    assert_eq!(
        details
            .metrics
            .iter()
            .map(|m| m.key.as_str())
            .collect::<Vec<_>>(),
        vec!["f1", "loss"]
    );
    assert_eq!(details.steps.len(), 1);
    assert_eq!(details.steps[0].outputs[0].name, "model");
    assert_eq!(
        details
            .artifacts
            .iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>(),
        vec!["model", "report"]
    );
    assert!(details.model_versions.is_empty());
}

#[test]
fn get_unknown_run_names_id() {
    let store = MetadataStore::open_in_memory().unwrap();

    let error = store.get_run("20250101-000000-abcdef").unwrap_err();

    assert!(
        matches!(error, StoreError::RunNotFound { ref run_id } if run_id == "20250101-000000-abcdef")
    );
    assert!(error.to_string().contains("20250101-000000-abcdef"));
}

#[test]
fn compare_runs_aligns_params_and_final_metrics() {
    let store = MetadataStore::open_in_memory().unwrap();
    let a = store
        .create_run(&new_run("train", serde_json::json!({})))
        .unwrap();
    let b = store
        .create_run(&new_run("train", serde_json::json!({})))
        .unwrap();
    store
        .log_param(&a.id, "c", &serde_json::json!(1.0))
        .unwrap();
    store
        .log_param(&b.id, "c", &serde_json::json!(2.0))
        .unwrap();
    store
        .log_param(&a.id, "min_df", &serde_json::json!(2))
        .unwrap();
    store
        .log_param(&b.id, "min_df", &serde_json::json!(2))
        .unwrap();
    store
        .log_param(&a.id, "seed", &serde_json::json!(7))
        .unwrap();
    store.log_metric(&a.id, "f1", 0.30, 1).unwrap();
    store.log_metric(&a.id, "f1", 0.45, 2).unwrap();
    store.log_metric(&b.id, "f1", 0.50, 1).unwrap();
    store.log_metric(&b.id, "loss", 0.9, 1).unwrap();

    let comparison = store.compare_runs(&[&a.id, &b.id]).unwrap();

    assert_eq!(comparison.runs.len(), 2);
    assert_eq!(comparison.differing_params, vec!["c", "seed"]);
    assert_eq!(
        comparison.params["seed"],
        vec![Some(serde_json::json!(7)), None]
    );
    let f1: Vec<f64> = comparison.metrics["f1"]
        .iter()
        .map(|m| m.as_ref().unwrap().value)
        .collect();
    assert_eq!(f1, vec![0.45, 0.50]);
    assert!(comparison.metrics["loss"][0].is_none());
    assert!(matches!(
        store.compare_runs(&[&a.id, "missing"]),
        Err(StoreError::RunNotFound { run_id }) if run_id == "missing"
    ));
}
