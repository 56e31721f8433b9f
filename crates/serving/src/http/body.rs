//! Reading request bodies within the size limit and the request deadline, and telling JSON
//! from CSV by the `Content-Type` header.

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use http_body_util::BodyExt;

use super::api_error::ApiError;

/// When the current request must be answered; set by the request middleware.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub at: Instant,
    pub timeout_ms: u64,
}

impl Deadline {
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }
}

/// The body formats the scoring endpoints read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    Csv,
}

/// Reads the media type of the request. A missing header means JSON, so a bare
/// `curl -d @file.json` works.
pub fn body_format(headers: &HeaderMap, csv_allowed: bool) -> Result<BodyFormat, ApiError> {
    let accepted = if csv_allowed { "application/json or text/csv" } else { "application/json" };
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(BodyFormat::Json);
    };
    let text = value.to_str().map_err(|_| ApiError::unsupported_media_type("(not ASCII)", accepted))?;
    let media_type = text.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match media_type.as_str() {
        "application/json" => Ok(BodyFormat::Json),
        "text/csv" if csv_allowed => Ok(BodyFormat::Csv),
        _ => Err(ApiError::unsupported_media_type(text, accepted)),
    }
}

/// Reads the whole body, rejecting it with 413 as soon as it exceeds `max_bytes` (from the
/// `Content-Length` header when present) and with 408 when it has not arrived by the
/// deadline.
pub async fn read_body(body: Body, headers: &HeaderMap, max_bytes: usize, deadline: Deadline) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max_bytes as u64) {
        return Err(ApiError::payload_too_large(max_bytes));
    }

    let collect = async {
        let mut body = body;
        let mut bytes: Vec<u8> = Vec::with_capacity(declared.unwrap_or(0) as usize);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|error| {
                ApiError::bad_request("invalid_body", format!("failed to read the request body: {error}"))
            })?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > max_bytes {
                    return Err(ApiError::payload_too_large(max_bytes));
                }
                bytes.extend_from_slice(&data);
            }
        }
        Ok(Bytes::from(bytes))
    };
    match tokio::time::timeout(deadline.remaining(), collect).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::body_timeout(deadline.timeout_ms)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers_with(content_type: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_str(content_type).unwrap());
        headers
    }

    #[test]
    fn content_type_parameters_are_ignored() {
        assert_eq!(body_format(&headers_with("application/json; charset=utf-8"), true), Ok(BodyFormat::Json));
        assert_eq!(body_format(&headers_with("Text/CSV"), true), Ok(BodyFormat::Csv));
        assert_eq!(body_format(&HeaderMap::new(), false), Ok(BodyFormat::Json));
    }

    #[test]
    fn csv_is_rejected_where_not_allowed() {
        let error = body_format(&headers_with("text/csv"), false).unwrap_err();
        assert_eq!(error.status.as_u16(), 415);
        assert!(error.message.contains("send application/json"), "{}", error.message);
    }
}
