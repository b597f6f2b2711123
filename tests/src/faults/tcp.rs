//! A TCP proxy that breaks connections on command: between the product and moto, or
//! between WebSocket clients and the gateway. `cut()` resets every open connection at
//! once (mid-request, mid-push: wherever the bytes were); `refuse(true)` turns new
//! connections away until `refuse(false)`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

pub struct TcpProxy {
    pub addr: SocketAddr,
    /// Each `cut()` bumps the generation; connections of an older one end at once.
    generation: watch::Sender<u64>,
    refusing: Arc<AtomicBool>,
    /// Connections reset by `cut()`, over the proxy's life.
    cut_connections: Arc<AtomicU64>,
    accepted: Arc<AtomicU64>,
}

impl TcpProxy {
    /// Listens on a free loopback port and forwards every connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the TCP proxy");
        let addr = listener.local_addr().expect("proxy address");
        let (generation, _) = watch::channel(0u64);
        let refusing = Arc::new(AtomicBool::new(false));
        let cut_connections = Arc::new(AtomicU64::new(0));
        let accepted = Arc::new(AtomicU64::new(0));
        let proxy = TcpProxy {
            addr,
            generation,
            refusing: refusing.clone(),
            cut_connections: cut_connections.clone(),
            accepted: accepted.clone(),
        };
        let generations = proxy.generation.subscribe();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if refusing.load(Ordering::SeqCst) {
                    // An immediate reset, as from a host whose service is down.
                    let _ = client.set_zero_linger();
                    drop(client);
                    continue;
                }
                accepted.fetch_add(1, Ordering::Relaxed);
                let mut generations = generations.clone();
                let born = *generations.borrow();
                let cut = cut_connections.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    tokio::select! {
                        _ = copy_bidirectional(&mut client, &mut server) => {}
                        _ = generations.wait_for(|g| *g != born) => {
                            cut.fetch_add(1, Ordering::Relaxed);
                            // RST rather than FIN: the peer sees a broken connection.
                            let _ = client.set_zero_linger();
                            let _ = server.set_zero_linger();
                        }
                    }
                });
            }
        });
        proxy
    }

    /// Resets every open connection.
    pub fn cut(&self) {
        self.generation.send_modify(|g| *g += 1);
    }

    /// Turns new connections away (`true`) or lets them through again.
    pub fn refuse(&self, refusing: bool) {
        self.refusing.store(refusing, Ordering::SeqCst);
    }

    pub fn cut_connections(&self) -> u64 {
        self.cut_connections.load(Ordering::Relaxed)
    }

    pub fn accepted(&self) -> u64 {
        self.accepted.load(Ordering::Relaxed)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}
