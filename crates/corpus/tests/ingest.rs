//! End-to-end tests of reading layouts, validation, strict mode, the quarantine file, label
//! sources and the artifact, on small fixtures written by each test.

mod common;

use std::path::{Path, PathBuf};

use common::{collect, collect_with, write, write_gzip};
use corpus::labels::{IssnTable, LabelSources};
use corpus::taxonomy::Taxonomy;
use corpus::{ingest, inspect, read_corpus_artifact, CorpusError, IngestOptions, LabelSource, ProblemKind, ReadOptions, SourceFormat};

/// Returns one labelled Crossref record as JSON text.
fn record(doi: &str) -> String {
    format!(r#"{{"DOI": "{doi}", "title": ["Title of {doi}"], "subject": ["Ecology"], "indexed": {{"timestamp": 1}}}}"#)
}

fn temporary_input() -> (tempfile::TempDir, PathBuf) {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("input");
    std::fs::create_dir(&input).unwrap();
    (directory, input)
}

fn files_in(directory: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(directory).unwrap().map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn every_crossref_layout_reads() {
    let (_directory, input) = temporary_input();
    write(&input.join("a.json"), format!("{{\"items\":[{},{}]}}", record("10.1/a1"), record("10.1/a2")));
    write(&input.join("b.jsonl"), format!("{}\r\n\r\n{}\r\n", record("10.1/b1"), record("10.1/b2")));
    write_gzip(&input.join("c.json.gz"), &format!("{{\n  \"items\": [\n    {},\n    {}\n  ]\n}}\n", record("10.1/c1"), record("10.1/c2")));
    write_gzip(&input.join("d.jsonl.gz"), &format!("\n{}\n{}", record("10.1/d1"), record("10.1/d2")));
    write(&input.join("e.json"), format!("[{}, {}]", record("10.1/e1"), record("10.1/e2")));

    let collected = collect(&input);
    assert_eq!(collected.ids(), vec!["10.1/a1", "10.1/a2", "10.1/b1", "10.1/b2", "10.1/c1", "10.1/c2", "10.1/d1", "10.1/d2", "10.1/e1", "10.1/e2"]);
    assert!(collected.problems.is_empty(), "{:?}", collected.problems);
    // Lines: b1 on 1, b2 on 3 (after a blank CRLF line); c1 on 3; d1 on 2.
    let line = |id: &str| collected.work(id).origin.line;
    assert_eq!(line("10.1/b2"), Some(3));
    assert_eq!(line("10.1/c1"), Some(3));
    assert_eq!(line("10.1/d1"), Some(2));
}

#[test]
fn malformed_record_named_and_skipped() {
    let (_directory, input) = temporary_input();
    let path = input.join("works.jsonl");
    // Line 2 misses a comma after the DOI: serde_json stops at column 20 of that line.
    write(&path, format!("{}\n{{\"DOI\": \"10.1/bad\" \"title\": [\"t\"]}}\n{}\n", record("10.1/a"), record("10.1/c")));
    let collected = collect(&path);

    assert_eq!(collected.ids(), vec!["10.1/a", "10.1/c"]);
    let malformed = collected.problems_of(ProblemKind::MalformedJson);
    assert_eq!(malformed.len(), 1);
    assert_eq!(malformed[0].file, path);
    assert_eq!(malformed[0].line, Some(2));
    assert_eq!(malformed[0].column, Some(20));
    assert!(malformed[0].message.contains("expected `,`"), "{}", malformed[0].message);
}

#[test]
fn malformed_item_column_counts_from_line_start() {
    let (_directory, input) = temporary_input();
    let path = input.join("works.json");
    // One-line items file whose second item is invalid JSON.
    let first = record("10.1/a");
    let text = format!("{{\"items\":[{first}, {{\"DOI\": tru}}]}}");
    let item_start = text.find("{\"DOI\": tru").unwrap() as u64;
    write(&path, &text);
    let collected = collect(&path);

    assert_eq!(collected.ids(), vec!["10.1/a"]);
    let malformed = collected.problems_of(ProblemKind::MalformedJson);
    assert_eq!(malformed.len(), 1);
    assert_eq!(malformed[0].line, Some(1));
    // serde_json reports the error at the `}` after `tru`, the 12th byte of the item, so the
    // 1-based column is the item's 0-based start offset plus 12.
    assert_eq!(malformed[0].column, Some(item_start + 12));
}

#[test]
fn invalid_utf8_reports_line_and_offset() {
    let (_directory, input) = temporary_input();
    let path = input.join("works.jsonl");
    let first = record("10.1/a");
    let mut bytes = format!("{first}\n{{\"DOI\": \"10.1/b\", \"title\": [\"caf").into_bytes();
    let bad_offset = bytes.len() as u64;
    bytes.extend_from_slice(b"\xE9\"]}\n");
    bytes.extend_from_slice(record("10.1/c").as_bytes());
    write(&path, bytes);
    let collected = collect(&path);

    assert_eq!(collected.ids(), vec!["10.1/a", "10.1/c"]);
    let invalid = collected.problems_of(ProblemKind::InvalidUtf8);
    assert_eq!(invalid.len(), 1);
    assert_eq!(invalid[0].line, Some(2));
    assert_eq!(invalid[0].byte_offset, Some(bad_offset));
    assert!(invalid[0].raw.as_deref().is_some_and(|raw| raw.contains("caf\u{FFFD}")));
}

#[test]
fn strict_mode_stops_at_first_problem() {
    let (directory, input) = temporary_input();
    let path = input.join("works.jsonl");
    write(&path, format!("{}\n{{\"title\": [\"no doi\"]}}\n{}\n", record("10.1/a"), record("10.1/c")));
    let output = directory.path().join("corpus.arrow");
    let options = IngestOptions { strict: true, ..IngestOptions::default() };

    let error = ingest(&path, &options, &output).unwrap_err();
    match &error {
        CorpusError::Strict { problem } => {
            assert_eq!(problem.kind, ProblemKind::MissingId);
            assert_eq!(problem.line, Some(2));
            assert_eq!(problem.file, path);
        }
        other => panic!("expected a strict-mode error, got {other}"),
    }
    assert!(error.to_string().contains("works.jsonl:2"), "{error}");
    assert!(!output.exists());
    assert_eq!(files_in(directory.path()), vec!["input"], "temporary files are removed");
}

#[test]
fn strict_mode_spares_unlabelled_works() {
    let (directory, input) = temporary_input();
    let path = input.join("works.jsonl");
    write(&path, format!("{}\n{{\"DOI\": \"10.1/u\", \"title\": [\"no subject\"]}}\n", record("10.1/a")));
    let options = IngestOptions { strict: true, ..IngestOptions::default() };
    let report = ingest(&path, &options, &directory.path().join("corpus.arrow")).unwrap();
    assert_eq!(report.works_kept, 1);
    assert_eq!(report.works_unlabelled, 1);
}

#[test]
fn quarantine_holds_rejected_records() {
    let (directory, input) = temporary_input();
    let path = input.join("works.jsonl");
    write(&path, format!("{}\n{{\"title\": [\"no doi\"]}}\nnot json\n{{\"DOI\": \"10.1/empty\"}}\n", record("10.1/a")));
    let quarantine = directory.path().join("rejected.jsonl");
    let options = IngestOptions { quarantine: Some(quarantine.clone()), ..IngestOptions::default() };
    let report = ingest(&path, &options, &directory.path().join("corpus.arrow")).unwrap();
    assert_eq!(report.records_rejected, 3);
    assert_eq!(report.records_seen, 4);

    let entries: Vec<serde_json::Value> =
        std::fs::read_to_string(&quarantine).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let summary: Vec<(String, u64, String)> = entries
        .iter()
        .map(|entry| (entry["reason"].as_str().unwrap().to_string(), entry["line"].as_u64().unwrap(), entry["raw"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        summary,
        vec![
            ("missing_id".to_string(), 2, "{\"title\": [\"no doi\"]}".to_string()),
            ("malformed_json".to_string(), 3, "not json".to_string()),
            ("no_text".to_string(), 4, "{\"DOI\": \"10.1/empty\"}".to_string()),
        ]
    );
    assert!(entries.iter().all(|entry| entry["file"].as_str() == Some(path.to_str().unwrap())));
    assert_eq!(entries[2]["id"].as_str(), Some("10.1/empty"));
}

#[test]
fn inspect_matches_ingest_without_writing() {
    let (directory, input) = temporary_input();
    write(&input.join("a.jsonl"), format!("{}\n{}\n{{\"DOI\": \"10.1/u\", \"title\": [\"t\"]}}\n{}\n", record("10.1/a"), record("10.1/b"), record("10.1/A")));
    let options = IngestOptions::default();
    let inspected = inspect(&input, &options).unwrap();
    let ingested = ingest(&input, &options, &directory.path().join("corpus.arrow")).unwrap();

    assert_eq!(inspected.output, None);
    assert_eq!(files_in(directory.path()), vec!["corpus.arrow", "input"]);
    assert_eq!(inspected.works_kept, 2);
    assert_eq!(ingested.works_kept, 2);
    assert_eq!(inspected.works_read, ingested.works_read);
    assert_eq!(inspected.duplicates_dropped, 1);
    assert_eq!(inspected.problems.keys().collect::<Vec<_>>(), ingested.problems.keys().collect::<Vec<_>>());
}

#[test]
fn ingest_replaces_output_atomically() {
    let (directory, input) = temporary_input();
    write(&input.join("a.jsonl"), record("10.1/a"));
    let output = directory.path().join("corpus.arrow");
    write(&output, "old content");

    let progress = indicatif::ProgressBar::hidden();
    let options = IngestOptions { progress: Some(progress.clone()), ..IngestOptions::default() };
    ingest(&input, &options, &output).unwrap();
    assert_eq!(progress.position(), 1);
    let works: Vec<_> = read_corpus_artifact(&output).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(works.len(), 1);
    assert_eq!(files_in(directory.path()), vec!["corpus.arrow", "input"]);
}

#[test]
fn issn_table_labels_reach_artifact() {
    let (directory, input) = temporary_input();
    let table = directory.path().join("issn_subject_codes.csv");
    write(&table, "issn,subject_code\n00000019,2303\n00000019,1105\n");
    write(&input.join("a.jsonl"), "{\"DOI\": \"10.1/a\", \"title\": [\"t\"], \"ISSN\": [\"0000-0019\"]}\n");
    let labels = LabelSources::new(Taxonomy::builtin()).with_issn_table(IssnTable::from_csv(&table).unwrap());
    let options = IngestOptions::new(ReadOptions::new(labels));
    let output = directory.path().join("corpus.arrow");
    let report = ingest(&input, &options, &output).unwrap();

    let works: Vec<_> = read_corpus_artifact(&output).unwrap().collect::<Result<_, _>>().unwrap();
    let mut codes = works[0].label_codes();
    codes.sort_unstable();
    assert_eq!(codes, vec!["1105", "2303"]);
    assert!(works[0].labels.iter().all(|label| label.source == LabelSource::IssnTable));
    assert_eq!(report.labels.by_source["issn_table"].len(), 2);
    assert_eq!(report.labels.by_code.get("2303"), Some(&1));
}

#[test]
fn explicit_format_overrides_detection() {
    let (_directory, input) = temporary_input();
    let path = input.join("works.jsonl");
    write(&path, "{\"id\": \"x1\", \"DOI\": \"10.1/x\", \"title\": \"T\", \"labels\": [\"a\"]}\n");
    let detected = collect(&path);
    assert_eq!(detected.ids(), vec!["x1"], "a `labels` key makes it generic labelled");

    let as_crossref = collect_with(&path, &ReadOptions::default().with_format(SourceFormat::Crossref));
    assert_eq!(as_crossref.ids(), vec!["10.1/x"]);
}

#[test]
fn report_renders_counts() {
    let (directory, input) = temporary_input();
    write(&input.join("a.jsonl"), format!("{}\n{{\"DOI\": \"10.1/u\", \"title\": [\"t\"], \"subject\": [\"Made Up\"]}}\n", record("10.1/a")));
    let report = ingest(&input, &IngestOptions::default(), &directory.path().join("corpus.arrow")).unwrap();

    let markdown = report.to_markdown();
    assert!(markdown.contains("| works kept | 1 |"), "{markdown}");
    assert!(markdown.contains("| Made Up | 1 |"), "{markdown}");
    assert!(markdown.contains("| 2303 | 1 |"), "{markdown}");
    let summary = report.to_string();
    assert!(summary.contains("1 kept, 1 unlabelled (left out)"), "{summary}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["problems"]["unknown_subject"]["count"], 1);
    assert_eq!(json["problems"]["unknown_subject"]["example"]["id"], "10.1/u");
}

#[test]
fn kept_works_counted_with_and_without_duplicates() {
    // Without duplicates the first-pass file becomes the artifact; with one, a second pass
    // copies the kept rows. Both must count exactly the kept works and their labels. The
    // later copy of a DOI indexed at the same time wins, so `10.1/A` replaces `10.1/a`.
    for (text, expected_ids) in [
        (format!("{}\n{}\n", record("10.1/a"), record("10.1/b")), ["10.1/a", "10.1/b"]),
        (format!("{}\n{}\n{}\n", record("10.1/a"), record("10.1/b"), record("10.1/A")), ["10.1/b", "10.1/a"]),
    ] {
        let (directory, input) = temporary_input();
        write(&input.join("a.jsonl"), &text);
        let output = directory.path().join("corpus.arrow");
        let report = ingest(&input, &IngestOptions::default(), &output).unwrap();

        assert_eq!(report.works_kept, 2, "{text}");
        assert_eq!(report.labels.works_labelled, 2, "{text}");
        // Ecology is ASJC 2303.
        assert_eq!(report.labels.by_code.get("2303"), Some(&2), "{text}");
        let works: Vec<_> = read_corpus_artifact(&output).unwrap().collect::<Result<_, _>>().unwrap();
        let ids: Vec<&str> = works.iter().map(|work| work.id.as_str()).collect();
        assert_eq!(ids, expected_ids, "{text}");
        assert_eq!(files_in(directory.path()), vec!["corpus.arrow", "input"]);
    }
}

#[test]
fn cut_json_line_keeps_next_records() {
    // Line 2 is cut inside an open list. Read as one value, it would end on line 4 and take
    // line 3's record with it. As JSON Lines, line 2 is malformed and line 3 is a work.
    let (directory, input) = temporary_input();
    let lines = [
        r#"{"DOI": "10.1/a", "title": ["A"]}"#,
        r#"{"DOI": "10.1/b", "title": ["B"], "reference": ["#,
        r#"{"DOI": "10.1/c", "title": ["C"]}"#,
        r#"]}"#,
        r#"{"DOI": "10.1/d", "title": ["D"]}"#,
    ];
    write(&input.join("a.jsonl"), lines.join("\n"));
    let output = directory.path().join("corpus.arrow");
    let options = IngestOptions { require_labels: false, ..IngestOptions::default() };
    let report = ingest(&input, &options, &output).unwrap();

    let works: Vec<_> = read_corpus_artifact(&output).unwrap().collect::<Result<_, _>>().unwrap();
    let ids: Vec<&str> = works.iter().map(|work| work.id.as_str()).collect();
    assert_eq!(ids, vec!["10.1/a", "10.1/c", "10.1/d"]);
    assert_eq!(report.problem_count(ProblemKind::MalformedJson), 2);
}

/// Returns one labelled Crossref record indexed at `timestamp`.
fn record_indexed(doi: &str, timestamp: i64) -> String {
    format!(r#"{{"DOI": "{doi}", "title": ["Title of {doi}"], "subject": ["Ecology"], "indexed": {{"timestamp": {timestamp}}}}}"#)
}

#[test]
fn spilled_duplicate_index_decides_alike() {
    // a.jsonl contains d0 to d9 indexed at 1. b.jsonl contains newer copies of the even ones
    // (indexed at 2, so they win) and older copies of d1 and d3 (indexed at 0, so they lose).
    // Kept rows in reading order: the odd ones of a.jsonl, then the even ones of b.jsonl.
    let (directory, input) = temporary_input();
    let first: Vec<String> = (0..10).map(|index| record_indexed(&format!("10.1/d{index}"), 1)).collect();
    let mut second: Vec<String> = [0, 2, 4, 6, 8].iter().map(|index| record_indexed(&format!("10.1/d{index}"), 2)).collect();
    second.extend([1, 3].iter().map(|index| record_indexed(&format!("10.1/d{index}"), 0)));
    write(&input.join("a.jsonl"), first.join("\n"));
    write(&input.join("b.jsonl"), second.join("\n"));
    let expected: Vec<String> = [1, 3, 5, 7, 9, 0, 2, 4, 6, 8].iter().map(|index| format!("10.1/d{index}")).collect();

    for duplicate_index_ids in [corpus::dedup::DEFAULT_MEMORY_IDS, 4, 1] {
        let options = IngestOptions { duplicate_index_ids, ..IngestOptions::default() };
        let output = directory.path().join("corpus.arrow");
        let report = ingest(&input, &options, &output).unwrap();
        let works: Vec<_> = read_corpus_artifact(&output).unwrap().collect::<Result<_, _>>().unwrap();
        let ids: Vec<&str> = works.iter().map(|work| work.id.as_str()).collect();
        assert_eq!(ids, expected, "{duplicate_index_ids} ids in memory");
        assert_eq!(report.works_kept, 10, "{duplicate_index_ids} ids in memory");
        assert_eq!(report.duplicates_dropped, 7, "{duplicate_index_ids} ids in memory");
        assert_eq!(report.problems[&ProblemKind::DuplicateId].count, 7, "{duplicate_index_ids} ids in memory");
        assert_eq!(report.labels.by_code.get("2303"), Some(&10), "{duplicate_index_ids} ids in memory");
        assert_eq!(files_in(directory.path()), vec!["corpus.arrow", "input"], "run files were left behind");

        let inspected = inspect(&input, &options).unwrap();
        assert_eq!(inspected.works_kept, 10, "{duplicate_index_ids} ids in memory");
        assert_eq!(inspected.duplicates_dropped, 7, "{duplicate_index_ids} ids in memory");
    }

    // With one id in memory every duplicate is found by the merge, which strict mode refuses.
    let strict = IngestOptions { duplicate_index_ids: 1, strict: true, ..IngestOptions::default() };
    match ingest(&input, &strict, &directory.path().join("strict.arrow")) {
        Err(CorpusError::Strict { problem }) => assert_eq!(problem.kind, ProblemKind::DuplicateId),
        other => panic!("expected a strict duplicate error, got {other:?}"),
    }
}

#[test]
fn skipped_member_error_same_everywhere() {
    // A raw tab inside a reference string is invalid JSON in a member topicops does not
    // read. The first line and the line that crosses the 1 MiB read buffer take another
    // path through the reader than the others. Every line must still be read as a work.
    let (_directory, input) = temporary_input();
    let line = "{\"DOI\": \"10.1/a\", \"title\": [\"T\"], \"reference\": [{\"key\": \"a\tb\"}]}";
    let count = (2 << 20) / (line.len() + 1);
    write(&input.join("a.jsonl"), vec![line; count].join("\n"));

    let collected = collect(&input);
    assert_eq!(collected.works.len(), count);
    assert!(collected.problems.is_empty(), "{:?}", collected.problems.first());
}

#[test]
fn output_into_missing_directory_gets_usual_mode() {
    let (directory, input) = temporary_input();
    write(&input.join("a.jsonl"), record("10.1/a"));
    let output = directory.path().join("out").join("nested").join("corpus.arrow");
    ingest(&input, &IngestOptions::default(), &output).unwrap();
    assert_eq!(read_corpus_artifact(&output).unwrap().count(), 1);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // A file created the ordinary way in the same directory shows what the umask allows.
        let ordinary = output.with_file_name("ordinary");
        std::fs::File::create(&ordinary).unwrap();
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&output), mode(&ordinary));
    }
}
