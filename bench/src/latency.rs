//! A TCP proxy that delays every chunk a client sends by a set time, so that a request
//! costs at least that delay per round trip. Round trips are then measured, not guessed:
//! (time with the delay − time without) ÷ delay. Requests sent together (pipelined, or
//! concurrent on a pool) share one delay, which is exactly what a round trip is.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;

pub struct LatencyProxy {
    pub addr: SocketAddr,
    delay_us: Arc<AtomicU64>,
}

impl LatencyProxy {
    /// Listens on a free loopback port and forwards to `target`.
    pub async fn start(target: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let delay_us = Arc::new(AtomicU64::new(0));
        let delay = delay_us.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let delay = delay.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(target).await {
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        relay(client, server, delay).await;
                    }
                });
            }
        });
        Ok(Self { addr, delay_us })
    }

    pub fn set_delay(&self, delay: Duration) {
        self.delay_us.store(delay.as_micros() as u64, Ordering::Relaxed);
    }
}

async fn relay(client: TcpStream, server: TcpStream, delay_us: Arc<AtomicU64>) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    // Client → server: each chunk waits out the delay, in order, without holding up the
    // chunks behind it (they are read at once and scheduled).
    let (tx, mut rx) = mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match client_read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let due = Instant::now() + Duration::from_micros(delay_us.load(Ordering::Relaxed));
                    if tx.send((due, buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let writer = tokio::spawn(async move {
        while let Some((due, bytes)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            if server_write.write_all(&bytes).await.is_err() {
                break;
            }
        }
        let _ = server_write.shutdown().await;
    });
    // Server → client: as is.
    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
    reader.abort();
    writer.abort();
}

/// `scheme://host:port` → the socket address (loopback servers only).
pub fn socket_of(url: &str) -> Option<SocketAddr> {
    let rest = url.split("://").nth(1)?;
    let host_port = rest.split('/').next()?;
    host_port.replace("localhost", "127.0.0.1").parse().ok()
}
