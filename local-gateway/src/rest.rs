//! REST: plain HTTP in, API Gateway REST proxy events out to the function that owns the
//! route, the proxy response back as HTTP.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use messaging_http::routes::{ROUTES, function_for};

use crate::Gateway;

/// The stage name events carry, as a deployed API's would (`prod`...).
pub const STAGE: &str = "local";

/// The route template (`/api/messaging/conversations/{id}`) and path parameters for a path.
fn match_route(method: &Method, path: &str) -> Option<(&'static str, HashMap<String, String>)> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    ROUTES.iter().filter(|r| r.method == method.as_str()).find_map(|r| {
        let template: Vec<&str> = r.path.split('/').collect();
        if template.len() != segments.len() {
            return None;
        }
        let mut params = HashMap::new();
        for (t, s) in template.iter().zip(&segments) {
            if let Some(name) = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                if s.is_empty() {
                    return None;
                }
                let decoded = percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
                params.insert(name.to_owned(), decoded);
            } else if t != s {
                return None;
            }
        }
        Some((r.path, params))
    })
}

fn headers_json(headers: &HeaderMap) -> (Value, Value) {
    let mut single = serde_json::Map::new();
    let mut multi: serde_json::Map<String, Value> = serde_json::Map::new();
    for (name, value) in headers {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        single.insert(name.as_str().to_owned(), json!(v));
        if let Some(a) = multi
            .entry(name.as_str().to_owned())
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            a.push(json!(v))
        }
    }
    (Value::Object(single), Value::Object(multi))
}

fn query_json(uri: &Uri) -> (Value, Value) {
    let Some(query) = uri.query().filter(|q| !q.is_empty()) else {
        return (Value::Null, Value::Null);
    };
    let mut single = serde_json::Map::new();
    let mut multi: serde_json::Map<String, Value> = serde_json::Map::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        single.insert(k.to_string(), json!(v));
        if let Some(a) = multi.entry(k.to_string()).or_insert_with(|| json!([])).as_array_mut() {
            a.push(json!(v))
        }
    }
    (Value::Object(single), Value::Object(multi))
}

/// The API Gateway REST proxy event for an HTTP request.
pub fn proxy_event(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8], source_ip: &str) -> Value {
    let path = uri.path();
    let (resource, params) = match_route(method, path).unwrap_or(("/{proxy+}", HashMap::new()));
    let (headers_single, headers_multi) = headers_json(headers);
    let (query_single, query_multi) = query_json(uri);
    let (body, is_base64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (Value::Null, false),
        Ok(text) => (json!(text), false),
        Err(_) => (json!(STANDARD.encode(body)), true),
    };
    let now = chrono::Utc::now();
    json!({
        "resource": resource,
        "path": path,
        "httpMethod": method.as_str(),
        "headers": headers_single,
        "multiValueHeaders": headers_multi,
        "queryStringParameters": query_single,
        "multiValueQueryStringParameters": query_multi,
        "pathParameters": if params.is_empty() { Value::Null } else { json!(params) },
        "stageVariables": Value::Null,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method.as_str(),
            "stage": STAGE,
            "path": format!("/{STAGE}{path}"),
            "protocol": "HTTP/1.1",
            "requestId": ulid::Ulid::generate().to_string(),
            "requestTime": now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            "requestTimeEpoch": now.timestamp_millis(),
            "domainName": headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost"),
            "identity": {
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent").and_then(|h| h.to_str().ok()),
            },
        },
        "body": body,
        "isBase64Encoded": is_base64,
    })
}

/// A proxy response (`statusCode`, `multiValueHeaders`, `body`, `isBase64Encoded`) as HTTP.
pub fn http_response(proxy: &Value) -> Response {
    let status = proxy["statusCode"]
        .as_u64()
        .and_then(|s| StatusCode::from_u16(s as u16).ok())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    let body = match proxy["body"].as_str() {
        None => Vec::new(),
        Some(text) if proxy["isBase64Encoded"].as_bool() == Some(true) => STANDARD.decode(text).unwrap_or_default(),
        Some(text) => text.as_bytes().to_vec(),
    };
    let mut response = Response::builder()
        .status(status)
        .body(Body::from(body))
        .unwrap_or_default();
    let headers = response.headers_mut();
    for key in ["headers", "multiValueHeaders"] {
        if let Some(map) = proxy[key].as_object() {
            for (name, values) in map {
                let Ok(name) = HeaderName::from_bytes(name.as_bytes()) else {
                    continue;
                };
                let values: Vec<&Value> = match values {
                    Value::Array(list) => list.iter().collect(),
                    other => vec![other],
                };
                for v in values {
                    if let Some(Ok(v)) = v.as_str().map(HeaderValue::from_str) {
                        headers.append(name.clone(), v);
                    }
                }
            }
        }
    }
    response
}

/// Everything under `/api/...`: find the owning function, invoke it, answer.
pub async fn handle(
    State(gw): State<Arc<Gateway>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(function) = function_for(uri.path()) else {
        return messaging_http::ApiError(messaging_core::Error::NotFound("route")).into_response();
    };
    // The functions take at most this much; a longer body (even one without a length)
    // is cut off here rather than held in memory.
    let limit = messaging_http::MAX_BODY_BYTES;
    let Ok(body) = axum::body::to_bytes(body, limit).await else {
        return crate::guard::too_large(limit);
    };
    let event = proxy_event(&method, &uri, &headers, &body, &peer.ip().to_string());
    match gw.functions.invoke_rest(function, event).await {
        Ok(proxy) => http_response(&proxy),
        Err(e) => {
            tracing::error!(error = %e, "function invocation failed");
            // What API Gateway answers when the integration fails.
            (
                StatusCode::BAD_GATEWAY,
                axum::Json(json!({"message": "Internal server error"})),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_their_templates_with_decoded_parameters() {
        let (resource, params) =
            match_route(&Method::PATCH, "/api/messaging/conversations/01ABC/messages/01DEF").expect("matches");
        assert_eq!(resource, "/api/messaging/conversations/{id}/messages/{messageId}");
        assert_eq!(params["id"], "01ABC");
        assert_eq!(params["messageId"], "01DEF");
        assert!(match_route(&Method::PUT, "/api/messaging/conversations").is_none());
        let (_, params) = match_route(&Method::DELETE, "/api/messaging/conversations/1/participants/a%40b").unwrap();
        assert_eq!(params["userId"], "a@b");
    }

    #[test]
    fn a_proxy_event_deserialises_as_lambda_http_expects() {
        let uri: Uri = "/api/messaging/conversations?limit=5".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:8080"));
        let event = proxy_event(&Method::GET, &uri, &headers, b"", "127.0.0.1");
        let parsed: lambda_http::request::LambdaRequest = serde_json::from_value(event.clone()).unwrap();
        assert!(matches!(parsed, lambda_http::request::LambdaRequest::ApiGatewayV1(_)));
        assert_eq!(event["queryStringParameters"]["limit"], "5");
        assert_eq!(event["resource"], "/api/messaging/conversations");
    }
}
