//! The WebSocket endpoint: what API Gateway's WebSocket API does for the functions.
//!
//! Upgrade request → `$connect` authorizer (ticket in the query string) → `$connect`
//! handler (while it runs, `@connections` answers 410 for the new id, as API Gateway
//! does) → open; frames → the route chosen by `$request.body.action` (unknown actions go to
//! `$default`), whose response body, if any, comes back as a frame (two-way routes);
//! close, error, or idle timeout → `$disconnect`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use messaging_core::events::ClientAction;
use messaging_core::time::Timestamp;

use crate::Gateway;
use crate::connections::{Connection, Outbound, QUEUE_DEPTH};
use crate::rest::STAGE;

/// API Gateway closes connections idle for 10 minutes.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(600);
/// Frames larger than API Gateway's 32 KB frame limit are refused: the connection is
/// closed with 1009 (message too big), as API Gateway does.
const MAX_FRAME: usize = 32 * 1024;
/// What the WebSocket layer reads at most before giving up on a message; between
/// [`MAX_FRAME`] and this, the message is read and refused with a proper close frame.
const MAX_READ: usize = 4 * MAX_FRAME;
const MESSAGE_TOO_BIG: u16 = 1009;

/// An id shaped like API Gateway's (`L0SM9cOFvHcCIhw=`): 10 random bytes, base64.
fn connection_id() -> String {
    let mut bytes = [0u8; 10];
    let _ = getrandom::fill(&mut bytes);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn header_map(headers: &HeaderMap) -> Value {
    let map: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), json!(String::from_utf8_lossy(v.as_bytes()))))
        .collect();
    Value::Object(map)
}

struct ConnectionContext {
    id: String,
    connected_at: i64,
    source_ip: String,
    user_agent: Option<String>,
    domain: String,
    authorizer: Value,
}

impl ConnectionContext {
    fn request_context(&self, route_key: &str, event_type: &str) -> Value {
        let now = chrono::Utc::now().timestamp_millis();
        json!({
            "routeKey": route_key,
            "eventType": event_type,
            "connectionId": self.id,
            "connectedAt": self.connected_at,
            "requestTimeEpoch": now,
            "requestId": ulid::Ulid::generate().to_string(),
            "messageId": ulid::Ulid::generate().to_string(),
            "messageDirection": "IN",
            "domainName": self.domain,
            "stage": STAGE,
            "apiId": "local",
            "extendedRequestId": ulid::Ulid::generate().to_string(),
            "identity": { "sourceIp": self.source_ip, "userAgent": self.user_agent },
            "authorizer": self.authorizer,
        })
    }
}

