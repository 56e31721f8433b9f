//! A run whose metrics include NaN and infinities: they are stored and read back exactly, a
//! model version registered at the step where they occur keeps them, and listing, comparing
//! and JSON output of the run keep working.

use std::collections::BTreeMap;

use store::{
    parse_metric_value, MetadataStore, NamedArtifact, NewModelVersion, RunFilter, RunStatus,
};

use crate::common::{named, new_run, read_case};

/// Asserts `actual` is `expected`, where NaN equals NaN.
fn assert_same_value(actual: f64, expected: f64, what: &str) {
    if expected.is_nan() {
        assert!(actual.is_nan(), "{what}: expected NaN, got {actual}");
    } else {
        assert_eq!(actual, expected, "{what}");
    }
}

#[test]
fn nonfinite_metrics_survive_registration_and_listing() {
    let case = read_case("C12-metrics-nonfinite.json");
    let dir = tempfile::tempdir().unwrap();
    let store = MetadataStore::open(dir.path().join("metadata.db")).unwrap();
    let mut run_spec = new_run("train", serde_json::json!({}));
    run_spec.trigger_reason = Some(format!("replay of {}", case["run_id"].as_str().unwrap()));
    let run = store.create_run(&run_spec).unwrap();

    // (key, value, step) as the case lists them.
    let logged: Vec<(String, f64, i64)> = case["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let value = parse_metric_value(&m["value"]).unwrap();
            (
                m["key"].as_str().unwrap().to_string(),
                value,
                m["step"].as_i64().unwrap(),
            )
        })
        .collect();
    for (key, value, step) in &logged {
        store.log_metric(&run.id, key, *value, *step).unwrap();
    }

    // Register a model version at step 3, where val_loss is -inf and val_f1_micro is NaN.
    let at_step_3: BTreeMap<String, f64> = logged
        .iter()
        .filter(|(_, _, step)| *step == 3)
        .map(|(key, value, _)| (key.clone(), *value))
        .collect();
    let model = named(
        "model.safetensors",
        b"weights at step 3",
        "application/safetensors",
    );
    store.record_artifact(Some(&run.id), &model).unwrap();
    let version = store
        .register_version(&NewModelVersion {
            model: "asjc-classifier".to_string(),
            artifact: NamedArtifact { ..model },
            run_id: Some(run.id.clone()),
            metadata: serde_json::json!({"step": 3}),
            metrics: at_step_3,
            built_from: Vec::new(),
        })
        .unwrap();
    store
        .finish_run(&run.id, RunStatus::Succeeded, None)
        .unwrap();

    // Metrics read back exactly, ordered by key then step.
    let details = store.get_run(&run.id).unwrap();
    let read: Vec<(&str, i64)> = details
        .metrics
        .iter()
        .map(|m| (m.key.as_str(), m.step))
        .collect();
    assert_eq!(
        read,
        vec![
            ("val_f1_micro", 3),
            ("val_f1_micro", 4),
            ("val_loss", 1),
            ("val_loss", 2),
            ("val_loss", 3)
        ]
    );
    for point in &details.metrics {
        let expected = logged
            .iter()
            .find(|(key, _, step)| key == &point.key && *step == point.step)
            .unwrap()
            .1;
        assert_same_value(
            point.value,
            expected,
            &format!("{} at step {}", point.key, point.step),
        );
    }
    assert!(details.metrics[0].value.is_nan());
    assert_eq!(details.metrics[3].value, f64::INFINITY);
    assert_eq!(details.metrics[4].value, f64::NEG_INFINITY);

    // The registered version keeps the non-finite summary.
    assert_eq!(version, 1);
    let registered = store.resolve("asjc-classifier", "1").unwrap();
    assert_eq!(registered.metrics["val_loss"], f64::NEG_INFINITY);
    assert!(registered.metrics["val_f1_micro"].is_nan());
    assert_eq!(details.model_versions.len(), 1);

    // Listing, comparing and JSON output still work.
    let listed = store.list_runs(&RunFilter::default(), 10).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].status, RunStatus::Succeeded);
    let comparison = store.compare_runs(&[&run.id]).unwrap();
    assert!(
        comparison.metrics["val_f1_micro"][0]
            .as_ref()
            .unwrap()
            .value
            == 0.41
    );
    assert_eq!(
        comparison.metrics["val_loss"][0].as_ref().unwrap().value,
        f64::NEG_INFINITY
    );
    let json = serde_json::to_string(&details).unwrap();
    assert!(json.contains(r#""value":"NaN""#), "{json}");
    assert!(json.contains(r#""value":"Infinity""#), "{json}");
    assert!(json.contains(r#""val_loss":"-Infinity""#), "{json}");
}
