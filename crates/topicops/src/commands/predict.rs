//! `topicops predict`: scores a whole corpus with a registered model, into an alexandria3k
//! database table or a JSON Lines or CSV file, streaming in batches.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::builder::TypedValueParser;
use clap::Args;
use serving::batch::{
    score_stream, A3kSink, BatchOptions, BatchSummary, CsvSink, JsonLinesSink, OutputFormat, PredictionSink,
    DEFAULT_BATCH_SIZE, PREDICTIONS_TABLE,
};
use serving::{classifier_loader, LabelSelection, ModelSource};

use super::open_existing_stores;
use crate::cli::GlobalArgs;
use crate::GoalNotMet;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("destination").required(true).args(["into_a3k", "output"])))]
pub struct PredictArgs {
    /// Corpus to score: a Crossref file or directory, an alexandria3k database, or an
    /// OpenAlex, arXiv or labelled JSON Lines file. Defaults to the --into-a3k database.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Source format (crossref, a3k, openalex, arxiv, labelled); detected when omitted.
    #[arg(long)]
    pub format: Option<String>,
    /// Model version: an alias or a version number.
    #[arg(long, default_value = "champion")]
    pub model: String,
    /// Registered model name.
    #[arg(long, default_value = "asjc-classifier")]
    pub name: String,
    /// Write the predictions into this alexandria3k database as the table
    /// `works_predicted_asjcs`, replacing this model version's earlier rows.
    #[arg(long)]
    pub into_a3k: Option<PathBuf>,
    /// Write the predictions to this file: JSON Lines (`.jsonl`) or CSV (`.csv`).
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Output file format (jsonl or csv), for a file whose extension is neither.
    #[arg(long, requires = "output")]
    pub output_format: Option<String>,
    /// Score only works that carry no label yet.
    #[arg(long)]
    pub only_unlabelled: bool,
    /// Keep at most this many labels per work, highest score first.
    #[arg(long)]
    pub top_k: Option<usize>,
    /// Keep every label scoring at least this (0 to 1) instead of the model's own decisions.
    #[arg(long)]
    pub threshold: Option<f32>,
    /// Works scored at a time (at least 1).
    #[arg(long, default_value_t = DEFAULT_BATCH_SIZE, value_parser = clap::value_parser!(u32).range(1..).map(|size| size as usize))]
    pub batch_size: usize,
    /// Worker threads reading input files (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &GlobalArgs, args: PredictArgs) -> anyhow::Result<()> {
    let Some(data) = args.data.clone().or_else(|| args.into_a3k.clone()) else {
        bail!("no input: pass --data PATH (or --into-a3k DB to score that database's own works)");
    };
    let selection = LabelSelection { top_k: args.top_k, threshold: args.threshold };
    selection.validate().map_err(|message| anyhow::anyhow!("invalid label selection: {message}"))?;

    let stores = Arc::new(open_existing_stores(global)?);
    let source = ModelSource::new(stores, &args.name, &args.model, classifier_loader());
    let model = source.load().with_context(|| format!("failed to load model `{}` at `{}`", args.name, args.model))?;

    let mut sink: Box<dyn PredictionSink> = match (&args.into_a3k, &args.output) {
        (Some(database), _) => Box::new(A3kSink::open(database, model.info.clone(), model.scorer.labels())?),
        (None, Some(output)) => {
            let format = match &args.output_format {
                Some(name) => name.parse::<OutputFormat>().map_err(anyhow::Error::msg)?,
                None => OutputFormat::from_path(output).with_context(|| {
                    format!("cannot tell the format of `{}` from its extension; pass --output-format jsonl or csv", output.display())
                })?,
            };
            match format {
                OutputFormat::JsonLines => Box::new(JsonLinesSink::create(output, model.info.clone())?),
                OutputFormat::Csv => Box::new(CsvSink::create(output, model.info.clone())?),
            }
        }
        (None, None) => bail!("no destination: pass --into-a3k DB or --output FILE"),
    };

    let mut read_options = corpus::ReadOptions::default().with_threads(args.threads);
    if let Some(format) = &args.format {
        read_options = read_options.with_format(format.parse().map_err(anyhow::Error::msg)?);
    }
    let stream = corpus::read_works(&data, &read_options).with_context(|| format!("failed to read `{}`", data.display()))?;

