//! Profiles and drift reports stored in, and read back from, real stores in a temporary
//! directory.

use std::collections::BTreeMap;

use corpus::Work;
use monitoring::drift::CurrentBatchBuilder;
use monitoring::record::{load_profile, record_report, store_profile, HTML_ARTIFACT, MONITOR_PIPELINE, REPORT_ARTIFACT};
use monitoring::report::render_html;
use monitoring::{detect_drift, MonitoringError, ReferenceProfile, SummaryConfig};
use store::{NamedArtifact, NewModelVersion, Stores, Trigger};

fn works(first_year: i32) -> Vec<Work> {
    (0..200)
        .map(|i| Work {
            id: format!("10.5555/{first_year}.{i}"),
            title: Some(format!("study {} of cells", i % 17)),
            year: Some(first_year + i % 10),
            work_type: Some("journal-article".into()),
            ..Work::default()
        })
        .collect()
}

fn register(stores: &Stores, metadata: serde_json::Value) -> store::ModelVersion {
    let model_file = stores.artifacts.put_bytes(b"model weights").unwrap();
    let new_version = NewModelVersion {
        model: "asjc-classifier".into(),
        artifact: NamedArtifact::stored("model", model_file, "application/octet-stream"),
        run_id: None,
        metadata,
        metrics: BTreeMap::new(),
        built_from: Vec::new(),
    };
    let version = stores.register_version(&new_version).unwrap();
    stores.metadata.model_version("asjc-classifier", version).unwrap()
}

#[test]
fn profile_loads_through_version_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::open(dir.path()).unwrap();
    let reference = works(1990);
    let profile = ReferenceProfile::build(&reference, &vec![None; reference.len()], |_| None, &[], None).unwrap();
    let stored = store_profile(&stores, &profile, None).unwrap();
    let version = register(&stores, serde_json::json!({ "profile": { "hash": stored.artifact.hash } }));

    let loaded = load_profile(&stores, &version).unwrap();
    assert_eq!(loaded, profile);
}

#[test]
fn version_without_profile_names_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::open(dir.path()).unwrap();
    let version = register(&stores, serde_json::json!({}));
    let error = load_profile(&stores, &version).unwrap_err();
    assert!(matches!(error, MonitoringError::NoProfile { version: 1, .. }));
    assert!(error.to_string().contains("profile.hash"), "{error}");
}

#[test]
fn report_is_recorded_as_monitor_run() {
    let dir = tempfile::tempdir().unwrap();
    let stores = Stores::open(dir.path()).unwrap();
    let reference = works(1990);
    let profile = ReferenceProfile::build(&reference, &vec![None; reference.len()], |_| None, &[], None).unwrap();
    let version = register(&stores, serde_json::json!({}));

    let mut builder = CurrentBatchBuilder::new(SummaryConfig::current(), &[]);
    for work in works(2015) {
        builder.observe(&work, None, None);
    }
    let report = detect_drift(&profile, &builder.finish());
    let html = render_html(&report, "test");
    let recorded = record_report(&stores, &version, &report, Some(&html), "current.jsonl", Trigger::Manual).unwrap();

    let details = stores.metadata.get_run(&recorded.run_id).unwrap();
    assert_eq!(details.run.pipeline, MONITOR_PIPELINE);
    assert_eq!(details.params["model_version"], serde_json::json!(1));
    assert_eq!(details.params["model"], serde_json::json!("asjc-classifier"));
    let drift_metric = details.metrics.iter().find(|m| m.key == "dataset_drift").unwrap();
    assert_eq!(drift_metric.value, if report.dataset_drift { 1.0 } else { 0.0 });
    assert!(details.metrics.iter().any(|m| m.key == "drift.year"));
    let names: Vec<&str> = details.artifacts.iter().map(|a| a.name.as_str()).collect();
    assert!(names.contains(&REPORT_ARTIFACT), "{names:?}");
    assert!(names.contains(&HTML_ARTIFACT), "{names:?}");

    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(stores.artifacts.path(&recorded.report.hash).unwrap()).unwrap()).unwrap();
    assert_eq!(stored["dataset_drift"], serde_json::json!(report.dataset_drift));
    // Years 1990-1999 against 2015-2024: the year column drifts.
    assert!(report.drifted_feature_names().contains(&"year"));
}
