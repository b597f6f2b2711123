//! `/blobs/...`: the local blob store's signed upload and download URLs, checked the way
//! S3 checks a presigned URL (signature, expiry, exact Content-Length and Content-Type).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use messaging_core::time::Timestamp;
use messaging_embedded::BlobAccessError;

use crate::Gateway;

fn refuse(e: BlobAccessError) -> Response {
    let status = match e {
        BlobAccessError::BadSignature | BlobAccessError::Expired => StatusCode::FORBIDDEN,
        BlobAccessError::WrongSize { .. } | BlobAccessError::WrongType { .. } => StatusCode::BAD_REQUEST,
        BlobAccessError::NotFound => StatusCode::NOT_FOUND,
        BlobAccessError::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (
        status,
        axum::Json(json!({ "error": { "code": "blob_access_denied", "message": e.to_string() } })),
    )
        .into_response()
}

pub async fn upload(
    State(gw): State<Arc<Gateway>>,
    Path(key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(store) = gw.local_blobs.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let declared_length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let (size, content_type) = match store.verify_upload(&key, &query, declared_length, content_type, Timestamp::now())
    {
        Ok(permit) => permit,
        Err(e) => return refuse(e),
    };
    // The signature is checked before a byte of the body is read, and no more than the
    // signed size is ever read. The header matched; the bytes must too.
    let Ok(body) = axum::body::to_bytes(body, size as usize).await else {
        return refuse(BlobAccessError::WrongSize { expected: size });
    };
    if body.len() as u64 != size {
        return refuse(BlobAccessError::WrongSize { expected: size });
    }
    match store.write_upload(&key, &body, &content_type).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => refuse(e),
    }
}

pub async fn download(
    State(gw): State<Arc<Gateway>>,
    Path(key): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(store) = gw.local_blobs.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let permit = match store.verify_download(&key, &query, Timestamp::now()) {
        Ok(p) => p,
        Err(e) => return refuse(e),
    };
    let bytes = match store.read(&key).await {
        Ok(b) => b,
        Err(e) => return refuse(e),
    };
    let mut response = Response::new(Body::from(bytes));
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&permit.content_type) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&messaging_aws::s3::content_disposition(&permit.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    response
}
