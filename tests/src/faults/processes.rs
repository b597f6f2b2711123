//! Servers as processes of their own, so that a test can kill them (`kill -9`) and start
//! them again: a redis-server without persistence (a restart loses everything, as a
//! cache node replaced by ElastiCache does) and the local gateway binary.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::services::free_port;

fn wait_for_port(addr: SocketAddr, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

fn kill_hard(child: &mut Child) {
    // SIGKILL: no shutdown hook, no flush, as when the host dies.
    let _ = child.kill();
    let _ = child.wait();
}

pub struct RedisProcess {
    pub addr: SocketAddr,
    child: Option<Child>,
}

impl RedisProcess {
    pub fn start() -> RedisProcess {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("address");
        let mut redis = RedisProcess { addr, child: None };
        redis.restart();
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_hard(&mut child);
        }
    }

    /// Starts again on the same port, empty.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.addr.port().to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server runs (make test installs it)");
        self.child = Some(child);
        assert!(
            wait_for_port(self.addr, Duration::from_secs(10)),
            "redis-server listens"
        );
    }
}

impl Drop for RedisProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The gateway binary (`gateway-process`, the same code as `local-gateway`) on a fixed
/// port and data folder, so that a restart is the same gateway with the same data.
pub struct GatewayProcess {
    pub addr: SocketAddr,
    binary: PathBuf,
    data_dir: PathBuf,
    env: Vec<(String, String)>,
    child: Option<Child>,
}

impl GatewayProcess {
    /// `binary`: `env!("CARGO_BIN_EXE_gateway-process")` in the test that runs it.
    pub fn start(binary: &str, data_dir: &Path, env: Vec<(String, String)>) -> GatewayProcess {
        let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().expect("address");
        let mut gateway = GatewayProcess {
            addr,
            binary: binary.into(),
            data_dir: data_dir.to_owned(),
            env,
            child: None,
        };
        gateway.restart();
        gateway
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_hard(&mut child);
        }
    }

    pub fn restart(&mut self) {
        self.kill();
        let mut command = Command::new(&self.binary);
        command
            .args(["--port", &self.addr.port().to_string()])
            .arg("--data-dir")
            .arg(&self.data_dir)
            // Its own embedded backends, whatever the test environment points at.
            .env_remove("AWS_ENDPOINT_URL")
            .env_remove("REDIS_URL")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in &self.env {
            command.env(k, v);
        }
        self.child = Some(command.spawn().expect("the gateway binary runs"));
        assert!(wait_for_port(self.addr, Duration::from_secs(30)), "the gateway listens");
    }
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
