//! `topicops monitor`: compares a batch of new works with the reference profile of a model
//! version, prints the drift summary (or JSON), writes an HTML report, and records the
//! result in the store against the model version.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use corpus::source::{read_works, FileStatus, ReadOptions, Record, SourceFormat};
use corpus::taxonomy::{Level, Taxonomy};
use corpus::Work;
use monitoring::drift::CurrentBatchBuilder;
use monitoring::prediction_log::{is_prediction_log, read_prediction_log};
use monitoring::record::{load_profile, record_report};
use monitoring::report::{render_html, render_json, render_text};
use monitoring::{detect_drift_with, DriftConfig, DriftReport, LabelScore, PredictionRecord, QualityBaseline, SummaryConfig, VocabularyCoverage};
use store::{ModelVersion, Stores, Trigger};

use super::open_existing_stores;
use crate::cli::GlobalArgs;
use crate::GoalNotMet;

/// Works scored per call of the model.
const SCORING_BATCH: usize = 4096;

#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// The current batch: a corpus source (file or directory) or the prediction log of
    /// `topicops serve --log-predictions` (JSON Lines of {"work", "labels"}).
    #[arg(long)]
    pub current: PathBuf,
    /// Model version number or alias to compare with.
    #[arg(long, default_value = "champion")]
    pub model: String,
    /// Registered model name.
    #[arg(long, default_value = "asjc-classifier")]
    pub name: String,
    /// Source format of --current (crossref, a3k, openalex, arxiv, labelled); detected when
    /// omitted.
    #[arg(long)]
    pub format: Option<SourceFormat>,
    /// ISSN-to-ASJC table (`issn,subject_code` CSV) that gives the batch's works gold labels
    /// for the quality check, beside their Crossref `subject` names. Give it twice for the
    /// `issn.tsv` and `titles-asjc-codes.tsv` pair.
    #[arg(long, value_name = "FILE")]
    pub labels: Vec<PathBuf>,
    /// Print the report as JSON on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML report to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Exit with code 1 when the dataset drifted.
    #[arg(long)]
    pub fail_on_drift: bool,
    /// Do not record the result in the store.
    #[arg(long)]
    pub no_record: bool,
    /// Drift thresholds and tests as a TOML or JSON file of `monitoring::DriftConfig` fields,
    /// e.g. `p_value_threshold = 0.01` or `numeric_test = "psi"`; unset fields keep their
    /// defaults.
    #[arg(long, value_name = "FILE")]
    pub drift_config: Option<PathBuf>,
}

/// Scores the current batch with the model version and compares it with the version's
/// reference profile. Used by `monitor` and by `watch --monitor`.
pub fn compute(global: &GlobalArgs, args: &MonitorArgs) -> anyhow::Result<(Stores, ModelVersion, DriftReport)> {
    let stores = open_existing_stores(global)?;
    let version = stores
        .metadata
        .resolve(&args.name, &args.model)
        .with_context(|| format!("failed to find model `{}` version `{}`", args.name, args.model))?;
    let mut profile = load_profile(&stores, &version)
        .with_context(|| format!("failed to load the reference profile of {}@{}", version.model, version.version))?;
    if profile.baseline.is_none() {
        profile.baseline = baseline_from_metrics(&version);
    }

    let label_set = profile.label_set.clone();
    let gold_level = GoldLevel::of_label_set(&label_set);
    let mut builder = CurrentBatchBuilder::new(SummaryConfig::current(), &label_set);
    let progress = crate::progress::bar(global.quiet, None, "monitoring", "works");
    if is_prediction_log(&args.current) {
        observe_prediction_log(args, &stores, &version, &gold_level, &mut builder, &progress)?;
    } else {
        observe_corpus(args, &stores, &version, &gold_level, &mut builder, &progress)?;
    }
    progress.finish_and_clear();
    anyhow::ensure!(
        builder.works() > 0,
        "no work could be read from `{}`; check the path and --format",
        args.current.display()
    );

    let config = match &args.drift_config {
        Some(path) => read_drift_config(path)?,
        None => DriftConfig::default(),
    };
    let report = detect_drift_with(&profile, &builder.finish(), &config);
    Ok((stores, version, report))
}

