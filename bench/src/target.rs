//! The two systems under test, behind one interface so the measurement is identical:
//! the messaging gateway (REST send, API Gateway-style WebSocket) and the Socket.IO
//! baseline (HTTP send, Socket.IO over WebSocket, spoken here by a tiny protocol adapter).

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use messaging_auth::DevTokens;
use messaging_core::model::Role;

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The local gateway's embedded default: every message persisted (SQLite).
    Gateway,
    /// The same, with every push going through the functions' SDK client and the
    /// gateway's `@connections` HTTP API (as pushes go in AWS).
    GatewaySdkPush,
    /// Socket.IO 4 on Node.js, in memory.
    SocketIo,
}

impl Kind {
    fn is_gateway(&self) -> bool {
        matches!(self, Kind::Gateway | Kind::GatewaySdkPush)
    }

    pub fn label(&self) -> &'static str {
        match self {
            Kind::Gateway => "messaging gateway",
            Kind::GatewaySdkPush => "messaging gateway, pushes via @connections",
            Kind::SocketIo => "Socket.IO 4 (Node.js)",
        }
    }
}

pub struct Target {
    pub kind: Kind,
    pub base: String,
    pub http: reqwest::Client,
    tokens: Vec<String>,
    conversation_ids: Vec<String>,
}

/// What a frame was.
pub enum Frame {
    Delivery {
        conversation: String,
        seq: u64,
        sender: String,
        body: String,
    },
    /// Engine.IO ping: answer with this.
    Reply(String),
    Other,
}

pub fn user_id(i: usize) -> String {
    format!("bench-u{i}")
}

impl Target {
    pub fn new(kind: Kind, base: String) -> Self {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        Self {
            kind,
            base,
            http,
            tokens: Vec::new(),
            conversation_ids: Vec::new(),
        }
    }

