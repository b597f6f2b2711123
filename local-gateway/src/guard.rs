//! What every request and response of the gateway goes through before its route:
//! the body limit of its path, checked on `Content-Length` before anything is read, and
//! the security headers of [`messaging_http::headers`] on the way out.
//!
//! A body without a length (chunked) is still cut at the same limit by the routes'
//! `DefaultBodyLimit`; whatever answers 413, the client gets the one JSON error shape.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use messaging_core::Error;
use messaging_http::{ApiError, headers};

/// Attachments are at most 10 MB (API Gateway's own payload limit is the same); a little
/// over that leaves room for a multipart envelope.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024 + 1024;

/// The largest body a path accepts: uploads go to `/blobs`, everything else is JSON.
pub fn body_limit(path: &str) -> usize {
    if path.starts_with("/blobs/") {
        MAX_UPLOAD_BYTES
    } else {
        messaging_http::MAX_BODY_BYTES
    }
}

pub fn too_large(limit: usize) -> Response {
    ApiError(Error::PayloadTooLarge(
        format!("the body is larger than {limit} bytes").into(),
    ))
    .into_response()
}

/// The web client's Content-Security-Policy, built once at start ([`headers::web_csp`]).
#[derive(Clone)]
pub struct WebPolicy(pub Arc<HeaderValue>);

impl WebPolicy {
    /// `files`: the origin of signed blob URLs when it is not the gateway's own;
    /// `sign_in`: the OIDC issuer's (the page may be opened as `localhost` while the
    /// issuer is `127.0.0.1`).
    pub fn new(files: Option<&str>, sign_in: Option<&str>) -> Self {
        let csp = headers::web_csp(files, sign_in);
        let value = HeaderValue::from_str(&csp).unwrap_or_else(|_| {
            HeaderValue::from_str(&headers::web_csp(None, None))
                .unwrap_or(HeaderValue::from_static("default-src 'self'"))
        });
        Self(Arc::new(value))
    }
}

pub async fn guard(State(policy): State<WebPolicy>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let limit = body_limit(&path);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut response = if declared.is_some_and(|n| n > limit as u64) {
        too_large(limit)
    } else {
        next.run(req).await
    };
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE && !is_json(&response) {
        response = too_large(limit);
    }
    // JSON for programs, and the sign-in provider's pages (which set their own policy).
    let private = ["/api/", "/dev/", "/oidc/", "/.well-known/"]
        .iter()
        .any(|p| path.starts_with(p))
        || path == "/config.json";
    let wanted: &[_] = if private {
        &headers::API
    } else if path.starts_with("/blobs/") {
        &headers::FILES
    } else {
        response
            .headers_mut()
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert_with(|| (*policy.0).clone());
        if is_html(&response) || path == "/sw.js" {
            // The web client's page and its service worker (whose name has no hash):
            // always revalidated, so a deploy is seen at once.
            response
                .headers_mut()
                .entry(header::CACHE_CONTROL)
                .or_insert(HeaderValue::from_static("no-cache"));
        }
        &headers::WEB
    };
    headers::add_missing(response.headers_mut(), wanted);
    response
}

fn content_type_starts(response: &Response<Body>, prefix: &str) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(prefix))
}

fn is_json(response: &Response<Body>) -> bool {
    content_type_starts(response, "application/json")
}

fn is_html(response: &Response<Body>) -> bool {
    content_type_starts(response, "text/html")
}
