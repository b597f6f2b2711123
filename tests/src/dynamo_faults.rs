//! A DynamoDB endpoint that misbehaves the way DynamoDB does and moto never does.
//!
//! It sits between the store and moto (`AWS_ENDPOINT_URL`), forwards every request, and
//! answers some of them with what a busy or troubled DynamoDB answers:
//! `TransactionConflictException` for a plain write that touches an item inside a
//! running transaction, `TransactionCanceledException` whose reasons are throttling or a
//! conflict, throttling, 500s, `UnprocessedKeys` from BatchGetItem, and writes that
//! committed although their answer was lost. It also keeps what moto ignores: a
//! `ClientRequestToken` makes a retried `TransactWriteItems` succeed without writing again
//! (and a reused token with other items is `IdempotentParameterMismatchException`), as
//! DynamoDB does for ten minutes.
//!
//! Faults come from a [`FaultPlan`]: scripted (the next requests of an operation get these
//! faults, for tests of one behaviour) and/or random (a rate over every request a fault
//! applies to, for running a whole conformance suite through it). What was injected is
//! counted, so tests can check that the faults they rely on really happened.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A way DynamoDB says no (or seems to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// `TransactionConflictException`, for PutItem, UpdateItem and DeleteItem.
    TransactionConflict,
    /// `TransactionCanceledException` with `ThrottlingError` among the reasons.
    CancelledByThrottling,
    /// `TransactionCanceledException` with `TransactionConflict` among the reasons.
    CancelledByConflict,
    /// `ProvisionedThroughputExceededException`, for any operation.
    Throttled,
    /// A 500 `InternalServerError` before the request reaches moto.
    ServerError,
    /// The write reaches moto and is applied; the answer becomes a 500.
    LostAnswer,
    /// BatchGetItem hands back some of the keys as `UnprocessedKeys`.
    Unprocessed,
}

impl Fault {
    pub const ALL: [Fault; 7] = [
        Fault::TransactionConflict,
        Fault::CancelledByThrottling,
        Fault::CancelledByConflict,
        Fault::Throttled,
        Fault::ServerError,
        Fault::LostAnswer,
        Fault::Unprocessed,
    ];

    /// Whether DynamoDB can answer `operation` (an `X-Amz-Target` suffix) this way.
    pub fn applies_to(self, operation: &str) -> bool {
        let plain_write = matches!(operation, "PutItem" | "UpdateItem" | "DeleteItem");
        match self {
            Fault::TransactionConflict => plain_write,
            Fault::CancelledByThrottling | Fault::CancelledByConflict => operation == "TransactWriteItems",
            Fault::Throttled | Fault::ServerError => true,
            Fault::LostAnswer => plain_write || operation == "TransactWriteItems",
            Fault::Unprocessed => operation == "BatchGetItem",
        }
    }
}

/// Which requests get which faults.
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    /// Consumed first: the next request of that operation gets that fault.
    pub script: Vec<(&'static str, Fault)>,
    /// Then each request gets one of these (that applies to it) with this probability.
    pub rate: f64,
    pub kinds: Vec<Fault>,
    pub seed: u64,
}

impl FaultPlan {
    /// Every kind of fault, each request faulted with probability `rate`.
    pub fn random(rate: f64) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7);
        Self {
            script: Vec::new(),
            rate,
            kinds: Fault::ALL.to_vec(),
            seed,
        }
    }

    /// Exactly these faults, in order, on the next requests of their operations.
    pub fn scripted(script: Vec<(&'static str, Fault)>) -> Self {
        Self {
            script,
            rate: 0.0,
            kinds: Vec::new(),
            seed: 1,
        }
    }

    /// `fault` on every request of `operation`, for as long as the plan runs.
    pub fn always(operation: &'static str, fault: Fault) -> Self {
        Self {
            script: vec![(operation, fault); 10_000],
            rate: 0.0,
            kinds: Vec::new(),
            seed: 1,
        }
    }
}