    /// Users and conversations. `conversations[k]` lists user indexes; the first creates it.
    pub async fn setup(&mut self, users: usize, conversations: &[Vec<usize>], jwt_secret: &str) -> Result<(), String> {
        if self.kind.is_gateway() {
            if users > crate::suite::BENCH_USERS {
                return Err(format!(
                    "{users} users, but the gateway's directory has {}",
                    crate::suite::BENCH_USERS
                ));
            }
            let tokens = DevTokens::new(jwt_secret.as_bytes());
            self.tokens = (0..users)
                .map(|i| {
                    tokens.issue(
                        &user_id(i),
                        Role::Team,
                        &format!("Bench user {i}"),
                        Duration::from_secs(7200),
                    )
                })
                .collect();
        }
        let creations = conversations.iter().enumerate().map(|(k, members)| {
            let (http, base, kind) = (self.http.clone(), self.base.clone(), self.kind);
            let token = self.tokens.get(members[0]).cloned();
            let members = members.clone();
            async move {
                match kind {
                    Kind::Gateway | Kind::GatewaySdkPush => {
                        let others: Vec<String> = members[1..].iter().map(|u| user_id(*u)).collect();
                        let response = http
                            .post(format!("{base}/api/messaging/conversations"))
                            .bearer_auth(token.unwrap_or_default())
                            .json(&json!({ "title": format!("Bench conversation {k}"), "participantIds": others }))
                            .send()
                            .await
                            .map_err(|e| e.to_string())?;
                        let body: Value = response.json().await.map_err(|e| e.to_string())?;
                        body["id"]
                            .as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| format!("create failed: {body}"))
                    }
                    Kind::SocketIo => {
                        let id = format!("c{k}");
                        let participants: Vec<String> = members.iter().map(|u| user_id(*u)).collect();
                        http.post(format!("{base}/conversations"))
                            .json(&json!({ "id": id, "participants": participants }))
                            .send()
                            .await
                            .map_err(|e| e.to_string())?;
                        Ok(id)
                    }
                }
            }
        });
        let ids: Vec<Result<String, String>> = futures::stream::iter(creations).buffered(32).collect().await;
        self.conversation_ids = ids.into_iter().collect::<Result<_, _>>()?;
        Ok(())
    }

    /// Opens one connection for `user`, ready to receive.
    pub async fn connect(&self, user: usize) -> Result<Socket, String> {
        let ws_base = self.base.replacen("http://", "ws://", 1);
        match self.kind {
            Kind::Gateway | Kind::GatewaySdkPush => {
                let ticket: Value = self
                    .http
                    .post(format!("{}/api/messaging/ws-ticket", self.base))
                    .bearer_auth(&self.tokens[user])
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .json()
                    .await
                    .map_err(|e| e.to_string())?;
                let url = format!("{ws_base}/ws?ticket={}", ticket["ticket"].as_str().unwrap_or_default());
                let (socket, _) = tokio_tungstenite::connect_async(url).await.map_err(|e| e.to_string())?;
                Ok(socket)
            }
            Kind::SocketIo => {
                let url = format!("{ws_base}/socket.io/?EIO=4&transport=websocket");
                let (mut socket, _) = tokio_tungstenite::connect_async(url).await.map_err(|e| e.to_string())?;
                // Engine.IO open ("0{...}"), then the Socket.IO CONNECT with auth, then its ack ("40{...}").
                expect_prefix(&mut socket, "0").await?;
                let connect = format!("40{}", json!({ "userId": user_id(user) }));
                socket
                    .send(Message::Text(connect.into()))
                    .await
                    .map_err(|e| e.to_string())?;
                expect_prefix(&mut socket, "40").await?;
                Ok(socket)
            }
        }
    }

    /// Sends a message as `user` into conversation `k`.
    pub async fn send(&self, user: usize, k: usize, client_id: &str, body: &str) -> Result<(), String> {
        let conversation = &self.conversation_ids[k];
        let response = match self.kind {
            Kind::Gateway | Kind::GatewaySdkPush => {
                self.http
                    .post(format!("{}/api/messaging/conversations/{conversation}/messages", self.base))
                    .bearer_auth(&self.tokens[user])
                    .json(&json!({ "body": body, "clientMessageId": client_id }))
                    .send()
                    .await
            }
            Kind::SocketIo => {
                self.http
                    .post(format!("{}/send", self.base))
                    .json(&json!({ "conversationId": conversation, "userId": user_id(user), "body": body, "clientMessageId": client_id }))
                    .send()
                    .await
            }
        }
        .map_err(|e| e.to_string())?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("status {}", response.status()))
        }
    }

    pub fn parse(&self, text: &str) -> Frame {
        let event = match self.kind {
            Kind::Gateway | Kind::GatewaySdkPush => serde_json::from_str::<Value>(text)
                .ok()
                .filter(|v| v["type"] == "new-message")
                .map(|v| v["data"].clone()),
            Kind::SocketIo => {
                if text == "2" {
                    return Frame::Reply("3".into());
                }
                text.strip_prefix("42")
                    .and_then(|rest| serde_json::from_str::<Value>(rest).ok())
                    .filter(|v| v[0] == "new-message")
                    .map(|v| v[1].clone())
            }
        };
        match event {
            Some(data) => Frame::Delivery {
                conversation: data["conversationId"].as_str().unwrap_or_default().to_owned(),
                seq: data["message"]["seq"].as_u64().unwrap_or(0),
                sender: data["message"]["senderId"].as_str().unwrap_or_default().to_owned(),
                body: data["message"]["body"].as_str().unwrap_or_default().to_owned(),
            },
            None => Frame::Other,
        }
    }
}

async fn expect_prefix(socket: &mut Socket, prefix: &str) -> Result<(), String> {
    let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
        .await
        .map_err(|_| format!("no {prefix:?} frame"))?
        .ok_or("closed")?
        .map_err(|e| e.to_string())?;
    match frame {
        Message::Text(t) if t.starts_with(prefix) => Ok(()),
        other => Err(format!("expected {prefix:?}, got {other:?}")),
    }
}
