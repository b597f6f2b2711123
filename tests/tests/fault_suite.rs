//! The fault-injection suite (issue 13, item 6): real traffic through the local gateway
//! while something breaks — Redis restarted, DynamoDB throttling, failing and cut off,
//! the Management API answering 429/500/410, client connections dropped mid-fan-out,
//! the gateway killed with SIGKILL, 500 sockets reconnecting at once — and, for every
//! acknowledged message, 0 lost, 0 duplicated, 0 out of order, with every client
//! converging once it is back. Prints the table of scenario → faults → outcome (also
//! written to `target/fault-table.md`). Bounded: each scenario sends for a few seconds.

use std::time::Duration;

use integration_tests::dynamo_faults::{Fault, FaultPlan, FaultProxy};
use integration_tests::faults::management::{ManagementFaults, PushFault};
use integration_tests::faults::processes::{GatewayProcess, RedisProcess};
use integration_tests::faults::tcp::TcpProxy;
use integration_tests::faults::traffic::{self, Acked, Outcome, Receiver, SendStats, assess, history, send_all};
use integration_tests::gateway::{self, Api, TestGateway};
use integration_tests::services::{aws_endpoint, redis_url, repo_root, unique};
use messaging_core::limits::{Action, Limit};
use serde_json::json;
use tokio::sync::watch;

/// The suite sends far faster than people do; the limits have tests of their own.
fn generous(settings: &mut messaging_core::Settings) {
    for action in [Action::Send, Action::Connect, Action::CreateConversation] {
        settings
            .limits
            .set(action, Limit::new(100_000, Duration::from_secs(10)));
    }
}

const RATE_LIMITS: &str = "send=100000/10s,connect=100000/10s,create-conversation=100000/10s";

fn ws_through(proxy: &TcpProxy) -> String {
    format!("ws://{}/ws", proxy.addr)
}

/// Starts receivers listening; returns the stop switch and their tasks.
fn listen_all(receivers: Vec<Receiver>) -> (watch::Sender<bool>, Vec<tokio::task::JoinHandle<Receiver>>) {
    let (stop, rx) = watch::channel(false);
    let tasks = receivers
        .into_iter()
        .map(|r| tokio::spawn(r.listen(rx.clone())))
        .collect();
    (stop, tasks)
}

async fn stop_all(stop: watch::Sender<bool>, tasks: Vec<tokio::task::JoinHandle<Receiver>>) -> Vec<Receiver> {
    let _ = stop.send(true);
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("a receiver task"));
    }
    out
}

/// After the faults: one more message, which every receiver must get live (their sockets
/// and the registry have healed), then each catches up over REST.
async fn settle(sender: &Api, conv: &str, receivers: &mut [Receiver]) -> (Option<Acked>, usize) {
    for r in receivers.iter_mut() {
        r.heartbeat().await;
    }
    let stats = std::sync::Mutex::new(SendStats::default());
    let probe = traffic::send_until_acked(sender, conv, "after the faults", Duration::from_secs(30), &stats).await;
    let mut live = 0;
    if let Some(p) = &probe {
        for r in receivers.iter_mut() {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while tokio::time::Instant::now() < deadline {
                match r.next_live(Duration::from_secs(1)).await {
                    Some(seq) if seq >= p.seq => {
                        live += 1;
                        break;
                    }
                    Some(_) => {}
                    // Closed: this socket will not see it live; converging must still.
                    None if !r.connected() => break,
                    None => {}
                }
            }
        }
    }
    for r in receivers.iter_mut() {
        r.converge().await;
    }
    (probe, live)
}

async fn finish(
    scenario: &str,
    faults: String,
    sender: &Api,
    conv: &str,
    mut acked: Vec<Acked>,
    stats: SendStats,
    receivers: &mut [Receiver],
) -> Outcome {
    let (probe, live) = settle(sender, conv, receivers).await;
    acked.extend(probe);
    let history = history(sender, conv).await;
    let reconnects: u64 = receivers.iter().map(|r| r.reconnects).sum();
    let notes = format!(
        "{}; {} reconnects; live again on {live}/{} sockets",
        stats.describe(),
        reconnects,
        receivers.len()
    );
    let mut outcome = assess(scenario, faults, &acked, &history, receivers, notes);
    outcome.converged &= live == receivers.len();
    outcome
}

