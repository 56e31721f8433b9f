//! Drift detection on real records. Halves of the Crossref sample split by a hash of the DOI
//! show no drift, old and recent works do, and the text-drift classifier separates the titles
//! of two different sources.

use std::path::PathBuf;
use std::sync::OnceLock;

use corpus::source::{read_works, ReadOptions, Record};
use corpus::Work;
use monitoring::drift::CurrentBatchBuilder;
use monitoring::drift::text::{text_drift, TextDriftConfig};
use monitoring::{detect_drift, LabelScore, PredictionRecord, ReferenceProfile, SummaryConfig};

fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(path)
}

fn read_all(path: &str) -> Vec<Work> {
    let options = ReadOptions::default().with_threads(2);
    let stream = read_works(&data(path), &options).expect("sample data is readable");
    stream
        .filter_map(|record| match record {
            Record::Work(sourced) => Some(sourced.work),
            _ => None,
        })
        .collect()
}

fn crossref() -> &'static [Work] {
    static WORKS: OnceLock<Vec<Work>> = OnceLock::new();
    WORKS.get_or_init(|| read_all("crossref"))
}

/// FNV-1a, so the split does not depend on any crate under test.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

/// Returns the prediction of a stand-in model whose output depends on the work only: the
/// first gold label, with a score that grows with the title length.
fn stand_in_prediction(work: &Work) -> Option<PredictionRecord> {
    let code = work.label_codes().first()?.to_string();
    let words = work.title.as_deref().map_or(0, |t| t.split_whitespace().count());
    let score = 0.3 + 0.6 * (words.min(20) as f32 / 20.0);
    Some(PredictionRecord { labels: vec![LabelScore { code, score }], scores: Vec::new() })
}

fn coverage(work: &Work) -> Option<f64> {
    let title = work.title.as_deref()?;
    let words: Vec<&str> = title.split_whitespace().collect();
    let known = words.iter().filter(|w| w.len() > 3).count();
    (!words.is_empty()).then(|| known as f64 / words.len() as f64)
}

fn run_drift(reference: &[&Work], current: &[&Work]) -> monitoring::DriftReport {
    let reference_works: Vec<Work> = reference.iter().map(|w| (*w).clone()).collect();
    let predictions: Vec<Option<PredictionRecord>> = reference_works.iter().map(stand_in_prediction).collect();
    let profile = ReferenceProfile::build(&reference_works, &predictions, coverage, &[], None).expect("profile builds");

    let mut builder = CurrentBatchBuilder::new(SummaryConfig::current(), &[]);
    for work in current {
        builder.observe(work, stand_in_prediction(work).as_ref(), coverage(work));
    }
    detect_drift(&profile, &builder.finish())
}

#[test]
fn same_distribution_shows_no_drift() {
    let works = crossref();
    assert!(works.len() > 20_000, "read {} works", works.len());
    let (reference, current): (Vec<&Work>, Vec<&Work>) = works.iter().partition(|w| fnv1a(&w.id).is_multiple_of(2));
    let report = run_drift(&reference, &current);

    assert!(!report.dataset_drift, "drifted: {:?}", report.drifted_feature_names());
    assert!(report.drifted_feature_names().is_empty(), "drifted: {:?}", report.drifted_feature_names());
    let year = report.features.iter().find(|f| f.name == "year").unwrap();
    assert!(year.score.unwrap() < 0.05, "year distance {:?}", year.score);
    let text = report.text.as_ref().unwrap();
    assert!(text.auc.unwrap() < 0.55, "text AUC {:?}", text.auc);
}

#[test]
fn old_and_recent_works_drift() {
    let works = crossref();
    let old: Vec<&Work> = works.iter().filter(|w| w.year.is_some_and(|y| y < 2000)).collect();
    let recent: Vec<&Work> = works.iter().filter(|w| w.year.is_some_and(|y| y > 2015)).collect();
    assert!(old.len() > 1000, "{} old works", old.len());
    assert!(recent.len() > 1000, "{} recent works", recent.len());
    let report = run_drift(&old, &recent);

    let drifted = report.drifted_feature_names();
    assert!(drifted.contains(&"year"), "drifted: {drifted:?}");
    assert!(drifted.contains(&"venue"), "drifted: {drifted:?}");
    assert!(drifted.contains(&"text"), "drifted: {drifted:?}");
    assert!(report.dataset_drift, "drifted: {drifted:?}");
}

#[test]
fn titles_of_different_sources_drift() {
    let titles = |works: Vec<Work>, limit: usize| -> Vec<String> {
        works.into_iter().filter_map(|w| w.title).map(|t| t.to_lowercase()).take(limit).collect()
    };
    let reference = titles(read_all("labeled/mag-titles.jsonl"), 1500);
    let current = titles(read_all("openalex/works.jsonl.gz"), 1500);
    assert_eq!(reference.len(), 1500);
    assert!(current.len() > 1000, "{} OpenAlex titles", current.len());
    let drift = text_drift(&reference, &current, &TextDriftConfig::default());
    assert!(drift.auc.unwrap() > 0.7, "AUC {:?}", drift.auc);
    assert!(drift.drifted);
    assert_eq!(drift.threshold, Some(0.55));
    assert!(!drift.current_words.is_empty());
}

#[test]
fn profile_stays_compact() {
    let works: Vec<Work> = crossref().to_vec();
    let predictions: Vec<Option<PredictionRecord>> = works.iter().map(stand_in_prediction).collect();
    let profile = ReferenceProfile::build(&works, &predictions, coverage, &[], None).unwrap();
    let bytes = profile.to_bytes().unwrap();
    // 5 features x 5,000 values, 2,000 texts of at most 500 characters and top-50 counts:
    // well under 1 MB compressed whatever the corpus size.
    assert!(bytes.len() < 1_000_000, "{} bytes", bytes.len());
    assert_eq!(profile.summary.works, works.len() as u64);
    assert!(profile.summary.numeric["year"].sample.len() == SummaryConfig::reference().numeric_sample_size);
}
