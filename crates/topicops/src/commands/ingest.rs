//! `topicops ingest PATH --output FILE`: reads, validates and writes a corpus source as an
//! Arrow IPC file, with its report and a quarantine file of rejected records.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::inspect::SourceArgs;
use crate::cli::GlobalArgs;

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Arrow IPC file to write the clean corpus to.
    #[arg(long, short = 'o')]
    pub output: PathBuf,
    /// JSON Lines file for rejected records (default: OUTPUT with `.quarantine.jsonl`).
    #[arg(long)]
    pub quarantine: Option<PathBuf>,
    /// Write the report as JSON to this file as well.
    #[arg(long)]
    pub report: Option<PathBuf>,
}

pub fn run(global: &GlobalArgs, args: IngestArgs) -> anyhow::Result<()> {
    let mut options = args.source.ingest_options(global.quiet)?;
    let quarantine = args.quarantine.clone().unwrap_or_else(|| args.output.with_extension("quarantine.jsonl"));
    options.quarantine = Some(quarantine);
    let report = corpus::ingest(&args.source.path, &options, &args.output)
        .with_context(|| format!("failed to ingest `{}`", args.source.path.display()))?;
    if let Some(bar) = &options.progress {
        bar.finish_and_clear();
    }
    println!("{report}");
    if let Some(path) = &args.report {
        let json = serde_json::to_vec_pretty(&report)?;
        std::fs::write(path, json).with_context(|| format!("failed to write the report to `{}`", path.display()))?;
    }
    if report.has_file_failures() {
        anyhow::bail!(
            "{} file(s) could not be read completely (listed above); the works read were written, \
             but re-download those files or remove them from the input",
            report.files.failed + report.files.incomplete
        );
    }
    Ok(())
}
