//! A WebSocket client as a browser would use one: a ticket from REST, then
//! `ws://.../ws?ticket=...`; events read into a buffer so tests can wait for one kind
//! while others arrive.

use std::collections::VecDeque;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::gateway::Api;

pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    buffered: VecDeque<Value>,
    pub label: String,
}

/// Asks for a ticket as `api`'s user and opens a socket with it.
pub async fn connect(api: &Api, ws_url: &str, label: &str) -> WsClient {
    let ticket = api.post("/api/messaging/ws-ticket", json!({})).await.expect(201);
    let url = format!("{ws_url}?ticket={}", ticket["ticket"].as_str().expect("ticket"));
    let (socket, _) = tokio_tungstenite::connect_async(url).await.expect("websocket connects");
    WsClient {
        socket,
        buffered: VecDeque::new(),
        label: label.to_owned(),
    }
}

/// Tries to open a socket with a given ticket; returns the HTTP status on refusal.
pub async fn try_connect(ws_url: &str, ticket: &str) -> Result<WsClient, u16> {
    match tokio_tungstenite::connect_async(format!("{ws_url}?ticket={ticket}")).await {
        Ok((socket, _)) => Ok(WsClient {
            socket,
            buffered: VecDeque::new(),
            label: "raw".into(),
        }),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Err(response.status().as_u16()),
        Err(e) => panic!("unexpected websocket error: {e}"),
    }
}

impl WsClient {
    pub async fn send(&mut self, action: Value) {
        self.socket
            .send(Message::Text(action.to_string().into()))
            .await
            .expect("send frame");
    }

    /// Sends a frame, reporting a broken socket instead of panicking.
    pub async fn try_send(&mut self, action: Value) -> bool {
        self.socket.send(Message::Text(action.to_string().into())).await.is_ok()
    }

    pub async fn send_raw(&mut self, text: &str) {
        self.socket
            .send(Message::Text(text.to_owned().into()))
            .await
            .expect("send frame");
    }

    /// The next event from the socket (not the buffer), or None after `within`.
    async fn read(&mut self, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.socket.next()).await {
                Err(_) => return None,
                Ok(None) | Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(Message::Text(text)))) => {
                    return Some(serde_json::from_str(&text).expect("events are JSON"));
                }
                Ok(Some(Ok(Message::Close(_)))) => return None,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Waits for the first event matching `pred` (buffering the others).
    pub async fn wait_for(&mut self, within: Duration, pred: impl Fn(&Value) -> bool) -> Value {
        match self.try_wait_for(within, pred).await {
            Some(event) => event,
            None => panic!(
                "{}: no matching event within {within:?}; buffered: {:?}",
                self.label, self.buffered
            ),
        }
    }

    /// Like [`Self::wait_for`], but `None` when nothing matches in time.
    pub async fn try_wait_for(&mut self, within: Duration, pred: impl Fn(&Value) -> bool) -> Option<Value> {
        if let Some(i) = self.buffered.iter().position(&pred) {
            return self.buffered.remove(i);
        }
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.read(left).await {
                Some(event) if pred(&event) => return Some(event),
                Some(event) => self.buffered.push_back(event),
                None => return None,
            }
        }
    }

    /// Waits for an event of the given type (and conversation, when given).
    pub async fn wait_event(&mut self, kind: &str, within: Duration) -> Value {
        let kind = kind.to_owned();
        self.wait_for(within, move |e| e["type"] == kind.as_str()).await
    }

    /// Asserts that no event matching `pred` arrives for `during`.
    pub async fn assert_none(&mut self, during: Duration, pred: impl Fn(&Value) -> bool) {
        if let Some(e) = self.buffered.iter().find(|e| pred(e)) {
            panic!("{}: unexpected event {e}", self.label);
        }
        let deadline = tokio::time::Instant::now() + during;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return;
            }
            match self.read(left).await {
                Some(event) if pred(&event) => panic!("{}: unexpected event {event}", self.label),
                Some(event) => self.buffered.push_back(event),
                None => return,
            }
        }
    }

    /// Everything received so far plus whatever arrives within `during`.
    pub async fn drain(&mut self, during: Duration) -> Vec<Value> {
        while let Some(e) = self.read(during).await {
            self.buffered.push_back(e);
        }
        self.buffered.drain(..).collect()
    }

    /// A clean close (close frame).
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }

    /// Vanishes without a close frame: the TCP connection just goes away.
    pub fn drop_abruptly(self) {
        drop(self.socket);
    }

    /// Whether the server has closed the socket (reads until close or `within`).
    pub async fn closed_by_server(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.socket.next()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(Err(_))) | Ok(Some(Ok(Message::Close(_)))) => return true,
                Ok(Some(Ok(Message::Text(t)))) => {
                    if let Ok(v) = serde_json::from_str(&t) {
                        self.buffered.push_back(v);
                    }
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// The status code of the server's close frame; `None` when the connection ended
    /// without one (or stayed open for `within`).
    pub async fn close_code(&mut self, within: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.socket.next()).await {
                Err(_) | Ok(None) | Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// The next event, buffered or from the socket, telling a quiet socket from a closed one.
    pub async fn next_event(&mut self, within: Duration) -> Next {
        if let Some(event) = self.buffered.pop_front() {
            return Next::Event(event);
        }
        match tokio::time::timeout(within, self.socket.next()).await {
            Err(_) => Next::Quiet,
            Ok(Some(Ok(Message::Text(text)))) => match serde_json::from_str(&text) {
                Ok(event) => Next::Event(event),
                Err(_) => Next::Quiet,
            },
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => Next::Closed,
            Ok(Some(Ok(_))) => Next::Quiet,
        }
    }
}

/// What [`WsClient::next_event`] saw.
pub enum Next {
    Event(Value),
    Quiet,
    Closed,
}

/// Asks for a ticket and opens a socket, reporting failures instead of panicking (for
/// tests where the server may be down or refusing).
pub async fn try_connect_as(api: &Api, ws_url: &str, label: &str) -> Result<WsClient, String> {
    let ticket = api.try_post("/api/messaging/ws-ticket", json!({})).await?;
    if ticket.0 != 201 {
        return Err(format!("ticket: {} {}", ticket.0, ticket.1));
    }
    let url = format!("{ws_url}?ticket={}", ticket.1["ticket"].as_str().unwrap_or_default());
    let (socket, _) = tokio_tungstenite::connect_async(url).await.map_err(|e| e.to_string())?;
    Ok(WsClient {
        socket,
        buffered: VecDeque::new(),
        label: label.to_owned(),
    })
}
