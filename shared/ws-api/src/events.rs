//! The API Gateway WebSocket event shapes the handlers take and return.
//!
//! Our own minimal structs rather than `aws_lambda_events`' ones: WebSocket events carry
//! the authorizer's context as a flat map (`requestContext.authorizer.userId`), which the
//! generic types drop. Field names follow the events API Gateway sends (see `events/`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `$connect`, `$disconnect` and message-route events.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WsEvent {
    pub request_context: WsContext,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub is_base64_encoded: bool,
    #[serde(default)]
    pub query_string_parameters: Option<HashMap<String, String>>,
    #[serde(default)]
    pub headers: Option<HashMap<String, String>>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WsContext {
    pub connection_id: String,
    /// `$connect`, `$disconnect`, `$default` or an action (`typing`, ...).
    pub route_key: String,
    /// `CONNECT`, `DISCONNECT` or `MESSAGE`.
    pub event_type: String,
    /// What the `$connect` authorizer returned as context, plus `principalId`.
    #[serde(default)]
    pub authorizer: Option<HashMap<String, Value>>,
    #[serde(default)]
    pub domain_name: Option<String>,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub api_id: Option<String>,
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub connected_at: Option<i64>,
    #[serde(default)]
    pub request_time_epoch: Option<i64>,
    #[serde(default)]
    pub message_direction: Option<String>,
    #[serde(default)]
    pub identity: Option<HashMap<String, Value>>,
    #[serde(default)]
    pub disconnect_status_code: Option<i64>,
    #[serde(default)]
    pub disconnect_reason: Option<String>,
}

/// What a WebSocket route handler returns. For two-way routes API Gateway sends `body`
/// back to the client as a frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WsResponse {
    pub status_code: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

/// The `$connect` REQUEST authorizer's input.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerEvent {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    pub method_arn: String,
    #[serde(default)]
    pub query_string_parameters: Option<HashMap<String, String>>,
    #[serde(default)]
    pub headers: Option<HashMap<String, String>>,
    #[serde(default)]
    pub request_context: Option<WsContext>,
}

/// The authorizer's answer: an IAM policy, and the context every later event of the
/// connection carries (`requestContext.authorizer`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizerResponse {
    pub principal_id: String,
    pub policy_document: PolicyDocument,
    pub context: HashMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyDocument {
    #[serde(rename = "Version")]
    pub version: String,
    #[serde(rename = "Statement")]
    pub statement: Vec<PolicyStatement>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyStatement {
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Effect")]
    pub effect: String,
    #[serde(rename = "Resource")]
    pub resource: String,
}
