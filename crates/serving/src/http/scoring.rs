//! The prediction endpoints: `POST /invocations` (MLflow scoring protocol) and
//! `POST /v1/predict` (native API). Both read the body within the limits, parse it into
//! works, score them with the model current when the request started, and build the response.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use corpus::Work;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::api_error::ApiError;
use super::body::{body_format, read_body, BodyFormat, Deadline};
use super::middleware::RequestId;
use super::{AppState, INLINE_MAX_WORKS};
use crate::mlflow;
use crate::native;
use crate::registry::LoadedModel;
use crate::scorer::{LabelScore, LabelSelection, Prediction};

/// Header naming the model version that produced a response.
const MODEL_VERSION_HEADER: &str = "x-model-version";

/// `top_k` and `threshold` from the query string.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectionQuery {
    top_k: Option<usize>,
    threshold: Option<f32>,
}

/// Merges the query's selection with the body's; setting one value in both is an error.
fn merge_selection(query: &SelectionQuery, body: LabelSelection) -> Result<LabelSelection, ApiError> {
    let twice = |name: &str| {
        ApiError::bad_request("invalid_parameter", format!("`{name}` is given both in the query string and in the body; give it once"))
    };
    if query.top_k.is_some() && body.top_k.is_some() {
        return Err(twice("top_k"));
    }
    if query.threshold.is_some() && body.threshold.is_some() {
        return Err(twice("threshold"));
    }
    let selection = LabelSelection { top_k: query.top_k.or(body.top_k), threshold: query.threshold.or(body.threshold) };
    selection.validate().map_err(|message| ApiError::bad_request("invalid_parameter", message))?;
    Ok(selection)
}

fn parse_query(query: Result<Query<SelectionQuery>, axum::extract::rejection::QueryRejection>) -> Result<SelectionQuery, ApiError> {
    match query {
        Ok(Query(query)) => Ok(query),
        Err(rejection) => Err(ApiError::bad_request(
            "invalid_parameter",
            format!("invalid query string: {}; accepted parameters: `top_k`, `threshold`", rejection.body_text()),
        )),
    }
}

fn parse_json_body(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|error| ApiError::invalid_json(&error))
}

/// `POST /invocations`: MLflow's scoring protocol.
pub async fn invocations(
    State(state): State<AppState>,
    Extension(deadline): Extension<Deadline>,
    Extension(request_id): Extension<RequestId>,
    query: Result<Query<SelectionQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let query = parse_query(query)?;
    let format = body_format(&headers, true)?;
    let bytes = read_body(body, &headers, state.config.max_body_bytes, deadline).await?;
    let (rows, body_selection) = match format {
        BodyFormat::Json => {
            let input = mlflow::parse_json(&parse_json_body(&bytes)?).map_err(|mlflow::InputError(message)| {
                ApiError::bad_request("invalid_input", message)
            })?;
            (input.rows, input.selection)
        }
        BodyFormat::Csv => {
            let rows = mlflow::parse_csv(&bytes).map_err(|mlflow::InputError(message)| ApiError::bad_request("invalid_input", message))?;
            (rows, LabelSelection::default())
        }
    };
    let selection = merge_selection(&query, body_selection)?;
    check_batch(&state, rows.len())?;

    let model = current_model(&state)?;
    let works: Vec<Work> = rows.into_iter().map(|fields| fields.into_work()).collect();
    let (works, predictions) = score(&state, &model, works, deadline).await?;
    let selected = select_and_record(&state, &model, &request_id, &works, &predictions, selection);

    let predictions: Vec<Value> = selected
        .into_iter()
        .zip(&predictions)
        .map(|(labels, prediction)| {
            let codes: Vec<&str> = labels.iter().map(|label| label.code.as_str()).collect();
            let scores: Vec<f32> = labels.iter().map(|label| label.score).collect();
            json!({"labels": codes, "scores": scores, "empty_reason": prediction.empty_reason})
        })
        .collect();
    Ok(with_model_header(Json(json!({"predictions": predictions})).into_response(), &model))
}

/// One predicted label in the native response.
#[derive(Debug, Serialize)]
struct NativeLabel<'a> {
    code: &'a str,
    name: Option<&'a str>,
    level: Option<&'static str>,
    score: f32,
}

