//! `topicops run`: the training pipeline from a corpus source to a registered model.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use pipeline::fingerprint::FingerprintMode;
use pipeline::{EngineOptions, PipelineConfig, RunOptions};

use super::{format_metric, open_stores};
use crate::cli::GlobalArgs;
use crate::GoalNotMet;

/// Flags that set the pipeline configuration; shared by `run`, `watch` and `retrain-if-needed`.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    /// Corpus source: a Crossref file or directory, an alexandria3k database, or an OpenAlex,
    /// arXiv or labelled JSON Lines file.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// ISSN-to-ASJC table (`issn,subject_code` CSV); give it twice for the `issn.tsv` and
    /// `titles-asjc-codes.tsv` pair.
    #[arg(long)]
    pub labels: Vec<PathBuf>,
    /// Configuration file; `topicops.toml` in the working directory is read when present.
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
    /// Source format (crossref, a3k, openalex, arxiv, labelled); detected when omitted.
    #[arg(long)]
    pub format: Option<String>,
    /// ASJC level to predict: area, field or subject.
    #[arg(long)]
    pub level: Option<String>,
    /// Registered model name.
    #[arg(long)]
    pub model_name: Option<String>,
    /// Register a passing candidate without making it champion.
    #[arg(long)]
    pub no_promote: bool,
    /// Make any ingest problem fatal.
    #[arg(long)]
    pub strict: bool,
    /// Fingerprint source files by path, size and modification time instead of content.
    #[arg(long)]
    pub fast_fingerprint: bool,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub settings: ConfigArgs,
    /// Run every step even when a cached result exists.
    #[arg(long)]
    pub no_cache: bool,
    /// Rerun this step (and, through changed inputs, what depends on it); repeatable.
    #[arg(long, value_name = "STEP")]
    pub refresh: Vec<String>,
    /// Resume a failed or killed run: reuse its configuration and completed steps.
    #[arg(long, value_name = "RUN_ID")]
    pub resume: Option<String>,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Builds the configuration: defaults, then the file, then flags.
pub fn resolve_config(args: &ConfigArgs) -> anyhow::Result<PipelineConfig> {
    let default_file = PathBuf::from("topicops.toml");
    let mut config = match &args.config {
        Some(path) => PipelineConfig::from_file(path)?,
        None if default_file.is_file() => PipelineConfig::from_file(&default_file)?,
        None => PipelineConfig::default(),
    };
    if let Some(data) = &args.data {
        config.data.path = Some(data.clone());
    }
    if !args.labels.is_empty() {
        config.data.labels = args.labels.clone();
    }
    if let Some(format) = &args.format {
        config.data.format = format.clone();
    }
    if let Some(level) = &args.level {
        config.data.level = level.clone();
    }
    if let Some(name) = &args.model_name {
        config.registry.model_name = name.clone();
    }
    if args.no_promote {
        config.registry.promote = false;
    }
    if args.strict {
        config.data.strict = true;
    }
    if args.fast_fingerprint {
        config.data.fingerprint = FingerprintMode::Metadata;
    }
    Ok(config)
}

pub fn run(global: &GlobalArgs, args: RunArgs) -> anyhow::Result<()> {
    let config = resolve_config(&args.settings)?;
    for step in &args.refresh {
        step.parse::<pipeline::steps::StepName>().map_err(anyhow::Error::msg)?;
    }
    let stores = open_stores(global)?;
    let options = RunOptions {
        engine: EngineOptions {
            no_cache: args.no_cache,
            refresh: args.refresh.iter().cloned().collect(),
            ..EngineOptions::default()
        },
        resume: args.resume.clone(),
        quiet: global.quiet,
        ..RunOptions::default()
    };
    let summary = pipeline::run_pipeline(&stores, &global.store, config, options).context("the pipeline run failed")?;

    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&summary);
    }
    if summary.gate_passed == Some(false) {
        return Err(GoalNotMet(format!(
            "run {} finished but the candidate failed the quality gate: {}",
            summary.run_id,
            summary.gate_summary.as_deref().unwrap_or("")
        ))
        .into());
    }
    Ok(())
}

/// The one-screen summary printed at the end of a run.
pub fn print_summary(summary: &pipeline::RunSummary) {
    println!("run {}  {}  {:.1} s", summary.run_id, summary.status, summary.duration_ms as f64 / 1000.0);
    for step in &summary.steps {
        let how = if step.cached {
            "cached".to_string()
        } else if step.attempts > 1 {
            format!("{:.2} s, {} attempts", step.duration_ms as f64 / 1000.0, step.attempts)
        } else {
            format!("{:.2} s", step.duration_ms as f64 / 1000.0)
        };
        println!("  {:<10} {how}", step.step);
    }
    if !summary.metrics.is_empty() {
        println!("metrics");
        for (key, value) in &summary.metrics {
            println!("  {key:<28} {}", format_metric(*value));
        }
    }
    if let Some(gate) = &summary.gate_summary {
        println!("gate: {gate}");
    }
    for reason in &summary.gate_failures {
        println!("  {reason}");
    }
    if let Some(registration) = &summary.registration {
        match (registration.version, registration.created, registration.promoted) {
            (Some(version), true, true) => println!("registered {} version {version} as champion", registration.model),
            (Some(version), true, false) => println!("registered {} version {version}", registration.model),
            (Some(version), false, _) => println!("model already registered as {} version {version}; nothing new", registration.model),
            (None, _, _) => println!("not registered"),
        }
    }
    if let Some(directory) = &summary.report_dir {
        println!("report: {}", directory.join("report.html").display());
    }
}
