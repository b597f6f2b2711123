//! `loadgen`: the benchmark. Subcommands:
//!
//! - `suite [--quick] [--gateway-bin PATH] [--out DIR]`: both systems at each load point
//!   (and, in the full run, the gateway with pushes through `@connections`); writes
//!   `results.json`, `RESULTS.md`, `latency.svg`.
//! - `coldstart --out DIR BIN...`: process start → first Runtime API request, per binary.
//!   Needs `REDIS_URL`.
//! - `accounting --out DIR`: requests per operation. Needs `AWS_ENDPOINT_URL` and `REDIS_URL`.
//! - `search [--messages N,N...] [--rounds R] --out DIR`: the embedded search index at
//!   each size (default 10^5 and 10^6): size, indexing rate, query p50/p99.
//! - `report --out DIR`: rebuild `RESULTS.md` from the JSON files in DIR.

mod accounting;
mod coldstart;
mod latency;
mod procinfo;
mod report;
mod run;
mod search;
mod stats;
mod suite;
mod target;

use std::path::{Path, PathBuf};

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn write_json<T: serde::Serialize>(dir: &Path, name: &str, value: &T) {
    let _ = std::fs::create_dir_all(dir);
    let _ = std::fs::write(dir.join(name), serde_json::to_string_pretty(value).unwrap_or_default());
}

fn read_json<T: serde::de::DeserializeOwned>(dir: &Path, name: &str) -> Option<T> {
    serde_json::from_str(&std::fs::read_to_string(dir.join(name)).ok()?).ok()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    format!("Machine: {cores} cores ({cpu}); load generator, server and (for the gateway) its database share them.")
}

fn write_report(out: &Path) {
    let runs: Vec<run::RunResult> = read_json(out, "results.json").unwrap_or_default();
    let cold: Vec<coldstart::ColdStart> = read_json(out, "coldstart.json").unwrap_or_default();
    let costs: Vec<accounting::OperationCost> = read_json(out, "accounting.json").unwrap_or_default();
    let searches: Vec<search::SearchRun> = read_json(out, "search.json").unwrap_or_default();
    let _ = std::fs::write(
        out.join("RESULTS.md"),
        report::markdown(&runs, &cold, &costs, &machine()) + &search::markdown(&searches),
    );
    if !runs.is_empty() {
        let _ = std::fs::write(out.join("latency.svg"), report::svg(&runs));
    }
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = PathBuf::from(flag(&args, "--out").unwrap_or_else(|| "bench/results".into()));
    match args.first().map(String::as_str) {
        Some("suite") => {
            let gateway =
                PathBuf::from(flag(&args, "--gateway-bin").unwrap_or_else(|| "target/fast/local-gateway".into()));
            let node = PathBuf::from(
                flag(&args, "--node-server").unwrap_or_else(|| "bench/socketio-baseline/server.js".into()),
            );
            let runs = suite::suite(args.iter().any(|a| a == "--quick"), &gateway, &node).await?;
            write_json(&out, "results.json", &runs);
            write_report(&out);
        }
        Some("coldstart") => {
            let redis = messaging_backends::environment::get("REDIS_URL").ok_or("REDIS_URL is required")?;
            let env: Vec<(String, String)> = [
                ("AWS_REGION", "us-east-1"),
                ("AWS_ACCESS_KEY_ID", "bench"),
                ("AWS_SECRET_ACCESS_KEY", "bench"),
                ("REDIS_URL", redis.as_str()),
                ("REDIS_CLUSTER", "false"),
                ("TABLE_PREFIX", "bench-"),
                ("ATTACHMENTS_BUCKET", "bench-bucket"),
                ("WEBSOCKET_MANAGEMENT_ENDPOINT", "http://127.0.0.1:9"),
                ("DELAYED_TASKS_QUEUE_URL", "http://127.0.0.1:9/000000000000/bench"),
                ("JWT_SECRET", suite::JWT_SECRET),
                ("RUST_LOG", "info"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            let mut results = Vec::new();
            for bin in args.iter().skip(1).filter(|a| Path::new(a).is_file()) {
                let r = coldstart::measure(Path::new(bin), &env, 30).await?;
                eprintln!(
                    "{}: {:.2} MB, median {:.2} ms, p95 {:.2} ms",
                    r.function,
                    r.size_bytes as f64 / 1_048_576.0,
                    r.median_ms,
                    r.p95_ms
                );
                results.push(r);
            }
            write_json(&out, "coldstart.json", &results);
            write_report(&out);
        }
        Some("accounting") => {
            let endpoint =
                messaging_backends::environment::get("AWS_ENDPOINT_URL").ok_or("AWS_ENDPOINT_URL is required")?;
            let redis = messaging_backends::environment::get("REDIS_URL").ok_or("REDIS_URL is required")?;
            let costs = accounting::measure(&endpoint, &redis).await?;
            for c in &costs {
                eprintln!("{c:?}");
            }
            write_json(&out, "accounting.json", &costs);
            write_report(&out);
        }
        Some("search") => {
            let sizes = flag(&args, "--messages").unwrap_or_else(|| "100000,1000000".into());
            let rounds: usize = flag(&args, "--rounds")
                .map_or(Ok(100), |r| r.parse())
                .map_err(|_| "--rounds N")?;
            let dir = std::env::temp_dir().join("loadgen-search");
            let _ = std::fs::create_dir_all(&dir);
            let mut runs = Vec::new();
            for size in sizes.split(',') {
                let n: usize = size
                    .trim()
                    .parse()
                    .map_err(|_| format!("--messages: {size:?} is not a number"))?;
                let r = search::measure(&dir, n, rounds).await?;
                eprintln!(
                    "{} messages: index {:.1} MB ({:.1} MB optimized), {:.0} msg/s, search p50 {:.2} ms, p99 {:.2} ms",
                    r.messages,
                    r.index_bytes as f64 / 1_048_576.0,
                    r.optimized_bytes as f64 / 1_048_576.0,
                    r.messages_per_second,
                    r.all_p50_ms,
                    r.all_p99_ms
                );
                for k in &r.kinds {
                    eprintln!(
                        "  {:<40} p50 {:>7.2} ms  p99 {:>7.2} ms  {:>5.1} hits",
                        k.kind, k.p50_ms, k.p99_ms, k.mean_hits
                    );
                }
                runs.push(r);
            }
            write_json(&out, "search.json", &runs);
            write_report(&out);
        }
        Some("report") => write_report(&out),
        _ => return Err("usage: loadgen suite|coldstart|accounting|search|report [...]".into()),
    }
    Ok(())
}
