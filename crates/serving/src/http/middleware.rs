//! Request middleware: the request id (taken from `x-request-id` or generated, and echoed
//! back), the request deadline, a tracing span per request, request metrics, the count of
//! requests in flight, and the bearer token check of state-changing endpoints.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::api_error::ApiError;
use super::body::Deadline;
use super::AppState;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Maximum length of a client-supplied request id; longer ones are replaced by a generated id.
const MAX_REQUEST_ID_BYTES: usize = 128;

/// The id of the current request, for handlers that log.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Number of requests between the start and the end of [`observe`].
#[derive(Debug, Default)]
pub struct InFlightRequests(AtomicUsize);

impl InFlightRequests {
    pub fn count(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }

    /// Counts one request until the returned guard is dropped, which also happens when the
    /// client goes away and the request future is dropped.
    fn enter(&self) -> InFlightGuard<'_> {
        self.0.fetch_add(1, Ordering::Relaxed);
        InFlightGuard(&self.0)
    }
}

struct InFlightGuard<'a>(&'a AtomicUsize);

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Wraps every request: id, deadline, span, metrics, the in-flight count and a log line for
/// server errors.
pub async fn observe(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let _in_flight = state.in_flight.enter();
    let request_id = client_request_id(&request).unwrap_or_else(generate_request_id);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string());
    let method = request.method().as_str().to_string();
    let timeout_ms = state.config.timeout_ms;
    request.extensions_mut().insert(RequestId(request_id.clone()));
    request.extensions_mut().insert(Deadline { at: started + Duration::from_millis(timeout_ms), timeout_ms });

    // The span has level ERROR so that it is enabled whenever any event is: every warning
    // and error logged while handling the request then carries its id, method and route.
    // An INFO span would be filtered out at the default `warn` level, and with it the ids.
    let span = tracing::error_span!("request", request_id = %request_id, %method, %route);
    let mut response = next.run(request).instrument(span.clone()).await;

    let status = response.status();
    let elapsed = started.elapsed();
    state.metrics.record_request(&route, &method, status.as_u16(), elapsed);
    span.in_scope(|| {
        let elapsed_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), elapsed_us, "request failed");
        } else {
            tracing::debug!(status = status.as_u16(), elapsed_us, "request done");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// Returns the client's `x-request-id` if it is short printable ASCII.
fn client_request_id(request: &Request) -> Option<String> {
    let value = request.headers().get(REQUEST_ID_HEADER)?.to_str().ok()?.trim();
    let usable = !value.is_empty()
        && value.len() <= MAX_REQUEST_ID_BYTES
        && value.bytes().all(|byte| byte.is_ascii_graphic());
    usable.then(|| value.to_string())
}

/// Returns an id unique within this process and unlikely to repeat across restarts: a
/// random per-process prefix and a counter.
fn generate_request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static PREFIX: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let prefix = PREFIX.get_or_init(|| fastrand::u32(..));
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix:08x}-{count:012x}")
}

/// Rejects the request with 401 unless it carries `Authorization: Bearer <token>` with the
/// configured token. Passes everything when no token is configured (loopback only).
pub async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(expected) = state.config.token.as_deref() else {
        return next.run(request).await;
    };
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    match presented {
        Some(token) if constant_time_eq(token.as_bytes(), expected.as_bytes()) => next.run(request).await,
        _ => {
            tracing::warn!("rejected a request without a valid bearer token");
            ApiError::unauthorized().into_response()
        }
    }
}

/// Compares two byte strings in time that depends only on their lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |difference, (x, y)| difference | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_differ() {
        let first = generate_request_id();
        let second = generate_request_id();
        assert_ne!(first, second);
        assert_eq!(first.len(), 21);
    }

    #[test]
    fn token_comparison_checks_every_byte() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }
}
