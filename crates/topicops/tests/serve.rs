//! End-to-end tests of `topicops predict` and `topicops serve` through the real binary, with
//! a classifier trained on a few hundred works of the Crossref sample and registered as
//! `champion` in a temporary store.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use corpus::taxonomy::{Level, Taxonomy};
use corpus::{read_works, ReadOptions, Record, SourceFormat, Work};
use model::{train, Classifier, LabelledWorks, TrainConfig};
use store::{NamedArtifact, NewModelVersion, Stores};

const MODEL: &str = "asjc-classifier";

fn shared(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared").join(path)
}

/// Trains on the first 400 Crossref works that have a subject (labels: their ASJC general
/// fields), 300 for training and 100 for calibration.
fn trained_classifier() -> Classifier {
    let taxonomy = Taxonomy::builtin();
    let stream = read_works(&shared("data/crossref"), &ReadOptions::default().with_threads(1)).unwrap();
    let mut works = Vec::new();
    let mut labels = Vec::new();
    for record in stream {
        let Record::Work(sourced) = record else { continue };
        let mut fields: Vec<String> = Vec::new();
        for code in sourced.work.label_codes() {
            if let Some(field) = taxonomy.to_level(code, Level::Field) {
                if !fields.contains(&field) {
                    fields.push(field);
                }
            }
        }
        if !fields.is_empty() {
            works.push(sourced.work);
            labels.push(fields);
        }
        if works.len() == 400 {
            break;
        }
    }
    let (classifier, _) = train(
        LabelledWorks { works: &works[..300], labels: &labels[..300] },
        LabelledWorks { works: &works[300..], labels: &labels[300..] },
        &features::FeaturizerConfig::default(),
        &TrainConfig::default(),
        None,
    )
    .unwrap();
    classifier
}

/// A store under `dir` with `classifier` registered as version 1 and promoted to champion.
fn store_with(dir: &Path, classifier: &Classifier) -> PathBuf {
    let root = dir.join(".topicops");
    let stores = Stores::open(&root).unwrap();
    let model_path = dir.join("model.safetensors");
    classifier.save(&model_path).unwrap();
    let artifact = stores.artifacts.put_file(&model_path).unwrap();
    let version = stores
        .register_version(&NewModelVersion {
            model: MODEL.to_string(),
            artifact: NamedArtifact::stored("model", artifact, "application/vnd.topicops.model+safetensors"),
            run_id: None,
            metadata: serde_json::json!({}),
            metrics: Default::default(),
            built_from: Vec::new(),
        })
        .unwrap();
    stores.metadata.promote(MODEL, "champion", version, "test", "test").unwrap();
    root
}

fn topicops(store: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_topicops"));
    command.arg("--store").arg(store).arg("-q");
    command
}

fn a3k_copy(dir: &Path) -> PathBuf {
    let path = dir.join("crossref-sample.db");
    std::fs::copy(shared("data/a3k/crossref-sample.db"), &path).unwrap();
    let mut permissions = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&path, permissions).unwrap();
    path
}

