//! `topicops step NAME --run ID`: one pipeline step against the artifacts of an existing run,
//! so an external scheduler can run steps separately.

use anyhow::Context as _;
use clap::Args;

use pipeline::steps::StepName;
use pipeline::EngineOptions;

use super::open_stores;
use crate::cli::GlobalArgs;

#[derive(Debug, Args)]
pub struct StepArgs {
    /// Step name: ingest, validate, split, featurize, train, evaluate, gate, register, report.
    pub name: String,
    /// Run whose configuration and upstream outputs the step uses.
    #[arg(long)]
    pub run: String,
    /// Run the step even when a cached result exists.
    #[arg(long)]
    pub no_cache: bool,
}

pub fn run(global: &GlobalArgs, args: StepArgs) -> anyhow::Result<()> {
    let step: StepName = args.name.parse().map_err(anyhow::Error::msg)?;
    let stores = open_stores(global)?;
    let options = EngineOptions { no_cache: args.no_cache, ..EngineOptions::default() };
    let outcome = pipeline::run_single_step(&stores, &args.run, step, options, global.quiet)
        .with_context(|| format!("step `{step}` of run `{}` failed", args.run))?;
    println!("{}", serde_json::to_string_pretty(&outcome)?);
    Ok(())
}