pub fn run(global: &GlobalArgs, args: MonitorArgs) -> anyhow::Result<()> {
    let (stores, version, report) = compute(global, &args)?;
    if args.json {
        println!("{}", render_json(&report));
    } else {
        print!("{}", render_text(&report));
    }

    let title = format!("Drift of {}@{} on {}", version.model, version.version, args.current.display());
    let html = args.html.as_ref().map(|_| render_html(&report, &title));
    if let (Some(path), Some(html)) = (&args.html, &html) {
        std::fs::write(path, html).with_context(|| format!("failed to write the HTML report `{}`", path.display()))?;
    }
    if !args.no_record {
        let source = args.current.display().to_string();
        let recorded = record_report(&stores, &version, &report, html.as_deref(), &source, Trigger::Manual)
            .context("failed to record the monitoring result in the store")?;
        tracing::info!(run_id = %recorded.run_id, report = %recorded.report.hash, "recorded the drift report");
        if !global.quiet {
            eprintln!("recorded as run {}", recorded.run_id);
        }
    }

    if args.fail_on_drift && report.dataset_drift {
        let names = report.drifted_feature_names().join(", ");
        return Err(GoalNotMet(format!(
            "dataset drift against {}@{}: {} of {} columns drifted ({names})",
            version.model, version.version, report.drifted_columns, report.tested_columns
        ))
        .into());
    }
    Ok(())
}

/// The ASJC level of the model's labels, to which gold labels of the current batch are mapped
/// (a subject code `2708` becomes the field `2700` for a field-level model) before quality
/// and label drift are measured. `None` when the label set is not ASJC codes of one level,
/// in which case gold labels are used as they are.
struct GoldLevel {
    taxonomy: Taxonomy,
    level: Option<Level>,
}

impl GoldLevel {
    fn of_label_set(label_set: &[String]) -> Self {
        let taxonomy = Taxonomy::builtin();
        let mut levels = label_set.iter().map(|code| taxonomy.level_of(code));
        let first = levels.next().flatten();
        let level = first.filter(|first| levels.all(|level| level == Some(*first)));
        GoldLevel { taxonomy, level }
    }

    /// Replaces the work's gold labels by their ancestors at the model's level, dropping
    /// labels coarser than it or unknown to the taxonomy.
    fn apply(&self, work: &mut Work) {
        let Some(level) = self.level else {
            return;
        };
        let mut mapped: Vec<corpus::Label> = Vec::with_capacity(work.labels.len());
        for label in &work.labels {
            if let Some(code) = self.taxonomy.to_level(&label.code, level) {
                if !mapped.iter().any(|existing| existing.code == code) {
                    mapped.push(corpus::Label { code, source: label.source });
                }
            }
        }
        work.labels = mapped;
    }
}

/// Reads a drift configuration: TOML when the file name ends in `.toml`, else JSON.
fn read_drift_config(path: &std::path::Path) -> anyhow::Result<DriftConfig> {
    let text = std::fs::read_to_string(path).with_context(|| format!("failed to read the drift configuration `{}`", path.display()))?;
    let config = if path.extension().is_some_and(|extension| extension == "toml") {
        toml::from_str(&text).with_context(|| format!("invalid drift configuration `{}`", path.display()))?
    } else {
        serde_json::from_str(&text).with_context(|| format!("invalid drift configuration `{}`", path.display()))?
    };
    Ok(config)
}

/// Test metrics of the version, when its registry entry has `micro_f1` and `macro_f1`
/// (plain or prefixed with `test.`).
fn baseline_from_metrics(version: &ModelVersion) -> Option<QualityBaseline> {
    let metric = |name: &str| version.metrics.get(name).or_else(|| version.metrics.get(&format!("test.{name}"))).copied();
    let micro_f1 = metric("micro_f1");
    let macro_f1 = metric("macro_f1");
    (micro_f1.is_some() || macro_f1.is_some()).then_some(QualityBaseline { micro_f1, macro_f1 })
}

