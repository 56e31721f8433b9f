//! Benchmark helper for serving. It trains a classifier on a Crossref sample, labelled with
//! the ASJC general fields of the works' Crossref subjects, and measures batch scoring
//! throughput. It can also register the model as `champion` in a store, so that
//! `topicops serve` can be load-tested against it.
//!
//! ```text
//! cargo run --release -p serving --example bench_serving -- CROSSREF_DIR [--store DIR]
//!     [--requests-out FILE]
//! ```
//!
//! Throughput is measured three ways, each best of three: in-memory works scored on one
//! thread (featurizing included), the same on all cores, and `score_stream` reading the
//! gzipped files and writing JSON Lines.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use corpus::taxonomy::{Level, Taxonomy};
use corpus::{read_works, ReadOptions, Record, Work};
use features::FeaturizerConfig;
use model::{train, Classifier, LabelledWorks, TrainConfig};
use serving::batch::{score_stream, BatchOptions, JsonLinesSink};
use serving::{ModelInfo, Scorer};
use store::{NamedArtifact, NewModelVersion, Stores};

struct Options {
    data: PathBuf,
    store: Option<PathBuf>,
    requests_out: Option<PathBuf>,
}

fn parse_options() -> Result<Options> {
    let mut arguments = std::env::args().skip(1);
    let mut data = None;
    let mut store = None;
    let mut requests_out = None;
    while let Some(argument) = arguments.next() {
        match argument.as_str() {
            "--store" => store = Some(PathBuf::from(arguments.next().context("--store needs a directory")?)),
            "--requests-out" => requests_out = Some(PathBuf::from(arguments.next().context("--requests-out needs a file")?)),
            other if data.is_none() => data = Some(PathBuf::from(other)),
            other => bail!("unexpected argument `{other}`"),
        }
    }
    Ok(Options { data: data.context("usage: bench_serving CROSSREF_DIR [--store DIR] [--requests-out FILE]")?, store, requests_out })
}

fn read_all(path: &std::path::Path) -> Result<Vec<Work>> {
    let stream = read_works(path, &ReadOptions::default())?;
    Ok(stream
        .filter_map(|record| match record {
            Record::Work(sourced) => Some(sourced.work),
            _ => None,
        })
        .collect())
}

fn field_labels(work: &Work, taxonomy: &Taxonomy) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    for code in work.label_codes() {
        if let Some(field) = taxonomy.to_level(code, Level::Field) {
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
    }
    fields
}

fn train_classifier(works: &[Work]) -> Result<Classifier> {
    let taxonomy = Taxonomy::builtin();
    let mut train_split = (Vec::new(), Vec::new());
    let mut validation_split = (Vec::new(), Vec::new());
    for (index, work) in works.iter().enumerate() {
        let labels = field_labels(work, &taxonomy);
        if labels.is_empty() {
            continue;
        }
        let split = if index % 5 == 0 { &mut validation_split } else { &mut train_split };
        split.0.push(work.clone());
        split.1.push(labels);
    }
    let started = Instant::now();
    let (classifier, _) = train(
        LabelledWorks { works: &train_split.0, labels: &train_split.1 },
        LabelledWorks { works: &validation_split.0, labels: &validation_split.1 },
        &FeaturizerConfig::default(),
        &TrainConfig::default(),
        None,
    )?;
    eprintln!(
        "trained on {} works ({} validation), {} labels, {} features in {:.1} s",
        train_split.0.len(),
        validation_split.0.len(),
        classifier.labels().len(),
        classifier.featurizer().n_features(),
        started.elapsed().as_secs_f64()
    );
    Ok(classifier)
}

/// Returns the best works per second of three runs of `run`.
fn best_of_three(works: usize, mut run: impl FnMut()) -> f64 {
    (0..3)
        .map(|_| {
            let started = Instant::now();
            run();
            works as f64 / started.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

fn main() -> Result<()> {
    let options = parse_options()?;
    let works = read_all(&options.data)?;
    eprintln!("read {} works from {}", works.len(), options.data.display());
    let classifier = train_classifier(&works)?;

    let one_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let single = best_of_three(works.len(), || {
        one_thread.install(|| Scorer::predict_batch(&classifier, &works));
    });
    let all_cores = best_of_three(works.len(), || {
        Scorer::predict_batch(&classifier, &works);
    });
    let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    println!("| in-memory scoring, 1 thread (featurizing included) | {} works | {single:.0} works/s |", works.len());
    println!("| in-memory scoring, {cores} threads | {} works | {all_cores:.0} works/s ({:.0} per core) |", works.len(), all_cores / cores as f64);

    let output_dir = tempfile::tempdir()?;
    let model_info = ModelInfo {
        name: "asjc-classifier".to_string(),
        version: 1,
        reference: "champion".to_string(),
        run_id: None,
        artifact_hash: String::new(),
        loaded_at: String::new(),
    };
    let mut end_to_end = 0.0f64;
    for _ in 0..3 {
        let stream = read_works(&options.data, &ReadOptions::default())?;
        let mut sink = JsonLinesSink::create(&output_dir.path().join("predictions.jsonl"), model_info.clone())?;
        let summary = score_stream(stream, &classifier, &mut sink, &BatchOptions::default(), &mut |_| {})?;
        end_to_end = end_to_end.max(summary.works_per_second());
    }
    println!("| score_stream: read gzipped files, score, write JSON Lines ({cores} threads) | {} works | {end_to_end:.0} works/s |", works.len());

    if let Some(store_dir) = &options.store {
        let stores = Stores::open(store_dir)?;
        let model_path = output_dir.path().join("model.safetensors");
        classifier.save(&model_path)?;
        let artifact = stores.artifacts.put_file(&model_path)?;
        let version = stores.register_version(&NewModelVersion {
            model: "asjc-classifier".to_string(),
            artifact: NamedArtifact::stored("model", artifact, "application/vnd.topicops.model+safetensors"),
            run_id: None,
            metadata: serde_json::json!({"purpose": "serving benchmark"}),
            metrics: Default::default(),
            built_from: Vec::new(),
        })?;
        stores.metadata.promote("asjc-classifier", "champion", version, "bench", "serving benchmark")?;
        eprintln!("registered version {version} as champion in {}", store_dir.display());
    }
    if let Some(path) = &options.requests_out {
        write_request_bodies(path, &works)?;
    }
    Ok(())
}

/// Writes one single-work `/v1/predict` body per line, from works with a title, for the
/// load generator.
fn write_request_bodies(path: &std::path::Path, works: &[Work]) -> Result<()> {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    for work in works.iter().filter(|work| work.title.is_some()).take(2000) {
        let body = serde_json::json!({"works": [{
            "id": work.id, "title": work.title, "abstract": work.abstract_text,
            "venue": work.venue, "issns": work.issns, "publisher": work.publisher, "type": work.work_type,
        }]});
        writeln!(file, "{body}")?;
    }
    file.flush()?;
    Ok(())
}
