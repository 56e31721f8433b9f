//! Label sources against the shared ASJC tables, the Crossref sample and the case of
//! missing, padded, duplicated and unknown subject names.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use corpus::labels::{IssnTable, LabelSources};
use corpus::taxonomy::Taxonomy;
use corpus::{LabelSource, Work};

fn shared(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(relative)
}

/// Reads the `issn,subject_code` CSV with plain string splitting, independently of the
/// loader under test.
fn csv_mapping() -> BTreeMap<String, BTreeSet<String>> {
    let text =
        std::fs::read_to_string(shared("data/asjc/issn_subject_codes.csv")).expect("read csv");
    let mut mapping: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let (issn, code) = line.trim_end().split_once(',').expect("two columns");
        mapping
            .entry(issn.to_string())
            .or_default()
            .insert(code.to_string());
    }
    mapping
}

#[test]
fn issn_csv_has_expected_counts() {
    // `tail -n +2 issn_subject_codes.csv | sort -u | wc -l` gives 122037 pairs and
    // `tail -n +2 issn_subject_codes.csv | cut -d, -f1 | sort -u | wc -l` 56407 ISSNs.
    let table = IssnTable::from_csv(&shared("data/asjc/issn_subject_codes.csv")).expect("load csv");
    assert_eq!(table.pair_count(), 122_037);
    assert_eq!(table.len(), 56_407);
}

#[test]
fn issn_csv_matches_plain_reading() {
    let table = IssnTable::from_csv(&shared("data/asjc/issn_subject_codes.csv")).expect("load csv");
    for (issn, codes) in csv_mapping() {
        let loaded: Vec<&str> = table.codes_for(&issn).iter().map(String::as_str).collect();
        let expected: Vec<&str> = codes.iter().map(String::as_str).collect();
        assert_eq!(loaded, expected, "ISSN {issn}");
    }
}

#[test]
fn tsv_pair_matches_csv_mapping() {
    // The CSV was derived from the pair with linking ISSNs included, so both give the same
    // codes for every ISSN.
    let pair = IssnTable::from_tsv_pair(
        &shared("data/asjc/issn.tsv"),
        &shared("data/asjc/titles-asjc-codes.tsv"),
    )
    .expect("load tsv pair");
    assert_eq!(pair.len(), 56_407);
    assert_eq!(pair.pair_count(), 122_037);
    for (issn, codes) in csv_mapping() {
        let loaded: Vec<&str> = pair.codes_for(&issn).iter().map(String::as_str).collect();
        let expected: Vec<&str> = codes.iter().map(String::as_str).collect();
        assert_eq!(loaded, expected, "ISSN {issn}");
    }
}

#[test]
fn issn_csv_with_wrong_header_names_line() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("codes.csv");
    std::fs::write(&path, "00002561,2200\n00010197,2700\n").expect("write csv");
    let error = IssnTable::from_csv(&path).expect_err("no header row");
    assert!(
        matches!(error, corpus::CorpusError::Table { line: 1, .. }),
        "{error}"
    );
}

