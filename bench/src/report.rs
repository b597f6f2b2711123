//! The benchmark's outputs: a Markdown report and an SVG plot of latency percentiles
//! against load, for both systems.

use std::fmt::Write as _;

use crate::accounting::OperationCost;
use crate::coldstart::ColdStart;
use crate::run::RunResult;
use crate::target::Kind;

pub fn markdown(runs: &[RunResult], cold: &[ColdStart], costs: &[OperationCost], machine: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Benchmark results\n");
    let _ = writeln!(out, "{machine}\n");
    let _ = writeln!(
        out,
        "Each message goes to every connection of the 3 other participants of its conversation (4 participants, 2 connections each). \
         Each point ran 3 times per system (systems interleaved); a row is the run with the median p99.\n\
         Latency is send → receive for every delivered copy (the sender's clock, one process). **The messaging gateway persists every \
         message** (SQLite, committed before it is pushed) and goes through the full function path (API Gateway event, JWT check, \
         membership, ordered fan-out); the Socket.IO baseline keeps messages in memory only.\n"
    );
    let _ = writeln!(
        out,
        "| system | connections | msg/s (target → achieved) | p50 ms | p95 ms | p99 ms | p99 of each run | max ms | delivered/s | lost | dup | out of order | send errors | server CPU | server peak RSS | RSS / idle connection |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for r in runs {
        let _ = writeln!(
            out,
            "| {} | {} | {} → {:.0} | {:.2} | {:.2} | {:.2} | {} | {:.1} | {:.0} | {} | {} | {} | {} | {:.0}% | {:.0} MB | {:.1} KB |",
            r.target.label(),
            r.point.connections,
            r.point.rate,
            r.achieved_send_rate,
            r.latency.p50_ms,
            r.latency.p95_ms,
            r.latency.p99_ms,
            r.p99_runs_ms
                .iter()
                .map(|v| format!("{v:.2}"))
                .collect::<Vec<_>>()
                .join(" / "),
            r.latency.max_ms,
            r.delivered_per_s,
            r.lost,
            r.duplicated,
            r.out_of_order,
            r.send_errors,
            r.server_cpu_pct,
            r.server_peak_rss_mb,
            r.rss_per_idle_connection_kb,
        );
    }
    if !cold.is_empty() {
        let _ = writeln!(
            out,
            "\n## Cold start (process start → first Runtime API request) and binary size\n"
        );
        let _ = writeln!(out, "| function | binary | median ms | p95 ms | max ms | runs |");
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|");
        for c in cold {
            let _ = writeln!(
                out,
                "| {} | {:.2} MB | {:.2} | {:.2} | {:.2} | {} |",
                c.function,
                c.size_bytes as f64 / 1_048_576.0,
                c.median_ms,
                c.p95_ms,
                c.max_ms,
                c.runs
            );
        }
    }
    if !costs.is_empty() {
        let _ = writeln!(
            out,
            "\n## Requests per operation (DynamoDB via moto, Redis, Management API, SQS)\n"
        );
        let _ = writeln!(
            out,
            "| operation | DynamoDB requests | capacity units (reported) | Redis commands | Management API calls | SQS messages | round trips in sequence |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---:|");
        for c in costs {
            let _ = writeln!(
                out,
                "| {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} |",
                c.operation,
                c.dynamodb_requests,
                c.capacity_units,
                c.redis_commands,
                c.management_api_calls,
                c.sqs_messages,
                c.round_trips
            );
        }
    }
    out
}

/// Latency percentiles (y, log scale) per load point (x), both systems.
pub fn svg(runs: &[RunResult]) -> String {
    let mut points: Vec<(usize, usize)> = runs.iter().map(|r| (r.point.connections, r.point.rate)).collect();
    points.dedup();
    points.sort();
    points.dedup();
    let (w, h, left, right, top, bottom) = (1060.0, 480.0, 70.0, 410.0, 40.0, 70.0);
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let all: Vec<f64> = runs
        .iter()
        .flat_map(|r| [r.latency.p50_ms, r.latency.p95_ms, r.latency.p99_ms])
        .filter(|v| *v > 0.0)
        .collect();
    let lo = all
        .iter()
        .cloned()
        .fold(f64::INFINITY, f64::min)
        .max(0.01)
        .log10()
        .floor();
    let hi = all
        .iter()
        .cloned()
        .fold(0.0, f64::max)
        .max(0.1)
        .log10()
        .ceil()
        .max(lo + 1.0);
    let y = |ms: f64| top + plot_h * (1.0 - (ms.max(0.01).log10() - lo) / (hi - lo));
    let x = |i: usize| {
        left + if points.len() > 1 {
            plot_w * i as f64 / (points.len() - 1) as f64
        } else {
            plot_w / 2.0
        }
    };
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(s, r#"<rect width="{w}" height="{h}" fill="white"/>"#);
    let _ = write!(
        s,
        r#"<text x="{left}" y="22" font-size="15" font-weight="bold">Delivery latency percentiles vs load (log scale)</text>"#
    );
    let mut decade = lo;
    while decade <= hi {
        let ms = 10f64.powf(decade);
        let yy = y(ms);
        let _ = write!(
            s,
            r##"<line x1="{left}" x2="{}" y1="{yy}" y2="{yy}" stroke="#ddd"/><text x="{}" y="{}" text-anchor="end">{} ms</text>"##,
            left + plot_w,
            left - 6.0,
            yy + 4.0,
            ms
        );
        decade += 1.0;
    }
    for (i, (c, r)) in points.iter().enumerate() {
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" text-anchor="middle">{c} conns</text><text x="{}" y="{}" text-anchor="middle">{r} msg/s</text>"#,
            x(i),
            top + plot_h + 20.0,
            x(i),
            top + plot_h + 36.0
        );
    }
    let _ = write!(
        s,
        r#"<line x1="{left}" x2="{left}" y1="{top}" y2="{}" stroke="black"/>"#,
        top + plot_h
    );
    let series = [
        (Kind::Gateway, "#1f6feb"),
        (Kind::SocketIo, "#d1242f"),
        (Kind::GatewaySdkPush, "#8250df"),
    ];
    let mut legend_y = top + 10.0;
    for (kind, color) in series {
        for (name, dash, pick) in [("p50", "", 0usize), ("p95", "6,3", 1), ("p99", "2,3", 2)] {
            let mut path = String::new();
            for (i, p) in points.iter().enumerate() {
                if let Some(r) = runs
                    .iter()
                    .find(|r| r.target == kind && (r.point.connections, r.point.rate) == *p)
                {
                    let v = [r.latency.p50_ms, r.latency.p95_ms, r.latency.p99_ms][pick];
                    let _ = write!(
                        path,
                        "{}{:.1},{:.1} ",
                        if path.is_empty() { "M" } else { "L" },
                        x(i),
                        y(v)
                    );
                    let _ = write!(s, r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{color}"/>"#, x(i), y(v));
                }
            }
            if !path.is_empty() {
                let _ = write!(
                    s,
                    r#"<path d="{path}" fill="none" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/>"#
                );
                let lx = left + plot_w + 20.0;
                let _ = write!(
                    s,
                    r#"<line x1="{lx}" x2="{}" y1="{legend_y}" y2="{legend_y}" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/><text x="{}" y="{}">{} {name}</text>"#,
                    lx + 30.0,
                    lx + 36.0,
                    legend_y + 4.0,
                    kind.label()
                );
                legend_y += 20.0;
            }
        }
    }
    s.push_str("</svg>\n");
    s
}
