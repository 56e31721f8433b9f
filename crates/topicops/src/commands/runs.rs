//! `topicops runs list|show|compare`: the tracked runs in the metadata store.

use anyhow::Context;
use clap::{Args, Subcommand};
use store::RunFilter;

use super::{format_metric, open_existing_stores, print_table};
use crate::cli::GlobalArgs;

#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub command: RunsCommand,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// List runs, newest first.
    List {
        /// Maximum number of runs shown.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Only runs with this status (running, succeeded, failed, gate_failed, killed).
        #[arg(long)]
        status: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one run: configuration, steps, parameters, metrics, artifacts, model versions.
    Show {
        /// Run id, as printed by `runs list`.
        run_id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Export a run's labelled works with their split as JSON Lines, for peer models:
    /// `test.jsonl` (train, validation, test) and `heldout_venues.jsonl` (train, validation,
    /// and the held-out venues as `test`).
    ExportSplits {
        /// Run id, as printed by `runs list`.
        run_id: String,
        /// Directory to write the two files to.
        #[arg(long, short = 'o')]
        output: std::path::PathBuf,
    },
    /// Compare runs side by side: differing parameters and final metrics.
    Compare {
        /// Two or more run ids, as printed by `runs list`.
        #[arg(required = true, num_args = 2..)]
        run_ids: Vec<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(global: &GlobalArgs, args: RunsArgs) -> anyhow::Result<()> {
    let stores = open_existing_stores(global)?;
    let metadata = &stores.metadata;
    match args.command {
        RunsCommand::List { limit, status, json } => {
            let mut filter = RunFilter::default();
            if let Some(status) = status {
                let parsed = status.parse().map_err(|_| {
                    anyhow::anyhow!(
                        "unknown run status `{status}`; use running, succeeded, failed, gate_failed or killed"
                    )
                })?;
                filter.status = Some(parsed);
            }
            let runs = metadata.list_runs(&filter, limit).context("failed to list runs")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&runs)?);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = runs
                .iter()
                .map(|run| {
                    vec![
                        run.id.clone(),
                        run.pipeline.clone(),
                        run.status.as_str().to_string(),
                        run.started_at.clone(),
                        run.trigger.as_str().to_string(),
                        run.user.clone(),
                    ]
                })
                .collect();
            print_table(&["RUN", "PIPELINE", "STATUS", "STARTED", "TRIGGER", "USER"], &rows);
        }
        RunsCommand::Show { run_id, json } => {
            let details = metadata.get_run(&run_id).with_context(|| format!("failed to read run `{run_id}`"))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&details)?);
                return Ok(());
            }
            let run = &details.run;
            println!("run        {}", run.id);
            println!("pipeline   {}", run.pipeline);
            println!("status     {}", run.status.as_str());
            println!("started    {}", run.started_at);
            println!("ended      {}", run.ended_at.as_deref().unwrap_or("-"));
            println!("trigger    {}{}", run.trigger.as_str(), run.trigger_reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default());
            println!("by         {}@{} (topicops {})", run.user, run.host, run.topicops_version);
            if let Some(parent) = &run.parent_run_id {
                println!("resumes    {parent}");
            }
            if let Some(error) = &run.error {
                println!("error      {error}");
            }
            println!("\nSteps");
            let rows: Vec<Vec<String>> = details
                .steps
                .iter()
                .map(|step| {
                    vec![
                        step.step.clone(),
                        step.status.as_str().to_string(),
                        if step.cached { "cached".to_string() } else { format!("attempt {}", step.attempt) },
                        step.duration_ms.map(|ms| format!("{:.2} s", ms as f64 / 1000.0)).unwrap_or_default(),
                        step.outputs.iter().map(|o| format!("{}={}", o.name, &o.artifact.hash[..12])).collect::<Vec<_>>().join(" "),
                    ]
                })
                .collect();
            print_table(&["STEP", "STATUS", "RUN", "DURATION", "OUTPUTS"], &rows);
            println!("\nParameters");
            for (key, value) in &details.params {
                println!("  {key} = {value}");
            }
            println!("\nMetrics (last value per key)");
            let mut last = std::collections::BTreeMap::new();
            for point in &details.metrics {
                last.insert(point.key.clone(), point.value);
            }
            for (key, value) in last {
                println!("  {key} = {}", format_metric(value));
            }
            for version in &details.model_versions {
                println!("\nregistered {} version {} ({})", version.model, version.version, version.aliases.join(", "));
            }
        }
        RunsCommand::ExportSplits { run_id, output } => export_splits(&stores, &run_id, &output)?,
        RunsCommand::Compare { run_ids, json } => {
            let ids: Vec<&str> = run_ids.iter().map(String::as_str).collect();
            let comparison = metadata.compare_runs(&ids).context("failed to compare runs")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&comparison)?);
                return Ok(());
            }
            let mut header = vec!["KEY"];
            header.extend(ids.iter().copied());
            let mut rows = Vec::new();
            for key in &comparison.differing_params {
                let mut row = vec![format!("param {key}")];
                for value in &comparison.params[key] {
                    row.push(value.as_ref().map(|v| v.to_string()).unwrap_or_else(|| "-".to_string()));
                }
                rows.push(row);
            }
            for (key, values) in &comparison.metrics {
                let mut row = vec![format!("metric {key}")];
                for value in values {
                    row.push(value.as_ref().map(|p| format_metric(p.value)).unwrap_or_else(|| "-".to_string()));
                }
                rows.push(row);
            }
            print_table(&header, &rows);
        }
    }
    Ok(())
}

