//! A local gateway per test: started in process on a free port with a fresh data folder,
//! and HTTP clients that log in through its dev login like a browser would.

use std::time::Duration;

use local_gateway::{GatewayConfig, Running};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub struct TestGateway {
    pub running: Running,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// An embedded gateway (SQLite, in-process registry, local blobs).
pub async fn start() -> TestGateway {
    start_with(|_| {}).await
}

/// A gateway with its configuration adjusted (backends, TTLs...).
pub async fn start_with(adjust: impl FnOnce(&mut GatewayConfig)) -> TestGateway {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = GatewayConfig::embedded(dir.path());
    adjust(&mut config);
    let running = local_gateway::start(config).await.expect("gateway starts");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client");
    TestGateway {
        running,
        http,
        _dir: dir,
    }
}

impl TestGateway {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.url())
    }

    /// Logs a demo user in through `/dev/login`.
    pub async fn login(&self, user_id: &str) -> Api {
        let response = self
            .http
            .post(self.url("/dev/login"))
            .json(&json!({ "userId": user_id }))
            .send()
            .await
            .expect("login request");
        assert_eq!(response.status(), StatusCode::OK, "login as {user_id}");
        let body: Value = response.json().await.expect("login body");
        Api {
            http: self.http.clone(),
            base: self.running.url(),
            token: body["token"].as_str().map(str::to_owned),
            user_id: user_id.to_owned(),
        }
    }

    /// A client without credentials.
    pub fn anonymous(&self) -> Api {
        Api {
            http: self.http.clone(),
            base: self.running.url(),
            token: None,
            user_id: String::new(),
        }
    }

    /// A client with a given bearer token.
    pub fn with_token(&self, token: &str) -> Api {
        Api {
            http: self.http.clone(),
            base: self.running.url(),
            token: Some(token.to_owned()),
            user_id: String::new(),
        }
    }
}

/// A REST client acting as one user.
#[derive(Clone)]
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
    pub user_id: String,
}

/// A response: status and JSON body (`Value::Null` when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Reply {
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        self.body
    }

    pub fn error_code(&self) -> Option<&str> {
        self.body["error"]["code"].as_str()
    }
}

impl Api {
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let response = req.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
        }
    }

    /// A POST that reports transport failures instead of panicking: (status, body, Retry-After).
    pub async fn try_post(&self, path: &str, body: Value) -> Result<(u16, Value, Option<u64>), String> {
        self.try_call(Method::POST, path, Some(body)).await
    }

    pub async fn try_get(&self, path: &str) -> Result<(u16, Value, Option<u64>), String> {
        self.try_call(Method::GET, path, None).await
    }

    async fn try_call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value, Option<u64>), String> {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let response = req.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let text = response.text().await.map_err(|e| e.to_string())?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null), retry_after))
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }

    /// Creates a conversation with the given participants; returns its id.
    pub async fn create_conversation(&self, title: &str, participants: &[&str]) -> String {
        let body = self
            .post(
                "/api/messaging/conversations",
                json!({ "title": title, "participantIds": participants }),
            )
            .await
            .expect(201);
        body["id"].as_str().expect("conversation id").to_owned()
    }

    /// Sends a message with a fresh client message id; returns the stored message.
    pub async fn send(&self, conversation: &str, text: &str) -> Value {
        let client_id = ulid::Ulid::generate().to_string();
        self.post(
            &format!("/api/messaging/conversations/{conversation}/messages"),
            json!({ "body": text, "clientMessageId": client_id }),
        )
        .await
        .expect(201)
    }
}
