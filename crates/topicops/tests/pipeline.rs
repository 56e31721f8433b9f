//! End-to-end tests of `topicops run` and the registry commands: the real binary in a
//! temporary directory, on the Crossref sample with the ISSN-to-ASJC table.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn shared(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared").join(relative)
}

fn crossref() -> PathBuf {
    shared("data/crossref")
}

fn issn_table() -> PathBuf {
    shared("data/asjc/issn_subject_codes.csv")
}

/// Runs the binary in `directory` and returns its output.
fn topicops(directory: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_topicops"))
        .current_dir(directory)
        .args(args)
        .arg("-q")
        .output()
        .expect("the topicops binary runs")
}

fn run_json(directory: &Path, extra: &[&str]) -> (i32, Value) {
    let data = crossref();
    let labels = issn_table();
    let mut args = vec!["run", "--json", "--data", data.to_str().unwrap(), "--labels", labels.to_str().unwrap()];
    args.extend_from_slice(extra);
    let output = topicops(directory, &args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = serde_json::from_str(&stdout).unwrap_or_else(|error| {
        panic!("run printed no JSON summary ({error}); stderr: {}", String::from_utf8_lossy(&output.stderr))
    });
    (output.status.code().unwrap_or(-1), summary)
}

/// Step name → whether it came from the cache.
fn cached_steps(summary: &Value) -> Vec<(String, bool)> {
    summary["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| (step["step"].as_str().unwrap().to_string(), step["cached"].as_bool().unwrap()))
        .collect()
}

fn versions(directory: &Path) -> Vec<Value> {
    let output = topicops(directory, &["models", "list", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice::<Value>(&output.stdout).unwrap().as_array().unwrap().clone()
}

fn champion_version(directory: &Path) -> Option<u64> {
    versions(directory)
        .iter()
        .find(|v| v["aliases"].as_array().unwrap().iter().any(|a| a == "champion"))
        .map(|v| v["version"].as_u64().unwrap())
}

#[test]
fn run_registers_champion_then_hits_cache() {
    let directory = tempfile::tempdir().unwrap();

    let (code, first) = run_json(directory.path(), &[]);
    assert_eq!(code, 0, "{first}");
    assert_eq!(first["registration"]["version"], 1);
    assert_eq!(first["registration"]["created"], true);
    assert_eq!(first["registration"]["promoted"], true);
    assert!(cached_steps(&first).iter().all(|(_, cached)| !cached));
    // Every headline metric is a probability.
    for (key, value) in first["metrics"].as_object().unwrap() {
        let value = value.as_f64().unwrap();
        assert!((0.0..=1.0).contains(&value), "{key} = {value}");
    }
    assert!(directory.path().join(".topicops/reports").join(first["run_id"].as_str().unwrap()).join("report.html").is_file());

    let (code, second) = run_json(directory.path(), &[]);
    assert_eq!(code, 0, "{second}");
    let cached: Vec<String> = cached_steps(&second).into_iter().filter(|(_, c)| *c).map(|(s, _)| s).collect();
    assert_eq!(cached, ["ingest", "validate", "split", "featurize", "train", "evaluate"]);
    assert_eq!(second["registration"]["version"], 1);
    assert_eq!(second["registration"]["created"], false);
    assert_eq!(versions(directory.path()).len(), 1);
    assert_eq!(second["metrics"], first["metrics"]);
}

#[test]
fn changed_train_parameter_reruns_only_downstream() {
    let directory = tempfile::tempdir().unwrap();
    let (code, _) = run_json(directory.path(), &[]);
    assert_eq!(code, 0);

    std::fs::write(directory.path().join("topicops.toml"), "[train]\nc = 1.0\n\n[gate]\nmax_regression = 1.0\n").unwrap();
    let (code, summary) = run_json(directory.path(), &[]);
    assert_eq!(code, 0, "{summary}");
    let steps = cached_steps(&summary);
    let expected = [
        ("ingest", true),
        ("validate", true),
        ("split", true),
        ("featurize", true),
        ("train", false),
        ("evaluate", false),
        ("gate", false),
        ("register", false),
        ("report", false),
    ];
    let expected: Vec<(String, bool)> = expected.iter().map(|(s, c)| (s.to_string(), *c)).collect();
    assert_eq!(steps, expected);
    assert_eq!(summary["registration"]["version"], 2);
    assert_eq!(champion_version(directory.path()), Some(2));
}

#[test]
fn failed_gate_exits_one_and_registers_nothing() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(directory.path().join("topicops.toml"), "[gate]\nmin_value = 0.999\n").unwrap();
    let (code, summary) = run_json(directory.path(), &[]);
    assert_eq!(code, 1, "{summary}");
    assert_eq!(summary["gate_passed"], false);
    assert_eq!(summary["registration"]["version"], Value::Null);

    let output = topicops(directory.path(), &["models", "list", "--json"]);
    let listed: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    assert!(listed.as_array().map_or(true, |v| v.is_empty()), "{listed}");

    let runs = topicops(directory.path(), &["runs", "list", "--json"]);
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(runs[0]["status"], "gate_failed");
}

#[test]
fn failed_gate_names_failing_test_set() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(directory.path().join("topicops.toml"), "[gate]\nmin_value = 0.999\n").unwrap();
    let data = shared("data/labeled/citeseer.jsonl");
    let output = topicops(directory.path(), &["run", "--data", data.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let gate_line = stdout.lines().position(|line| line.starts_with("gate: ")).expect("a gate line");
    let reasons: Vec<&str> = stdout.lines().skip(gate_line + 1).take_while(|line| line.starts_with("  ")).collect();
    assert_eq!(reasons.len(), 1, "{stdout}");
    assert!(reasons[0].contains("`test`"), "{stdout}");
}

#[test]
fn data_without_venues_skips_heldout_check() {
    // Labelled JSON Lines carry no venue, so there is no held-out venue set to check.
    let directory = tempfile::tempdir().unwrap();
    let data = shared("data/labeled/citeseer.jsonl");
    let output = topicops(directory.path(), &["run", "--data", data.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    let gate = stdout.lines().find(|line| line.starts_with("gate: ")).expect("a gate line");
    assert!(gate.contains("`heldout_venues` was not checked because no work has a venue"), "{gate}");
}

#[test]
fn champion_of_other_level_is_not_replaced() {
    let directory = tempfile::tempdir().unwrap();
    let (code, first) = run_json(directory.path(), &[]);
    assert_eq!(code, 0, "{first}");
    assert_eq!(champion_version(directory.path()), Some(1));

    // Areas (health, life, ...) share no label with the champion's general fields.
    let (code, areas) = run_json(directory.path(), &["--level", "area"]);
    assert_eq!(code, 1, "{areas}");
    assert_eq!(areas["gate_passed"], false);
    let failures = areas["gate_failures"].as_array().unwrap();
    assert!(failures.iter().any(|reason| reason.as_str().unwrap().contains("predicts other labels")), "{areas}");
    assert_eq!(versions(directory.path()).len(), 1);
    assert_eq!(champion_version(directory.path()), Some(1));

    // Under a name of its own, the area model is compared with nothing and registers.
    let (code, named) = run_json(directory.path(), &["--level", "area", "--model-name", "asjc-areas"]);
    assert_eq!(code, 0, "{named}");
    assert_eq!(named["registration"]["version"], 1);
}

#[test]
fn piped_log_lines_are_plain_text() {
    let directory = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_topicops"))
        .current_dir(directory.path())
        .env("RUST_LOG", "debug")
        .args(["inspect", crossref().join("part-0003.jsonl.gz").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("DEBUG"), "no log line to check: {stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr:?}");
}

#[test]
fn models_show_prints_lineage_as_text() {
    let directory = tempfile::tempdir().unwrap();
    let (code, summary) = run_json(directory.path(), &[]);
    assert_eq!(code, 0, "{summary}");

    let output = topicops(directory.path(), &["models", "show", "champion"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let data_line = format!("data         {}", crossref().display());
    assert!(stdout.lines().any(|line| line == data_line), "{stdout}");
    let labels_line = format!("labels       {}", issn_table().display());
    assert!(stdout.lines().any(|line| line == labels_line), "{stdout}");
    assert!(stdout.lines().any(|line| line == "level        field"), "{stdout}");
    // The lineage graph with executions and edges is for --json only.
    assert!(!stdout.contains("\"edges\""), "{stdout}");
    let model_row = stdout.lines().find(|line| line.starts_with("model ")).expect("a model artifact row");
    assert!(model_row.ends_with(" train"), "{model_row}");
}

#[test]
fn killed_run_resumes_from_completed_steps() {
    let directory = tempfile::tempdir().unwrap();
    let data = crossref();
    let labels = issn_table();
    let killed = Command::new(env!("CARGO_BIN_EXE_topicops"))
        .current_dir(directory.path())
        .args(["run", "-q", "--data", data.to_str().unwrap(), "--labels", labels.to_str().unwrap()])
        .env("TOPICOPS_TEST_ABORT_AFTER", "featurize")
        .output()
        .unwrap();
    assert!(!killed.status.success());

    let runs = topicops(directory.path(), &["runs", "list", "--json"]);
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    let killed_id = runs[0]["id"].as_str().unwrap().to_string();
    assert!(versions(directory.path()).is_empty());

    let output = topicops(directory.path(), &["run", "--json", "--resume", &killed_id]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    let steps = cached_steps(&summary);
    assert!(steps[..4].iter().all(|(_, cached)| *cached), "{steps:?}");
    assert!(steps[4..].iter().all(|(_, cached)| !cached), "{steps:?}");
    assert_eq!(summary["registration"]["version"], 1);

    let runs = topicops(directory.path(), &["runs", "list", "--json"]);
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    let killed_run = runs.as_array().unwrap().iter().find(|r| r["id"] == killed_id.as_str()).unwrap();
    assert_eq!(killed_run["status"], "killed");
    assert_eq!(runs[0]["parent_run_id"], killed_id.as_str());

    // The resumed run succeeded, so resuming it again is refused and records no run.
    let succeeded_id = runs[0]["id"].as_str().unwrap().to_string();
    let again = topicops(directory.path(), &["run", "--resume", &succeeded_id]);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert_eq!(again.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("already succeeded"), "{stderr}");
    let after = topicops(directory.path(), &["runs", "list", "--json"]);
    let after: Value = serde_json::from_slice(&after.stdout).unwrap();
    assert_eq!(after.as_array().unwrap().len(), runs.as_array().unwrap().len());
}

#[test]
fn rollback_moves_champion_back_with_audit() {
    let directory = tempfile::tempdir().unwrap();
    assert_eq!(run_json(directory.path(), &[]).0, 0);
    std::fs::write(directory.path().join("topicops.toml"), "[train]\nc = 0.25\n\n[gate]\nmax_regression = 1.0\n").unwrap();
    assert_eq!(run_json(directory.path(), &[]).0, 0);
    assert_eq!(champion_version(directory.path()), Some(2));

    let output = topicops(directory.path(), &["models", "rollback", "--reason", "test rollback"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "asjc-classifier@champion: version 2 -> 1");
    assert_eq!(champion_version(directory.path()), Some(1));

    let show = topicops(directory.path(), &["models", "show", "champion", "--json"]);
    let shown: Value = serde_json::from_slice(&show.stdout).unwrap();
    let history = shown["alias_history"].as_array().unwrap();
    let reasons: Vec<&str> = history.iter().map(|e| e["reason"].as_str().unwrap()).collect();
    assert!(reasons.contains(&"test rollback"), "{reasons:?}");
    assert_eq!(history.len(), 3);
}

#[test]
fn eight_concurrent_runs_register_distinct_versions() {
    let directory = tempfile::tempdir().unwrap();
    let data = crossref();
    let labels = issn_table();
    // Different split seeds give different models, so each run registers its own version.
    let children: Vec<std::process::Child> = (0..8)
        .map(|seed| {
            let config = directory.path().join(format!("seed{seed}.toml"));
            let text = format!("[split]\nseed = {seed}\n\n[gate]\nmax_regression = 1.0\nmin_value = 0.0\n");
            std::fs::write(&config, text).unwrap();
            Command::new(env!("CARGO_BIN_EXE_topicops"))
                .current_dir(directory.path())
                .args(["run", "-q", "--no-promote", "-c", config.to_str().unwrap()])
                .args(["--data", data.to_str().unwrap(), "--labels", labels.to_str().unwrap()])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        assert!(!stderr.contains("locked"), "{stderr}");
    }

    let listed = versions(directory.path());
    let mut numbers: Vec<u64> = listed.iter().map(|v| v["version"].as_u64().unwrap()).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=8).collect::<Vec<u64>>());
    let runs = topicops(directory.path(), &["runs", "list", "--json"]);
    let runs: Value = serde_json::from_slice(&runs.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 8);
    assert!(runs.as_array().unwrap().iter().all(|r| r["status"] == "succeeded"));
}

#[test]
fn corpus_without_labels_fails_with_hint() {
    let directory = tempfile::tempdir().unwrap();
    let data = directory.path().join("works.jsonl");
    let records = [
        r#"{"DOI": "10.5555/a", "title": ["Dermatitis in children"], "type": "journal-article"}"#,
        r#"{"DOI": "10.5555/b", "title": ["Graph colouring bounds"], "subject": []}"#,
    ];
    std::fs::write(&data, records.join("\n")).unwrap();
    let output = topicops(directory.path(), &["run", "--data", data.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--labels"), "{stderr}");
    assert!(versions(directory.path()).is_empty());
}

#[test]
fn reading_commands_create_no_store() {
    let directory = tempfile::tempdir().unwrap();
    for args in [vec!["runs", "list"], vec!["models", "list"], vec!["models", "show", "champion"]] {
        let output = topicops(directory.path(), &args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("no topicops store in `.topicops`"), "{args:?}: {stderr}");
        assert!(!directory.path().join(".topicops").exists(), "{args:?} created a store");
    }
}
