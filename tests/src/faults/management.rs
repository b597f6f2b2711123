//! A fault injector in front of the gateway's `@connections`: the functions' management
//! client is pointed at it (`GatewayConfig::management_endpoint`), and it answers some
//! pushes the way a troubled API Gateway does — `429 LimitExceededException`, `500`,
//! or `410 GoneException` for a connection that is in fact alive (as when a push races
//! the client's reconnect) — and forwards the rest untouched, signature and all.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PushFault {
    LimitExceeded,
    ServerError,
    Gone,
}

#[derive(Default)]
struct State_ {
    /// Each push is answered by a fault with these probabilities (checked in order).
    rates: Vec<(PushFault, f64)>,
    /// The next `n` pushes are answered `Gone`, whatever their connection.
    gone_next: u64,
    rng: u64,
    injected: HashMap<PushFault, u64>,
    forwarded: u64,
}

pub struct ManagementFaults {
    pub url: String,
    state: Arc<Mutex<State_>>,
    upstream: Arc<Mutex<String>>,
}

struct Shared {
    state: Arc<Mutex<State_>>,
    upstream: Arc<Mutex<String>>,
    http: reqwest::Client,
}

impl ManagementFaults {
    /// Starts on a free port; [`Self::forward_to`] names the gateway once it is up.
    pub async fn start() -> ManagementFaults {
        let state = Arc::new(Mutex::new(State_ {
            rng: 0x9E37_79B9_7F4A_7C15,
            ..State_::default()
        }));
        let upstream = Arc::new(Mutex::new(String::new()));
        let shared = Arc::new(Shared {
            state: state.clone(),
            upstream: upstream.clone(),
            http: reqwest::Client::new(),
        });
        let app = axum::Router::new().fallback(handle).with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        ManagementFaults {
            url: format!("http://{addr}"),
            state,
            upstream,
        }
    }

    pub fn forward_to(&self, gateway_url: &str) {
        *self.upstream.lock().unwrap_or_else(|e| e.into_inner()) = gateway_url.trim_end_matches('/').to_owned();
    }

    pub fn set_rates(&self, rates: Vec<(PushFault, f64)>) {
        self.lock().rates = rates;
    }

    pub fn gone_next(&self, n: u64) {
        self.lock().gone_next = n;
    }

    pub fn injected(&self, fault: PushFault) -> u64 {
        self.lock().injected.get(&fault).copied().unwrap_or(0)
    }

    pub fn forwarded(&self) -> u64 {
        self.lock().forwarded
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State_> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State_ {
    fn pick(&mut self) -> Option<PushFault> {
        if self.gone_next > 0 {
            self.gone_next -= 1;
            return Some(PushFault::Gone);
        }
        let roll = crate::dynamo_faults::next_unit(&mut self.rng);
        let mut acc = 0.0;
        for (fault, rate) in self.rates.clone() {
            acc += rate;
            if roll < acc {
                return Some(fault);
            }
        }
        None
    }
}

fn aws_error(status: StatusCode, kind: &'static str) -> Response {
    let mut response = (status, axum::Json(json!({ "message": "injected by the fault proxy" }))).into_response();
    response
        .headers_mut()
        .insert("x-amzn-errortype", HeaderValue::from_static(kind));
    response
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if method == Method::POST {
        let fault = {
            let mut state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            let fault = state.pick();
            if let Some(f) = fault {
                *state.injected.entry(f).or_default() += 1;
            }
            fault
        };
        match fault {
            Some(PushFault::LimitExceeded) => {
                return aws_error(StatusCode::TOO_MANY_REQUESTS, "LimitExceededException");
            }
            Some(PushFault::ServerError) => {
                return aws_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerErrorException");
            }
            Some(PushFault::Gone) => return aws_error(StatusCode::GONE, "GoneException"),
            None => {}
        }
    }
    let upstream = shared.upstream.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let Ok(method) = reqwest::Method::from_bytes(method.as_str().as_bytes()) else {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    };
    // Every header as signed, Host included: the gateway checks the SigV4 signature.
    let mut out = shared.http.request(method, format!("{upstream}{path}")).body(body);
    for (name, value) in headers.iter() {
        if name != "content-length" {
            out = out.header(name.as_str(), value.as_bytes());
        }
    }
    let Ok(response) = out.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    shared.state.lock().unwrap_or_else(|e| e.into_inner()).forwarded += 1;
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let kind = response.headers().get("x-amzn-errortype").cloned();
    let bytes = response.bytes().await.unwrap_or_default();
    let mut answer = (status, Bytes::from(bytes.to_vec())).into_response();
    if let Some(kind) = kind.and_then(|k| HeaderValue::from_bytes(k.as_bytes()).ok()) {
        answer.headers_mut().insert("x-amzn-errortype", kind);
    }
    answer
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    answer
}
