//! The HTTP server: configuration, shared state, the router and the run loop with graceful
//! shutdown. Handlers live in [`scoring`] (prediction endpoints) and [`ops`] (health,
//! metrics, model information, reload), request plumbing in [`middleware`] and [`body`],
//! and the accept loop with its header read timeout in [`connections`].

mod api_error;
mod body;
mod connections;
mod middleware;
pub mod openapi;
mod ops;
mod scoring;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

pub use api_error::ApiError;

use self::middleware::InFlightRequests;
use crate::hot_swap::{ModelSlot, Reloader};
use crate::metrics::Metrics;
use crate::prediction_log::{PredictionLog, PredictionLogConfig};
use crate::registry::{LoadedModel, ModelSource};
use crate::ServingError;

/// Default `--max-body-bytes`: 2 MiB, room for 1,000 works with abstracts.
pub const DEFAULT_MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
/// Default `--max-batch`.
pub const DEFAULT_MAX_BATCH: usize = 1000;
/// Default `--timeout-ms`.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// Default `--header-timeout-ms`: 10 s, like the request timeout, and ample for a request
/// head of a few hundred bytes.
pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 10_000;
/// Default `--poll-interval-ms`.
pub const DEFAULT_POLL_INTERVAL_MS: u64 = 2000;

/// Requests with at most this many works are scored on the async worker thread; larger ones
/// go to a blocking thread. One work takes tens of microseconds, well below what would
/// stall other requests.
pub const INLINE_MAX_WORKS: usize = 4;

/// Server settings.
#[derive(Clone)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub max_body_bytes: usize,
    /// Works per request.
    pub max_batch: usize,
    /// Time allowed per request, body included.
    pub timeout_ms: u64,
    /// Time allowed for a request's headers, from the moment the connection opens or, on a
    /// keep-alive connection, the previous response ends. The connection is closed without
    /// a response when it runs out, so this is also the idle keep-alive timeout.
    pub header_timeout_ms: u64,
    /// How often the registry is checked for alias moves; 0 disables polling.
    pub poll_interval_ms: u64,
    /// Bearer token for state-changing endpoints; required when `addr` is not loopback.
    pub token: Option<String>,
    pub prediction_log: Option<PredictionLogConfig>,
}

impl std::fmt::Debug for ServeConfig {
    /// Formats the settings with the token replaced by `<redacted>`.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ServeConfig")
            .field("addr", &self.addr)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_batch", &self.max_batch)
            .field("timeout_ms", &self.timeout_ms)
            .field("header_timeout_ms", &self.header_timeout_ms)
            .field("poll_interval_ms", &self.poll_interval_ms)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("prediction_log", &self.prediction_log)
            .finish()
    }
}

impl ServeConfig {
    /// Settings with the defaults of `topicops serve`, listening on `addr`.
    pub fn new(addr: SocketAddr) -> ServeConfig {
        ServeConfig {
            addr,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_batch: DEFAULT_MAX_BATCH,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            header_timeout_ms: DEFAULT_HEADER_TIMEOUT_MS,
            poll_interval_ms: DEFAULT_POLL_INTERVAL_MS,
            token: None,
            prediction_log: None,
        }
    }

    fn validate(&self) -> Result<(), ServingError> {
        let positive = |option: &'static str, value: u64| {
            if value == 0 {
                Err(ServingError::InvalidOption { option, reason: "must be at least 1".to_string() })
            } else {
                Ok(())
            }
        };
        positive("--max-body-bytes", self.max_body_bytes as u64)?;
        positive("--max-batch", self.max_batch as u64)?;
        positive("--timeout-ms", self.timeout_ms)?;
        positive("--header-timeout-ms", self.header_timeout_ms)?;
        if let Some(token) = &self.token {
            if token.trim().is_empty() {
                return Err(ServingError::InvalidOption { option: "--token", reason: "must not be blank".to_string() });
            }
        }
        if !self.addr.ip().is_loopback() && self.token.is_none() {
            return Err(ServingError::TokenRequired { addr: self.addr });
        }
        Ok(())
    }
}

/// State shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub(crate) config: Arc<ServeConfig>,
    pub(crate) slot: Arc<ModelSlot>,
    pub(crate) reloader: Arc<Reloader>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) in_flight: Arc<InFlightRequests>,
    pub(crate) prediction_log: Option<Arc<PredictionLog>>,
    pub(crate) taxonomy: Arc<corpus::taxonomy::Taxonomy>,
}

impl AppState {
    /// Builds the state around `initial` (the model loaded at start, if any).
    pub fn new(config: ServeConfig, source: ModelSource, initial: Option<LoadedModel>) -> Result<AppState, ServingError> {
        config.validate()?;
        let prediction_log = match &config.prediction_log {
            Some(log_config) => Some(Arc::new(PredictionLog::open(log_config)?)),
            None => None,
        };
        let metrics = Arc::new(Metrics::default());
        let slot = Arc::new(ModelSlot::new(initial));
        let reloader = Arc::new(Reloader::new(source, Arc::clone(&slot), Arc::clone(&metrics)));
        Ok(AppState {
            config: Arc::new(config),
            slot,
            reloader,
            metrics,
            in_flight: Arc::new(InFlightRequests::default()),
            prediction_log,
            taxonomy: Arc::new(corpus::taxonomy::Taxonomy::builtin()),
        })
    }
}

