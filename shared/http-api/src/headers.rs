//! Security headers, in one place for the functions (behind API Gateway) and the local
//! gateway (which also serves the web client and the local blob store).
//!
//! - API responses are private JSON: `Cache-Control: no-store` keeps tokens and messages
//!   out of shared and browser caches, and `default-src 'none'` means that even a response
//!   opened as a page can run nothing.
//! - The web client's documents get a strict policy: its own scripts and styles only,
//!   no inline code, no framing (`frame-ancestors 'none'`, and `X-Frame-Options` for old
//!   browsers).
//! - Uploaded files are served sandboxed: they are somebody else's bytes.
//! - Everything gets `nosniff` (a `text/plain` file is never run as a script) and
//!   `Referrer-Policy: no-referrer` (URLs carry conversation ids and signed links).
//!
//! The SAM template sets the same headers on API Gateway's own errors (GatewayResponses);
//! `tests/tests/deployment_template.rs` checks that they agree with [`API`].

use axum::http::header::{self, HeaderName};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

/// Headers on every API response.
pub const API: [(HeaderName, &str); 5] = [
    (header::CACHE_CONTROL, "no-store"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'",
    ),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

/// The web client's policy: its own scripts and styles only, no inline code, no framing.
/// `connect-src 'self'` covers `ws:`/`wss:` to the same host (CSP level 3); `blob:` and
/// `data:` images are previews of files being attached; `files` is where signed upload
/// and download URLs point when that is not this origin (S3), for uploads, image
/// previews and media. `sign_in` is the OIDC provider's origin when the page may be served
/// from another (discovery and the token endpoint are fetched).
pub fn web_csp(files: Option<&str>, sign_in: Option<&str>) -> String {
    let files = files.map(|f| format!(" {f}")).unwrap_or_default();
    let sign_in = sign_in.map(|s| format!(" {s}")).unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:{files}; \
         media-src 'self' blob:{files}; connect-src 'self'{files}{sign_in}; font-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Headers on the web client's files and everything else the gateway serves (with
/// [`web_csp`] beside them).
pub const WEB: [(HeaderName, &str); 3] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

/// Uploaded files: shown, never run.
pub const FILES: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    ),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
];

/// Adds each header the response does not already set.
pub fn add_missing(headers: &mut HeaderMap, wanted: &[(HeaderName, &'static str)]) {
    for (name, value) in wanted {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), HeaderValue::from_static(value));
        }
    }
}

/// `axum::middleware::map_response` for the API routers.
pub async fn api(mut response: Response) -> Response {
    add_missing(response.headers_mut(), &API);
    response
}