    let options = BatchOptions { batch_size: args.batch_size, only_unlabelled: args.only_unlabelled, selection };
    let bar = crate::progress::bar(global.quiet, None, "scoring", "works");
    let summary = score_stream(stream, model.scorer.as_ref(), sink.as_mut(), &options, &mut |scored| bar.set_position(scored))
        .with_context(|| format!("failed to score `{}`", data.display()))?;
    bar.finish_and_clear();

    let destination = match (&args.into_a3k, &args.output) {
        (Some(database), _) => format!("table `{PREDICTIONS_TABLE}` of `{}`", database.display()),
        (None, Some(output)) => format!("`{}`", output.display()),
        (None, None) => String::new(),
    };
    print_summary(&summary, &model.info, &destination, args.json)?;
    if !summary.files_incomplete.is_empty() {
        return Err(GoalNotMet(format!(
            "{} input file(s) could not be read to the end; their remaining works were not scored",
            summary.files_incomplete.len()
        ))
        .into());
    }
    Ok(())
}

fn print_summary(summary: &BatchSummary, model: &serving::ModelInfo, destination: &str, json: bool) -> anyhow::Result<()> {
    if json {
        let value = serde_json::json!({
            "model": model.name,
            "model_version": model.version,
            "destination": destination,
            "summary": summary,
            "works_per_second": summary.works_per_second(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    println!("model              {} version {}", model.name, model.version);
    println!("written to         {destination}");
    println!("works read         {}", summary.works_read);
    println!("works scored       {}", summary.works_scored);
    if summary.works_already_labelled > 0 {
        println!("already labelled   {} (skipped by --only-unlabelled)", summary.works_already_labelled);
    }
    println!("flagged empty      {} (no usable text or only unknown words; no labels)", summary.works_empty);
    println!("labels written     {}", summary.labels_written);
    println!("records skipped    {}", summary.records_skipped_total());
    for (kind, count) in &summary.records_skipped {
        println!("  {kind:<16} {count}");
    }
    for path in &summary.files_incomplete {
        println!("incomplete file    {}", path.display());
    }
    println!("elapsed            {:.2} s ({:.0} works/s)", summary.elapsed_seconds, summary.works_per_second());
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::cli::Cli;

    #[test]
    fn missing_destination_names_both_options() {
        let error = Cli::try_parse_from(["topicops", "predict", "--data", "works.jsonl"]).unwrap_err();
        let message = error.to_string();
        assert_eq!(error.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        assert!(message.contains("--output"), "{message}");
        assert!(message.contains("--into-a3k"), "{message}");
    }

    #[test]
    fn short_output_flag_as_in_ingest() {
        let cli = Cli::try_parse_from(["topicops", "predict", "--data", "w.jsonl", "-o", "p.jsonl"]).unwrap();
        let crate::cli::Command::Predict(arguments) = cli.command else {
            panic!("parsed as another command: {:?}", cli.command);
        };
        assert_eq!(arguments.output, Some(std::path::PathBuf::from("p.jsonl")));
    }

    #[test]
    fn zero_batch_size_is_refused() {
        let arguments = ["topicops", "predict", "--data", "w.jsonl", "-o", "p.jsonl", "--batch-size", "0"];
        let error = Cli::try_parse_from(arguments).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
        let accepted = ["topicops", "predict", "--data", "w.jsonl", "-o", "p.jsonl", "--batch-size", "7"];
        let cli = Cli::try_parse_from(accepted).unwrap();
        let crate::cli::Command::Predict(arguments) = cli.command else {
            panic!("parsed as another command: {:?}", cli.command);
        };
        assert_eq!(arguments.batch_size, 7);
    }

    #[test]
    fn both_destinations_conflict() {
        let arguments = ["topicops", "predict", "--data", "w.jsonl", "--output", "p.jsonl", "--into-a3k", "w.db"];
        let error = Cli::try_parse_from(arguments).unwrap_err();
        assert_eq!(error.kind(), clap::error::ErrorKind::ArgumentConflict);
    }
}