/// Builds the router with every endpoint and the request middleware.
pub fn router(state: AppState) -> Router {
    let reload = post(ops::reload).route_layer(axum::middleware::from_fn_with_state(state.clone(), middleware::require_token));
    Router::new()
        .route("/invocations", post(scoring::invocations))
        .route("/v1/predict", post(scoring::predict))
        .route("/health", get(ops::health))
        .route("/ping", get(ops::ready))
        .route("/ready", get(ops::ready))
        .route("/version", get(ops::version))
        .route("/v1/models", get(ops::models))
        .route("/v1/reload", reload)
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::observe))
        .with_state(state)
}

/// A bound server, ready to run.
pub struct Server {
    listener: TcpListener,
    state: AppState,
}

impl Server {
    /// Binds the listening socket. Fails when the address is not loopback and no token is
    /// set, or when an option is invalid.
    pub async fn bind(state: AppState) -> Result<Server, ServingError> {
        let addr = state.config.addr;
        let listener = TcpListener::bind(addr).await.map_err(|source| ServingError::Bind { addr, error: source })?;
        Ok(Server { listener, state })
    }

    /// Returns the bound address, with the real port when the configured one was 0.
    pub fn local_addr(&self) -> Result<SocketAddr, ServingError> {
        let addr = self.state.config.addr;
        self.listener.local_addr().map_err(|source| ServingError::Bind { addr, error: source })
    }

    /// Serves until `shutdown` completes, then stops accepting, lets requests in flight
    /// finish, and returns. Polls the registry for alias moves meanwhile.
    ///
    /// NOTE: at shutdown hyper 1.13 closes at once any connection it has read nothing from
    /// yet, so a request still unread in the socket buffer gets no response. A connection
    /// whose first request head is partly read stays open until its header timeout runs
    /// out, so stopping can take up to `header_timeout_ms`.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), ServingError> {
        let addr = self.local_addr()?;
        let state = self.state;
        let (stop_polling, polling_stopped) = tokio::sync::watch::channel(false);
        let poll_interval_ms = state.config.poll_interval_ms;
        let source = state.reloader.source();
        let poller = if poll_interval_ms > 0 && source.follows_alias() {
            let reloader = Arc::clone(&state.reloader);
            Some(tokio::spawn(reloader.poll(Duration::from_millis(poll_interval_ms), polling_stopped)))
        } else {
            None
        };

        let model = state.slot.get();
        tracing::info!(
            %addr,
            model = source.model(),
            reference = source.reference(),
            version = ?model.as_ref().map(|model| model.info.version),
            poll_interval_ms,
            header_timeout_ms = state.config.header_timeout_ms,
            "serving"
        );
        let header_timeout = Duration::from_millis(state.config.header_timeout_ms);
        let in_flight = Arc::clone(&state.in_flight);
        let app = router(state);
        connections::serve_connections(self.listener, app, header_timeout, &in_flight, shutdown).await;
        let _ = stop_polling.send(true);
        if let Some(poller) = poller {
            let _ = poller.await;
        }
        tracing::info!(target: crate::LIFECYCLE_TARGET, %addr, "server stopped");
        Ok(())
    }
}

/// Loads the model, binds, calls `on_listening` with the address and the loaded model, and
/// serves until Ctrl-C or SIGTERM, on a Tokio runtime of its own. When the model cannot be
/// loaded, fails unless `allow_missing_model` is set, in which case the server starts
/// unready and loads the model once the reference resolves.
pub fn serve_until_signal(
    config: ServeConfig,
    source: ModelSource,
    allow_missing_model: bool,
    on_listening: impl FnOnce(SocketAddr, Option<&crate::ModelInfo>),
) -> Result<(), ServingError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("topicops-serve")
        .build()
        .map_err(|error| ServingError::Runtime { error })?;
    runtime.block_on(async move {
        let loading = source.clone();
        let initial = match tokio::task::spawn_blocking(move || loading.load()).await {
            Ok(Ok(model)) => Some(model),
            Ok(Err(error)) if allow_missing_model => {
                tracing::warn!(%error, "no model loaded at start; serving unready until the reference resolves");
                None
            }
            Ok(Err(error)) => return Err(error),
            Err(join_error) => {
                return Err(ServingError::InvalidOption { option: "--model", reason: format!("loading panicked: {join_error}") })
            }
        };
        let state = AppState::new(config, source, initial)?;
        let server = Server::bind(state).await?;
        let model = server.state.slot.get();
        on_listening(server.local_addr()?, model.as_ref().map(|model| &model.info));
        server.run(shutdown_signal()).await
    })
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "failed to listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "failed to listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => tracing::info!(target: crate::LIFECYCLE_TARGET, "received Ctrl-C; shutting down"),
        _ = terminate => tracing::info!(target: crate::LIFECYCLE_TARGET, "received SIGTERM; shutting down"),
    }
}
