//! Open WebSocket connections, and the `@connections` management API over them —
//! `POST` sends, `GET` describes, `DELETE` closes, `410 Gone` for unknown or closed ids —
//! answering exactly as API Gateway does, so the functions' `aws-sdk-apigatewaymanagement`
//! client (or the AWS CLI, or boto3) works unchanged against the gateway. Like API
//! Gateway's, every request must be signed (SigV4, with the gateway's credentials).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::RwLock;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::sync::mpsc;

use messaging_core::time::Timestamp;

use crate::Gateway;

/// What the socket writer task receives.
#[derive(Debug)]
pub enum Outbound {
    Frame(Vec<u8>),
    Close,
    /// A close frame with a status code (1009 for a message over the frame limit).
    CloseWith(u16, &'static str),
}

/// A pending frame limit per connection: a client that stops reading gets
/// `LimitExceededException`s instead of growing the gateway's memory.
pub const QUEUE_DEPTH: usize = 1024;

pub struct Connection {
    pub tx: mpsc::Sender<Outbound>,
    pub connected_at: Timestamp,
    pub last_active_ms: AtomicI64,
    pub source_ip: String,
    pub user_agent: Option<String>,
}

#[derive(Default)]
pub struct Hub {
    connections: RwLock<HashMap<String, Arc<Connection>>>,
}

pub enum SendError {
    Gone,
    Full,
}

impl Hub {
    pub fn insert(&self, id: String, connection: Arc<Connection>) {
        if let Ok(mut map) = self.connections.write() {
            map.insert(id, connection);
        }
    }

    pub fn remove(&self, id: &str) -> Option<Arc<Connection>> {
        self.connections.write().ok().and_then(|mut map| map.remove(id))
    }

    pub fn get(&self, id: &str) -> Option<Arc<Connection>> {
        self.connections.read().ok().and_then(|map| map.get(id).cloned())
    }

    pub fn send(&self, id: &str, data: Vec<u8>) -> Result<(), SendError> {
        let connection = self.get(id).ok_or(SendError::Gone)?;
        match connection.tx.try_send(Outbound::Frame(data)) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(_)) => Err(SendError::Full),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(SendError::Gone),
        }
    }

    /// Asks the socket to close; the socket task then runs `$disconnect`.
    pub fn close(&self, id: &str) -> Result<(), SendError> {
        let connection = self.get(id).ok_or(SendError::Gone)?;
        connection.tx.try_send(Outbound::Close).map_err(|_| SendError::Gone)
    }
}

fn aws_error(status: StatusCode, kind: &'static str, message: &str) -> Response {
    let mut response = (status, axum::Json(json!({ "message": message }))).into_response();
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(kind));
    response
}

/// API Gateway's limit on the data of one push.
const MAX_DATA: usize = 128 * 1024;

fn too_large() -> Response {
    aws_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PayloadTooLargeException",
        "data is larger than 128 KB",
    )
}

fn gone() -> Response {
    aws_error(
        StatusCode::GONE,
        "GoneException",
        "the connection does not exist or has closed",
    )
}

/// Every `@connections` request: signed with the gateway's credentials ([`crate::sigv4`]).
pub async fn signed(
    State(gw): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_DATA + 1).await else {
        return too_large();
    };
    let now = chrono::Utc::now();
    match crate::sigv4::verify(
        &gw.connections_credentials,
        peer.ip(),
        &parts.method,
        &parts.uri,
        &parts.headers,
        &body,
        now,
    ) {
        Ok(()) => next.run(Request::from_parts(parts, Body::from(body))).await,
        Err(reason) => {
            tracing::warn!(peer = %peer, %reason, "@connections request refused");
            aws_error(StatusCode::FORBIDDEN, "ForbiddenException", reason)
        }
    }
}

/// Path ids arrive percent-encoded by SDKs (`L0SM9cOFvHcCIhw%3D`); axum decodes them.
pub async fn post_to_connection(State(gw): State<Arc<Gateway>>, Path(id): Path<String>, body: Bytes) -> Response {
    post(&gw, &id, body)
}

pub async fn post_to_connection_staged(
    State(gw): State<Arc<Gateway>>,
    Path((_stage, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    post(&gw, &id, body)
}

fn post(gw: &Gateway, id: &str, body: Bytes) -> Response {
    if body.len() > MAX_DATA {
        return too_large();
    }
    match gw.hub.send(id, body.to_vec()) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(SendError::Gone) => gone(),
        Err(SendError::Full) => aws_error(
            StatusCode::TOO_MANY_REQUESTS,
            "LimitExceededException",
            "the connection is not reading its messages",
        ),
    }
}

pub async fn get_connection(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> Response {
    describe(&gw, &id)
}

pub async fn get_connection_staged(
    State(gw): State<Arc<Gateway>>,
    Path((_stage, id)): Path<(String, String)>,
) -> Response {
    describe(&gw, &id)
}

fn describe(gw: &Gateway, id: &str) -> Response {
    let Some(c) = gw.hub.get(id) else { return gone() };
    let last = Timestamp::from_millis(c.last_active_ms.load(Ordering::Relaxed));
    // The service's wire names (what the SDKs and the CLI parse).
    axum::Json(json!({
        "connectedAt": c.connected_at.to_rfc3339(),
        "lastActiveAt": last.to_rfc3339(),
        "identity": { "sourceIp": c.source_ip, "userAgent": c.user_agent },
    }))
    .into_response()
}

pub async fn delete_connection(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> Response {
    close(&gw, &id)
}

pub async fn delete_connection_staged(
    State(gw): State<Arc<Gateway>>,
    Path((_stage, id)): Path<(String, String)>,
) -> Response {
    close(&gw, &id)
}

fn close(gw: &Gateway, id: &str) -> Response {
    match gw.hub.close(id) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(_) => gone(),
    }
}
