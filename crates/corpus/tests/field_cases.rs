//! Regression tests for the kinds of Crossref input met in the field. Each test reads the
//! shared field case and a small fixture of its own that varies the same kind. Expected
//! values were worked out by reading the case files (`zcat FILE | python3 -m json.tool`).

mod common;

use std::path::Path;

use common::{case, collect, write, write_gzip};
use corpus::source::FileStatus;
use corpus::{ingest, read_corpus_artifact, CorpusError, IngestOptions, ProblemKind, ReadOptions, Work};

/// Ingests `input` into a temporary artifact; returns the report and the works written.
fn ingest_all(input: &Path, options: &IngestOptions) -> (corpus::IngestReport, Vec<Work>) {
    let directory = tempfile::tempdir().unwrap();
    let output = directory.path().join("corpus.arrow");
    let report = match ingest(input, options, &output) {
        Ok(report) => report,
        Err(error) => panic!("ingest of {} failed: {error}", input.display()),
    };
    let works = read_corpus_artifact(&output).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
    (report, works)
}

#[test]
fn title_missing_forms_count_as_no_title() {
    // Works a, b, c have `title` [], null and absent; d is the control. All four carry an
    // abstract, so all are kept.
    let collected = collect(&case("C01-title-missing-forms.json.gz"));
    assert_eq!(collected.ids(), vec!["10.5555/synth.c01.a", "10.5555/synth.c01.b", "10.5555/synth.c01.c", "10.5555/synth.c01.d"]);
    for id in ["10.5555/synth.c01.a", "10.5555/synth.c01.b", "10.5555/synth.c01.c"] {
        assert_eq!(collected.work(id).work.title, None, "{id}");
        assert!(collected.work(id).work.abstract_text.is_some(), "{id}");
    }
    assert_eq!(collected.work("10.5555/synth.c01.d").work.title.as_deref(), Some("A synthetic note on topic classification"));
    assert!(collected.problems.is_empty(), "{:?}", collected.problems);
}

#[test]
fn no_title_no_abstract_is_skipped_and_named() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("works.jsonl");
    let lines = [
        r#"{"DOI": "10.1/empty-list", "title": []}"#,
        r#"{"DOI": "10.1/null", "title": null, "abstract": "<jats:p></jats:p>"}"#,
        r#"{"DOI": "10.1/absent"}"#,
        r#"{"DOI": "10.1/blank", "title": ["  ", "<i> </i>"]}"#,
        r#"{"DOI": "10.1/kept", "title": ["Kept"]}"#,
    ];
    write(&path, lines.join("\n"));
    let collected = collect(&path);

    assert_eq!(collected.ids(), vec!["10.1/kept"]);
    let skipped = collected.problems_of(ProblemKind::NoText);
    let named: Vec<(Option<&str>, Option<u64>)> = skipped.iter().map(|problem| (problem.id.as_deref(), problem.line)).collect();
    assert_eq!(named, vec![(Some("10.1/empty-list"), Some(1)), (Some("10.1/null"), Some(2)), (Some("10.1/absent"), Some(3)), (Some("10.1/blank"), Some(4))]);
    assert!(skipped.iter().all(|problem| problem.file == path));
}

#[test]
fn empty_doi_skipped_padded_doi_trimmed() {
    // Line 1 has DOI "", line 2 none, line 3 " 10.5555/synth.c03.c ", line 4 a plain DOI.
    let path = case("C03-empty-doi.jsonl.gz");
    let collected = collect(&path);
    assert_eq!(collected.ids(), vec!["10.5555/synth.c03.c", "10.5555/synth.c03.d"]);
    let missing = collected.problems_of(ProblemKind::MissingId);
    let lines: Vec<Option<u64>> = missing.iter().map(|problem| problem.line).collect();
    assert_eq!(lines, vec![Some(1), Some(2)]);
    assert!(missing.iter().all(|problem| problem.file == path));
    assert!(collected.works.iter().all(|work| !work.work.id.is_empty()));
}

