//! Trains and evaluates a classifier on a labelled JSON Lines file, printing timings, peak
//! memory and test metrics. Used for the training benchmark and to choose defaults.
//!
//! Input lines: `{"id", "title", "abstract", "venue", "publisher", "type", "labels": [...],
//! "split": "train" | "validation" | "test"}`; every field but `labels` may be missing or
//! null. Without `split`, a hash of `id` assigns 70 % train, 15 % validation, 15 % test.
//!
//! ```text
//! cargo run --release -p model --example bench_train -- FILE.jsonl [--c 0.5] [--ngram 2]
//!     [--min-df 2] [--no-stop-words] [--text-only] [--loss hinge] [--tolerance 0.1]
//!     [--threads 2] [--featurizer-json '{"venue_name": ...}'] [--save model.safetensors]
//! ```

use std::io::BufRead;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use corpus::Work;
use features::FeaturizerConfig;
use model::{train, Classifier, LabelledWorks, TrainConfig};
use serde::Deserialize;

#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    id: Option<String>,
    title: Option<String>,
    #[serde(rename = "abstract")]
    abstract_text: Option<String>,
    venue: Option<String>,
    publisher: Option<String>,
    #[serde(rename = "type")]
    work_type: Option<String>,
    labels: Vec<String>,
    split: Option<String>,
}

#[derive(Default)]
struct Split {
    works: Vec<Work>,
    labels: Vec<Vec<String>>,
}

