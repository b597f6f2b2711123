//! The WebSocket side: handlers for the `$connect` authorizer, `$connect`, `$disconnect`,
//! the action routes (`typing`, `stop-typing`, `ping`, `$default`) and the delayed-task
//! queue. Each takes the event API Gateway (or SQS) sends and returns what it expects.
//!
//! Identity comes only from the authorizer context in the request context, never from
//! the message body.
//!
//! # Layout
//! - [`events`]: the event and response shapes.
//! - [`delayed_tasks`]: the SQS queue of typing expiry and presence checks.
//! - this module: the handlers, and the one mapping from errors to WebSocket answers.

pub mod delayed_tasks;
pub mod events;

use std::collections::HashMap;

use serde_json::{Value, json};

pub use delayed_tasks::delayed_tasks;
use messaging_core::events::{ClientAction, ServerEvent};
use messaging_core::ids::{ConnectionId, UserId};
use messaging_core::model::Role;
use messaging_core::{Error, Identity, Messaging};

pub use events::*;

/// The query parameter `$connect` takes the ticket from.
pub const TICKET_PARAM: &str = "ticket";

/// The one mapping from an application error to what a WebSocket client sees.
pub fn error_event(e: &Error) -> ServerEvent {
    ServerEvent::Error {
        code: e.code().to_owned(),
        message: e.public_message(),
        field: e.field().map(str::to_owned),
    }
}

fn frame(event: &ServerEvent) -> WsResponse {
    WsResponse {
        status_code: 200,
        body: Some(String::from_utf8_lossy(&event.to_json()).into_owned()),
    }
}

fn status(code: u16) -> WsResponse {
    WsResponse {
        status_code: code,
        body: None,
    }
}

/// A refused `$connect`. A REQUEST authorizer that fails with exactly the message
/// `Unauthorized` makes API Gateway answer the upgrade with 401 (the local gateway does
/// the same); why it was refused goes to the log, never to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Unauthorized")]
pub struct Unauthorized;

/// The `$connect` REQUEST authorizer: redeems the single-use ticket from the query string.
pub async fn authorize(svc: &Messaging, event: AuthorizerEvent) -> Result<AuthorizerResponse, Unauthorized> {
    allow(svc, event).await.map_err(|e| {
        tracing::info!(error = %e, "connection refused");
        Unauthorized
    })
}

async fn allow(svc: &Messaging, event: AuthorizerEvent) -> Result<AuthorizerResponse, Error> {
    let ticket = event
        .query_string_parameters
        .as_ref()
        .and_then(|q| q.get(TICKET_PARAM))
        .ok_or_else(|| Error::unauthenticated("missing ticket"))?;
    let who = svc.redeem_ticket(ticket).await?;
    Ok(AuthorizerResponse {
        principal_id: who.user_id.to_string(),
        policy_document: PolicyDocument {
            version: "2012-10-17".into(),
            statement: vec![PolicyStatement {
                action: "execute-api:Invoke".into(),
                effect: "Allow".into(),
                resource: event.method_arn.clone(),
            }],
        },
        context: HashMap::from([
            ("userId".into(), json!(who.user_id.as_str())),
            ("role".into(), json!(who.role.as_str())),
            ("name".into(), json!(who.name)),
        ]),
    })
}

/// The caller, from the authorizer context API Gateway attaches to every event of the connection.
pub fn identity_of(ctx: &WsContext) -> Result<Identity, Error> {
    let auth = ctx
        .authorizer
        .as_ref()
        .ok_or_else(|| Error::unauthenticated("no authorizer context"))?;
    let text = |k: &str| auth.get(k).and_then(Value::as_str);
    let user_id = UserId::parse(text("userId").ok_or_else(|| Error::unauthenticated("no user in context"))?)?;
    let role = Role::parse(text("role").unwrap_or("client"))?;
    let name = text("name").map(str::to_owned).unwrap_or_else(|| user_id.to_string());
    Ok(Identity { user_id, role, name })
}

fn connection_of(ctx: &WsContext) -> Result<ConnectionId, Error> {
    ConnectionId::parse(&ctx.connection_id)
}

/// `$connect`: registers the connection for the authorized user.
pub async fn connect(svc: &Messaging, event: WsEvent) -> WsResponse {
    let result = async {
        let who = identity_of(&event.request_context)?;
        let connection = connection_of(&event.request_context)?;
        svc.connect(&connection, &who).await
    }
    .await;
    answer(result, "connect refused")
}

/// The answer to `$connect` / `$disconnect`: API Gateway refuses the connection on
/// anything but 2xx, so an error carries its HTTP status.
fn answer(result: Result<(), Error>, what: &str) -> WsResponse {
    match result {
        Ok(()) => status(200),
        Err(e) => {
            tracing::warn!(error = %e, "{what}");
            status(e.http_status())
        }
    }
}

/// `$disconnect`: forgets the connection (best effort: it may never come).
pub async fn disconnect(svc: &Messaging, event: WsEvent) -> WsResponse {
    let result = async {
        let connection = connection_of(&event.request_context)?;
        svc.disconnect(&connection).await
    }
    .await;
    answer(result, "disconnect failed")
}

/// Action routes and `$default`: parses the action, runs it, answers with a frame when
/// there is something to say (`pong`, or an error).
pub async fn message(svc: &Messaging, event: WsEvent) -> WsResponse {
    let result = async {
        let who = identity_of(&event.request_context)?;
        let connection = connection_of(&event.request_context)?;
        let body = event.body.as_deref().unwrap_or("");
        if body.len() > 8 * 1024 {
            return Err(Error::PayloadTooLarge("actions are at most 8 KB".into()));
        }
        let action = parse_action(body)?;
        svc.handle_action(&connection, &who, action).await
    }
    .await;
    match result {
        Ok(Some(reply)) => frame(&reply),
        Ok(None) => status(200),
        Err(e) => frame(&error_event(&e)),
    }
}

/// A client frame: an `action` the API routes, with its fields parsed into domain types
/// (a bad `conversationId` is named as such).
pub fn parse_action(body: &str) -> Result<ClientAction, Error> {
    let unknown = || {
        let known = ClientAction::ROUTE_KEYS.join(", ");
        Error::invalid("action", format!("expected {{\"action\": one of {known}, ...}}"))
    };
    let value: Value = serde_json::from_str(body).map_err(|_| unknown())?;
    let action = value.get("action").and_then(Value::as_str).ok_or_else(unknown)?;
    if !ClientAction::ROUTE_KEYS.contains(&action) {
        return Err(unknown());
    }
    messaging_core::json::parse(body.as_bytes())
}