async fn redis_restarted_mid_traffic() -> Outcome {
    let mut redis = RedisProcess::start();
    // The gateway reaches Redis through the TCP proxy, which also cuts its connections.
    let link = TcpProxy::start(redis.addr).await;
    let url = format!("redis://{}", link.addr);
    let gw = gateway::start_with(move |c| {
        generous(&mut c.settings);
        c.redis = Some(messaging_redis::RedisOptions::new(&url));
        c.pusher = local_gateway::PusherMode::ManagementApi;
    })
    .await;
    let ben = gw.login("u-team-ben").await;
    let ana = gw.login("u-client-ana").await;
    let conv = ben.create_conversation("Redis restart", &["u-client-ana"]).await;
    let receivers = vec![
        Receiver::connect(&ana, &gw.running.ws_url(), &conv, "ana").await,
        Receiver::connect(&ben, &gw.running.ws_url(), &conv, "ben").await,
    ];
    let (stop, tasks) = listen_all(receivers);
    let senders = [ben.clone(), ana.clone()];
    let traffic = send_all(&senders, &conv, 40, Duration::from_millis(40), "redis");
    let faults = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        link.cut();
        tokio::time::sleep(Duration::from_millis(300)).await;
        redis.kill();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        tokio::task::block_in_place(|| redis.restart());
        tokio::time::sleep(Duration::from_millis(300)).await;
        link.cut();
    };
    let ((acked, stats), ()) = tokio::join!(traffic, faults);
    let mut receivers = stop_all(stop, tasks).await;
    let mut outcome = finish(
        "Redis restarted mid-traffic",
        format!(
            "redis-server SIGKILLed, down 1.5 s, back empty; {} connections to it cut",
            link.cut_connections()
        ),
        &ben,
        &conv,
        acked,
        stats,
        &mut receivers,
    )
    .await;
    // The registry was rebuilt in the new, empty Redis by the sockets' heartbeats.
    let keys = std::process::Command::new("redis-cli")
        .args(["-p", &redis.addr.port().to_string(), "dbsize"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    outcome.notes.push_str(&format!("; {keys} keys in the new Redis"));
    outcome.converged &= keys.parse::<u64>().is_ok_and(|n| n > 0);
    outcome
}

async fn dynamodb_throttled_failing_and_cut() -> Outcome {
    let dynamo = FaultProxy::start(aws_endpoint(), FaultPlan::scripted(vec![])).await;
    let dynamo_addr = dynamo.url.trim_start_matches("http://").parse().expect("proxy address");
    let tcp = TcpProxy::start(dynamo_addr).await;
    let (prefix, bucket, endpoint) = (format!("{}-", unique("faults")), unique("faults"), tcp.url());
    let gw = gateway::start_with(move |c| {
        generous(&mut c.settings);
        c.store = local_gateway::StoreChoice::DynamoDb;
        c.aws_endpoint = Some(endpoint);
        c.table_prefix = prefix;
        c.bucket = bucket;
    })
    .await;
    let ben = gw.login("u-team-ben").await;
    let ana = gw.login("u-client-ana").await;
    let cleo = gw.login("u-team-cleo").await;
    let conv = ben
        .create_conversation("DynamoDB trouble", &["u-client-ana", "u-team-cleo"])
        .await;
    let receivers = vec![Receiver::connect(&ana, &gw.running.ws_url(), &conv, "ana").await];
    let (stop, tasks) = listen_all(receivers);
    dynamo.set_random(
        0.1,
        vec![
            Fault::Throttled,
            Fault::ServerError,
            Fault::LostAnswer,
            Fault::TransactionConflict,
            Fault::CancelledByThrottling,
            Fault::CancelledByConflict,
            Fault::Unprocessed,
        ],
    );
    let senders = [ben.clone(), cleo.clone()];
    let traffic = send_all(&senders, &conv, 30, Duration::from_millis(20), "dynamo");
    let faults = async {
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            tcp.cut();
        }
    };
    let ((acked, stats), ()) = tokio::join!(traffic, faults);
    dynamo.set_random(0.0, vec![]);
    let mut receivers = stop_all(stop, tasks).await;
    let mut outcome = finish(
        "DynamoDB throttling, 500s, lost answers, cut connections",
        format!("{}; {} connections cut", dynamo.summary(), tcp.cut_connections()),
        &ben,
        &conv,
        acked,
        stats,
        &mut receivers,
    )
    .await;
    // Nothing half-written: the conversation's newest message and ana's unread count
    // agree with the history.
    let list = ana.get("/api/messaging/conversations").await.expect(200);
    let row = list["items"]
        .as_array()
        .and_then(|items| items.iter().find(|c| c["id"] == conv.as_str()).cloned())
        .unwrap_or_default();
    let messages = history(&ben, &conv).await;
    let newest = messages.last().and_then(|m| m["seq"].as_u64());
    let whole = row["lastMessage"]["seq"].as_u64() == newest;
    outcome.notes.push_str(&format!(
        "; list row: lastMessage seq {:?} of {newest:?}, unread {}",
        row["lastMessage"]["seq"].as_u64(),
        row["unreadCount"]
    ));
    outcome.converged &= whole;
    outcome
}

