//! Interoperability with alexandria3k 3.6.2: a database that a3k populates from Crossref
//! files must hold the same works (DOIs) and subject names that topicops reads from those
//! files, and topicops' a3k reader must return them too.
//!
//! The test uses the virtual environment whose Python `TOPICOPS_PYTHON` names, or makes one
//! under the target directory (reused by later runs), and installs alexandria3k there when
//! missing. Without `python3 -m venv` or pip it is skipped with a printed reason, except when
//! `CI=true`, where that is a failure.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{collect, data, write_gzip};
use corpus::{LabelSource, ProblemKind};
use serde_json::Value;

const A3K_VERSION: &str = "3.6.2";
/// Records taken from each sample file for the fixture.
const RECORDS_PER_FILE: usize = 40;

fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}

/// Returns the `a3k` executable, installing it on first use; `None` (with a printed reason)
/// when Python tooling is unavailable outside CI. `TOPICOPS_PYTHON` names the Python of a
/// prepared virtual environment (CI sets it); otherwise one is made under the target
/// directory.
fn a3k_executable() -> Option<PathBuf> {
    let (python, steps) = match std::env::var("TOPICOPS_PYTHON") {
        Ok(python) => (PathBuf::from(python), Vec::new()),
        Err(_) => {
            let environment = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("a3k-{A3K_VERSION}-venv"));
            let create = ("python3".to_string(), vec!["-m".to_string(), "venv".to_string(), environment.display().to_string()]);
            (environment.join("bin").join("python"), vec![create])
        }
    };
    let a3k = python.with_file_name("a3k");
    if a3k.exists() {
        return Some(a3k);
    }

    let install = (python.display().to_string(), vec!["-m".to_string(), "pip".to_string(), "install".to_string(), "--quiet".to_string(), format!("alexandria3k=={A3K_VERSION}")]);
    for (program, arguments) in steps.iter().chain([&install]) {
        let outcome = Command::new(program).args(arguments).output();
        let failure = match outcome {
            Ok(output) if output.status.success() => continue,
            Ok(output) => format!("`{program} {}` failed: {}", arguments.join(" "), String::from_utf8_lossy(&output.stderr)),
            Err(error) => format!("`{program}` cannot run: {error}"),
        };
        if running_in_ci() {
            panic!("alexandria3k interop test cannot set up its tools in CI: {failure}");
        }
        eprintln!("skipping the alexandria3k interop test: {failure}");
        return None;
    }
    Some(a3k)
}

/// Reads the records of a sample file that carry `published` (alexandria3k 3.6.2 aborts on
/// others).
fn published_records(file: &Path, limit: usize) -> Vec<Value> {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(std::fs::File::open(file).unwrap()), &mut text).unwrap();
    let records: Vec<Value> = if file.to_string_lossy().ends_with(".jsonl.gz") {
        text.lines().filter(|line| !line.trim().is_empty()).map(|line| serde_json::from_str(line).unwrap()).collect()
    } else {
        let Value::Object(mut wrapper) = serde_json::from_str(&text).unwrap() else { panic!("not an items file") };
        match wrapper.remove("items") {
            Some(Value::Array(items)) => items,
            _ => panic!("no items array"),
        }
    };
    records.into_iter().filter(|record| record.get("published").is_some()).take(limit).collect()
}

