//! Benchmark of monitoring: scores a large current batch with a model, summarises it and
//! runs drift detection against a reference profile.
//!
//! The works are real Crossref records from the shared sample, replicated (with distinct
//! ids) up to the requested count. A small model is trained on part of the sample first so
//! that scoring is included; training and profile building are timed but are not part of
//! monitoring.
//!
//! Run: `cargo run --release -p monitoring --example bench_monitor -- [WORKS] [DATA_DIR]`
//! (defaults: 1,000,000 works, `../shared/data/crossref` relative to the workspace).

use std::path::PathBuf;
use std::time::Instant;

use corpus::source::{read_works, ReadOptions, Record};
use corpus::{Label, LabelSource, Work};
use features::FeaturizerConfig;
use model::{LabelledWorks, TrainConfig};
use monitoring::drift::CurrentBatchBuilder;
use monitoring::report::render_text;
use monitoring::{detect_drift, LabelScore, PredictionRecord, ReferenceProfile, SummaryConfig, VocabularyCoverage};

const SCORING_BATCH: usize = 4096;

fn main() -> anyhow::Result<()> {
    let mut arguments = std::env::args().skip(1);
    let target: usize = arguments.next().map(|a| a.replace([',', '_'], "").parse()).transpose()?.unwrap_or(1_000_000);
    let data = arguments
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/crossref"));

    let started = Instant::now();
    let works = read_all(&data)?;
    println!("read {} works from {} in {:.2} s", works.len(), data.display(), started.elapsed().as_secs_f64());

    // Model: general fields (ASJC codes ending in 00) from the works' labels, trained on the
    // works whose id hash is 0..6 mod 10 and calibrated on 6..8; 8..10 is left for the profile.
    let field_labels: Vec<Vec<String>> = works.iter().map(general_fields).collect();
    let part = |work: &Work| fnv1a(&work.id) % 10;
    let select = |range: std::ops::Range<u64>| -> (Vec<Work>, Vec<Vec<String>>) {
        works
            .iter()
            .zip(&field_labels)
            .filter(|(w, labels)| range.contains(&part(w)) && !labels.is_empty())
            .map(|(w, l)| (w.clone(), l.clone()))
            .unzip()
    };
    let (train_works, train_labels) = select(0..6);
    let (validation_works, validation_labels) = select(6..8);
    let started = Instant::now();
    let (classifier, _) = model::train(
        LabelledWorks { works: &train_works, labels: &train_labels },
        LabelledWorks { works: &validation_works, labels: &validation_labels },
        &FeaturizerConfig::default(),
        &TrainConfig::default(),
        None,
    )?;
    println!(
        "trained a model with {} labels on {} works in {:.2} s (not part of monitoring)",
        classifier.labels().len(),
        train_works.len(),
        started.elapsed().as_secs_f64()
    );

    let coverage = VocabularyCoverage::from_vocabulary(classifier.featurizer().vocabulary().iter().map(String::as_str));
    let profile_works: Vec<Work> = works.iter().filter(|w| part(w) >= 8).cloned().collect();
    let started = Instant::now();
    let predictions: Vec<Option<PredictionRecord>> =
        classifier.predict_batch(&profile_works).into_iter().map(|p| Some(to_record(p))).collect();
    let profile = ReferenceProfile::build(&profile_works, &predictions, |w| coverage.coverage(w), classifier.labels(), None)?;
    let profile_bytes = profile.to_bytes()?;
    let json_bytes = serde_json::to_vec(&profile)?.len();
    println!(
        "built the profile of {} works in {:.2} s: {} bytes gzipped, {} bytes of JSON",
        profile_works.len(),
        started.elapsed().as_secs_f64(),
        profile_bytes.len(),
        json_bytes
    );

    // Monitoring proper: score, summarise and test `target` works.
    let started = Instant::now();
    let mut builder = CurrentBatchBuilder::new(SummaryConfig::current(), classifier.labels());
    let mut batch: Vec<Work> = Vec::with_capacity(SCORING_BATCH);
    let mut scoring_seconds = 0.0;
    let mut summary_seconds = 0.0;
    let mut produced = 0usize;
    'outer: for copy in 0.. {
        for work in &works {
            if produced == target {
                break 'outer;
            }
            let mut replica = work.clone();
            replica.id = format!("{}#{copy}", work.id);
            // Gold labels at the model's level (general fields), so quality is measurable.
            replica.labels = general_fields(work).into_iter().map(|code| Label { code, source: LabelSource::Provided }).collect();
            batch.push(replica);
            produced += 1;
            if batch.len() == SCORING_BATCH {
                observe(&classifier, &coverage, &mut batch, &mut builder, &mut scoring_seconds, &mut summary_seconds);
            }
        }
    }
    observe(&classifier, &coverage, &mut batch, &mut builder, &mut scoring_seconds, &mut summary_seconds);
    let current = builder.finish();
    let detect_started = Instant::now();
    let report = detect_drift(&profile, &current);
    let detect_seconds = detect_started.elapsed().as_secs_f64();
    let total = started.elapsed().as_secs_f64();

    println!("{}", render_text(&report));
    println!(
        "monitored {produced} works in {total:.2} s ({:.0} works/s): scoring {scoring_seconds:.2} s, summarising {summary_seconds:.2} s, drift tests {detect_seconds:.2} s",
        produced as f64 / total
    );
    Ok(())
}

fn observe(
    classifier: &model::Classifier,
    coverage: &VocabularyCoverage,
    batch: &mut Vec<Work>,
    builder: &mut CurrentBatchBuilder,
    scoring_seconds: &mut f64,
    summary_seconds: &mut f64,
) {
    let started = Instant::now();
    let predictions = classifier.predict_batch(batch);
    *scoring_seconds += started.elapsed().as_secs_f64();
    let started = Instant::now();
    for (work, prediction) in batch.iter().zip(predictions) {
        builder.observe(work, Some(&to_record(prediction)), coverage.coverage(work));
    }
    *summary_seconds += started.elapsed().as_secs_f64();
    batch.clear();
}

fn to_record(prediction: model::Prediction) -> PredictionRecord {
    PredictionRecord {
        labels: prediction.labels.into_iter().map(|l| LabelScore { code: l.code, score: l.score }).collect(),
        scores: prediction.scores,
    }
}

/// Returns the general fields (`XX00`) of a work's four-digit ASJC codes, deduplicated.
fn general_fields(work: &Work) -> Vec<String> {
    let mut fields: Vec<String> = work
        .label_codes()
        .into_iter()
        .filter(|code| code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit()))
        .map(|code| format!("{}00", &code[..2]))
        .collect();
    fields.sort();
    fields.dedup();
    fields
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3))
}

fn read_all(path: &std::path::Path) -> anyhow::Result<Vec<Work>> {
    let stream = read_works(path, &ReadOptions::default())?;
    Ok(stream
        .filter_map(|record| match record {
            Record::Work(sourced) => Some(sourced.work),
            _ => None,
        })
        .collect())
}