async fn management_api_faults_and_a_racing_reconnect() -> Outcome {
    let mgmt = ManagementFaults::start().await;
    let endpoint = mgmt.url.clone();
    let prefix = format!("{}:", unique("faults"));
    let gw = gateway::start_with(move |c| {
        generous(&mut c.settings);
        c.redis = Some(messaging_redis::RedisOptions {
            prefix,
            ..messaging_redis::RedisOptions::new(redis_url())
        });
        c.pusher = local_gateway::PusherMode::ManagementApi;
        c.management_endpoint = Some(endpoint);
        // Reconnects stay in `$connect` a while: pushes to the new id get 410 meanwhile.
        c.connect_delay = Duration::from_millis(300);
    })
    .await;
    mgmt.forward_to(&gw.running.url());
    let clients = TcpProxy::start(gw.running.addr).await;
    let ben = gw.login("u-team-ben").await;
    let ana = gw.login("u-client-ana").await;
    let conv = ben.create_conversation("Push trouble", &["u-client-ana"]).await;
    let receivers = vec![
        Receiver::connect(&ana, &ws_through(&clients), &conv, "ana-1").await,
        Receiver::connect(&ana, &ws_through(&clients), &conv, "ana-2").await,
    ];
    let (stop, tasks) = listen_all(receivers);
    mgmt.set_rates(vec![(PushFault::LimitExceeded, 0.15), (PushFault::ServerError, 0.1)]);
    let traffic = send_all(std::slice::from_ref(&ben), &conv, 60, Duration::from_millis(30), "push");
    let faults = async {
        tokio::time::sleep(Duration::from_millis(600)).await;
        // A live socket reported gone: the registry forgets it until its next heartbeat.
        mgmt.gone_next(4);
        tokio::time::sleep(Duration::from_millis(600)).await;
        // Both sockets drop and reconnect while pushes keep coming.
        clients.cut();
    };
    let ((acked, stats), ()) = tokio::join!(traffic, faults);
    mgmt.set_rates(vec![]);
    let mut receivers = stop_all(stop, tasks).await;
    let injected = format!(
        "429×{} 500×{} 410×{} (live sockets), {} sockets cut during 300 ms $connect windows",
        mgmt.injected(PushFault::LimitExceeded),
        mgmt.injected(PushFault::ServerError),
        mgmt.injected(PushFault::Gone),
        clients.cut_connections()
    );
    finish(
        "Management API 429 / 500 / 410 racing a reconnect",
        injected,
        &ben,
        &conv,
        acked,
        stats,
        &mut receivers,
    )
    .await
}

async fn connections_dropped_mid_fanout() -> Outcome {
    let gw = gateway::start_with(|c| generous(&mut c.settings)).await;
    let clients = TcpProxy::start(gw.running.addr).await;
    let ben = gw.login("u-team-ben").await;
    let ana = gw.login("u-client-ana").await;
    let cleo = gw.login("u-team-cleo").await;
    let conv = ben
        .create_conversation("Dropped sockets", &["u-client-ana", "u-team-cleo"])
        .await;
    let ws = ws_through(&clients);
    let receivers = vec![
        Receiver::connect(&ana, &ws, &conv, "ana-1").await,
        Receiver::connect(&ana, &ws, &conv, "ana-2").await,
        Receiver::connect(&cleo, &ws, &conv, "cleo").await,
        Receiver::connect(&ben, &ws, &conv, "ben").await,
    ];
    let (stop, tasks) = listen_all(receivers);
    let senders = [ben.clone(), ana.clone(), cleo.clone()];
    let traffic = send_all(&senders, &conv, 30, Duration::from_millis(20), "fanout");
    let faults = async {
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(400)).await;
            clients.cut();
        }
    };
    let ((acked, stats), ()) = tokio::join!(traffic, faults);
    let mut receivers = stop_all(stop, tasks).await;
    finish(
        "Connections dropped mid-fan-out",
        format!(
            "{} client connections reset (no close frame), 3 times",
            clients.cut_connections()
        ),
        &ben,
        &conv,
        acked,
        stats,
        &mut receivers,
    )
    .await
}

/// Logs in on a gateway process (its dev login) as a browser would.
async fn login_at(base: &str, user: &str) -> Api {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let body: serde_json::Value = http
        .post(format!("{base}/dev/login"))
        .json(&json!({ "userId": user }))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("login body");
    Api {
        http,
        base: base.to_owned(),
        token: body["token"].as_str().map(str::to_owned),
        user_id: user.to_owned(),
    }
}