/// Runs a query with Python's standard `sqlite3` module, a reader independent of topicops,
/// and returns its single integer result.
fn count(database: &Path, sql: &str) -> i64 {
    let script = "import sqlite3, sys\nprint(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])";
    let output = Command::new("python3").args(["-c", script]).arg(database).arg(sql).output().unwrap();
    assert!(output.status.success(), "{sql}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().parse().unwrap()
}

/// Counts the data rows of a CSV file with Python's `csv` module.
fn csv_rows(path: &Path) -> (String, u64) {
    let script = "import csv, sys\nrows = list(csv.reader(open(sys.argv[1], newline='')))\nprint(','.join(rows[0]))\nprint(len(rows) - 1)";
    let output = Command::new("python3").args(["-c", script]).arg(path).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default().to_string();
    let rows = lines.next().unwrap_or_default().parse().unwrap();
    (header, rows)
}

#[test]
fn predict_fills_a3k_table() {
    let dir = tempfile::tempdir().unwrap();
    let classifier = trained_classifier();
    let store = store_with(dir.path(), &classifier);
    let database = a3k_copy(dir.path());

    // Expected rows, computed with the classifier directly: its chosen labels for every work
    // with text, none for works flagged empty (DOIs in the sample are unique).
    let works: Vec<Work> = read_works(&database, &ReadOptions::default().with_format(SourceFormat::A3k))
        .unwrap()
        .filter_map(|record| match record {
            Record::Work(sourced) => Some(sourced.work),
            _ => None,
        })
        .collect();
    let predictions = classifier.predict_batch(&works);
    let expected_rows: usize = predictions.iter().filter(|prediction| prediction.empty_reason.is_none()).map(|prediction| prediction.labels.len()).sum();
    assert!(expected_rows > works.len() / 2, "{expected_rows} rows for {} works", works.len());

    for run in 0..2 {
        let output = topicops(&store).arg("predict").arg("--into-a3k").arg(&database).output().unwrap();
        assert!(output.status.success(), "run {run}: {}", String::from_utf8_lossy(&output.stderr));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains(&format!("works scored       {}", works.len())), "{stdout}");
        assert!(stdout.contains(&format!("labels written     {expected_rows}")), "{stdout}");
        // Rerunning the same version replaces its rows instead of adding copies.
        assert_eq!(count(&database, "SELECT count(*) FROM works_predicted_asjcs"), expected_rows as i64, "run {run}");
    }
    let joined = "SELECT count(*) FROM works_predicted_asjcs p JOIN works w ON w.id = p.work_id JOIN asjcs a ON a.id = p.asjc_id
                  WHERE p.model = 'asjc-classifier' AND p.model_version = 1";
    assert_eq!(count(&database, joined), expected_rows as i64);
}

#[test]
fn predict_writes_csv_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &trained_classifier());
    let output_path = dir.path().join("predictions.csv");
    let output = topicops(&store)
        .args(["predict", "--data"])
        .arg(shared("data/arxiv/arxiv-metadata.jsonl"))
        .arg("--output")
        .arg(&output_path)
        .args(["--top-k", "1", "--threshold", "0", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let scored = summary["summary"]["works_scored"].as_u64().unwrap();

    // With threshold 0 and top_k 1, every scored work has one row: a label, or an empty row
    // with the reason when the work has no known word.
    let (header, rows) = csv_rows(&output_path);
    assert_eq!(header, "id,rank,code,name,score,empty_reason,model,model_version");
    assert_eq!(rows, scored);
}

/// Sends one HTTP/1.1 request and returns the status code and body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default();
    (status, body)
}

#[test]
fn serve_answers_then_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &trained_classifier());
    let mut child = Command::new(env!("CARGO_BIN_EXE_topicops"))
        .arg("--store")
        .arg(&store)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    // The start line names the address: "serving `asjc-classifier` version 1 (champion) on http://127.0.0.1:PORT; ...".
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.starts_with("serving `asjc-classifier` version 1 (champion) on http://127.0.0.1:"), "{line}");
    let addr = line.split("http://").nth(1).unwrap().split(';').next().unwrap().to_string();

    let (status, _) = http(&addr, "GET", "/ready", "");
    assert_eq!(status, 200);
    let (status, body) = http(&addr, "POST", "/invocations", r#"{"inputs": [{"title": "Psoriasis treatment outcomes"}]}"#);
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["predictions"].as_array().unwrap().len(), 1);

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
}

#[test]
fn serve_rejects_public_address_without_token() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_with(dir.path(), &trained_classifier());
    let output = topicops(&store).args(["serve", "--addr", "0.0.0.0:0"]).env_remove("TOPICOPS_TOKEN").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("refusing to listen on 0.0.0.0:0 without a token"), "{stderr}");
}

#[test]
fn serve_without_model_logs_none_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join(".topicops");
    let mut child = Command::new(env!("CARGO_BIN_EXE_topicops"))
        .arg("--store")
        .arg(&store)
        .args(["serve", "--addr", "127.0.0.1:0", "--allow-missing-model", "--poll-interval-ms", "100"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Let a few registry polls fail, then stop the server and read everything it logged.
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");

    assert!(stderr.contains("model reload failed"), "{stderr}");
    assert!(!stderr.contains("previous model keeps serving"), "{stderr}");
    assert!(stderr.contains("no model is loaded yet"), "{stderr}");
}
