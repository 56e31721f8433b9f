//! The server and the batch scorer with a real classifier trained by the `model` crate.

mod common;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use common::trained::{classifier, store_with_trained_champion};
use common::{client, shared, start_with, test_config, MODEL_NAME};
use corpus::{read_works, ReadOptions, Record, SourceFormat, Work};
use rusqlite::Connection;
use serde_json::{json, Value};
use serving::batch::{score_stream, A3kSink, BatchOptions, JsonLinesSink};
use serving::{classifier_loader, LabelSelection, ModelSource, Scorer};

fn start_trained_server() -> (tempfile::TempDir, common::TestServer) {
    let (dir, stores) = store_with_trained_champion();
    let source = ModelSource::new(Arc::clone(&stores), MODEL_NAME, "champion", classifier_loader());
    let initial = source.load().unwrap();
    (dir, start_with(test_config(), source, Some(initial)))
}

#[test]
fn empty_documents_are_flagged_by_real_model() {
    let (_dir, server) = start_trained_server();
    let lines = std::fs::read_to_string(shared("cases/C16-empty-oov-docs.jsonl")).unwrap();
    let works: Vec<Value> = lines.lines().filter(|line| !line.trim().is_empty()).map(|line| serde_json::from_str(line).unwrap()).collect();
    let response = client().post(server.url("/v1/predict")).json(&json!({"works": works})).send().unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().unwrap();
    let predictions = body["predictions"].as_array().unwrap();

    assert_eq!(predictions.len(), works.len());
    for (prediction, work) in predictions.iter().zip(&works) {
        assert_eq!(prediction["id"], work["id"]);
        let flagged = prediction["empty_reason"].is_string();
        let labelled = !prediction["labels"].as_array().unwrap().is_empty();
        assert_ne!(flagged, labelled, "{prediction}");
    }
    // Empty, blank, digits, empty markup and one-letter words have no token; the invented
    // words have tokens the vocabulary lacks.
    for index in [0, 1, 2, 3, 5] {
        let reason = predictions[index]["empty_reason"].as_str().unwrap();
        assert!(reason.starts_with("no usable text"), "work {index}: {reason}");
    }
    let reason = predictions[4]["empty_reason"].as_str().unwrap();
    assert!(reason.starts_with("out of vocabulary"), "{reason}");
}

#[test]
fn crossref_items_get_field_labels() {
    let (_dir, server) = start_trained_server();
    let items = json!([
        {"DOI": "10.5555/t1", "title": ["Topical treatment of psoriasis and atopic dermatitis in children"],
         "container-title": ["Archives of Dermatology"]},
        {"DOI": "10.5555/t2", "title": ["Phase II trial of chemotherapy for metastatic breast cancer"]}
    ]);
    let response = client().post(server.url("/v1/predict")).json(&json!({"items": items})).send().unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().unwrap();
    assert_eq!(body["model"]["version"], 1);
    for prediction in body["predictions"].as_array().unwrap() {
        let labels = prediction["labels"].as_array().unwrap();
        assert!(!labels.is_empty(), "{prediction}");
        for label in labels {
            // The model was trained on general fields, whose codes end in 00.
            assert!(label["code"].as_str().unwrap().ends_with("00"), "{label}");
            assert_eq!(label["level"], "field");
            assert!(label["name"].is_string());
            let score = label["score"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&score), "{label}");
        }
    }
}

/// Copies the alexandria3k sample into a temporary directory.
fn a3k_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crossref-sample.db");
    std::fs::copy(shared("data/a3k/crossref-sample.db"), &path).unwrap();
    let mut permissions = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&path, permissions).unwrap();
    (dir, path)
}

fn a3k_works(path: &Path) -> Vec<Work> {
    let options = ReadOptions::default().with_format(SourceFormat::A3k);
    read_works(path, &options)
        .unwrap()
        .filter_map(|record| match record {
            Record::Work(sourced) => Some(sourced.work),
            _ => None,
        })
        .collect()
}

fn model_info() -> serving::ModelInfo {
    serving::ModelInfo {
        name: MODEL_NAME.to_string(),
        version: 1,
        reference: "champion".to_string(),
        run_id: None,
        artifact_hash: "0".repeat(64),
        loaded_at: String::new(),
    }
}

fn score_into_a3k(path: &Path, scorer: &dyn Scorer, options: &BatchOptions) -> serving::batch::BatchSummary {
    let stream = read_works(path, &ReadOptions::default().with_format(SourceFormat::A3k)).unwrap();
    let mut sink = A3kSink::open(path, model_info(), scorer.labels()).unwrap();
    score_stream(stream, scorer, &mut sink, options, &mut |_| {}).unwrap()
}

