//! End-to-end test of the user a run records when the environment names none.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

#[test]
fn run_without_user_variable_records_login_name() {
    // Containers and cron jobs often start processes without `$USER`; the name then comes
    // from the account database, which `id -un` reads too.
    let expected = Command::new("id").arg("-un").output().unwrap();
    assert!(expected.status.success());
    let expected = String::from_utf8(expected.stdout).unwrap().trim().to_string();

    let directory = tempfile::tempdir().unwrap();
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    let data = shared.join("crossref/part-0003.jsonl.gz");
    let labels = shared.join("asjc/issn_subject_codes.csv");
    let topicops = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_topicops"))
            .current_dir(directory.path())
            .env_remove("USER")
            .env_remove("USERNAME")
            .arg("-q")
            .args(args)
            .output()
            .unwrap()
    };
    // The run may fail its quality gate on this small file; it is recorded either way.
    topicops(&["run", "--data", data.to_str().unwrap(), "--labels", labels.to_str().unwrap()]);

    let listed = topicops(&["runs", "list", "--json"]);
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let runs: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 1);
    assert_eq!(runs[0]["user"], expected.as_str());
}