async fn gateway_killed_under_load() -> Outcome {
    let data = tempfile::tempdir().expect("data dir");
    let mut process = GatewayProcess::start(
        env!("CARGO_BIN_EXE_gateway-process"),
        data.path(),
        vec![("RATE_LIMITS".into(), RATE_LIMITS.into())],
    );
    let base = process.url();
    let ws_url = format!("ws://{}/ws", process.addr);
    let ben = login_at(&base, "u-team-ben").await;
    let ana = login_at(&base, "u-client-ana").await;
    let cleo = login_at(&base, "u-team-cleo").await;
    let conv = ben
        .create_conversation("kill -9", &["u-client-ana", "u-team-cleo"])
        .await;
    let receivers = vec![Receiver::connect(&ana, &ws_url, &conv, "ana").await];
    let (stop, tasks) = listen_all(receivers);
    let senders = [ben.clone(), ana.clone(), cleo.clone()];
    let traffic = send_all(&senders, &conv, 40, Duration::from_millis(15), "kill");
    let faults = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
        process.kill();
        tokio::time::sleep(Duration::from_millis(300)).await;
        tokio::task::block_in_place(|| process.restart());
    };
    let ((acked, stats), ()) = tokio::join!(traffic, faults);
    let mut receivers = stop_all(stop, tasks).await;
    finish(
        "Gateway SIGKILLed under load (embedded store)",
        "kill -9 of the gateway process, restarted on the same data folder".into(),
        &ben,
        &conv,
        acked,
        stats,
        &mut receivers,
    )
    .await
}

async fn reconnect_storm_of_500_sockets() -> Outcome {
    let gw: TestGateway = gateway::start_with(|c| generous(&mut c.settings)).await;
    let clients = TcpProxy::start(gw.running.addr).await;
    let ben = gw.login("u-team-ben").await;
    let ana = gw.login("u-client-ana").await;
    let cleo = gw.login("u-team-cleo").await;
    let conv = ben.create_conversation("Storm", &["u-client-ana", "u-team-cleo"]).await;
    let ws = ws_through(&clients);
    let people = [ana.clone(), ben.clone(), cleo.clone()];
    let mut receivers = Vec::new();
    for batch in 0..10 {
        let mut opening = Vec::new();
        for i in 0..50 {
            let (api, ws, conv) = (people[(batch * 50 + i) % 3].clone(), ws.clone(), conv.clone());
            opening.push(tokio::spawn(async move {
                Receiver::connect(&api, &ws, &conv, &format!("s{}", batch * 50 + i)).await
            }));
        }
        for o in opening {
            receivers.push(o.await.expect("a socket opens"));
        }
    }
    let (stop, tasks) = listen_all(receivers);
    let started = std::time::Instant::now();
    clients.cut();
    // All 500 come back at once while messages are being sent.
    let (acked, stats) = send_all(
        std::slice::from_ref(&ben),
        &conv,
        20,
        Duration::from_millis(50),
        "storm",
    )
    .await;
    let mut receivers = stop_all(stop, tasks).await;
    let storm = started.elapsed();
    let mut outcome = finish(
        "Reconnect storm of 500 sockets",
        format!("{} sockets reset at once", clients.cut_connections()),
        &ben,
        &conv,
        acked,
        stats,
        &mut receivers,
    )
    .await;
    outcome
        .notes
        .push_str(&format!("; storm and sends over in {:.1} s", storm.as_secs_f64()));
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_message_survives_every_fault() {
    let mut rows = Vec::new();
    let started = std::time::Instant::now();
    let mut last = std::time::Instant::now();
    let mut note = |mut row: Outcome| {
        row.notes.push_str(&format!("; {:.1} s", last.elapsed().as_secs_f64()));
        last = std::time::Instant::now();
        eprintln!("[{:>5.1} s] {row:?}", started.elapsed().as_secs_f64());
        rows.push(row);
    };
    note(redis_restarted_mid_traffic().await);
    note(dynamodb_throttled_failing_and_cut().await);
    note(management_api_faults_and_a_racing_reconnect().await);
    note(connections_dropped_mid_fanout().await);
    note(gateway_killed_under_load().await);
    note(reconnect_storm_of_500_sockets().await);
    let table = traffic::table(&rows);
    println!("\n{table}");
    let _ = std::fs::write(repo_root().join("target/fault-table.md"), &table);
    let failed: Vec<&Outcome> = rows.iter().filter(|r| !r.clean()).collect();
    assert!(
        failed.is_empty(),
        "scenarios with lost, duplicated or out-of-order messages, or clients that did not converge:\n{table}"
    );
}
