//! Several processes start at once on a fresh store: each creates the schema if needed, logs
//! metrics and registers a version of the same model. The test runs its own binary as the
//! worker processes, selected by an environment variable.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use store::{NamedArtifact, NewModelVersion, Stores};

use crate::common::{new_run, read_case};

/// Set in a worker process to its index; its absence makes the test the coordinator.
const WORKER_ENV: &str = "TOPICOPS_STORE_TEST_WORKER";
/// The store directory a worker opens.
const STORE_DIR_ENV: &str = "TOPICOPS_STORE_TEST_DIR";
const TEST_NAME: &str = "concurrent_writers::eight_processes_share_fresh_store";
/// File whose appearance releases all workers at once.
const START_FLAG: &str = "start";

/// Parameters read from the field case.
struct Case {
    writers: usize,
    metric_writes_per_writer: usize,
    model: String,
}

fn read_concurrency_case() -> (Case, serde_json::Value) {
    let case = read_case("C14-concurrent-writers.json");
    let parsed = Case {
        writers: case["writers"].as_u64().unwrap() as usize,
        metric_writes_per_writer: case["metric_writes_per_writer"].as_u64().unwrap() as usize,
        model: "asjc-classifier".to_string(),
    };
    assert!(case["each_writer_also"]
        .as_str()
        .unwrap()
        .contains(&parsed.model));
    (parsed, case["expect"].clone())
}

#[test]
fn eight_processes_share_fresh_store() {
    if let Ok(index) = std::env::var(WORKER_ENV) {
        let dir = PathBuf::from(std::env::var(STORE_DIR_ENV).unwrap());
        run_worker(&dir, index.parse().unwrap());
        return;
    }

    let (case, expect) = read_concurrency_case();
    let dir = tempfile::tempdir().unwrap();
    let store_dir = dir.path().join(".topicops");
    let children: Vec<_> = (0..case.writers)
        .map(|index| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
                .env(WORKER_ENV, index.to_string())
                .env(STORE_DIR_ENV, &store_dir)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // The store directory does not exist yet: the workers race to create everything.
    // Written aside and renamed, so a worker never reads a half-written flag.
    let flag_draft = dir.path().join("start.draft");
    std::fs::write(&flag_draft, b"go").unwrap();
    std::fs::rename(&flag_draft, store_dir.with_file_name(START_FLAG)).unwrap();

    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();

    for (index, output) in outputs.iter().enumerate() {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "worker {index} failed:\n{stdout}\n{stderr}"
        );
        assert!(
            stdout.contains("1 passed"),
            "worker {index} ran no test:\n{stdout}"
        );
        assert!(!stderr.contains("locked"), "worker {index}:\n{stderr}");
        assert!(!stdout.contains("locked"), "worker {index}:\n{stdout}");
    }
    check_store(&Stores::metadata_path(&store_dir), &case, &expect);
}

/// One worker: waits for the start flag, then opens the stores, logs metrics one transaction
/// each (the most contention) and registers a model version.
fn run_worker(store_dir: &Path, index: usize) {
    let (case, _) = read_concurrency_case();
    let flag = store_dir.with_file_name(START_FLAG);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !flag.exists() {
        assert!(
            Instant::now() < deadline,
            "start flag {} never appeared",
            flag.display()
        );
        std::thread::sleep(Duration::from_millis(1));
    }

    let stores = Stores::open(store_dir).unwrap();
    let run = stores
        .metadata
        .create_run(&new_run("train", serde_json::json!({"worker": index})))
        .unwrap();
    for step in 0..case.metric_writes_per_writer {
        let value = index as f64 + step as f64 / 100.0;
        stores
            .metadata
            .log_metric(&run.id, "val_loss", value, step as i64)
            .unwrap();
    }
    let model = stores
        .artifacts
        .put_bytes(format!("weights of worker {index}").as_bytes())
        .unwrap();
    let version = stores
        .register_version(&NewModelVersion {
            model: case.model.clone(),
            artifact: NamedArtifact::stored("model.safetensors", model, "application/safetensors"),
            run_id: Some(run.id.clone()),
            metadata: serde_json::json!({"worker": index}),
            metrics: Default::default(),
            built_from: Vec::new(),
        })
        .unwrap();
    stores
        .metadata
        .finish_run(&run.id, store::RunStatus::Succeeded, None)
        .unwrap();
    println!("worker {index} registered version {version}");
}

/// Counts rows with plain SQL, independently of the store's own readers.
fn check_store(db_path: &Path, case: &Case, expect: &serde_json::Value) {
    let connection = rusqlite::Connection::open(db_path).unwrap();
    let count = |sql: &str| -> i64 { connection.query_row(sql, [], |row| row.get(0)).unwrap() };

    let metric_rows = count("SELECT count(*) FROM metrics");
    let expected_rows = (case.writers * case.metric_writes_per_writer) as i64;
    assert_eq!(expected_rows, expect["metric_rows"].as_i64().unwrap());
    assert_eq!(metric_rows, expected_rows);

    let mut statement = connection
        .prepare("SELECT version FROM model_versions WHERE model = ?1 ORDER BY version")
        .unwrap();
    let versions: Vec<u32> = statement
        .query_map([&case.model], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected_versions: Vec<u32> = (1..=case.writers as u32).collect();
    let case_versions: Vec<u32> = expect["model_versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as u32)
        .collect();
    assert_eq!(case_versions, expected_versions);
    assert_eq!(versions, expected_versions);

    assert_eq!(count("SELECT count(*) FROM schema_migrations"), 1);
    assert_eq!(
        count("SELECT count(*) FROM runs WHERE status = 'succeeded'"),
        case.writers as i64
    );
    assert_eq!(
        count("SELECT count(DISTINCT run_id) FROM model_versions"),
        case.writers as i64,
        "each version belongs to a different worker's run"
    );
    let runs_with_all_metrics: i64 = connection
        .query_row(
            "SELECT count(*) FROM (SELECT run_id FROM metrics GROUP BY run_id HAVING count(*) = ?1)",
            [case.metric_writes_per_writer as i64],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(runs_with_all_metrics, case.writers as i64);
}
