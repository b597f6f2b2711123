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
    StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        let message = self.0.public_message();
        let body = json!({ "error": { "code": self.0.code(), "message": message, "field": self.0.field() } });
        let mut response = (status, axum::Json(body)).into_response();
        if let Some(secs) = self.0.retry_after_secs() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
