//! End-to-end test of `topicops monitor` against the reference profile stored by `run`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn shared(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared").join(relative)
}

fn topicops(directory: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_topicops")).current_dir(directory).arg("-q").args(args).output().unwrap()
}

#[test]
fn monitor_flags_foreign_batch() {
    let directory = tempfile::tempdir().unwrap();
    let data = shared("data/crossref");
    let labels = shared("data/asjc/issn_subject_codes.csv");
    let run = topicops(directory.path(), &["run", "--data", data.to_str().unwrap(), "--labels", labels.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    // One file of the training corpus: its text is the training text, though its mix of
    // years and work types differs from the whole, so only the text test is pinned.
    let same = shared("data/crossref/part-0001.jsonl.gz");
    let output = topicops(directory.path(), &["monitor", "--json", "--fail-on-drift", "--current", same.to_str().unwrap()]);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["text"]["drifted"], false);
    let expected_code = if report["dataset_drift"] == true { 1 } else { 0 };
    assert_eq!(output.status.code(), Some(expected_code));
    assert_eq!(report["quality_drop"]["alert"], false);
    let from_subjects = report["quality"]["works_evaluated"].as_u64().unwrap();

    // With the ISSN table, works get gold labels from their journal too. Of the file's 2,000
    // works, 1,540 have a DOI, text and an ISSN in the table, and 1,566 have those or a
    // `subject` list (counted with Python's json and csv modules); 1,351 have a `subject`.
    let output = topicops(
        directory.path(),
        &["monitor", "--json", "--no-record", "--labels", labels.to_str().unwrap(), "--current", same.to_str().unwrap()],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let from_both = report["quality"]["works_evaluated"].as_u64().unwrap();
    assert!(from_subjects <= 1351, "{from_subjects} works evaluated from subject names alone");
    assert!((1540..=1566).contains(&from_both), "{from_both} works evaluated with the ISSN table");

    // OpenAlex works: other venues, years and text.
    let foreign = shared("data/openalex/works.jsonl.gz");
    let html = directory.path().join("drift.html");
    let output = topicops(
        directory.path(),
        &["monitor", "--json", "--fail-on-drift", "--html", html.to_str().unwrap(), "--current", foreign.to_str().unwrap()],
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["dataset_drift"], true);
    assert_eq!(report["text"]["drifted"], true);
    assert_eq!(output.status.code(), Some(1));
    assert!(std::fs::read_to_string(&html).unwrap().contains("<svg"));

    let runs = topicops(directory.path(), &["runs", "list", "--json"]);
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    let monitor_runs = runs.as_array().unwrap().iter().filter(|r| r["pipeline"] == "monitor").count();
    assert_eq!(monitor_runs, 2);

    // The PIPELINE column separates monitoring runs from training runs in the table.
    let table = topicops(directory.path(), &["runs", "list"]);
    let table = String::from_utf8_lossy(&table.stdout);
    let header: Vec<&str> = table.lines().next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(header.get(1), Some(&"PIPELINE"), "{table}");
    let pipelines: Vec<&str> = table.lines().skip(1).filter_map(|line| line.split_whitespace().nth(1)).collect();
    assert_eq!(pipelines.iter().filter(|pipeline| **pipeline == "monitor").count(), 2, "{table}");
    assert_eq!(pipelines.iter().filter(|pipeline| **pipeline == "training").count(), 1, "{table}");
}

/// Sends one `POST /v1/predict` over a plain TCP connection and returns the status line.
fn post_predict(port: u16, body: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST /v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response.lines().next().unwrap_or_default().to_string()
}

#[test]
fn monitor_reads_serve_prediction_log() {
    let directory = tempfile::tempdir().unwrap();
    let data = shared("data/crossref");
    let labels = shared("data/asjc/issn_subject_codes.csv");
    let run = topicops(directory.path(), &["run", "--data", data.to_str().unwrap(), "--labels", labels.to_str().unwrap()]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));

    let log = directory.path().join("predictions.jsonl");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_topicops"))
        .current_dir(directory.path())
        .args(["-q", "serve", "--addr", &format!("127.0.0.1:{port}")])
        .args(["--log-predictions", log.to_str().unwrap(), "--log-sample-rate", "1"])
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let body = r#"{"works": [{"title": "Atopic dermatitis in children", "venue": "Journal of Dermatology"},
                             {"title": "Chromatic number bounds for planar graphs"}]}"#;
    let mut status = String::new();
    while started.elapsed() < std::time::Duration::from_secs(30) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            status = post_predict(port, body);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // The log is written by a background thread; wait for both lines.
    while started.elapsed() < std::time::Duration::from_secs(30)
        && std::fs::read_to_string(&log).map(|text| text.lines().count()).unwrap_or(0) < 2
    {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = server.kill();
    let _ = server.wait();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");

    let output = topicops(directory.path(), &["monitor", "--json", "--no-record", "--current", log.to_str().unwrap()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["current_works"], 2);
}
