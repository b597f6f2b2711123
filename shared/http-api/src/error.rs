//! The one mapping from application errors to HTTP responses.
//!
//! Every error body has the same shape:
//! `{"error": {"code": "validation_failed", "message": "body: must not be empty", "field": "body"}}`

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use messaging_core::Error;

/// An application error on its way out as HTTP.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl From<messaging_core::StoreError> for ApiError {
    fn from(e: messaging_core::StoreError) -> Self {
        Self(e.into())
    }
}

pub fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::NotFound(_) => StatusCode::NOT_FOUND,
        Error::Invalid { .. } => StatusCode::BAD_REQUEST,
        Error::Conflict { .. } => StatusCode::CONFLICT,
        Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        let message = match &self.0 {
            // Backend details go to the log, not to the client.
            Error::Unavailable(detail) => {
                tracing::error!(%detail, "backend unavailable");
                "the service is temporarily unavailable; retry shortly".to_owned()
            }
            other => other.to_string(),
        };
        let body = json!({ "error": { "code": self.0.code(), "message": message, "field": self.0.field() } });
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