struct ProxyState {
    script: VecDeque<(&'static str, Fault)>,
    rate: f64,
    kinds: Vec<Fault>,
    rng: u64,
    injected: HashMap<(String, Fault), u64>,
    forwarded: u64,
    /// Committed transactions by client request token: (request, answer).
    tokens: HashMap<String, (Value, Bytes)>,
}

/// xorshift64*: a number in [0, 1) from `state` (never 0), reproducible from the seed,
/// good enough to pick faults. The fault injectors of `faults` use it too.
pub fn next_unit(state: &mut u64) -> f64 {
    let mut x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
}

impl ProxyState {
    fn next_unit(&mut self) -> f64 {
        next_unit(&mut self.rng)
    }

    fn pick(&mut self, operation: &str) -> Option<Fault> {
        if let Some(i) = self.script.iter().position(|(op, _)| *op == operation) {
            return self.script.remove(i).map(|(_, f)| f);
        }
        if self.rate <= 0.0 || self.next_unit() >= self.rate {
            return None;
        }
        let applicable: Vec<Fault> = self.kinds.iter().copied().filter(|f| f.applies_to(operation)).collect();
        if applicable.is_empty() {
            return None;
        }
        let i = (self.next_unit() * applicable.len() as f64) as usize;
        applicable.get(i.min(applicable.len() - 1)).copied()
    }
}

struct Shared {
    state: Mutex<ProxyState>,
    upstream: String,
    http: reqwest::Client,
}

/// A running fault proxy. It stops with the runtime that started it.
#[derive(Clone)]
pub struct FaultProxy {
    pub url: String,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port in front of `upstream` (moto).
    pub async fn start(upstream: &str, plan: FaultPlan) -> FaultProxy {
        let shared = Arc::new(Shared {
            state: Mutex::new(ProxyState {
                script: plan.script.into_iter().collect(),
                rate: plan.rate,
                kinds: plan.kinds,
                rng: plan.seed.max(1),
                injected: HashMap::new(),
                forwarded: 0,
                tokens: HashMap::new(),
            }),
            upstream: upstream.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        });
        let app = axum::Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fault proxy");
        let addr = listener.local_addr().expect("proxy address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FaultProxy {
            url: format!("http://{addr}"),
            shared,
        }
    }

    /// From now on, each request gets one of `kinds` (that applies to it) with probability
    /// `rate` (after a gateway's start-up, so that creating its tables is not faulted).
    pub fn set_random(&self, rate: f64, kinds: Vec<Fault>) {
        let mut state = self.lock();
        state.rate = rate;
        state.kinds = kinds;
    }