#[test]
fn issn_csv_invalid_issn_names_line() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("codes.csv");
    std::fs::write(&path, "issn,subject_code\n00002561,2200\n0000256,2200\n").expect("write csv");
    let error = IssnTable::from_csv(&path).expect_err("seven-digit ISSN");
    assert!(
        matches!(error, corpus::CorpusError::Table { line: 3, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("0000256"), "{error}");
}

#[test]
fn issn_table_loads_from_a3k_database() {
    let conn = rusqlite::Connection::open_in_memory().expect("open in-memory database");
    conn.execute_batch(
        "CREATE TABLE issn_subject_codes(id INTEGER PRIMARY KEY, issn, subject_code INTEGER);
         INSERT INTO issn_subject_codes(issn, subject_code) VALUES
           ('00280836', 1000), ('0028083x', 2708), ('00280836', 1000);",
    )
    .expect("fill table");
    let table = IssnTable::from_a3k_database(&conn).expect("load table");
    assert_eq!(table.len(), 2);
    assert_eq!(table.codes_for("0028-0836"), ["1000"]);
    assert_eq!(table.codes_for("0028-083X"), ["2708"]);
}

#[test]
fn issn_table_missing_from_database_is_error() {
    let conn = rusqlite::Connection::open_in_memory().expect("open in-memory database");
    let error = IssnTable::from_a3k_database(&conn).expect_err("no table");
    assert!(error.to_string().contains("issn_subject_codes"), "{error}");
}

/// Returns the `subject` list of each record of a gzipped JSON Lines file, keyed by DOI;
/// an absent field gives an empty list.
fn subjects_by_doi(path: &Path) -> BTreeMap<String, Vec<String>> {
    let file = std::fs::File::open(path).expect("open case file");
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    let mut subjects = BTreeMap::new();
    for line in reader.lines() {
        let record: serde_json::Value =
            serde_json::from_str(&line.expect("read line")).expect("parse line");
        let names = record["subject"]
            .as_array()
            .map(|names| {
                names
                    .iter()
                    .filter_map(|name| name.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        subjects.insert(record["DOI"].as_str().expect("DOI").to_string(), names);
    }
    subjects
}

#[test]
fn missing_padded_and_unknown_subjects() {
    let subjects = subjects_by_doi(&shared("cases/C10-subjects-missing.jsonl.gz"));
    let sources = LabelSources::new(Taxonomy::builtin());
    let label = |doi: &str| {
        let mut work = Work::default();
        let unmatched = sources.label_work(&mut work, &subjects[doi]);
        let codes: Vec<String> = work.labels.iter().map(|label| label.code.clone()).collect();
        assert!(work
            .labels
            .iter()
            .all(|label| label.source == LabelSource::CrossrefSubject));
        (codes, unmatched)
    };

    // Absent and empty lists: no label, nothing unknown.
    assert_eq!(label("10.5555/synth.c10.a"), (vec![], vec![]));
    assert_eq!(label("10.5555/synth.c10.b"), (vec![], vec![]));
    // "Architecture " and " Ecology": 2216 and 2303 once trimmed.
    assert_eq!(
        label("10.5555/synth.c10.c"),
        (vec!["2216".into(), "2303".into()], vec![])
    );
    assert_eq!(
        label("10.5555/synth.c10.d"),
        (vec![], vec!["Not An ASJC Name".to_string()])
    );
    // "Ecology" twice: one label.
    assert_eq!(label("10.5555/synth.c10.e"), (vec!["2303".into()], vec![]));
}

/// Collects every distinct `subject` name of the Crossref sample, from both the
/// `{"items": [...]}` files and the JSON Lines files.
fn crossref_subject_names() -> BTreeSet<String> {
    #[derive(serde::Deserialize)]
    struct Record {
        #[serde(default)]
        subject: serde_json::Value,
    }
    #[derive(serde::Deserialize)]
    struct Page {
        items: Vec<Record>,
    }

    let mut names = BTreeSet::new();
    let mut add = |record: Record| match record.subject {
        serde_json::Value::Array(list) => {
            names.extend(
                list.iter()
                    .filter_map(|name| name.as_str().map(str::to_string)),
            );
        }
        serde_json::Value::String(name) => {
            names.insert(name);
        }
        _ => {}
    };
    let directory = shared("data/crossref");
    for entry in std::fs::read_dir(&directory).expect("list crossref directory") {
        let path = entry.expect("directory entry").path();
        let file_name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_string();
        let mut text = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(&path).expect("open file"))
            .read_to_string(&mut text)
            .expect("decompress file");
        if file_name.ends_with(".jsonl.gz") {
            for line in text.lines().filter(|line| !line.trim().is_empty()) {
                add(serde_json::from_str(line).expect("parse line"));
            }
        } else if file_name.ends_with(".json.gz") {
            let page: Page = serde_json::from_str(&text).expect("parse page");
            page.items.into_iter().for_each(&mut add);
        }
    }
    names
}

#[test]
fn crossref_sample_names_all_match() {
    // Of the 344 distinct names in the sample, only "General" is not an ASJC name (Crossref
    // gives it to Nature and PNAS, whose ISSNs map to 1000 Multidisciplinary).
    let names = crossref_subject_names();
    assert_eq!(names.len(), 344);
    let sources = LabelSources::new(Taxonomy::builtin());
    let all: Vec<String> = names.into_iter().collect();
    let unmatched = sources.label_work(&mut Work::default(), &all);
    assert_eq!(unmatched, ["General"]);
}
