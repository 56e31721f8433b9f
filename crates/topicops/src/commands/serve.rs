//! `topicops serve`: serves a registered model over HTTP (MLflow's `/invocations` and the
//! native `/v1/predict`), swapping in new versions when the followed alias moves.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use serving::{classifier_loader, ModelSource, PredictionLogConfig, ServeConfig};

use super::open_stores;
use crate::cli::GlobalArgs;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Model version to serve: an alias (followed as it moves) or a version number.
    #[arg(long, default_value = "champion")]
    pub model: String,
    /// Registered model name.
    #[arg(long, default_value = "asjc-classifier")]
    pub name: String,
    /// Address to listen on. Any address other than loopback requires --token.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Bearer token required by state-changing endpoints (POST /v1/reload).
    #[arg(long, env = "TOPICOPS_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Largest request body accepted, in bytes; larger bodies get 413.
    #[arg(long, default_value_t = serving::http::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Most works (rows) accepted in one request; more get 400.
    #[arg(long, default_value_t = serving::http::DEFAULT_MAX_BATCH)]
    pub max_batch: usize,
    /// Time allowed per request, body included, in milliseconds.
    #[arg(long, default_value_t = serving::http::DEFAULT_TIMEOUT_MS)]
    pub timeout_ms: u64,
    /// Time allowed for a request's headers, in milliseconds, counted from the moment the
    /// connection opens or, on a keep-alive connection, the previous response ends. When it
    /// runs out the connection is closed without a response, so this also closes idle
    /// keep-alive connections.
    #[arg(long, default_value_t = serving::http::DEFAULT_HEADER_TIMEOUT_MS)]
    pub header_timeout_ms: u64,
    /// How often the registry is checked for alias moves, in milliseconds (0: never).
    #[arg(long, default_value_t = serving::http::DEFAULT_POLL_INTERVAL_MS)]
    pub poll_interval_ms: u64,
    /// Start even when the model reference does not resolve yet. /ready returns 503 until a
    /// version is promoted and loaded.
    #[arg(long)]
    pub allow_missing_model: bool,
    /// Append a sample of predictions (input work and labels) to this JSON Lines file.
    #[arg(long)]
    pub log_predictions: Option<PathBuf>,
    /// Fraction of works written to the prediction log, between 0 and 1.
    #[arg(long, default_value_t = 0.1, requires = "log_predictions")]
    pub log_sample_rate: f64,
    /// Size in bytes at which the prediction log is rotated to `<path>.1`.
    #[arg(long, default_value_t = 100 * 1024 * 1024, requires = "log_predictions")]
    pub log_max_bytes: u64,
}

pub fn run(global: &GlobalArgs, args: ServeArgs) -> anyhow::Result<()> {
    let stores = Arc::new(open_stores(global)?);
    let source = ModelSource::new(stores, &args.name, &args.model, classifier_loader());

    let mut config = ServeConfig::new(args.addr);
    config.max_body_bytes = args.max_body_bytes;
    config.max_batch = args.max_batch;
    config.timeout_ms = args.timeout_ms;
    config.header_timeout_ms = args.header_timeout_ms;
    config.poll_interval_ms = args.poll_interval_ms;
    config.token = args.token.filter(|token| !token.is_empty());
    config.prediction_log = args.log_predictions.map(|path| PredictionLogConfig {
        path,
        sample_rate: args.log_sample_rate,
        max_bytes: args.log_max_bytes,
    });

    let quiet = global.quiet;
    serving::serve_until_signal(config, source, args.allow_missing_model, |addr, model| {
        if quiet {
            return;
        }
        match model {
            Some(model) => eprintln!(
                "serving `{}` version {} ({}) on http://{addr}; Ctrl-C stops",
                model.name, model.version, model.reference
            ),
            None => eprintln!("listening on http://{addr} without a model yet; /ready returns 503 until one loads"),
        }
    })
    .with_context(|| format!("failed to serve model `{}` at `{}`", args.name, args.model))
}
