//! The smoke suite: what a team runs after `sam deploy` (`make smoke STACK=<name>`), and
//! what `make test` runs against the local gateway so that its code is exercised on every
//! change.
//!
//! Two throwaway users ([`signin`]: Cognito users made with `AdminCreateUser`, or people
//! added to the local gateway's directory and signed in through its OIDC provider with the
//! authorization code + PKCE) go through the product as the web client does: create a
//! conversation → both on the WebSocket → upload a file to its presigned URL → send it →
//! the other receives it live → downloads the bytes → reads → the sender sees the read
//! receipt; then everything made is cleaned up. Each step is timed; [`Report`] prints a
//! pass/fail table.

pub mod cli;
pub mod signin;
mod socket;

use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub use signin::{Person, SignIn};
use socket::Socket;

/// The stack under test, as the web client's `config.json` names it.
#[derive(Debug, Clone)]
pub struct Target {
    /// REST base URL: `/api/messaging/...` is appended.
    pub api_base: String,
    /// WebSocket URL: `?ticket=...` is appended.
    pub ws_url: String,
}

/// One step's outcome.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: &'static str,
    pub passed: bool,
    pub millis: u128,
    pub detail: String,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub steps: Vec<Step>,
}

impl Report {
    pub fn passed(&self) -> bool {
        !self.steps.is_empty() && self.steps.iter().all(|s| s.passed)
    }

    /// The table `make smoke` prints.
    pub fn table(&self) -> String {
        let width = self.steps.iter().map(|s| s.name.len()).max().unwrap_or(4).max(4);
        let mut out = format!("{:<width$}  result  time     detail\n", "step");
        for s in &self.steps {
            out.push_str(&format!(
                "{:<width$}  {:<6}  {:>5} ms  {}\n",
                s.name,
                if s.passed { "pass" } else { "FAIL" },
                s.millis,
                s.detail
            ));
        }
        let failed = self.steps.iter().filter(|s| !s.passed).count();
        out.push_str(&match failed {
            0 => format!("all {} steps passed\n", self.steps.len()),
            n => format!("{n} of {} steps FAILED\n", self.steps.len()),
        });
        out
    }

    fn record<T>(&mut self, name: &'static str, started: Instant, outcome: Result<(T, String), String>) -> Option<T> {
        let millis = started.elapsed().as_millis();
        match outcome {
            Ok((value, detail)) => {
                self.steps.push(Step {
                    name,
                    passed: true,
                    millis,
                    detail,
                });
                Some(value)
            }
            Err(detail) => {
                self.steps.push(Step {
                    name,
                    passed: false,
                    millis,
                    detail,
                });
                None
            }
        }
    }
}

/// How long any one wait may take: a deployed stack's cold starts included.
const WAIT: Duration = Duration::from_secs(20);