/// `POST /v1/predict`: the native API.
pub async fn predict(
    State(state): State<AppState>,
    Extension(deadline): Extension<Deadline>,
    Extension(request_id): Extension<RequestId>,
    query: Result<Query<SelectionQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let query = parse_query(query)?;
    body_format(&headers, false)?;
    let bytes = read_body(body, &headers, state.config.max_body_bytes, deadline).await?;
    let request = native::parse_request(&parse_json_body(&bytes)?)
        .map_err(|mlflow::InputError(message)| ApiError::bad_request("invalid_input", message))?;
    let selection = merge_selection(&query, request.selection)?;
    check_batch(&state, request.works.len())?;

    let model = current_model(&state)?;
    let (works, predictions) = score(&state, &model, request.works, deadline).await?;
    let selected = select_and_record(&state, &model, &request_id, &works, &predictions, selection);

    let taxonomy = &state.taxonomy;
    let outputs: Vec<Value> = works
        .iter()
        .zip(&predictions)
        .zip(&selected)
        .map(|((work, prediction), labels)| {
            let labels: Vec<NativeLabel<'_>> = labels
                .iter()
                .map(|label| NativeLabel {
                    code: &label.code,
                    name: taxonomy.name(&label.code),
                    level: taxonomy.level_of(&label.code).map(|level| level.as_str()),
                    score: label.score,
                })
                .collect();
            let id = (!work.id.is_empty()).then_some(work.id.as_str());
            json!({"id": id, "labels": labels, "empty_reason": prediction.empty_reason})
        })
        .collect();
    let info = &model.info;
    let body = json!({
        "model": {"name": info.name, "version": info.version, "run_id": info.run_id},
        "predictions": outputs,
    });
    Ok(with_model_header(Json(body).into_response(), &model))
}

fn check_batch(state: &AppState, works: usize) -> Result<(), ApiError> {
    if works > state.config.max_batch {
        return Err(ApiError::too_many_works(works, state.config.max_batch));
    }
    Ok(())
}

fn current_model(state: &AppState) -> Result<Arc<LoadedModel>, ApiError> {
    state.slot.get().ok_or_else(ApiError::model_not_loaded)
}

/// Scores `works`, inline when there are few and on a blocking thread otherwise, within the
/// request deadline. Returns the works back with one prediction each.
async fn score(
    state: &AppState,
    model: &Arc<LoadedModel>,
    works: Vec<Work>,
    deadline: Deadline,
) -> Result<(Vec<Work>, Vec<Prediction>), ApiError> {
    if works.len() <= INLINE_MAX_WORKS {
        let predictions = model.scorer.predict_batch(&works);
        return check_counts(works, predictions);
    }

    let scorer = Arc::clone(&model.scorer);
    let task = tokio::task::spawn_blocking(move || {
        let predictions = scorer.predict_batch(&works);
        (works, predictions)
    });
    match tokio::time::timeout(deadline.remaining(), task).await {
        Ok(Ok((works, predictions))) => check_counts(works, predictions),
        Ok(Err(join_error)) => Err(ApiError::internal(format_args!("the scoring task failed: {join_error}"))),
        Err(_) => {
            tracing::warn!(timeout_ms = state.config.timeout_ms, "scoring timed out");
            Err(ApiError::scoring_timeout(deadline.timeout_ms))
        }
    }
}

fn check_counts(works: Vec<Work>, predictions: Vec<Prediction>) -> Result<(Vec<Work>, Vec<Prediction>), ApiError> {
    if works.len() != predictions.len() {
        return Err(ApiError::internal(format_args!(
            "the model returned {} predictions for {} works",
            predictions.len(),
            works.len()
        )));
    }
    Ok((works, predictions))
}

/// Applies the label selection, counts the labels in the metrics and samples the prediction
/// log.
fn select_and_record(
    state: &AppState,
    model: &LoadedModel,
    request_id: &RequestId,
    works: &[Work],
    predictions: &[Prediction],
    selection: LabelSelection,
) -> Vec<Vec<LabelScore>> {
    let label_codes = model.scorer.labels();
    let selected: Vec<Vec<LabelScore>> =
        predictions.iter().map(|prediction| selection.select(prediction, label_codes)).collect();

    let empty = predictions.iter().filter(|prediction| prediction.empty_reason.is_some()).count();
    let labels = selected.iter().flatten().map(|label| label.code.as_str());
    state.metrics.record_predictions(works.len() as u64, empty as u64, labels);
    if let Some(log) = &state.prediction_log {
        for ((work, prediction), labels) in works.iter().zip(predictions).zip(&selected) {
            log.record(&request_id.0, &model.info.name, model.info.version, work, labels, prediction.empty_reason.as_deref());
        }
    }
    selected
}

fn with_model_header(mut response: Response, model: &LoadedModel) -> Response {
    if let Ok(value) = HeaderValue::from_str(&model.info.version.to_string()) {
        response.headers_mut().insert(MODEL_VERSION_HEADER, value);
    }
    response
}
