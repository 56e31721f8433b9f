//! The error type of every HTTP handler, mapped to a status and the JSON body
//! `{"error": {"code", "message"}}`. Client errors say what was wrong with the request;
//! server errors carry a generic message and their detail goes to the log, tagged with the
//! request id by the request span.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A request that failed, with the status and body to send.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable machine-readable code, e.g. `invalid_json`.
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::BAD_REQUEST, code, message: message.into() }
    }

    /// Invalid JSON, with serde_json's line and column of the error.
    pub fn invalid_json(error: &serde_json::Error) -> ApiError {
        let message = error.to_string();
        // serde_json appends " at line L column C"; the position is given in words instead.
        let reason = match message.rfind(" at line ") {
            Some(cut) => &message[..cut],
            None => message.as_str(),
        };
        ApiError::bad_request(
            "invalid_json",
            format!(
                "the request body is not valid JSON: {reason} at line {}, column {}",
                error.line(),
                error.column()
            ),
        )
    }

    pub fn payload_too_large(max_body_bytes: usize) -> ApiError {
        ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "payload_too_large",
            message: format!(
                "the request body exceeds the limit of {max_body_bytes} bytes (--max-body-bytes); \
                 split the works over several requests"
            ),
        }
    }

    pub fn too_many_works(count: usize, max_batch: usize) -> ApiError {
        ApiError::bad_request(
            "too_many_works",
            format!(
                "the request contains {count} works, more than the limit of {max_batch} per request \
                 (--max-batch); split them over several requests"
            ),
        )
    }

    pub fn unsupported_media_type(found: &str, accepted: &str) -> ApiError {
        ApiError {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            message: format!("content type `{found}` is not supported; send {accepted}"),
        }
    }

    pub fn body_timeout(timeout_ms: u64) -> ApiError {
        ApiError {
            status: StatusCode::REQUEST_TIMEOUT,
            code: "request_timeout",
            message: format!("the request body did not arrive within {timeout_ms} ms (--timeout-ms)"),
        }
    }

    /// Scoring did not finish in time; the request may be retried.
    pub fn scoring_timeout(timeout_ms: u64) -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "timeout",
            message: format!("the request did not complete within {timeout_ms} ms; retry later or send fewer works"),
        }
    }

    pub fn model_not_loaded() -> ApiError {
        ApiError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            code: "model_not_loaded",
            message: "no model is loaded yet; retry when GET /ready returns 200".to_string(),
        }
    }

    pub fn unauthorized() -> ApiError {
        ApiError {
            status: StatusCode::UNAUTHORIZED,
            code: "unauthorized",
            message: "this endpoint requires the header `Authorization: Bearer <token>` with the server's token"
                .to_string(),
        }
    }

    pub fn not_found(path: &str) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code: "not_found",
            message: format!("no endpoint at `{path}`; GET /openapi.json lists the endpoints"),
        }
    }

    pub fn method_not_allowed(method: &str, path: &str) -> ApiError {
        ApiError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "method_not_allowed",
            message: format!("method {method} is not allowed on `{path}`"),
        }
    }

    /// An unexpected failure: logs `detail` and responds with a generic message.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "request failed with an internal error");
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal_error",
            message: "internal server error; the server log has the details under this request's x-request-id"
                .to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert("www-authenticate", HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_json_names_line_and_column() {
        let error = serde_json::from_str::<serde_json::Value>("{\"a\": [NaN]}").unwrap_err();
        let api_error = ApiError::invalid_json(&error);
        assert_eq!(api_error.status, StatusCode::BAD_REQUEST);
        // serde_json 1 reports `expected value` at the `N`, the 8th character of line 1.
        assert_eq!(api_error.message, "the request body is not valid JSON: expected value at line 1, column 8");
    }
}