#[test]
fn blank_ids_never_become_keys() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("works.jsonl");
    write(&path, "{\"DOI\": \"\\t\", \"title\": [\"t\"]}\n{\"DOI\": null, \"title\": [\"t\"]}\n{\"DOI\": [], \"title\": [\"t\"]}\n");
    let options = IngestOptions { require_labels: false, ..IngestOptions::default() };
    let (report, works) = ingest_all(&path, &options);
    assert!(works.is_empty());
    assert_eq!(report.problem_count(ProblemKind::MissingId), 3);
    assert_eq!(report.problem_count(ProblemKind::DuplicateId), 0);
}

#[test]
fn duplicate_dois_keep_latest_copy() {
    // Copies of synth.c04.a: line 1 indexed 1712016000000, line 3 1712620800000 (the latest),
    // line 4 (upper-case DOI) 1712275200000. synth.c04.b (line 2) occurs once. The artifact
    // holds the kept copies in reading order.
    let (report, works) = ingest_all(&case("C04-duplicate-dois.jsonl.gz"), &IngestOptions::default());
    assert_eq!(report.works_read, 4);
    assert_eq!(report.duplicates_dropped, 2);
    assert_eq!(report.problem_count(ProblemKind::DuplicateId), 2);
    assert_eq!(report.works_kept, 2);
    let kept: Vec<(&str, Option<i64>)> = works.iter().map(|work| (work.id.as_str(), work.indexed_ms)).collect();
    assert_eq!(kept, vec![("10.5555/synth.c04.b", Some(1_711_929_600_000)), ("10.5555/synth.c04.a", Some(1_712_620_800_000))]);
}

#[test]
fn duplicates_across_files_resolved() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("in");
    std::fs::create_dir(&input).unwrap();
    // a.json holds the newer copy of X; b.jsonl (read later) an older one and two copies of
    // Y with equal times, of which the one read last wins. Z occurs once and must come out
    // unchanged.
    write(&input.join("a.json"), "{\"items\": [\n{\"DOI\": \"10.1/X\", \"title\": [\"new\"], \"subject\": [\"Ecology\"], \"indexed\": {\"timestamp\": 20}},\n{\"DOI\": \"10.1/y\", \"title\": [\"first\"], \"subject\": [\"Ecology\"], \"indexed\": {\"timestamp\": 5}}\n]}\n");
    write(&input.join("b.jsonl"), "{\"DOI\": \"10.1/x\", \"title\": [\"old\"], \"subject\": [\"Ecology\"], \"indexed\": {\"timestamp\": 10}}\n{\"DOI\": \"10.1/Y\", \"title\": [\"second\"], \"subject\": [\"Ecology\"], \"indexed\": {\"timestamp\": 5}}\n{\"DOI\": \"10.1/z\", \"title\": [\"only\"], \"ISSN\": [\"0000-0019\"], \"subject\": [\"Ecology\"], \"indexed\": {\"timestamp\": 1}, \"published\": {\"date-parts\": [[1999]]}}\n");
    let single = collect(&input.join("b.jsonl")).work("10.1/z").work.clone();

    let (report, works) = ingest_all(&input, &IngestOptions::default());
    let titles: Vec<(&str, Option<&str>)> = works.iter().map(|work| (work.id.as_str(), work.title.as_deref())).collect();
    assert_eq!(titles, vec![("10.1/x", Some("new")), ("10.1/y", Some("second")), ("10.1/z", Some("only"))]);
    assert_eq!(report.duplicates_dropped, 2);
    assert_eq!(works[2], single);
}

#[test]
fn shape_variance_ingests_all_works() {
    // b has a bare-string title, container-title and subject; a has an object affiliation,
    // c an object `author`: neither field is read.
    let collected = collect(&case("C05-shape-variance.json.gz"));
    assert_eq!(collected.works.len(), 4);
    let bare = &collected.work("10.5555/synth.c05.b");
    assert_eq!(bare.work.title.as_deref(), Some("Bare string title, not a list"));
    assert_eq!(bare.work.venue.as_deref(), Some("Bare string container"));
    assert_eq!(bare.subjects, vec!["Ecology"]);
    // Ecology is ASJC 2303 (`grep ';Ecology;' a3k-asjc.csv`).
    assert_eq!(bare.work.label_codes(), vec!["2303"]);
    assert!(collected.problems.is_empty(), "{:?}", collected.problems);
}

