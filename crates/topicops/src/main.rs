//! The `topicops` command line: parses arguments, runs the subcommand, maps the outcome to
//! an exit code (0 success, 1 the job ran but failed its goal, 2 usage or input error).

mod cli;
mod commands;
mod logging;
mod progress;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// The job ran to the end but did not reach its goal (a candidate failed its quality gate,
/// drift was found with --fail-on-drift). Maps to exit code 1.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct GoalNotMet(pub String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.global.verbose, cli.global.quiet);

    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if let Some(goal) = error.downcast_ref::<GoalNotMet>() {
                eprintln!("topicops: {goal}");
                return ExitCode::from(1);
            }
            eprintln!("error: {}", error_chain(&error));
            ExitCode::from(2)
        }
    }
}

/// Joins the messages of `error` and its causes with ": ", leaving out a cause whose message
/// is already part of the text. Several error types repeat their source in their own
/// message, so the plain chain would print it twice.
fn error_chain(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let message = cause.to_string();
        if message.is_empty() || text.contains(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let global = &cli.global;
    match cli.command {
        Command::Inspect(args) => commands::inspect::run(global, args),
        Command::Ingest(args) => commands::ingest::run(global, args),
        Command::Run(args) => commands::run::run(global, args),
        Command::Step(args) => commands::step::run(global, args),
        Command::Watch(args) => commands::watch::watch(global, args),
        Command::RetrainIfNeeded(args) => commands::watch::retrain_if_needed(global, args),
        Command::Runs(args) => commands::runs::run(global, args),
        Command::Models(args) => commands::models::run(global, args),
        Command::Monitor(args) => commands::monitor::run(global, args),
        Command::Serve(args) => commands::serve::run(global, args),
        Command::Predict(args) => commands::predict::run(global, args),
    }
}

#[cfg(test)]
mod tests {
    use super::error_chain;

    #[derive(Debug, thiserror::Error)]
    #[error("failed to open `db`: {source}")]
    struct Repeats {
        source: std::io::Error,
    }

    #[test]
    fn repeated_cause_is_printed_once() {
        let io = std::io::Error::other("disk I/O error");
        let error = anyhow::Error::new(Repeats { source: io }).context("opening the store");
        assert_eq!(error_chain(&error), "opening the store: failed to open `db`: disk I/O error");
    }

    #[test]
    fn distinct_causes_are_all_printed() {
        let error = anyhow::anyhow!("inner").context("middle").context("outer");
        assert_eq!(error_chain(&error), "outer: middle: inner");
    }
}
