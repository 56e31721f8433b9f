//! `topicops models list|show|promote|rollback`: the model registry.

use anyhow::Context;
use clap::{Args, Subcommand};

use super::{actor, format_metric, open_existing_stores, print_table};
use crate::cli::GlobalArgs;

#[derive(Debug, Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub command: ModelsCommand,
    /// Registered model name.
    #[arg(long, global = true, default_value = "asjc-classifier")]
    pub model: String,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List the versions of a model with their aliases and headline metrics.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show one version (number or alias) with its lineage and the alias history.
    Show {
        /// Version number or alias, e.g. `3` or `champion`.
        version: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Point an alias (default `champion`) at a version.
    Promote {
        /// Version number to point the alias at.
        version: u32,
        /// Alias to move. An alias starts with a letter, so it cannot be read as a version number.
        #[arg(long, default_value = "champion")]
        alias: String,
        /// Reason recorded in the audit trail.
        #[arg(long, default_value = "manual promotion")]
        reason: String,
    },
    /// Move an alias (default `champion`) back to the version it pointed at before its last move.
    Rollback {
        /// Alias to move back.
        #[arg(long, default_value = "champion")]
        alias: String,
        /// Reason recorded in the audit trail.
        #[arg(long, default_value = "manual rollback")]
        reason: String,
    },
}

pub fn run(global: &GlobalArgs, args: ModelsArgs) -> anyhow::Result<()> {
    let stores = open_existing_stores(global)?;
    let metadata = &stores.metadata;
    let model = args.model.as_str();
    match args.command {
        ModelsCommand::List { json } => {
            let versions = match metadata.list_versions(model) {
                Ok(versions) => versions,
                Err(store::StoreError::ModelNotFound { .. }) => Vec::new(),
                Err(error) => return Err(error).with_context(|| format!("failed to list versions of `{model}`")),
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&versions)?);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = versions
                .iter()
                .map(|version| {
                    let metric = |key: &str| version.metrics.get(key).map(|v| format_metric(*v)).unwrap_or_else(|| "-".to_string());
                    vec![
                        version.version.to_string(),
                        version.aliases.join(","),
                        version.created_at.clone(),
                        version.run_id.clone().unwrap_or_default(),
                        metric("test.micro_f1"),
                        metric("heldout_venues.micro_f1"),
                    ]
                })
                .collect();
            print_table(&["VERSION", "ALIASES", "CREATED", "RUN", "TEST MICRO-F1", "HELD-OUT VENUES MICRO-F1"], &rows);
        }
        ModelsCommand::Show { version, json } => {
            let resolved = metadata.resolve(model, &version).with_context(|| format!("failed to find version `{version}` of `{model}`"))?;
            let lineage = metadata
                .lineage_of_model_version(model, resolved.version)
                .with_context(|| format!("failed to read the lineage of `{model}` version {}", resolved.version))?;
            let history = metadata.alias_history(model, None).context("failed to read the alias history")?;
            if json {
                let document = serde_json::json!({"version": resolved, "lineage": lineage, "alias_history": history});
                println!("{}", serde_json::to_string_pretty(&document)?);
                return Ok(());
            }
            println!("{} version {}", resolved.model, resolved.version);
            println!("aliases    {}", resolved.aliases.join(", "));
            println!("artifact   {} ({} bytes)", resolved.artifact.hash, resolved.artifact.size_bytes);
            println!("run        {}", resolved.run_id.as_deref().unwrap_or("-"));
            println!("created    {} by {}", resolved.created_at, resolved.created_by);
            for (key, value) in &resolved.metrics {
                println!("  {key} = {}", format_metric(*value));
            }
            print_lineage(&lineage);
            println!("\nAlias history");
            let rows: Vec<Vec<String>> = history
                .iter()
                .map(|event| {
                    vec![
                        event.at.clone(),
                        event.alias.clone(),
                        event.action.as_str().to_string(),
                        event.from_version.map(|v| v.to_string()).unwrap_or_else(|| "-".to_string()),
                        event.to_version.map(|v| v.to_string()).unwrap_or_else(|| "-".to_string()),
                        event.actor.clone(),
                        event.reason.clone(),
                    ]
                })
                .collect();
            print_table(&["AT", "ALIAS", "ACTION", "FROM", "TO", "BY", "REASON"], &rows);
        }
        ModelsCommand::Promote { version, alias, reason } => {
            let moved = metadata
                .promote(model, &alias, version, &actor(), &reason)
                .with_context(|| format!("failed to point `{alias}` of `{model}` at version {version}"))?;
            println!("{}", describe_move(model, &alias, &moved));
        }
        ModelsCommand::Rollback { alias, reason } => {
            let moved = metadata
                .rollback(model, &alias, &actor(), &reason)
                .with_context(|| format!("failed to roll back `{alias}` of `{model}`"))?;
            println!("{}", describe_move(model, &alias, &moved));
        }
    }
    Ok(())
}

/// Prints the data, code and parameters behind a version, and its upstream artifacts, one
/// line each. `--json` prints the whole lineage graph with its executions and edges.
fn print_lineage(lineage: &store::Lineage) {
    println!("\nLineage");
    let data = lineage.run.as_ref().map(|run| &run.config["data"]);
    // A string setting as it is, a list of paths joined with commas, anything else as `-`.
    let setting = |key: &str| match data.map(|data| &data[key]) {
        Some(serde_json::Value::String(text)) => text.clone(),
        Some(serde_json::Value::Array(items)) if !items.is_empty() => {
            let texts: Vec<String> = items.iter().map(|item| item.as_str().map_or_else(|| item.to_string(), str::to_string)).collect();
            texts.join(", ")
        }
        _ => "-".to_string(),
    };
    println!("data         {}", setting("path"));
    println!("labels       {}", setting("labels"));
    println!("level        {}", setting("level"));
    println!(
        "code         topicops {}, commit {}",
        lineage.topicops_version.as_deref().unwrap_or("-"),
        lineage.code_version.as_deref().unwrap_or("-")
    );
    match &lineage.run {
        Some(run) => println!("parameters   {} (listed by `topicops runs show {}`)", lineage.params.len(), run.id),
        None => println!("parameters   - (no recorded run)"),
    }

    let steps: std::collections::HashMap<i64, &str> =
        lineage.executions.iter().map(|execution| (execution.id, execution.step.as_str())).collect();
    let rows: Vec<Vec<String>> = lineage
        .artifacts
        .iter()
        .map(|artifact| {
            let record = &artifact.record;
            let mut produced_by: Vec<&str> = artifact.produced_by.iter().filter_map(|id| steps.get(id).copied()).collect();
            produced_by.sort_unstable();
            produced_by.dedup();
            vec![
                record.name.clone(),
                record.hash.chars().take(12).collect(),
                record.run_id.clone().unwrap_or_else(|| "-".to_string()),
                if produced_by.is_empty() { "source".to_string() } else { produced_by.join(",") },
            ]
        })
        .collect();
    println!();
    print_table(&["ARTIFACT", "HASH", "RUN", "STEP"], &rows);
}

fn describe_move(model: &str, alias: &str, moved: &store::AliasMove) -> String {
    let from = moved.from_version.map(|v| v.to_string()).unwrap_or_else(|| "none".to_string());
    let to = moved.to_version.map(|v| v.to_string()).unwrap_or_else(|| "none".to_string());
    if moved.changed {
        format!("{model}@{alias}: version {from} -> {to}")
    } else {
        format!("{model}@{alias} already points at version {to}; nothing changed")
    }
}
