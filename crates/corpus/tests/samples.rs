//! Record counts for every sample data set, each checked against a count made with another
//! tool (the command is noted beside each expected value).

mod common;

use common::{collect, collect_with, data};
use corpus::source::FileStatus;
use corpus::{LabelSource, ProblemKind, ReadOptions, SourceFormat};

#[test]
fn crossref_sample_counts() {
    let collected = collect(&data("crossref"));

    // python3: for each of the 14 files, json.load(...)["items"] or one json.loads per
    // non-blank line; 26,095 records, all with a non-blank DOI, no DOI twice (lower-cased).
    // Records where no `title` or `abstract` string has text once tags (`<[^>]*>`) are
    // removed: 789. So 26,095 - 789 = 25,306 works.
    assert_eq!(collected.files.len(), 14);
    assert!(collected.files.iter().all(|file| file.status == FileStatus::Complete));
    assert_eq!(collected.works.len(), 25_306);
    assert_eq!(collected.problems_of(ProblemKind::NoText).len(), 789);
    assert_eq!(collected.problems_of(ProblemKind::MissingId).len(), 0);
    assert_eq!(collected.problems_of(ProblemKind::MalformedJson).len(), 0);

    let records: u64 = collected.files.iter().map(|file| file.records).sum();
    assert_eq!(records, 26_095);
    let mut ids: Vec<&str> = collected.ids();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 25_306, "no DOI occurs twice");
}

#[test]
fn crossref_sample_layouts() {
    let collected = collect(&data("crossref"));
    for file in &collected.files {
        let name = file.path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let expected = if name.ends_with(".jsonl.gz") { corpus::source::Layout::Lines } else { corpus::source::Layout::Items };
        assert_eq!(file.layout, Some(expected), "{name}");
    }
    // zcat 9.json.gz | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))'
    let nine = collected.files.iter().find(|file| file.path.ends_with("9.json.gz")).map(|file| file.records);
    assert_eq!(nine, Some(1_571));
}

#[test]
fn a3k_sample_counts() {
    let collected = collect(&data("a3k/crossref-sample.db"));

    // sqlite3 crossref-sample.db: 7,249 rows in `works`, 60 of them with neither title nor
    // abstract text. The other 7,189 works have 12,953 distinct (work_id, trim(name)) pairs
    // in `work_subjects` and 12,923 distinct (work_id, asjc_id) pairs in `works_asjcs`.
    assert_eq!(collected.files.len(), 1);
    assert_eq!(collected.files[0].status, FileStatus::Complete);
    assert_eq!(collected.files[0].records, 7_249);
    assert_eq!(collected.works.len(), 7_189);
    assert_eq!(collected.problems_of(ProblemKind::NoText).len(), 60);

    let subjects: usize = collected.works.iter().map(|work| work.subjects.len()).sum();
    assert_eq!(subjects, 12_953);
    let a3k_labels = collected
        .works
        .iter()
        .flat_map(|work| &work.work.labels)
        .filter(|label| label.source == LabelSource::A3kWorksAsjcs)
        .count();
    assert_eq!(a3k_labels, 12_923);
    assert!(collected.works.iter().all(|work| work.origin.line.is_none()));
}

#[test]
fn a3k_fields_match_database() {
    let collected = collect(&data("a3k/crossref-sample.db"));
    // sqlite3: SELECT doi, title, published_year, issn_print, issn_electronic, type FROM works
    // WHERE id = 0 → 10.1007/s00454-021-00282-8 | Fractal Dimension and Lower Bounds for
    // Geometric Problems | 2021 | 01795376 | 14320444 | journal-article
    let work = &collected.work("10.1007/s00454-021-00282-8").work;
    assert_eq!(work.title.as_deref(), Some("Fractal Dimension and Lower Bounds for Geometric Problems"));
    assert_eq!(work.year, Some(2021));
    assert_eq!(work.issns, vec!["01795376", "14320444"]);
    assert_eq!(work.work_type.as_deref(), Some("journal-article"));
    // The venue is stored HTML-escaped (`Discrete &amp; Computational Geometry`).
    assert_eq!(work.venue.as_deref(), Some("Discrete & Computational Geometry"));
    // SELECT asjc_id FROM works_asjcs WHERE work_id = 0 → 1703, 2607, 2608, 2614
    let mut codes: Vec<&str> =
        work.labels.iter().filter(|label| label.source == LabelSource::A3kWorksAsjcs).map(|label| label.code.as_str()).collect();
    codes.sort_unstable();
    assert_eq!(codes, vec!["1703", "2607", "2608", "2614"]);
}

