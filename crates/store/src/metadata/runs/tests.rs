use super::*;

pub(crate) fn new_run(pipeline: &str) -> NewRun {
    NewRun {
        pipeline: pipeline.to_string(),
        topicops_version: "0.1.0".to_string(),
        code_version: Some("abc1234".to_string()),
        config: serde_json::json!({"model": {"c": 1.0, "kind": "linear"}, "data": "works.jsonl.gz"}),
        trigger: Trigger::Manual,
        trigger_reason: None,
        parent_run_id: None,
    }
}

#[test]
fn created_run_is_running_with_identity() {
    let store = MetadataStore::open_in_memory().unwrap();

    let run = store.create_run(&new_run("train")).unwrap();

    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(run.pipeline, "train");
    assert_eq!(run.pid, std::process::id());
    assert_eq!(run.host, ids::current_host());
    assert_eq!(run.ended_at, None);
    assert_eq!(run.config["model"]["kind"], "linear");
    assert_eq!(run.trigger, Trigger::Manual);
    assert_eq!(store.run(&run.id).unwrap(), run);
}

#[test]
fn finish_run_records_outcome_once() {
    let store = MetadataStore::open_in_memory().unwrap();
    let run = store.create_run(&new_run("train")).unwrap();

    store
        .finish_run(&run.id, RunStatus::GateFailed, Some("f1_micro 0.41 < 0.50"))
        .unwrap();
    let again = store
        .finish_run(&run.id, RunStatus::Succeeded, None)
        .unwrap_err();

    let finished = store.run(&run.id).unwrap();
    assert_eq!(finished.status, RunStatus::GateFailed);
    assert_eq!(finished.error.as_deref(), Some("f1_micro 0.41 < 0.50"));
    assert!(finished.ended_at.is_some());
    assert!(matches!(again, StoreError::RunNotRunning { status, .. } if status == "gate_failed"));
}

#[test]
fn finish_run_kills_running_steps() {
    let store = MetadataStore::open_in_memory().unwrap();
    let run = store.create_run(&new_run("train")).unwrap();
    let execution_id = store.start_step(&run.id, "fit", None, 1).unwrap();

    store
        .finish_run(&run.id, RunStatus::Failed, Some("out of memory"))
        .unwrap();

    assert_eq!(
        store.step_execution(execution_id).unwrap().status,
        crate::StepStatus::Killed
    );
}

#[test]
fn unknown_parent_run_is_rejected() {
    let store = MetadataStore::open_in_memory().unwrap();
    let mut child = new_run("train");
    child.parent_run_id = Some("20250101-000000-000000".to_string());

    let error = store.create_run(&child).unwrap_err();

    assert!(
        matches!(error, StoreError::RunNotFound { run_id } if run_id == "20250101-000000-000000")
    );
}

#[test]
fn params_are_write_once() {
    let store = MetadataStore::open_in_memory().unwrap();
    let run = store.create_run(&new_run("train")).unwrap();

    store
        .log_param(&run.id, "c", &serde_json::json!(1.0))
        .unwrap();
    store
        .log_param(&run.id, "c", &serde_json::json!(1.0))
        .unwrap();
    let conflict = store
        .log_param(&run.id, "c", &serde_json::json!(2.0))
        .unwrap_err();

    let StoreError::ParamConflict { existing, new, .. } = conflict else {
        panic!("expected ParamConflict, got {conflict}");
    };
    assert_eq!(existing, "1.0");
    assert_eq!(new, "2.0");
    assert_eq!(store.params(&run.id).unwrap()["c"], serde_json::json!(1.0));
}

#[test]
fn params_batch_is_all_or_nothing() {
    let store = MetadataStore::open_in_memory().unwrap();
    let run = store.create_run(&new_run("train")).unwrap();
    store
        .log_param(&run.id, "b", &serde_json::json!("kept"))
        .unwrap();
    let mut batch = BTreeMap::new();
    batch.insert("a".to_string(), serde_json::json!(1));
    batch.insert("b".to_string(), serde_json::json!("changed"));

    assert!(store.log_params(&run.id, &batch).is_err());

    let params = store.params(&run.id).unwrap();
    assert_eq!(params.len(), 1);
    assert_eq!(params["b"], serde_json::json!("kept"));
}

#[test]
fn param_json_is_canonical() {
    let value = serde_json::json!({"zeta": [3, {"b": 1, "a": 2}], "alpha": null});

    assert_eq!(
        canonical_json(&value),
        r#"{"alpha":null,"zeta":[3,{"a":2,"b":1}]}"#
    );
}

#[test]
fn nonfinite_metrics_read_back_exactly() {
    let store = MetadataStore::open_in_memory().unwrap();
    let run = store.create_run(&new_run("train")).unwrap();

    store.log_metric(&run.id, "loss", 0.5, 1).unwrap();
    store
        .log_metrics(&run.id, 2, &[("loss", f64::INFINITY), ("f1", f64::NAN)])
        .unwrap();
    store
        .log_metric(&run.id, "loss", f64::NEG_INFINITY, 3)
        .unwrap();

    let metrics = store.metrics(&run.id).unwrap();
    let summary: Vec<(&str, i64)> = metrics.iter().map(|m| (m.key.as_str(), m.step)).collect();
    assert_eq!(
        summary,
        vec![("f1", 2), ("loss", 1), ("loss", 2), ("loss", 3)]
    );
    assert!(metrics[0].value.is_nan());
    assert_eq!(metrics[1].value, 0.5);
    assert_eq!(metrics[2].value, f64::INFINITY);
    assert_eq!(metrics[3].value, f64::NEG_INFINITY);
}

#[test]
fn metric_for_unknown_run_is_rejected() {
    let store = MetadataStore::open_in_memory().unwrap();

    let error = store.log_metric("no-such-run", "loss", 0.5, 1).unwrap_err();

    assert!(matches!(error, StoreError::RunNotFound { .. }));
}

#[test]
fn dead_process_run_marked_killed() {
    let store = MetadataStore::open_in_memory().unwrap();
    let dead = store.create_run(&new_run("train")).unwrap();
    let alive = store.create_run(&new_run("train")).unwrap();
    store.start_step(&dead.id, "fit", None, 1).unwrap();
    // No process has pid 4294967294 on Linux (pid_max is at most 2^22).
    store
        .lock_connection()
        .execute("UPDATE runs SET pid = 4294967294 WHERE id = ?1", [&dead.id])
        .unwrap();

    let killed = store.mark_abandoned_runs().unwrap();

    if cfg!(target_os = "linux") {
        assert_eq!(killed, vec![dead.id.clone()]);
        let run = store.get_run(&dead.id).unwrap();
        assert_eq!(run.run.status, RunStatus::Killed);
        assert!(run.run.error.unwrap().contains("4294967294"));
        assert_eq!(run.steps[0].status, crate::StepStatus::Killed);
    } else {
        assert!(killed.is_empty());
    }
    assert_eq!(store.run(&alive.id).unwrap().status, RunStatus::Running);
}

#[test]
fn run_status_text_round_trips() {
    for status in RunStatus::ALL {
        assert_eq!(status.as_str().parse::<RunStatus>().unwrap(), *status);
    }
    assert_eq!(
        serde_json::to_string(&RunStatus::GateFailed).unwrap(),
        "\"gate_failed\""
    );
    assert!("paused"
        .parse::<RunStatus>()
        .unwrap_err()
        .contains("expected one of running"));
}