/// Returns the artifact a run's step recorded under `name`.
fn run_output(details: &store::RunDetails, step: &str, name: &str) -> anyhow::Result<store::ArtifactRef> {
    details
        .steps
        .iter()
        .filter(|execution| execution.step == step && execution.status == store::StepStatus::Succeeded)
        .flat_map(|execution| &execution.outputs)
        .find(|output| output.name == name)
        .map(|output| output.artifact.clone())
        .ok_or_else(|| anyhow::anyhow!("run `{}` has no `{name}` output of step `{step}`; run the pipeline first", details.run.id))
}

fn export_splits(stores: &store::Stores, run_id: &str, output: &std::path::Path) -> anyhow::Result<()> {
    use pipeline::split::Split;
    use std::io::Write;

    let details = stores.metadata.get_run(run_id).with_context(|| format!("failed to read run `{run_id}`"))?;
    let dataset = run_output(&details, "validate", "dataset")?;
    let splits = run_output(&details, "split", "splits")?;
    stores.verify_artifact(&dataset.hash)?;
    stores.verify_artifact(&splits.hash)?;
    let works = pipeline::steps::read_works(&stores.artifacts.path(&dataset.hash)?)?;
    let splits: pipeline::steps::SplitAssignment =
        serde_json::from_reader(std::io::BufReader::new(stores.open_verified(&splits.hash)?))
            .context("the run's split artifact is not valid JSON")?;

    std::fs::create_dir_all(output).with_context(|| format!("failed to create `{}`", output.display()))?;
    for test_set in [Split::Test, Split::HeldoutVenues] {
        let path = output.join(format!("{}.jsonl", test_set.name()));
        let file = std::fs::File::create(&path).with_context(|| format!("failed to create `{}`", path.display()))?;
        let mut writer = std::io::BufWriter::new(file);
        for (work, &code) in works.iter().zip(&splits.assignments) {
            let split = splits.order[code as usize];
            let name = match split {
                Split::Train | Split::Validation => split.name(),
                other if other == test_set => "test",
                _ => continue,
            };
            // The venue name goes into the text, as the topicops featurizer also uses it.
            let text: Vec<&str> = [work.title.as_deref(), work.abstract_text.as_deref(), work.venue.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            let record = serde_json::json!({"id": work.id, "text": text.join(" "), "labels": work.label_codes(), "split": name});
            writeln!(writer, "{record}")?;
        }
        writer.flush()?;
        println!("{}", path.display());
    }
    Ok(())
}