#[test]
fn object_where_list_expected_warns() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("works.jsonl");
    write(&path, "{\"DOI\": \"10.1/a\", \"title\": {\"value\": \"T\"}, \"container-title\": 7, \"abstract\": \"Text\", \"subject\": [\"Ecology\", {\"x\": 1}]}\n");
    let collected = collect(&path);

    assert_eq!(collected.ids(), vec!["10.1/a"]);
    let work = collected.work("10.1/a");
    assert_eq!(work.work.title, None);
    assert_eq!(work.work.venue, None);
    assert_eq!(work.subjects, vec!["Ecology"]);
    let warnings = collected.problems_of(ProblemKind::UnexpectedShape);
    assert_eq!(warnings.len(), 3);
    assert!(warnings.iter().all(|problem| problem.id.as_deref() == Some("10.1/a") && problem.file == path && problem.line == Some(1)));
}

/// Reads the expected cleaned texts: `synth.c06.a title | text` lines, `\n` standing for a
/// line break. A value in brackets describes a missing value; a trailing `  (...)` is a note.
fn expected_c06() -> Vec<(String, String, Option<String>)> {
    let text = std::fs::read_to_string(case("C06-jats-mathml-abstract.expected.txt")).unwrap();
    let mut expected = Vec::new();
    for line in text.lines().filter(|line| !line.starts_with('#') && !line.trim().is_empty()) {
        let (key, value) = line.split_once('|').unwrap();
        let mut key_parts = key.split_whitespace();
        let id = format!("10.5555/{}", key_parts.next().unwrap());
        let field = key_parts.next().unwrap().to_string();
        let value = value.trim();
        let value = if value.starts_with('(') {
            None
        } else {
            let value = value.split("  (").next().unwrap_or(value);
            Some(value.replace("\\n", "\n"))
        };
        expected.push((id, field, value));
    }
    expected
}

#[test]
fn jats_mathml_abstract_cleaned() {
    let collected = collect(&case("C06-jats-mathml-abstract.jsonl.gz"));
    assert_eq!(collected.works.len(), 3, "{:?}", collected.problems);
    let expected = expected_c06();
    assert_eq!(expected.len(), 5);
    for (id, field, value) in expected {
        let work = &collected.work(&id).work;
        let actual = match field.as_str() {
            "title" => work.title.clone(),
            "container" => work.venue.clone(),
            "abstract" => work.abstract_text.clone(),
            other => panic!("unknown field {other}"),
        };
        assert_eq!(actual, value, "{id} {field}");
    }
}

#[test]
fn truncated_gzip_names_file() {
    // The .json.gz holds 102 complete items (synth.c08.000 to .101) before the cut, the
    // .jsonl.gz 101 complete lines (.000 to .100); the next record is cut in both.
    for (name, complete) in [("C08-truncated.json.gz", 102), ("C08-truncated.jsonl.gz", 101)] {
        let path = case(name);
        let collected = collect(&path);
        assert_eq!(collected.works.len(), complete, "{name}");
        assert_eq!(collected.files.len(), 1);
        assert_eq!(collected.files[0].status, FileStatus::Incomplete, "{name}");
        let truncated = collected.problems_of(ProblemKind::TruncatedFile);
        assert_eq!(truncated.len(), 1, "{name}");
        assert_eq!(truncated[0].file, path);
        assert!(truncated[0].message.contains("truncated"), "{}", truncated[0].message);
        assert!(truncated[0].raw.as_deref().is_some_and(|raw| raw.contains("synth.c08.")), "{name}");
    }
}

