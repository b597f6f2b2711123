//! Cold start: time from process start of a function's release binary to its first request
//! to the Lambda Runtime API (`GET /2018-06-01/runtime/invocation/next`), served here by a
//! stub. That span is the function's own init: runtime, tracing, configuration, SDK
//! clients and the Redis connection.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use axum::routing::get;
use tokio::sync::mpsc;

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ColdStart {
    pub function: String,
    pub size_bytes: u64,
    pub runs: usize,
    pub median_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

/// Measures `runs` starts of `binary` with `env` on top of a Lambda-like environment.
pub async fn measure(binary: &Path, env: &[(String, String)], runs: usize) -> Result<ColdStart, String> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Instant>();
    let app = axum::Router::new().route(
        "/2018-06-01/runtime/invocation/next",
        get(move || {
            let tx = tx.clone();
            async move {
                let _ = tx.send(Instant::now());
                // Hold the request like a runtime API with no event yet.
                std::future::pending::<()>().await;
                ""
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let name = binary
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let mut child = tokio::process::Command::new(binary)
            .envs(env.iter().cloned())
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", &name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let first = tokio::time::timeout(Duration::from_secs(10), rx.recv()).await;
        let _ = child.kill().await;
        match first {
            Ok(Some(at)) => samples.push(at.duration_since(started).as_micros() as u64),
            _ => return Err(format!("{name} never asked the runtime API for an event")),
        }
    }
    server.abort();
    let p = crate::stats::percentiles(samples);
    Ok(ColdStart {
        function: name,
        size_bytes: std::fs::metadata(binary).map(|m| m.len()).unwrap_or(0),
        runs,
        median_ms: p.p50_ms,
        p95_ms: p.p95_ms,
        max_ms: p.max_ms,
    })
}