/// Runs `a3k` with `arguments`, failing the test with its output when it fails.
fn run_a3k(a3k: &Path, arguments: &[&str]) {
    let output = Command::new(a3k).args(arguments).output().unwrap();
    assert!(output.status.success(), "a3k {arguments:?} failed:\n{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
}

#[test]
fn a3k_stores_what_topicops_reads() {
    let Some(a3k) = a3k_executable() else {
        return;
    };
    let directory = tempfile::tempdir().unwrap();
    let fixture = directory.path().join("crossref");
    std::fs::create_dir(&fixture).unwrap();
    // alexandria3k needs `{"items": [...]}` files whose first line is exactly `{`, which
    // pretty-printing gives.
    for (index, sample) in ["crossref/0.json.gz", "crossref/part-0000.jsonl.gz"].iter().enumerate() {
        let items = published_records(&data(sample), RECORDS_PER_FILE);
        assert_eq!(items.len(), RECORDS_PER_FILE);
        let text = serde_json::to_string_pretty(&serde_json::json!({ "items": items })).unwrap();
        assert!(text.starts_with("{\n"));
        write_gzip(&fixture.join(format!("{index}.json.gz")), &text);
    }
    let database = directory.path().join("a3k.db");
    let database_text = database.display().to_string();
    run_a3k(&a3k, &["populate", &database_text, "crossref", &fixture.display().to_string()]);
    run_a3k(&a3k, &["populate", &database_text, "asjcs"]);
    run_a3k(&a3k, &["process", &database_text, "link-works-asjcs"]);

    // What alexandria3k stored, read with plain SQL.
    let connection = rusqlite::Connection::open(&database).unwrap();
    let mut stored_subjects: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut statement = connection.prepare("SELECT lower(trim(doi)) FROM works").unwrap();
    for doi in statement.query_map([], |row| row.get::<_, String>(0)).unwrap() {
        stored_subjects.insert(doi.unwrap(), BTreeSet::new());
    }
    let mut statement = connection.prepare("SELECT lower(trim(works.doi)), trim(name) FROM work_subjects JOIN works ON works.id = work_subjects.work_id").unwrap();
    for row in statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))).unwrap() {
        let (doi, name) = row.unwrap();
        stored_subjects.entry(doi).or_default().insert(name);
    }
    let mut stored_asjcs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut statement = connection.prepare("SELECT lower(trim(works.doi)), CAST(asjc_id AS TEXT) FROM works_asjcs JOIN works ON works.id = works_asjcs.work_id").unwrap();
    for row in statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))).unwrap() {
        let (doi, code) = row.unwrap();
        stored_asjcs.entry(doi).or_default().insert(code);
    }
    assert_eq!(stored_subjects.len(), 2 * RECORDS_PER_FILE);
    assert!(!stored_asjcs.is_empty(), "link-works-asjcs linked no work, so the code check below would be empty");

    // What topicops reads from the same files: the same DOIs (works, plus records skipped
    // for lack of text) and, for each work, the same subject names.
    let from_files = collect(&fixture);
    let mut read_ids: BTreeSet<String> = from_files.works.iter().map(|work| work.work.id.clone()).collect();
    read_ids.extend(from_files.problems_of(ProblemKind::NoText).iter().filter_map(|problem| problem.id.clone()));
    assert_eq!(read_ids, stored_subjects.keys().cloned().collect::<BTreeSet<_>>());
    for work in &from_files.works {
        let names: BTreeSet<String> = work.subjects.iter().cloned().collect();
        assert_eq!(Some(&names), stored_subjects.get(&work.work.id), "{}", work.work.id);
    }

    // What topicops reads from the database: the same works and subject names, and the
    // ASJC codes of `works_asjcs`.
    let from_database = collect(&database);
    let database_ids: Vec<&str> = {
        let mut ids = from_database.ids();
        ids.sort_unstable();
        ids
    };
    let file_ids: Vec<&str> = {
        let mut ids = from_files.ids();
        ids.sort_unstable();
        ids
    };
    assert_eq!(database_ids, file_ids);
    for work in &from_database.works {
        let names: BTreeSet<String> = work.subjects.iter().cloned().collect();
        assert_eq!(Some(&names), stored_subjects.get(&work.work.id), "{}", work.work.id);
        let codes: BTreeSet<String> =
            work.work.labels.iter().filter(|label| label.source == LabelSource::A3kWorksAsjcs).map(|label| label.code.clone()).collect();
        assert_eq!(codes, stored_asjcs.get(&work.work.id).cloned().unwrap_or_default(), "{}", work.work.id);
    }
}