pub async fn upgrade(
    State(gw): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let mut ctx = ConnectionContext {
        id: connection_id(),
        connected_at: chrono::Utc::now().timestamp_millis(),
        source_ip: peer.ip().to_string(),
        user_agent: headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        domain: headers
            .get("host")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost")
            .to_owned(),
        authorizer: Value::Null,
    };

    // 1. The REQUEST authorizer.
    let authorizer_event = json!({
        "type": "REQUEST",
        "methodArn": format!("arn:aws:execute-api:local:000000000000:local/{STAGE}/$connect"),
        "headers": header_map(&headers),
        "queryStringParameters": query,
        "requestContext": ctx.request_context("$connect", "CONNECT"),
    });
    let policy = match gw.functions.invoke_authorizer(authorizer_event).await {
        Ok(policy) => policy,
        Err(reason) => {
            tracing::info!(%reason, "websocket refused by the authorizer");
            return (StatusCode::UNAUTHORIZED, messaging_ws::Unauthorized.to_string()).into_response();
        }
    };
    let allowed = policy["policyDocument"]["Statement"]
        .as_array()
        .is_some_and(|s| s.iter().all(|st| st["Effect"] == "Allow") && !s.is_empty());
    if !allowed {
        return (StatusCode::FORBIDDEN, "Forbidden").into_response();
    }
    let mut authorizer = policy["context"].as_object().cloned().unwrap_or_default();
    authorizer.insert("principalId".into(), policy["principalId"].clone());
    ctx.authorizer = Value::Object(authorizer);

    // 2. `$connect`: anything but 2xx refuses the connection. Until it has returned the
    //    connection does not exist for `@connections`: pushes to it get 410, as in AWS.
    let connect_event = json!({
        "requestContext": ctx.request_context("$connect", "CONNECT"),
        "headers": header_map(&headers),
        "queryStringParameters": query,
        "isBase64Encoded": false,
    });
    let status = match gw.functions.invoke_connect(connect_event).await {
        Ok(r) => r["statusCode"].as_u64().unwrap_or(500),
        Err(e) => {
            tracing::error!(error = %e, "$connect failed");
            500
        }
    };
    if !(200..300).contains(&status) {
        let code = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (code, "connection refused").into_response();
    }
    // A slow `$connect` (a cold start, a large presence audience) keeps the 410 window
    // open longer; `--connect-delay-ms` stretches it on purpose.
    if !gw.connect_delay.is_zero() {
        tokio::time::sleep(gw.connect_delay).await;
    }

    // Open before the 101 leaves: API Gateway accepts pushes as soon as `$connect` has
    // returned, and a client that has its 101 may be sent to at once. Pushes queue until
    // the socket task runs; if the upgrade never completes, the guard forgets the id.
    let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
    let connection = Arc::new(Connection {
        tx,
        connected_at: Timestamp::from_millis(ctx.connected_at),
        last_active_ms: AtomicI64::new(ctx.connected_at),
        source_ip: ctx.source_ip.clone(),
        user_agent: ctx.user_agent.clone(),
    });
    gw.hub.insert(ctx.id.clone(), connection.clone());
    let opened = Opened {
        gw: gw.clone(),
        id: Some(ctx.id.clone()),
    };

    // Small socket buffers: frames are at most 32 KB, and an idle connection should cost
    // kilobytes, not the 128 KB read buffer tungstenite allocates by default.
    ws.max_frame_size(MAX_READ)
        .max_message_size(MAX_READ)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(4 * 1024)
        .on_upgrade(move |socket| async move {
            if !gw.open_delay.is_zero() {
                tokio::time::sleep(gw.open_delay).await;
            }
            opened.disarm();
            run(gw, ctx, socket, connection, rx).await
        })
}

/// A connection in the hub whose upgrade has not completed yet. Dropped with the upgrade
/// callback when the client goes away before the socket opens: the id is forgotten (410
/// from then on) and no `$disconnect` runs, as with API Gateway.
struct Opened {
    gw: Arc<Gateway>,
    /// `None` once the socket task owns the connection.
    id: Option<String>,
}

impl Opened {
    /// The socket task owns the connection from here on.
    fn disarm(mut self) {
        self.id = None;
    }
}

impl Drop for Opened {
    fn drop(&mut self) {
        if let Some(id) = &self.id {
            self.gw.hub.remove(id);
        }
    }
}