fn load_classifier(stores: &Stores, version: &ModelVersion) -> anyhow::Result<model::Classifier> {
    let hash = &version.artifact.hash;
    stores
        .verify_artifact(hash)
        .with_context(|| format!("model file of {}@{} is unusable", version.model, version.version))?;
    let path = stores.artifacts.path(hash)?;
    model::Classifier::load(&path).with_context(|| format!("failed to load the model file `{}`", path.display()))
}

/// Uses the predictions recorded in a prediction log, without rescoring.
fn observe_prediction_log(
    args: &MonitorArgs,
    stores: &Stores,
    version: &ModelVersion,
    gold_level: &GoldLevel,
    builder: &mut CurrentBatchBuilder,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<()> {
    let coverage = load_classifier(stores, version)
        .map(|classifier| VocabularyCoverage::from_vocabulary(classifier.featurizer().vocabulary().iter().map(String::as_str)))
        .map_err(|error| tracing::warn!(error = %format!("{error:#}"), "vocabulary coverage not measured"))
        .ok();
    let mut bad_lines = 0u64;
    for entry in read_prediction_log(&args.current)? {
        match entry {
            Ok(mut entry) => {
                gold_level.apply(&mut entry.work);
                let share = coverage.as_ref().and_then(|c| c.coverage(&entry.work));
                builder.observe(&entry.work, Some(&entry.prediction), share);
                progress.inc(1);
            }
            Err(error) => {
                bad_lines += 1;
                if bad_lines <= 10 {
                    tracing::warn!(%error, "skipped a prediction log line");
                }
            }
        }
    }
    if bad_lines > 0 {
        tracing::warn!(bad_lines, path = %args.current.display(), "prediction log lines could not be read and were skipped");
    }
    Ok(())
}

/// Reads a corpus source and scores it with the model version.
fn observe_corpus(
    args: &MonitorArgs,
    stores: &Stores,
    version: &ModelVersion,
    gold_level: &GoldLevel,
    builder: &mut CurrentBatchBuilder,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<()> {
    let classifier = load_classifier(stores, version)?;
    let coverage = VocabularyCoverage::from_vocabulary(classifier.featurizer().vocabulary().iter().map(String::as_str));
    let data = pipeline::config::DataConfig { labels: args.labels.clone(), ..Default::default() };
    let labels = pipeline::steps::label_sources(&data).context("failed to load the label tables given by --labels")?;
    let mut options = ReadOptions::new(labels);
    if let Some(format) = args.format {
        options = options.with_format(format);
    }
    let stream = read_works(&args.current, &options).with_context(|| format!("failed to read `{}`", args.current.display()))?;

    let mut batch: Vec<Work> = Vec::with_capacity(SCORING_BATCH);
    let mut problems = 0u64;
    for record in stream {
        match record {
            Record::Work(sourced) => {
                let mut work = sourced.work;
                gold_level.apply(&mut work);
                batch.push(work);
                if batch.len() == SCORING_BATCH {
                    score_and_observe(&classifier, &coverage, &mut batch, builder);
                    progress.inc(SCORING_BATCH as u64);
                }
            }
            Record::Problem(_) => problems += 1,
            Record::FileDone(summary) if summary.status != FileStatus::Complete => {
                tracing::warn!(path = %summary.path.display(), status = ?summary.status, "input file was not read completely");
            }
            Record::FileDone(_) => {}
        }
    }
    let remaining = batch.len() as u64;
    score_and_observe(&classifier, &coverage, &mut batch, builder);
    progress.inc(remaining);
    if problems > 0 {
        tracing::info!(problems, "records rejected or warned about while reading the current batch");
    }
    Ok(())
}

fn score_and_observe(
    classifier: &model::Classifier,
    coverage: &VocabularyCoverage,
    batch: &mut Vec<Work>,
    builder: &mut CurrentBatchBuilder,
) {
    if batch.is_empty() {
        return;
    }
    let predictions = classifier.predict_batch(batch);
    for (work, prediction) in batch.iter().zip(predictions) {
        let record = PredictionRecord {
            labels: prediction.labels.into_iter().map(|l| LabelScore { code: l.code, score: l.score }).collect(),
            scores: prediction.scores,
        };
        builder.observe(work, Some(&record), coverage.coverage(work));
    }
    batch.clear();
}