/// A REST call as `person`; the JSON body, or what went wrong.
async fn call(
    http: &reqwest::Client,
    target: &Target,
    person: &Person,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Result<Value, String> {
    let mut request = http
        .request(method.clone(), format!("{}{path}", target.api_base))
        .bearer_auth(&person.access_token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.map_err(|e| format!("{method} {path}: {e}"))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        return Err(format!("{method} {path} as {}: {status} {}", person.label, clip(&text)));
    }
    if text.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(&text).map_err(|e| format!("{method} {path}: not JSON ({e})"))
}

fn clip(text: &str) -> String {
    text.chars().take(300).collect()
}

/// The file the suite shares: a small PDF, whose type the server checks from its bytes.
pub const FILE: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// Runs every step as `a` (who starts) and `b`, stopping at the first failure (later
/// steps need what earlier ones made); cleanup runs whatever happened.
pub async fn run(target: &Target, a: &Person, b: &Person) -> Report {
    let mut report = Report::default();
    let http = match reqwest::Client::builder().timeout(WAIT).build() {
        Ok(http) => http,
        Err(e) => {
            report.steps.push(Step {
                name: "http client",
                passed: false,
                millis: 0,
                detail: e.to_string(),
            });
            return report;
        }
    };
    let mut made: Option<String> = None;
    let _ = steps(&http, target, a, b, &mut report, &mut made).await;
    let started = Instant::now();
    let cleaned = cleanup(&http, target, a, b, made.as_deref()).await;
    report.record("cleanup", started, cleaned.map(|d| ((), d)));
    report
}

async fn steps(
    http: &reqwest::Client,
    target: &Target,
    a: &Person,
    b: &Person,
    report: &mut Report,
    made: &mut Option<String>,
) -> Option<()> {
    use reqwest::Method;
    let t = Instant::now();
    let title = format!("Smoke test {}", ulid::Ulid::generate());
    let created = call(
        http,
        target,
        a,
        Method::POST,
        "/api/messaging/conversations",
        Some(json!({ "title": title, "participantIds": [b.user_id] })),
    )
    .await
    .and_then(|v| {
        let id = v["conversation"]["id"].as_str().or(v["id"].as_str()).map(str::to_owned);
        id.ok_or_else(|| format!("no conversation id in {}", clip(&v.to_string())))
    })
    .map(|id| (id.clone(), format!("{} and {}", a.label, b.label)));
    let conversation = report.record("create conversation", t, created)?;
    *made = Some(conversation.clone());
    let base = format!("/api/messaging/conversations/{conversation}");

    let t = Instant::now();
    let sockets = async {
        let sa = Socket::open(http, target, a).await?;
        let sb = Socket::open(http, target, b).await?;
        Ok::<_, String>(((sa, sb), "both connected".to_owned()))
    }
    .await;
    let (mut sa, mut sb) = report.record("connect websockets", t, sockets)?;

    let t = Instant::now();
    let uploaded = async {
        let grant = call(
            http,
            target,
            a,
            Method::POST,
            &format!("{base}/attachments"),
            Some(json!({ "files": [{ "name": "smoke.pdf", "size": FILE.len(), "contentType": "application/pdf" }] })),
        )
        .await?;
        let slot = &grant["files"][0];
        let id = slot["id"].as_str().ok_or("no file id in the upload grant")?.to_owned();
        let url = slot["upload"]["url"].as_str().ok_or("no upload URL")?;
        let mut put = http.put(url).body(FILE.to_vec());
        for pair in slot["upload"]["headers"].as_array().into_iter().flatten() {
            if let (Some(name), Some(value)) = (pair[0].as_str(), pair[1].as_str())
                && !name.eq_ignore_ascii_case("content-length")
            {
                put = put.header(name, value);
            }
        }
        let response = put.send().await.map_err(|e| format!("upload: {e}"))?;
        if !response.status().is_success() {
            return Err(format!(
                "upload: {} {}",
                response.status(),
                clip(&response.text().await.unwrap_or_default())
            ));
        }
        Ok((id, format!("{} bytes to the presigned URL", FILE.len())))
    }
    .await;
    let file_id = report.record("upload file", t, uploaded)?;

    let t = Instant::now();
    let body = format!("Hello from the smoke suite {}", ulid::Ulid::generate());
    let sent = call(
        http,
        target,
        a,
        Method::POST,
        &format!("{base}/messages"),
        Some(json!({ "body": body, "clientMessageId": ulid::Ulid::generate().to_string(), "fileIds": [file_id] })),
    )
    .await
    .and_then(|m| {
        m["seq"]
            .as_u64()
            .ok_or_else(|| format!("no seq in {}", clip(&m.to_string())))
    })
    .map(|seq| (seq, format!("seq {seq}")));
    let seq = report.record("send message", t, sent)?;

    let t = Instant::now();
    let received = sb
        .wait_for(WAIT, |e| {
            e["type"] == "new-message" && e["data"]["message"]["body"] == body.as_str()
        })
        .await
        .map(|e| ((), format!("{} got seq {} live", b.label, e["data"]["message"]["seq"])));
    report.record("receive over websocket", t, received)?;

    let t = Instant::now();
    let downloaded = async {
        let link = call(http, target, b, Method::GET, &format!("{base}/files/{file_id}"), None).await?;
        let url = link["url"].as_str().ok_or("no download URL")?;
        let response = http.get(url).send().await.map_err(|e| format!("download: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("download: {}", response.status()));
        }
        let bytes = response.bytes().await.map_err(|e| format!("download: {e}"))?;
        if bytes.as_ref() != FILE {
            return Err(format!(
                "downloaded {} bytes that differ from the {} sent",
                bytes.len(),
                FILE.len()
            ));
        }
        Ok(((), format!("{} bytes, identical", bytes.len())))
    }
    .await;
    report.record("download file", t, downloaded)?;

    let t = Instant::now();
    let read = async {
        call(
            http,
            target,
            b,
            Method::POST,
            &format!("{base}/read"),
            Some(json!({ "seq": seq })),
        )
        .await?;
        let event = sa
            .wait_for(WAIT, |e| {
                e["type"] == "message-read"
                    && e["data"]["userId"] == b.user_id.as_str()
                    && e["data"]["lastReadSeq"].as_u64() >= Some(seq)
            })
            .await?;
        Ok((
            (),
            format!(
                "{} saw {} read up to {}",
                a.label, b.label, event["data"]["lastReadSeq"]
            ),
        ))
    }
    .await;
    report.record("read receipt", t, read)?;
    sa.close().await;
    sb.close().await;
    Some(())
}

/// Leaves nothing readable behind: the conversation is closed to both (each leaves).
async fn cleanup(
    http: &reqwest::Client,
    target: &Target,
    a: &Person,
    b: &Person,
    conversation: Option<&str>,
) -> Result<String, String> {
    let Some(id) = conversation else {
        return Ok("nothing was made".into());
    };
    let mut failed = Vec::new();
    for person in [b, a] {
        let left = call(
            http,
            target,
            person,
            reqwest::Method::DELETE,
            &format!("/api/messaging/conversations/{id}/participants/{}", person.user_id),
            None,
        )
        .await;
        if let Err(e) = left {
            failed.push(e);
        }
    }
    signin::all_or_errors(failed, format!("both left {id}"))
}
