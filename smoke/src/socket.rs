//! The WebSocket as the web client opens it: a ticket from REST, then `?ticket=`.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::{Person, Target, call};

pub struct Socket {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Socket {
    pub async fn open(http: &reqwest::Client, target: &Target, person: &Person) -> Result<Self, String> {
        let ticket = call(
            http,
            target,
            person,
            reqwest::Method::POST,
            "/api/messaging/ws-ticket",
            Some(json!({})),
        )
        .await?;
        let ticket = ticket["ticket"].as_str().ok_or("no ticket in the answer")?;
        let mut url = url::Url::parse(&target.ws_url).map_err(|e| format!("WebSocket URL: {e}"))?;
        url.query_pairs_mut().append_pair("ticket", ticket);
        let (stream, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .map_err(|e| format!("WebSocket of {}: {e}", person.label))?;
        Ok(Self { stream })
    }

    /// The first event `wanted` accepts within `within` (others are skipped).
    pub async fn wait_for(&mut self, within: Duration, wanted: impl Fn(&Value) -> bool) -> Result<Value, String> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .map_err(|_| format!("no such event within {} s", within.as_secs()))?;
            match frame {
                Some(Ok(Message::Text(text))) => {
                    if let Ok(event) = serde_json::from_str::<Value>(&text)
                        && wanted(&event)
                    {
                        return Ok(event);
                    }
                }
                Some(Ok(Message::Ping(data))) => {
                    let _ = self.stream.send(Message::Pong(data)).await;
                }
                Some(Ok(Message::Close(frame))) => return Err(format!("the socket closed: {frame:?}")),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(format!("the socket failed: {e}")),
                None => return Err("the socket ended".into()),
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
    }
}