/// 3. Open: `@connections` has known the id since `$connect` returned; the pushes queued
///    since then are written first. A client that left during `$connect` never gets here:
///    its id stays unknown (410) and no `$disconnect` runs, as with API Gateway.
async fn run(
    gw: Arc<Gateway>,
    ctx: ConnectionContext,
    socket: WebSocket,
    connection: Arc<Connection>,
    mut rx: mpsc::Receiver<Outbound>,
) {
    let (mut sink, mut stream) = socket.split();
    let (reply_tx, mut reply_rx) = mpsc::channel::<Vec<u8>>(64);

    // Writer: pushes from `@connections` and replies from two-way routes, in order.
    let mut writer = tokio::spawn(async move {
        loop {
            let next = tokio::select! {
                outbound = rx.recv() => outbound,
                reply = reply_rx.recv() => reply.map(Outbound::Frame),
            };
            match next {
                Some(Outbound::Frame(data)) => {
                    let message = match String::from_utf8(data) {
                        Ok(text) => Message::Text(text.into()),
                        Err(e) => Message::Binary(e.into_bytes().into()),
                    };
                    if sink.send(message).await.is_err() {
                        break;
                    }
                }
                Some(Outbound::Close) | None => {
                    let _ = sink.send(Message::Close(None)).await;
                    break;
                }
                Some(Outbound::CloseWith(code, reason)) => {
                    let frame = axum::extract::ws::CloseFrame {
                        code,
                        reason: reason.into(),
                    };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    break;
                }
            }
        }
    });

    let mut disconnect_reason = "Client closed";
    let mut disconnect_status = 1001;
    loop {
        let next = tokio::select! {
            next = tokio::time::timeout(IDLE_TIMEOUT, stream.next()) => next,
            // The writer ends when the server closes the connection (`DELETE @connections`)
            // or the socket breaks; the connection is over whatever the client does next.
            _ = &mut writer => {
                disconnect_reason = "Connection closed by the server";
                break;
            }
        };
        let frame = match next {
            Err(_) => {
                disconnect_reason = "Idle timeout";
                break;
            }
            Ok(Some(Err(e))) if e.to_string().contains("too long") => {
                // Over even the read limit: tungstenite stopped reading, the socket can
                // still carry the close frame.
                too_big(&connection, &mut writer).await;
                (disconnect_reason, disconnect_status) = ("Message too big", MESSAGE_TOO_BIG);
                break;
            }
            Ok(None) | Ok(Some(Err(_))) => {
                disconnect_reason = "Going away";
                break;
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let size = match &frame {
            Message::Text(text) => text.len(),
            Message::Binary(bytes) => bytes.len(),
            _ => 0,
        };
        if size > MAX_FRAME {
            too_big(&connection, &mut writer).await;
            (disconnect_reason, disconnect_status) = ("Message too big", MESSAGE_TOO_BIG);
            break;
        }
        connection
            .last_active_ms
            .store(chrono::Utc::now().timestamp_millis(), Ordering::Relaxed);
        let (body, is_base64) = match frame {
            Message::Text(text) => (text.to_string(), false),
            Message::Binary(bytes) => (base64::engine::general_purpose::STANDARD.encode(&bytes), true),
            Message::Close(_) => break,
            // Protocol pings are answered by the WebSocket layer, as API Gateway does.
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        let route_key = route_for(&body, is_base64);
        let event = json!({
            "requestContext": ctx.request_context(&route_key, "MESSAGE"),
            "body": body,
            "isBase64Encoded": is_base64,
        });
        match gw.functions.invoke_message(event).await {
            Ok(response) => {
                if let Some(reply) = response["body"].as_str()
                    && reply_tx.send(reply.as_bytes().to_vec()).await.is_err()
                {
                    break;
                }
            }
            Err(e) => tracing::error!(error = %e, route = %route_key, "message route failed"),
        }
    }

    gw.hub.remove(&ctx.id);
    writer.abort();
    let mut request_context = ctx.request_context("$disconnect", "DISCONNECT");
    request_context["disconnectReason"] = json!(disconnect_reason);
    request_context["disconnectStatusCode"] = json!(disconnect_status);
    if let Err(e) = gw
        .functions
        .invoke_disconnect(json!({ "requestContext": request_context }))
        .await
    {
        tracing::error!(error = %e, "$disconnect failed");
    }
}

/// Closes the connection with 1009 and gives the writer a moment to send the close frame.
async fn too_big(connection: &Connection, writer: &mut tokio::task::JoinHandle<()>) {
    if connection
        .tx
        .try_send(Outbound::CloseWith(MESSAGE_TOO_BIG, "Message too big"))
        .is_ok()
    {
        let _ = tokio::time::timeout(Duration::from_secs(1), writer).await;
    }
}

/// `$request.body.action`: a declared route when the body names one, `$default` otherwise.
fn route_for(body: &str, is_base64: bool) -> String {
    if is_base64 {
        return "$default".into();
    }
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("action").and_then(Value::as_str).map(str::to_owned))
        .filter(|a| ClientAction::ROUTE_KEYS.contains(&a.as_str()))
        .unwrap_or_else(|| "$default".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_action_field_selects_the_route() {
        assert_eq!(
            route_for(r#"{"action":"typing","conversationId":"x"}"#, false),
            "typing"
        );
        assert_eq!(route_for(r#"{"action":"dance"}"#, false), "$default");
        assert_eq!(route_for("not json", false), "$default");
        assert_eq!(route_for("AAAA", true), "$default");
    }

    #[test]
    fn connection_ids_look_like_api_gateways() {
        let id = connection_id();
        assert_eq!(id.len(), 16);
        assert!(messaging_core::ids::ConnectionId::parse(&id).is_ok());
    }
}