fn count(connection: &Connection, sql: &str) -> i64 {
    connection.query_row(sql, [], |row| row.get(0)).unwrap()
}

#[test]
fn a3k_table_holds_predicted_labels() {
    let (_dir, path) = a3k_copy();
    let classifier = classifier();
    let works = a3k_works(&path);

    // Expected rows, computed without the sink: the model's labels of every work that has
    // text (DOIs in the sample are unique, so each maps to one `works` row).
    let predictions = Scorer::predict_batch(&classifier, &works);
    let selection = LabelSelection::default();
    let expected_rows: usize = predictions.iter().map(|prediction| selection.select(prediction, classifier.labels()).len()).sum();
    let expected_works = predictions.iter().filter(|prediction| prediction.empty_reason.is_none()).count();

    let summary = score_into_a3k(&path, &classifier, &BatchOptions::default());
    assert_eq!(summary.works_scored, works.len() as u64);
    assert_eq!(summary.labels_written, expected_rows as u64);

    let connection = Connection::open(&path).unwrap();
    assert_eq!(count(&connection, "SELECT count(*) FROM works_predicted_asjcs"), expected_rows as i64);
    assert_eq!(count(&connection, "SELECT count(DISTINCT work_id) FROM works_predicted_asjcs"), expected_works as i64);
    // Every row joins with `works` and with a3k's `asjcs` table.
    let joined = "SELECT count(*) FROM works_predicted_asjcs p JOIN works w ON w.id = p.work_id JOIN asjcs a ON a.id = p.asjc_id";
    assert_eq!(count(&connection, joined), expected_rows as i64);
    assert_eq!(count(&connection, "SELECT count(*) FROM works_predicted_asjcs WHERE model <> 'asjc-classifier' OR model_version <> 1"), 0);
    // Rank 1 is each work's highest score.
    let misranked = "SELECT count(*) FROM works_predicted_asjcs p WHERE p.rank = 1
        AND p.score < (SELECT max(q.score) FROM works_predicted_asjcs q WHERE q.work_id = p.work_id)";
    assert_eq!(count(&connection, misranked), 0);

    // A rerun of the same version replaces its rows.
    drop(connection);
    score_into_a3k(&path, &classifier, &BatchOptions::default());
    let connection = Connection::open(&path).unwrap();
    assert_eq!(count(&connection, "SELECT count(*) FROM works_predicted_asjcs"), expected_rows as i64);
}

#[test]
fn only_unlabelled_scores_unlabelled_works() {
    let (_dir, path) = a3k_copy();
    let classifier = classifier();
    let unlabelled: Vec<Work> = a3k_works(&path).into_iter().filter(|work| work.labels.is_empty()).collect();
    let predictions = Scorer::predict_batch(&classifier, &unlabelled);
    let expected_works = predictions.iter().filter(|prediction| prediction.empty_reason.is_none()).count();

    let options = BatchOptions { only_unlabelled: true, ..BatchOptions::default() };
    let summary = score_into_a3k(&path, &classifier, &options);
    assert_eq!(summary.works_scored, unlabelled.len() as u64);
    assert!(summary.works_already_labelled > 0);

    let connection = Connection::open(&path).unwrap();
    assert_eq!(count(&connection, "SELECT count(DISTINCT work_id) FROM works_predicted_asjcs"), expected_works as i64);
    let labelled_in_a3k = "SELECT count(*) FROM works_predicted_asjcs p WHERE EXISTS (SELECT 1 FROM works_asjcs a WHERE a.work_id = p.work_id)";
    assert_eq!(count(&connection, labelled_in_a3k), 0);
}

#[test]
fn json_lines_output_has_one_line_per_work() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("predictions.jsonl");
    let classifier = classifier();
    let stream = read_works(&shared("data/labeled/citeseer.jsonl"), &ReadOptions::default()).unwrap();
    let mut sink = JsonLinesSink::create(&output, model_info()).unwrap();
    let summary = score_stream(stream, &classifier, &mut sink, &BatchOptions { batch_size: 500, ..BatchOptions::default() }, &mut |_| {}).unwrap();

    let text = std::fs::read_to_string(&output).unwrap();
    let lines: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len() as u64, summary.works_scored);
    assert!(summary.works_scored > 2000, "{summary:?}");
    let labels: usize = lines.iter().map(|line| line["labels"].as_array().unwrap().len()).sum();
    assert_eq!(labels as u64, summary.labels_written);
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for line in &lines {
        *ids.entry(line["id"].as_str().unwrap()).or_default() += 1;
        assert_eq!(line["model"], MODEL_NAME);
    }
    assert_eq!(ids.len(), lines.len());
}
