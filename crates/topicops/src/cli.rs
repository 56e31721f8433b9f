//! Command-line arguments of `topicops`, parsed with clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Train, register, serve and monitor ASJC topic classifiers for scholarly works.
#[derive(Debug, Parser)]
#[command(name = "topicops", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every subcommand.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Directory of the metadata and artifact stores.
    #[arg(long, global = true, env = "TOPICOPS_HOME", default_value = ".topicops")]
    pub store: PathBuf,
    /// More log output (-v info, -vv debug); RUST_LOG overrides it.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress bars and only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read a corpus source, validate it and print the report, writing nothing.
    Inspect(crate::commands::inspect::InspectArgs),
    /// Read, validate and write a corpus source as an Arrow IPC file with its report.
    Ingest(crate::commands::ingest::IngestArgs),
    /// Run the training pipeline: ingest, validate, split, featurize, train, evaluate, gate,
    /// register.
    Run(crate::commands::run::RunArgs),
    /// Run one pipeline step of an existing run against its stored artifacts.
    Step(crate::commands::step::StepArgs),
    /// Retrain when new data appears in the data directory or a schedule fires; gate and
    /// promote as `run` does.
    Watch(crate::commands::watch::WatchArgs),
    /// Retrain once if the data changed since the champion was trained.
    RetrainIfNeeded(crate::commands::watch::RetrainArgs),
    /// List, show and compare tracked runs.
    Runs(crate::commands::runs::RunsArgs),
    /// List, show, promote and roll back registered model versions.
    Models(crate::commands::models::ModelsArgs),
    /// Compare a batch of new works with a model version's reference profile: data, text,
    /// prediction and quality drift.
    Monitor(crate::commands::monitor::MonitorArgs),
    /// Serve a registered model over HTTP (MLflow /invocations and /v1/predict), following
    /// alias moves.
    Serve(crate::commands::serve::ServeArgs),
    /// Score a corpus with a registered model into an alexandria3k table or a file.
    Predict(crate::commands::predict::PredictArgs),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Appends `command path: argument` for each argument of `command` and its subcommands
    /// that has no help text.
    fn collect_undocumented(command: &clap::Command, path: &str, undocumented: &mut Vec<String>) {
        for argument in command.get_arguments() {
            // clap documents its own --help and --version flags.
            if matches!(argument.get_long(), Some("help" | "version")) {
                continue;
            }
            if argument.get_help().is_none() && argument.get_long_help().is_none() {
                undocumented.push(format!("{path}: {}", argument.get_id()));
            }
        }
        for subcommand in command.get_subcommands() {
            let subpath = format!("{path} {}", subcommand.get_name());
            collect_undocumented(subcommand, &subpath, undocumented);
        }
    }

    #[test]
    fn every_argument_has_help() {
        let mut undocumented = Vec::new();
        collect_undocumented(&Cli::command(), "topicops", &mut undocumented);
        assert!(undocumented.is_empty(), "arguments without help text: {undocumented:?}");
    }
}
