//! Traffic under faults and what it came to.
//!
//! Senders behave like the web client's outbox: every message has its client id, and a
//! send that failed (a 5xx, a 429 or 503 with `Retry-After`, a broken connection) is
//! retried with the same id until acknowledged — so a message the server wrote but whose
//! answer was lost comes back as the original, not as a second copy. Receivers behave
//! like the web client's socket: they reconnect when the socket dies and, once back, ask
//! REST for everything after the last message they hold.
//!
//! The outcome counts, for acknowledged messages: lost (not in the history, or not in a
//! receiver's view once it has converged), duplicated (a body twice in the history, or an
//! event twice on one socket) and out of order (history seqs not 1, 2, 3…, or a socket
//! delivering a seq below one it already delivered).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::gateway::Api;
use crate::ws::{self, Next, WsClient};

#[derive(Debug, Clone)]
pub struct Acked {
    pub id: String,
    pub seq: u64,
    pub body: String,
}

/// What the senders met on the way.
#[derive(Debug, Default, Clone)]
pub struct SendStats {
    pub attempts: u64,
    /// Failed attempts by status (`"503"`, `"429"`) or `"io"` for a broken connection.
    pub failures: BTreeMap<String, u64>,
    /// Messages never acknowledged within the time given (not counted as lost: the
    /// client still holds them as unsent).
    pub gave_up: u64,
}

impl SendStats {
    pub fn describe(&self) -> String {
        let failures: Vec<String> = self.failures.iter().map(|(k, n)| format!("{k}×{n}")).collect();
        if failures.is_empty() {
            format!("{} attempts", self.attempts)
        } else {
            format!("{} attempts, retried {}", self.attempts, failures.join(" "))
        }
    }
}

/// Sends `body` with one client id until it is acknowledged or `within` has passed.
pub async fn send_until_acked(
    api: &Api,
    conv: &str,
    body: &str,
    within: Duration,
    stats: &Mutex<SendStats>,
) -> Option<Acked> {
    let client_id = ulid::Ulid::generate().to_string();
    let path = format!("/api/messaging/conversations/{conv}/messages");
    let deadline = Instant::now() + within;
    let mut backoff = Duration::from_millis(50);
    loop {
        let attempt = api
            .try_post(&path, json!({ "body": body, "clientMessageId": client_id }))
            .await;
        let failure = {
            let mut s = stats.lock().unwrap_or_else(|e| e.into_inner());
            s.attempts += 1;
            match &attempt {
                Ok((200 | 201, message, _)) => {
                    return Some(Acked {
                        id: message["id"].as_str().unwrap_or_default().to_owned(),
                        seq: message["seq"].as_u64().unwrap_or(0),
                        body: body.to_owned(),
                    });
                }
                Ok((status, body, _)) if *status < 500 && *status != 429 => {
                    panic!("a send was refused for good: {status} {body}")
                }
                Ok((status, _, retry_after)) => {
                    *s.failures.entry(status.to_string()).or_default() += 1;
                    retry_after.map(Duration::from_secs)
                }
                Err(_) => {
                    *s.failures.entry("io".into()).or_default() += 1;
                    None
                }
            }
        };
        if Instant::now() >= deadline {
            stats.lock().unwrap_or_else(|e| e.into_inner()).gave_up += 1;
            return None;
        }
        tokio::time::sleep(failure.unwrap_or(backoff).min(Duration::from_secs(2))).await;
        backoff = (backoff * 2).min(Duration::from_secs(1));
    }
}

/// `per_sender` messages from each of `senders`, concurrently, `pace` apart.
pub async fn send_all(
    senders: &[Api],
    conv: &str,
    per_sender: usize,
    pace: Duration,
    tag: &str,
) -> (Vec<Acked>, SendStats) {
    let stats = Arc::new(Mutex::new(SendStats::default()));
    let mut tasks = Vec::new();
    for (n, api) in senders.iter().enumerate() {
        let (api, conv, stats, tag) = (api.clone(), conv.to_owned(), stats.clone(), tag.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for i in 0..per_sender {
                let body = format!("{tag} s{n} #{i}");
                if let Some(a) = send_until_acked(&api, &conv, &body, Duration::from_secs(30), &stats).await {
                    acked.push(a);
                }
                tokio::time::sleep(pace).await;
            }
            acked
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("a sender task"));
    }
    let stats = stats.lock().unwrap_or_else(|e| e.into_inner()).clone();
    (all, stats)
}