#[test]
fn truncated_file_does_not_stop_others() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::copy(case("C08-truncated.json.gz"), input.join("1.json.gz")).unwrap();
    std::fs::copy(case("C08-truncated.jsonl.gz"), input.join("2.jsonl.gz")).unwrap();
    write_gzip(&input.join("3.jsonl.gz"), "{\"DOI\": \"10.1/after\", \"title\": [\"t\"], \"subject\": [\"Ecology\"]}\n");
    let quarantine = directory.path().join("quarantine.jsonl");
    let options = IngestOptions { quarantine: Some(quarantine.clone()), ..IngestOptions::default() };

    let (report, works) = ingest_all(&input, &options);
    assert!(report.has_file_failures());
    assert_eq!(report.files.read, 1);
    assert_eq!(report.files.incomplete, 2);
    assert_eq!(report.files.incomplete_files, vec![input.join("1.json.gz"), input.join("2.jsonl.gz")]);
    // The two case files share synth.c08.000 to .100 with equal indexing times, so the copies
    // read last (from 2.jsonl.gz) replace the first 101: 102 + 1 works remain.
    assert_eq!(report.duplicates_dropped, 101);
    assert_eq!(works.len(), 103);
    assert_eq!(works.last().map(|work| work.id.as_str()), Some("10.1/after"));
    assert!(report.to_string().contains("1.json.gz"));

    let quarantined = std::fs::read_to_string(&quarantine).unwrap();
    let reasons: Vec<String> = quarantined
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["reason"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(reasons, vec!["truncated_file", "truncated_file"]);
}

#[test]
fn missing_subjects_leave_training_set() {
    // a: no `subject`; b: []; c: "Architecture " and " Ecology" (2216, 2303 in
    // a3k-asjc.csv); d: "Not An ASJC Name"; e: "Ecology" twice.
    let path = case("C10-subjects-missing.jsonl.gz");
    let collected = collect(&path);
    assert_eq!(collected.work("10.5555/synth.c10.c").subjects, vec!["Architecture", "Ecology"]);
    assert_eq!(collected.work("10.5555/synth.c10.c").work.label_codes(), vec!["2216", "2303"]);
    assert_eq!(collected.work("10.5555/synth.c10.e").subjects, vec!["Ecology"]);
    assert_eq!(collected.work("10.5555/synth.c10.e").work.label_codes(), vec!["2303"]);
    assert_eq!(collected.work("10.5555/synth.c10.d").unknown_subjects, vec!["Not An ASJC Name"]);

    let (report, works) = ingest_all(&path, &IngestOptions::default());
    assert_eq!(report.works_read, 5);
    assert_eq!(report.works_unlabelled, 3);
    assert_eq!(report.works_kept, 2);
    assert_eq!(report.unknown_subjects.get("Not An ASJC Name"), Some(&1));
    assert_eq!(report.unknown_subjects.len(), 1);
    let ids: Vec<&str> = works.iter().map(|work| work.id.as_str()).collect();
    assert_eq!(ids, vec!["10.5555/synth.c10.c", "10.5555/synth.c10.e"]);

    let keep_unlabelled = IngestOptions { require_labels: false, ..IngestOptions::default() };
    let (report, works) = ingest_all(&path, &keep_unlabelled);
    assert_eq!(report.works_kept, 5);
    assert_eq!(works.len(), 5);
}

#[test]
fn no_labels_at_all_explains_fix() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("works.jsonl");
    write(&path, "{\"DOI\": \"10.1/a\", \"title\": [\"t\"]}\n{\"DOI\": \"10.1/b\", \"title\": [\"t\"], \"subject\": [\"Not a field\"]}\n");
    let output = directory.path().join("corpus.arrow");
    let error = ingest(&path, &IngestOptions::default(), &output).unwrap_err();
    assert!(matches!(error, CorpusError::NoLabelledWorks { works: 2, .. }), "{error}");
    assert!(error.to_string().contains("ISSN-to-ASJC table"), "{error}");
    assert!(!output.exists());
}

#[test]
fn huge_record_parses_within_limit() {
    // synth.c11.big is one 763,910-byte line with 3,000 authors and 5,000 references.
    let path = case("C11-huge-record.jsonl.gz");
    let collected = collect(&path);
    assert_eq!(collected.ids(), vec!["10.5555/synth.c11.big", "10.5555/synth.c11.small"]);

    let small_limit = ReadOptions { max_record_bytes: 100_000, ..ReadOptions::default() };
    let limited = common::collect_with(&path, &small_limit);
    assert_eq!(limited.ids(), vec!["10.5555/synth.c11.small"]);
    let too_large = limited.problems_of(ProblemKind::RecordTooLarge);
    assert_eq!(too_large.len(), 1);
    assert_eq!(too_large[0].line, Some(1));
    assert_eq!(too_large[0].raw.as_ref().map(String::len), Some(100_000));
}