#[test]
fn openalex_sample_counts() {
    let collected = collect(&data("openalex/works.jsonl.gz"));
    // python3: 1,928 lines; 8 with neither a title/display_name nor an inverted index.
    assert_eq!(collected.files[0].records, 1_928);
    assert_eq!(collected.works.len(), 1_920);
    assert_eq!(collected.problems_of(ProblemKind::NoText).len(), 8);

    // The first record (W100080754) has primary topic field 33 "Social Sciences" and a
    // second topic in field 12 "Arts and Humanities".
    let work = &collected.work("https://openalex.org/W100080754").work;
    assert_eq!(work.label_codes(), vec!["3300", "1200"]);
    assert!(work.labels.iter().all(|label| label.source == LabelSource::OpenAlexTopic));
    assert_eq!(work.year, Some(2012));
    assert_eq!(work.issns, vec!["22110275", "25428780"]);
}

#[test]
fn arxiv_sample_counts() {
    let collected = collect(&data("arxiv/arxiv-metadata.jsonl"));
    // wc -l arxiv-metadata.jsonl → 937; every record has a title and categories.
    assert_eq!(collected.works.len(), 937);
    assert!(collected.problems.is_empty(), "{:?}", collected.problems.first());
    let first = &collected.works[0].work;
    assert_eq!(first.id, "funct-an/9301001");
    assert_eq!(first.label_codes(), vec!["funct-an", "math.OA"]);
    assert_eq!(first.labels[0].source, LabelSource::ArxivCategory);
}

#[test]
fn labelled_sample_counts() {
    // wc -l: citeseer 2,572, mag-titles 16,838, s2orc-sample 953; every record has a title
    // or an abstract and at least one label.
    for (file, expected) in [("labeled/citeseer.jsonl", 2_572), ("labeled/mag-titles.jsonl", 16_838), ("labeled/s2orc-sample.jsonl", 953)] {
        let collected = collect(&data(file));
        assert_eq!(collected.works.len(), expected, "{file}");
        assert!(collected.problems.is_empty(), "{file}: {:?}", collected.problems.first());
        assert!(collected.works.iter().all(|work| !work.work.labels.is_empty()), "{file}");
    }
    // python3: sum(len(set(labels))) over s2orc-sample.jsonl → 1,028 labels.
    let s2orc = collect(&data("labeled/s2orc-sample.jsonl"));
    let labels: usize = s2orc.works.iter().map(|work| work.work.labels.len()).sum();
    assert_eq!(labels, 1_028);
}

#[test]
fn detection_picks_each_format() {
    let cases = [
        ("crossref", SourceFormat::Crossref),
        ("crossref/0.json.gz", SourceFormat::Crossref),
        ("crossref/part-0000.jsonl.gz", SourceFormat::Crossref),
        ("a3k/crossref-sample.db", SourceFormat::A3k),
        ("openalex/works.jsonl.gz", SourceFormat::OpenAlex),
        ("arxiv/arxiv-metadata.jsonl", SourceFormat::Arxiv),
        ("labeled/citeseer.jsonl", SourceFormat::Labelled),
    ];
    for (path, expected) in cases {
        assert_eq!(corpus::source::detect(&data(path)).ok(), Some(expected), "{path}");
    }
}

#[test]
fn thread_count_keeps_order() {
    let path = data("crossref");
    let one = collect_with(&path, &ReadOptions::default().with_threads(1));
    let two = collect_with(&path, &ReadOptions::default().with_threads(2));
    assert_eq!(one.ids(), two.ids());
    assert_eq!(one.works.first().map(|work| work.origin.to_string()), two.works.first().map(|work| work.origin.to_string()));
}