/// Every message of `conv`, oldest first, paging with `after` (retrying while the
/// server is unwell).
pub async fn history(api: &Api, conv: &str) -> Vec<Value> {
    fetch_after(api, conv, 0).await
}

async fn fetch_after(api: &Api, conv: &str, mut after: u64) -> Vec<Value> {
    let mut all = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = api
            .try_get(&format!(
                "/api/messaging/conversations/{conv}/messages?after={after}&limit=100"
            ))
            .await;
        match page {
            Ok((200, page, _)) => {
                let items = page["items"].as_array().cloned().unwrap_or_default();
                if let Some(last) = items.last().and_then(|m| m["seq"].as_u64()) {
                    after = last;
                }
                all.extend(items);
                if page["hasMore"] != true {
                    return all;
                }
            }
            other => {
                assert!(Instant::now() < deadline, "history unavailable: {other:?}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// A client's socket on one conversation.
pub struct Receiver {
    pub label: String,
    api: Api,
    ws_url: String,
    conv: String,
    socket: Option<WsClient>,
    /// Every message held: seq → id.
    pub held: BTreeMap<u64, String>,
    pub reconnects: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    /// Per socket: the highest seq delivered and the ids delivered.
    socket_last: u64,
    socket_seen: HashSet<String>,
}

impl Receiver {
    pub async fn connect(api: &Api, ws_url: &str, conv: &str, label: &str) -> Receiver {
        let mut r = Receiver {
            label: label.to_owned(),
            api: api.clone(),
            ws_url: ws_url.to_owned(),
            conv: conv.to_owned(),
            socket: None,
            held: BTreeMap::new(),
            reconnects: 0,
            duplicated: 0,
            out_of_order: 0,
            socket_last: 0,
            socket_seen: HashSet::new(),
        };
        r.ensure_connected(Duration::from_secs(30)).await;
        r.reconnects = 0;
        r
    }

    /// Opens a socket if there is none (as the web client does, retrying) and says hello.
    pub async fn ensure_connected(&mut self, within: Duration) {
        if self.socket.is_some() {
            return;
        }
        let deadline = Instant::now() + within;
        loop {
            let failure = match ws::try_connect_as(&self.api, &self.ws_url, &self.label).await {
                Ok(mut socket) => {
                    if socket.try_send(json!({ "action": "ping" })).await {
                        self.socket = Some(socket);
                        self.reconnects += 1;
                        self.socket_last = 0;
                        self.socket_seen.clear();
                        return;
                    }
                    "the socket broke at once".to_owned()
                }
                Err(e) => e,
            };
            assert!(
                Instant::now() < deadline,
                "{}: could not reconnect: {failure}",
                self.label
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A heartbeat answered: the socket is open and registered again (reconnecting first
    /// if it turns out to be dead).
    pub async fn heartbeat(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            self.ensure_connected(Duration::from_secs(30)).await;
            self.ping().await;
            let answered = Instant::now() + Duration::from_secs(2);
            while let Some(socket) = self.socket.as_mut() {
                if Instant::now() > answered {
                    break;
                }
                match socket.next_event(Duration::from_millis(200)).await {
                    Next::Event(e) if e["type"] == "pong" => return,
                    Next::Event(e) => self.take(&e),
                    Next::Quiet => {}
                    Next::Closed => self.socket = None,
                }
            }
        }
        panic!("{}: no answer to a heartbeat", self.label);
    }

    /// A heartbeat, as the web client sends one every so often.
    pub async fn ping(&mut self) {
        if let Some(socket) = self.socket.as_mut()
            && !socket.try_send(json!({ "action": "ping" })).await
        {
            self.socket = None;
        }
    }

    fn take(&mut self, event: &Value) {
        if event["type"] != "new-message" {
            return;
        }
        let m = &event["data"]["message"];
        if m["conversationId"] != self.conv.as_str() {
            return;
        }
        let (Some(seq), Some(id)) = (m["seq"].as_u64(), m["id"].as_str()) else {
            return;
        };
        if !self.socket_seen.insert(id.to_owned()) {
            self.duplicated += 1;
        } else if seq <= self.socket_last {
            self.out_of_order += 1;
        }
        self.socket_last = self.socket_last.max(seq);
        self.held.insert(seq, id.to_owned());
    }

    /// Reads until `stop` says so, reconnecting when the socket dies.
    pub async fn listen(mut self, mut stop: watch::Receiver<bool>) -> Receiver {
        let mut last_ping = Instant::now();
        loop {
            if *stop.borrow() {
                return self;
            }
            if self.socket.is_none() {
                self.ensure_connected(Duration::from_secs(30)).await;
            }
            let Some(socket) = self.socket.as_mut() else { continue };
            let next = tokio::select! {
                n = socket.next_event(Duration::from_millis(200)) => n,
                _ = stop.changed() => Next::Quiet,
            };
            match next {
                Next::Event(event) => self.take(&event),
                Next::Quiet => {}
                Next::Closed => self.socket = None,
            }
            if last_ping.elapsed() > Duration::from_secs(1) {
                self.ping().await;
                last_ping = Instant::now();
            }
        }
    }

    /// Back on a socket, asks REST for everything after the last seq held with nothing
    /// missing below it; returns what the client then holds.
    pub async fn converge(&mut self) -> &BTreeMap<u64, String> {
        self.ensure_connected(Duration::from_secs(30)).await;
        let mut contiguous = 0;
        while self.held.contains_key(&(contiguous + 1)) {
            contiguous += 1;
        }
        for m in fetch_after(&self.api, &self.conv, contiguous).await {
            if let (Some(seq), Some(id)) = (m["seq"].as_u64(), m["id"].as_str()) {
                self.held.insert(seq, id.to_owned());
            }
        }
        &self.held
    }

    pub fn connected(&self) -> bool {
        self.socket.is_some()
    }

    /// The next live message on the socket within `within` (after a fault: is it live again?).
    pub async fn next_live(&mut self, within: Duration) -> Option<u64> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            let socket = self.socket.as_mut()?;
            match socket.next_event(Duration::from_millis(100)).await {
                Next::Event(e)
                    if e["type"] == "new-message" && e["data"]["message"]["conversationId"] == self.conv.as_str() =>
                {
                    self.take(&e);
                    return e["data"]["message"]["seq"].as_u64();
                }
                Next::Event(_) | Next::Quiet => {}
                Next::Closed => {
                    self.socket = None;
                    return None;
                }
            }
        }
        None
    }
}

/// One row of the fault table.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub scenario: String,
    pub faults: String,
    pub acked: usize,
    pub lost: usize,
    pub duplicated: usize,
    pub out_of_order: usize,
    pub converged: bool,
    pub notes: String,
}

impl Outcome {
    pub fn clean(&self) -> bool {
        self.lost == 0 && self.duplicated == 0 && self.out_of_order == 0 && self.converged && self.acked > 0
    }
}

/// Compares what was acknowledged, what the server holds and what each receiver holds.
pub fn assess(
    scenario: &str,
    faults: String,
    acked: &[Acked],
    history: &[Value],
    receivers: &mut [Receiver],
    notes: String,
) -> Outcome {
    let ids: HashSet<&str> = history.iter().filter_map(|m| m["id"].as_str()).collect();
    let mut lost = acked.iter().filter(|a| !ids.contains(a.id.as_str())).count();
    let mut bodies: HashMap<&str, usize> = HashMap::new();
    for m in history {
        *bodies.entry(m["body"].as_str().unwrap_or_default()).or_default() += 1;
    }
    let mut duplicated: usize = bodies.values().map(|n| n - 1).sum();
    let seqs: Vec<u64> = history.iter().filter_map(|m| m["seq"].as_u64()).collect();
    let mut out_of_order = seqs.iter().enumerate().filter(|(i, s)| **s != *i as u64 + 1).count();
    let truth: BTreeMap<u64, String> = history
        .iter()
        .filter_map(|m| Some((m["seq"].as_u64()?, m["id"].as_str()?.to_owned())))
        .collect();
    let mut converged = true;
    for r in receivers.iter() {
        duplicated += r.duplicated as usize;
        out_of_order += r.out_of_order as usize;
        let missing = truth.keys().filter(|s| !r.held.contains_key(s)).count();
        lost += missing;
        converged &= r.held == truth;
    }
    Outcome {
        scenario: scenario.to_owned(),
        faults,
        acked: acked.len(),
        lost,
        duplicated,
        out_of_order,
        converged,
        notes,
    }
}

/// The table, as the suite prints it.
pub fn table(rows: &[Outcome]) -> String {
    let mut out = String::from(
        "| scenario | injected faults | acked | lost | dup | out of order | converged | notes |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.scenario,
            r.faults,
            r.acked,
            r.lost,
            r.duplicated,
            r.out_of_order,
            if r.converged { "yes" } else { "NO" },
            r.notes
        ));
    }
    out
}
