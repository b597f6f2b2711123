//! `make bench`: both systems at each load point, fresh server processes each time, then
//! the report. Servers listen on loopback only and every run stops by itself.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::run::{LoadPoint, RunResult, run};
use crate::target::Kind;

pub struct Server {
    child: tokio::process::Child,
    pub pid: u32,
    pub base: String,
    _dir: Option<PathBuf>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if let Some(dir) = &self._dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

async fn wait_port(port: u16) -> Result<(), String> {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(format!("server on {port} did not start"))
}

pub const JWT_SECRET: &str = "benchmark-secret-benchmark-secret-0001";

/// The benchmark's people, enough for the largest load point: team members, so that any
/// of them may start a conversation with any other (names and roles come from the
/// gateway's directory, never from the tokens).
pub const BENCH_USERS: usize = 4000;

fn write_bench_users(dir: &Path) -> Result<std::path::PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let people: Vec<serde_json::Value> = (0..BENCH_USERS)
        .map(|i| serde_json::json!({ "userId": crate::target::user_id(i), "name": format!("Bench user {i}"), "role": "team" }))
        .collect();
    let path = dir.join("bench-users.json");
    std::fs::write(&path, serde_json::to_vec(&people).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    Ok(path)
}

pub async fn start(kind: Kind, gateway_bin: &Path, node_server: &Path) -> Result<Server, String> {
    let port = free_port();
    let pusher = if kind == Kind::GatewaySdkPush {
        "management-api"
    } else {
        "in-process"
    };
    let (mut cmd, dir) = match kind {
        Kind::Gateway | Kind::GatewaySdkPush => {
            let dir = std::env::temp_dir().join(format!("bench-gw-{}", ulid::Ulid::generate()));
            let users = write_bench_users(&dir)?;
            let mut cmd = tokio::process::Command::new(gateway_bin);
            cmd.args(["--port", &port.to_string(), "--no-seed", "--pusher", pusher, "--users"])
                .arg(&users)
                .arg("--data-dir")
                .arg(&dir)
                .env("JWT_SECRET", JWT_SECRET)
                .env("RUST_LOG", "warn")
                .env_remove("AWS_ENDPOINT_URL")
                .env_remove("REDIS_URL");
            (cmd, Some(dir))
        }
        Kind::SocketIo => {
            let mut cmd = tokio::process::Command::new("node");
            cmd.arg(node_server).env("PORT", port.to_string());
            (cmd, None)
        }
    };
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| e.to_string())?;
    let pid = child.id().unwrap_or(0);
    wait_port(port).await?;
    Ok(Server {
        child,
        pid,
        base: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    })
}

/// Every load point for every system, `repeats` times (systems interleaved, so machine
/// noise falls on both alike); each row is the repetition with the median p99.
pub async fn suite(quick: bool, gateway_bin: &Path, node_server: &Path) -> Result<Vec<RunResult>, String> {
    let (duration_s, repeats) = if quick { (3.0, 1) } else { (10.0, 3) };
    let points: Vec<(usize, usize)> = if quick {
        vec![(200, 100), (2000, 1000)]
    } else {
        vec![(200, 100), (200, 1000), (2000, 100), (2000, 1000)]
    };
    let kinds: &[Kind] = if quick {
        &[Kind::Gateway, Kind::SocketIo]
    } else {
        &[Kind::Gateway, Kind::SocketIo, Kind::GatewaySdkPush]
    };
    let mut results = Vec::new();
    for (connections, rate) in points {
        let mut runs: Vec<RunResult> = Vec::new();
        for repeat in 1..=repeats {
            for &kind in kinds {
                let server = start(kind, gateway_bin, node_server).await?;
                let point = LoadPoint {
                    connections,
                    rate,
                    participants: 4,
                    duration_s,
                };
                eprintln!(
                    "running {} at {connections} connections, {rate} msg/s (run {repeat}/{repeats}) ...",
                    kind.label()
                );
                let result = run(kind, &server.base, server.pid, point, JWT_SECRET).await?;
                eprintln!(
                    "  p50 {:.2} ms, p99 {:.2} ms, {:.0} delivered/s, lost {}, dup {}, out of order {}",
                    result.latency.p50_ms,
                    result.latency.p99_ms,
                    result.delivered_per_s,
                    result.lost,
                    result.duplicated,
                    result.out_of_order
                );
                runs.push(result);
                drop(server);
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
        for &kind in kinds {
            let mut mine: Vec<RunResult> = runs.iter().filter(|r| r.target == kind).cloned().collect();
            mine.sort_by(|a, b| a.latency.p99_ms.total_cmp(&b.latency.p99_ms));
            let p99s: Vec<f64> = mine.iter().map(|r| r.latency.p99_ms).collect();
            let mut median = mine[mine.len() / 2].clone();
            median.p99_runs_ms = p99s;
            results.push(median);
        }
    }
    Ok(results)
}
