//! End-to-end test of continuous training: a running `topicops serve` follows the champion
//! while `topicops watch` retrains on new files in the watched directory.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn shared(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared").join(relative)
}

/// Kills the child process when dropped, so a failed assertion leaves no server behind.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Sends a bodiless GET over a plain TCP connection and returns the JSON body.
fn get_json(port: u16, path: &str) -> Option<Value> {
    use std::io::Write;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    if !head.starts_with("HTTP/1.1 200") {
        return None;
    }
    serde_json::from_str(body).ok()
}

fn served_version(port: u16) -> Option<u64> {
    get_json(port, "/v1/models")?.pointer("/loaded/version")?.as_u64()
}

fn topicops(directory: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_topicops"));
    command.current_dir(directory).arg("-q");
    command
}

#[test]
fn watch_retrains_and_server_follows() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("incoming");
    std::fs::create_dir(&data).unwrap();
    for name in ["0.json.gz", "1.json.gz", "2.json.gz"] {
        std::fs::copy(shared("data/crossref").join(name), data.join(name)).unwrap();
    }
    let labels = shared("data/asjc/issn_subject_codes.csv");
    let data_arg = data.to_str().unwrap();
    let labels_arg = labels.to_str().unwrap();

    // The first model, trained once.
    let first = topicops(directory.path())
        .args(["retrain-if-needed", "--data", data_arg, "--labels", labels_arg])
        .output()
        .unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));

    let port = free_port();
    let server = topicops(directory.path())
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--poll-interval-ms", "200"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _server = Guard(server);
    let started = Instant::now();
    while served_version(port).is_none() {
        assert!(started.elapsed() < Duration::from_secs(30), "server did not come up");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(served_version(port), Some(1));

    // Nothing changed: the watcher's check finds no reason to train.
    let idle = topicops(directory.path())
        .args(["retrain-if-needed", "--data", data_arg, "--labels", labels_arg])
        .output()
        .unwrap();
    assert!(idle.status.success());
    assert!(String::from_utf8_lossy(&idle.stdout).contains("nothing to do"));

    let watcher = topicops(directory.path())
        .args(["watch", "--interval-secs", "1", "--data", data_arg, "--labels", labels_arg])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _watcher = Guard(watcher);

    // New data arrives: copy to a hidden name, then rename, as a downloader would.
    for name in ["part-0000.jsonl.gz", "part-0001.jsonl.gz"] {
        let hidden = data.join(format!(".{name}"));
        std::fs::copy(shared("data/crossref").join(name), &hidden).unwrap();
        std::fs::rename(&hidden, data.join(name)).unwrap();
    }

    let started = Instant::now();
    while served_version(port) != Some(2) {
        assert!(started.elapsed() < Duration::from_secs(120), "server still serves {:?}", served_version(port));
        std::thread::sleep(Duration::from_millis(250));
    }

    let runs = topicops(directory.path()).args(["runs", "list", "--json"]).output().unwrap();
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    let newest = &runs[0];
    assert_eq!(newest["trigger"], "watch");
    assert_eq!(newest["status"], "succeeded");
    assert!(newest["trigger_reason"].as_str().unwrap().contains("source data changed"), "{newest}");
}

#[test]
fn watch_retrains_on_drifted_batch() {
    let directory = tempfile::tempdir().unwrap();
    let data = shared("data/crossref");
    let labels = shared("data/asjc/issn_subject_codes.csv");
    let data_arg = data.to_str().unwrap();
    let labels_arg = labels.to_str().unwrap();
    let first = topicops(directory.path())
        .args(["run", "--data", data_arg, "--labels", labels_arg])
        .output()
        .unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));

    // The data is unchanged, so only the drifted batch can trigger the run.
    let foreign = shared("data/openalex/works.jsonl.gz");
    let watch = topicops(directory.path())
        .args(["watch", "--max-checks", "1", "--data", data_arg, "--labels", labels_arg])
        .args(["--monitor", foreign.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(watch.status.success(), "{}", String::from_utf8_lossy(&watch.stderr));

    let runs = topicops(directory.path()).args(["runs", "list", "--json"]).output().unwrap();
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    let newest = &runs[0];
    assert_eq!(newest["trigger"], "drift", "{newest}");
    assert!(newest["trigger_reason"].as_str().unwrap().contains("drifted"), "{newest}");
    assert_eq!(newest["status"], "succeeded");
}

#[test]
fn watch_skips_failed_data_until_change() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("incoming");
    std::fs::create_dir(&data).unwrap();
    std::fs::copy(shared("data/crossref/0.json.gz"), data.join("0.json.gz")).unwrap();
    let labels = shared("data/asjc/issn_subject_codes.csv");
    // No model reaches a micro-F1 of 0.999 here, so every candidate fails the gate.
    std::fs::write(directory.path().join("topicops.toml"), "[gate]\nmin_value = 0.999\n").unwrap();

    let watch = topicops(directory.path())
        .args(["watch", "--interval-secs", "1", "--max-checks", "3"])
        .args(["--data", data.to_str().unwrap(), "--labels", labels.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(watch.status.success(), "{}", String::from_utf8_lossy(&watch.stderr));

    let runs = topicops(directory.path()).args(["runs", "list", "--json"]).output().unwrap();
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    let runs = runs.as_array().unwrap();
    let ids: Vec<&str> = runs.iter().filter_map(|run| run["id"].as_str()).collect();
    assert_eq!(runs.len(), 1, "runs: {ids:?}");
    assert_eq!(runs[0]["status"], "gate_failed");
}
