//! Operational endpoints: liveness, readiness, version, the loaded model, Prometheus
//! metrics, the OpenAPI document, a forced registry check, and the 404 and 405 responses.

use axum::extract::State;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::api_error::ApiError;
use super::openapi;
use super::AppState;

/// `GET /health`: the process is up.
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /ready` and `GET /ping`: 200 when a model is loaded, else 503.
pub async fn ready(State(state): State<AppState>) -> Response {
    match state.slot.get() {
        Some(model) => Json(json!({"status": "ready", "model": model.info.name, "version": model.info.version})).into_response(),
        None => ApiError::model_not_loaded().into_response(),
    }
}

/// `GET /version`: the server's version and the served model version.
pub async fn version(State(state): State<AppState>) -> Json<serde_json::Value> {
    let model = state.slot.get();
    Json(json!({
        "server": "topicops",
        "version": env!("CARGO_PKG_VERSION"),
        "model": model.as_ref().map(|model| &model.info.name),
        "model_version": model.as_ref().map(|model| model.info.version),
    }))
}

/// `GET /v1/models`: what is loaded, from which run, with which labels.
pub async fn models(State(state): State<AppState>) -> Json<serde_json::Value> {
    let source = state.reloader.source();
    let loaded = state.slot.get().map(|model| {
        let labels: Vec<serde_json::Value> = model
            .scorer
            .labels()
            .iter()
            .map(|code| {
                json!({
                    "code": code,
                    "name": state.taxonomy.name(code),
                    "level": state.taxonomy.level_of(code).map(|level| level.as_str()),
                })
            })
            .collect();
        json!({
            "name": model.info.name,
            "version": model.info.version,
            "reference": model.info.reference,
            "run_id": model.info.run_id,
            "artifact_hash": model.info.artifact_hash,
            "loaded_at": model.info.loaded_at,
            "labels": labels,
        })
    });
    Json(json!({
        "model": source.model(),
        "reference": source.reference(),
        "follows_alias": source.follows_alias(),
        "loaded": loaded,
        "last_reload_error": state.reloader.last_error(),
    }))
}

/// `POST /v1/reload`: checks the registry now and loads the referenced version if it is not
/// the one served. Requires the bearer token when the server has one.
pub async fn reload(State(state): State<AppState>) -> Response {
    let outcome = state.reloader.check(true).await;
    Json(outcome).into_response()
}

/// `GET /metrics`: Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let model = state.slot.get();
    let text = state.metrics.render(model.as_ref().map(|model| &model.info));
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// `GET /openapi.json`.
pub async fn openapi() -> Json<serde_json::Value> {
    Json(openapi::document())
}

pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(uri.path())
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let mut response = ApiError::method_not_allowed(method.as_str(), uri.path()).into_response();
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    response
}