fn peak_memory_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|line| line.starts_with("VmHWM:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|value| value.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// User + system CPU seconds of this process, from `/proc/self/stat` (fields 14 and 15, in
/// clock ticks of 1/100 s, the value of `sysconf(_SC_CLK_TCK)` on Linux x86-64 and arm64).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name in field 2 may contain spaces, so count fields after its `)`.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index).and_then(|value| value.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn read_splits(path: &str) -> Result<[Split; 3]> {
    let file = std::fs::File::open(path).with_context(|| format!("open {path}"))?;
    let mut splits: [Split; 3] = Default::default();
    for (number, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("read {path}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let record: Line = serde_json::from_str(&line).with_context(|| format!("{path}:{}", number + 1))?;
        let id = record.id.unwrap_or_else(|| format!("line{}", number + 1));
        let split = match record.split.as_deref() {
            Some("train") => 0,
            Some("validation") => 1,
            Some("test") => 2,
            Some(other) => bail!("{path}:{}: unknown split `{other}`", number + 1),
            None => match blake3::hash(id.as_bytes()).as_bytes()[0] as usize * 100 / 256 {
                0..=69 => 0,
                70..=84 => 1,
                _ => 2,
            },
        };
        splits[split].works.push(Work {
            id,
            title: record.title,
            abstract_text: record.abstract_text,
            venue: record.venue,
            publisher: record.publisher,
            work_type: record.work_type,
            ..Work::default()
        });
        splits[split].labels.push(record.labels);
    }
    Ok(splits)
}

/// Micro-F1, macro-F1 (over the model's labels) and precision at 1.
fn metrics(classifier: &Classifier, test: &Split) -> (f64, f64, f64) {
    let labels = classifier.labels();
    let mut true_positives = vec![0usize; labels.len()];
    let mut false_positives = vec![0usize; labels.len()];
    let mut false_negatives = vec![0usize; labels.len()];
    let mut top_hits = 0usize;
    let predictions = classifier.predict_batch(&test.works);
    for (prediction, gold) in predictions.iter().zip(&test.labels) {
        if gold.contains(&prediction.labels[0].code) {
            top_hits += 1;
        }
        for (label, code) in labels.iter().enumerate() {
            let predicted = prediction.labels.iter().any(|chosen| &chosen.code == code);
            match (predicted, gold.contains(code)) {
                (true, true) => true_positives[label] += 1,
                (true, false) => false_positives[label] += 1,
                (false, true) => false_negatives[label] += 1,
                (false, false) => {}
            }
        }
    }
    let f1 = |tp: usize, fp: usize, fn_: usize| if tp == 0 { 0.0 } else { 2.0 * tp as f64 / (2 * tp + fp + fn_) as f64 };
    let micro = f1(true_positives.iter().sum(), false_positives.iter().sum(), false_negatives.iter().sum());
    let macro_f1 = (0..labels.len()).map(|l| f1(true_positives[l], false_positives[l], false_negatives[l])).sum::<f64>()
        / labels.len() as f64;
    (micro, macro_f1, top_hits as f64 / test.works.len().max(1) as f64)
}

fn main() -> Result<()> {
    let mut arguments = std::env::args().skip(1);
    let mut input = None;
    let mut featurizer_config = FeaturizerConfig::default();
    let mut config = TrainConfig::default();
    let mut save = None;
    let mut text_only = false;
    while let Some(argument) = arguments.next() {
        let mut value = || arguments.next().with_context(|| format!("{argument} needs a value"));
        match argument.as_str() {
            "--c" => config.c = value()?.parse()?,
            "--ngram" => featurizer_config.ngram_max = value()?.parse()?,
            "--min-df" => featurizer_config.min_df = value()?.parse()?,
            "--max-features" => featurizer_config.max_features = value()?.parse()?,
            "--tolerance" => config.tolerance = value()?.parse()?,
            "--threads" => config.threads = value()?.parse()?,
            "--loss" => config.loss = serde_json::from_str(&format!("\"{}\"", value()?))?,
            "--no-stop-words" => featurizer_config.stop_words = false,
            "--text-only" => text_only = true,
            "--featurizer-json" => featurizer_config = serde_json::from_str(&value()?)?,
            "--save" => save = Some(value()?),
            path if input.is_none() && !path.starts_with("--") => input = Some(path.to_string()),
            other => bail!("unknown argument `{other}`"),
        }
    }
    let input = input.context("usage: bench_train FILE.jsonl [options]")?;
    if text_only {
        let text = FeaturizerConfig::text_only();
        featurizer_config.venue_name = text.venue_name;
        featurizer_config.venue_words = text.venue_words;
        featurizer_config.publisher = text.publisher;
        featurizer_config.work_type = text.work_type;
    }

    let started = Instant::now();
    let [train_split, validation_split, test_split] = read_splits(&input)?;
    let load_seconds = started.elapsed().as_secs_f64();
    let rss_after_load = peak_memory_mib();

    let started = Instant::now();
    let started_cpu = cpu_seconds();
    let (classifier, summary) = train(
        LabelledWorks { works: &train_split.works, labels: &train_split.labels },
        LabelledWorks { works: &validation_split.works, labels: &validation_split.labels },
        &featurizer_config,
        &config,
        None,
    )?;
    let train_seconds = started.elapsed().as_secs_f64();
    let train_cpu_seconds = cpu_seconds() - started_cpu;

    let started = Instant::now();
    let (micro, macro_f1, precision_at_1) = metrics(&classifier, &test_split);
    let predict_seconds = started.elapsed().as_secs_f64();

    let single_thread = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let sample: Vec<Work> = test_split.works.iter().take(20_000).cloned().collect();
    let started = Instant::now();
    let predictions = single_thread.install(|| classifier.predict_batch(&sample));
    let single_rate = predictions.len() as f64 / started.elapsed().as_secs_f64();

    let not_converged = summary.labels.iter().filter(|label| !label.converged).count();
    let max_iterations = summary.labels.iter().map(|label| label.iterations).max().unwrap_or(0);
    println!("input                 {input}");
    println!("works train/val/test  {} / {} / {}", train_split.works.len(), validation_split.works.len(), test_split.works.len());
    println!("labels kept/dropped   {} / {}", summary.labels.len(), summary.dropped_labels.len());
    println!("features / train nnz  {} / {}", summary.n_features, summary.train_nnz);
    println!("load seconds          {load_seconds:.2} (peak RSS after load {rss_after_load:.0} MiB)");
    if let Some(timings) = summary.timings {
        println!(
            "train seconds         {train_seconds:.2} (featurize {:.2}, solve {:.2}, calibrate {:.2})",
            timings.featurize_seconds, timings.solve_seconds, timings.calibrate_seconds
        );
    }
    println!("train CPU seconds     {train_cpu_seconds:.2} (user + system, all threads)");
    println!("solver                max passes {max_iterations}, labels not converged {not_converged}");
    println!("test predict seconds  {predict_seconds:.2}");
    println!("predict 1 thread      {single_rate:.0} works/s (featurize + score + choose)");
    println!("peak RSS              {:.0} MiB", peak_memory_mib());
    println!("test micro-F1         {micro:.4}");
    println!("test macro-F1         {macro_f1:.4}");
    println!("test P@1              {precision_at_1:.4}");

    if let Some(path) = save {
        classifier.save(std::path::Path::new(&path))?;
        println!("saved                 {path}");
    }
    Ok(())
}