    /// Queues more scripted faults (after a test's setup, so that it does not use them).
    pub fn arm(&self, script: Vec<(&'static str, Fault)>) {
        self.lock().script.extend(script);
    }

    /// How many times `fault` was injected into `operation` so far.
    pub fn injected(&self, operation: &str, fault: Fault) -> u64 {
        self.lock()
            .injected
            .get(&(operation.to_owned(), fault))
            .copied()
            .unwrap_or(0)
    }

    /// How many times `fault` was injected, whatever the operation.
    pub fn injected_any(&self, fault: Fault) -> u64 {
        self.lock()
            .injected
            .iter()
            .filter(|((_, f), _)| *f == fault)
            .map(|(_, n)| n)
            .sum()
    }

    /// Requests that reached moto.
    pub fn forwarded(&self) -> u64 {
        self.lock().forwarded
    }

    /// Scripted faults not used yet.
    pub fn pending_script(&self) -> usize {
        self.lock().script.len()
    }

    /// Faults injected so far, for a test's log.
    pub fn summary(&self) -> String {
        let state = self.lock();
        let mut rows: Vec<String> = state
            .injected
            .iter()
            .map(|((op, f), n)| format!("{op}/{f:?}={n}"))
            .collect();
        rows.sort();
        format!("forwarded {}, injected: {}", state.forwarded, rows.join(" "))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ProxyState> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn dynamodb_error(status: StatusCode, code: &str, message: &str, extra: Option<(&str, Value)>) -> Response {
    let mut body = json!({ "__type": format!("com.amazonaws.dynamodb.v20120810#{code}"), "message": message });
    if let Some((k, v)) = extra {
        body[k] = v;
    }
    let mut response = (status, body.to_string()).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/x-amz-json-1.0"));
    response
}

fn cancellation(request: &Value, code: &str) -> Response {
    let n = request["TransactItems"].as_array().map_or(1, Vec::len).max(1);
    let mut reasons = vec![json!({ "Code": "None" }); n];
    reasons[n - 1] = json!({ "Code": code, "Message": "injected by the fault proxy" });
    let listed: Vec<&str> = reasons.iter().map(|r| r["Code"].as_str().unwrap_or("None")).collect();
    dynamodb_error(
        StatusCode::BAD_REQUEST,
        "TransactionCanceledException",
        &format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            listed.join(", ")
        ),
        Some(("CancellationReasons", Value::Array(reasons))),
    )
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if target.is_empty() {
        // Not DynamoDB (S3 creating the attachments bucket, say): passed through as is.
        return pass_through(&shared, method, &uri, headers, body).await;
    }
    let operation = target.rsplit('.').next().unwrap_or("").to_owned();
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let token = request["ClientRequestToken"].as_str().map(str::to_owned);

    // DynamoDB's idempotency: a committed transaction's token answers for it again.
    if operation == "TransactWriteItems"
        && let Some(token) = &token
    {
        let known = shared
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .tokens
            .get(token)
            .cloned();
        if let Some((original, answer)) = known {
            if original != request {
                return dynamodb_error(
                    StatusCode::BAD_REQUEST,
                    "IdempotentParameterMismatchException",
                    "the request uses the same client token as a previous, but non-identical request",
                    None,
                );
            }
            return ok_json(answer);
        }
    }

    let fault = {
        let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
        let fault = state.pick(&operation);
        if let Some(f) = fault {
            *state.injected.entry((operation.clone(), f)).or_default() += 1;
        }
        fault
    };
    let mut forwarded_request = request.clone();
    let mut unprocessed: Option<Value> = None;
    match fault {
        Some(Fault::TransactionConflict) => {
            return dynamodb_error(
                StatusCode::BAD_REQUEST,
                "TransactionConflictException",
                "Transaction is ongoing for the item",
                None,
            );
        }
        Some(Fault::CancelledByThrottling) => return cancellation(&request, "ThrottlingError"),
        Some(Fault::CancelledByConflict) => return cancellation(&request, "TransactionConflict"),
        Some(Fault::Throttled) => {
            return dynamodb_error(
                StatusCode::BAD_REQUEST,
                "ProvisionedThroughputExceededException",
                "The level of configured provisioned throughput for the table was exceeded",
                None,
            );
        }
        Some(Fault::ServerError) => {
            return dynamodb_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                "Internal server error",
                None,
            );
        }
        Some(Fault::Unprocessed) => {
            unprocessed = Some(hold_back_keys(&mut forwarded_request));
        }
        Some(Fault::LostAnswer) | None => {}
    }

    let (status, response_headers, answer) = if forwarded_request["RequestItems"]
        .as_object()
        .is_some_and(|m| m.is_empty())
    {
        // Every key held back: nothing to ask moto.
        (
            StatusCode::OK,
            HeaderMap::new(),
            Bytes::from(json!({ "Responses": {} }).to_string()),
        )
    } else {
        match forward(&shared, &headers, &forwarded_request, &body, unprocessed.is_some()).await {
            Ok(r) => r,
            Err(e) => {
                return dynamodb_error(StatusCode::BAD_GATEWAY, "InternalServerError", &e, None);
            }
        }
    };
    shared.state.lock().unwrap_or_else(|e| e.into_inner()).forwarded += 1;

    if status.is_success()
        && operation == "TransactWriteItems"
        && let Some(token) = token
    {
        shared
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .tokens
            .insert(token, (request.clone(), answer.clone()));
    }
    if fault == Some(Fault::LostAnswer) {
        return dynamodb_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Internal server error (the write was applied; its answer was lost)",
            None,
        );
    }
    if let Some(held) = unprocessed
        && status.is_success()
    {
        let mut answer: Value = serde_json::from_slice(&answer).unwrap_or_else(|_| json!({}));
        answer["UnprocessedKeys"] = held;
        return ok_json(Bytes::from(answer.to_string()));
    }
    let mut response = (status, answer).into_response();
    for (name, value) in response_headers.iter() {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    response
}

fn ok_json(body: Bytes) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/x-amz-json-1.0"));
    response
}

/// Takes about half of a BatchGetItem's keys (at least one) out of the request and returns
/// them as its `UnprocessedKeys`.
fn hold_back_keys(request: &mut Value) -> Value {
    let mut held = serde_json::Map::new();
    let Some(tables) = request["RequestItems"].as_object_mut() else {
        return Value::Object(held);
    };
    let names: Vec<String> = tables.keys().cloned().collect();
    for name in names {
        let Some(spec) = tables.get_mut(&name) else { continue };
        let Some(keys) = spec["Keys"].as_array_mut() else {
            continue;
        };
        let keep = keys.len() / 2;
        let back: Vec<Value> = keys.drain(keep..).collect();
        let mut held_spec = spec.clone();
        held_spec["Keys"] = Value::Array(back);
        held.insert(name.clone(), held_spec);
        if spec["Keys"].as_array().is_some_and(Vec::is_empty) {
            tables.remove(&name);
        }
    }
    Value::Object(held)
}

async fn pass_through(
    shared: &Shared,
    method: axum::http::Method,
    uri: &axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(method) = reqwest::Method::from_bytes(method.as_str().as_bytes()) else {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    };
    let mut out = shared
        .http
        .request(method, format!("{}{path}", shared.upstream))
        .body(body);
    for (name, value) in headers.iter() {
        if name != "host" && name != "content-length" {
            out = out.header(name.as_str(), value.as_bytes());
        }
    }
    let Ok(response) = out.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut kept = HeaderMap::new();
    for (name, value) in response.headers() {
        if name == "content-length" || name == "transfer-encoding" {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            kept.insert(n, v);
        }
    }
    let bytes = response.bytes().await.unwrap_or_default();
    let mut answer = (status, Bytes::from(bytes.to_vec())).into_response();
    answer.headers_mut().extend(kept);
    answer
}

async fn forward(
    shared: &Shared,
    headers: &HeaderMap,
    request: &Value,
    original: &Bytes,
    rewritten: bool,
) -> Result<(StatusCode, HeaderMap, Bytes), String> {
    let body = if rewritten {
        Bytes::from(request.to_string())
    } else {
        original.clone()
    };
    let mut out = shared.http.post(format!("{}/", shared.upstream)).body(body);
    for name in [
        "content-type",
        "x-amz-target",
        "authorization",
        "x-amz-date",
        "x-amz-security-token",
    ] {
        if let Some(v) = headers.get(name) {
            out = out.header(name, v.clone());
        }
    }
    let response = out.send().await.map_err(|e| format!("upstream: {e}"))?;
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut kept = HeaderMap::new();
    for name in ["content-type", "x-amzn-requestid", "x-amz-crc32"] {
        if let Some(v) = response.headers().get(name)
            && let Ok(v) = HeaderValue::from_bytes(v.as_bytes())
        {
            kept.insert(name, v);
        }
    }
    let bytes = response.bytes().await.map_err(|e| format!("upstream body: {e}"))?;
    Ok((status, kept, Bytes::from(bytes.to_vec())))
}
