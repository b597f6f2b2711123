//! One load run against one target: open the connections, send at the target rate for
//! the duration, record every delivered copy, then account for every expected copy.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::procinfo;
use crate::stats::{Percentiles, percentiles};
use crate::target::{Frame, Kind, Target, user_id};

#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct LoadPoint {
    pub connections: usize,
    pub rate: usize,
    /// Participants per conversation (recipients per message = participants - 1).
    pub participants: usize,
    pub duration_s: f64,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunResult {
    pub target: Kind,
    pub point: LoadPoint,
    pub users: usize,
    pub conversations: usize,
    pub sent: u64,
    pub send_errors: u64,
    pub expected_copies: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    pub delivered_per_s: f64,
    pub achieved_send_rate: f64,
    pub latency: Percentiles,
    pub send_latency: Percentiles,
    pub server_cpu_s: f64,
    pub server_cpu_pct: f64,
    pub server_peak_rss_mb: f64,
    pub rss_per_idle_connection_kb: f64,
    /// p99 of every repetition of this point (the row shows the median one).
    #[serde(default)]
    pub p99_runs_ms: Vec<f64>,
}

/// Who is in which conversation: users have `connections / users` devices each, and each
/// user is in two conversations of `participants` members.
pub fn plan(point: &LoadPoint) -> (usize, usize, Vec<Vec<usize>>) {
    let per_user = 2;
    let users = (point.connections / per_user).max(point.participants);
    let conversations = (users * 2 / point.participants).max(1);
    let mut rng = XorShift(0x5eed_1234_abcd_ef01);
    let members = (0..conversations)
        .map(|_| {
            let mut set = Vec::new();
            while set.len() < point.participants {
                let u = (rng.next() % users as u64) as usize;
                if !set.contains(&u) {
                    set.push(u);
                }
            }
            set
        })
        .collect();
    (users, per_user, members)
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[derive(Default)]
struct ConnectionTally {
    latencies_us: Vec<u64>,
    delivered: u64,
    duplicated: u64,
    out_of_order: u64,
}

pub async fn run(
    kind: Kind,
    base: &str,
    server_pid: u32,
    point: LoadPoint,
    jwt_secret: &str,
) -> Result<RunResult, String> {
    let (users, per_user, members) = plan(&point);
    let mut target = Target::new(kind, base.to_owned());
    target.setup(users, &members, jwt_secret).await?;
    let target = Arc::new(target);

    // Idle memory per connection: RSS before and after opening every socket.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before_sockets = procinfo::usage(server_pid);
    let epoch = Instant::now();
    let (stop_tx, stop_rx) = watch::channel(false);
    let opens = (0..users).flat_map(|u| std::iter::repeat_n(u, per_user)).map(|u| {
        let target = target.clone();
        async move { target.connect(u).await.map(|s| (u, s)) }
    });
    let sockets: Vec<Result<_, String>> = futures::stream::iter(opens).buffer_unordered(64).collect().await;
    let mut readers = Vec::new();
    for socket in sockets {
        let (user, socket) = socket?;
        readers.push(tokio::spawn(read(target.clone(), user, socket, epoch, stop_rx.clone())));
    }
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let with_sockets = procinfo::usage(server_pid);
    let connections = users * per_user;
    let per_connection_kb = (with_sockets.rss_kb as f64 - before_sockets.rss_kb as f64) / connections as f64;

    // Warm up: one message per conversation, not measured.
    for (k, m) in members.iter().enumerate() {
        target
            .send(m[0], k, &ulid::Ulid::generate().to_string(), "warmup")
            .await?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The measured run: sends at `rate` per second, each from a random participant.
    let cpu_before = procinfo::usage(server_pid);
    let sent = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let per_conversation_sender: Arc<std::sync::Mutex<HashMap<(usize, usize), u64>>> = Default::default();
    let send_latencies: Arc<std::sync::Mutex<Vec<u64>>> = Default::default();
    let mut rng = XorShift(0xfeed_beef_0bad_cafe);
    let started = Instant::now();
    let total = (point.rate as f64 * point.duration_s) as u64;
    let mut issued = 0u64;
    let mut tasks = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(1));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    while issued < total {
        ticker.tick().await;
        let due = ((started.elapsed().as_secs_f64() * point.rate as f64) as u64).min(total);
        while issued < due {
            issued += 1;
            let k = (rng.next() % members.len() as u64) as usize;
            let sender = members[k][(rng.next() % members[k].len() as u64) as usize];
            let (target, sent, errors, tally, lat) = (
                target.clone(),
                sent.clone(),
                errors.clone(),
                per_conversation_sender.clone(),
                send_latencies.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let t0 = epoch.elapsed().as_micros() as u64;
                let body = format!("m:{t0}");
                match target.send(sender, k, &ulid::Ulid::generate().to_string(), &body).await {
                    Ok(()) => {
                        sent.fetch_add(1, Ordering::Relaxed);
                        *tally.lock().unwrap().entry((k, sender)).or_default() += 1;
                        lat.lock().unwrap().push(epoch.elapsed().as_micros() as u64 - t0);
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    let send_window = started.elapsed().as_secs_f64();
    let cpu_after = procinfo::usage(server_pid);
    // Let the last deliveries land, then stop the readers.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop_tx.send(true);
    let mut tally = ConnectionTally::default();
    for r in readers {
        if let Ok(t) = r.await {
            tally.latencies_us.extend(t.latencies_us);
            tally.delivered += t.delivered;
            tally.duplicated += t.duplicated;
            tally.out_of_order += t.out_of_order;
        }
    }
    let expected: u64 = per_conversation_sender
        .lock()
        .unwrap()
        .iter()
        .map(|((k, sender), count)| {
            count * ((members[*k].len() - 1) * per_user) as u64 * u64::from(members[*k].contains(sender))
        })
        .sum();
    let final_usage = procinfo::usage(server_pid);
    let cpu_s = cpu_after.cpu_s - cpu_before.cpu_s;
    Ok(RunResult {
        target: kind,
        point,
        users,
        conversations: members.len(),
        sent: sent.load(Ordering::Relaxed),
        send_errors: errors.load(Ordering::Relaxed),
        expected_copies: expected,
        delivered: tally.delivered,
        lost: expected.saturating_sub(tally.delivered),
        duplicated: tally.duplicated,
        out_of_order: tally.out_of_order,
        delivered_per_s: tally.delivered as f64 / send_window,
        achieved_send_rate: sent.load(Ordering::Relaxed) as f64 / send_window,
        latency: percentiles(tally.latencies_us),
        send_latency: percentiles(std::mem::take(&mut *send_latencies.lock().unwrap())),
        server_cpu_s: cpu_s,
        server_cpu_pct: 100.0 * cpu_s / send_window,
        server_peak_rss_mb: final_usage.peak_rss_kb as f64 / 1024.0,
        rss_per_idle_connection_kb: per_connection_kb,
        p99_runs_ms: Vec::new(),
    })
}

/// Reads one connection until told to stop; counts measured copies addressed to this user.
async fn read(
    target: Arc<Target>,
    user: usize,
    socket: crate::target::Socket,
    epoch: Instant,
    mut stop: watch::Receiver<bool>,
) -> ConnectionTally {
    let me = user_id(user);
    let (mut sink, mut stream) = socket.split();
    let mut tally = ConnectionTally::default();
    let mut seen: HashMap<String, HashSet<u64>> = HashMap::new();
    let mut newest: HashMap<String, u64> = HashMap::new();
    loop {
        let frame = tokio::select! {
            _ = stop.changed() => break,
            frame = stream.next() => frame,
        };
        let Some(Ok(Message::Text(text))) = frame else {
            if matches!(frame, None | Some(Err(_))) {
                break;
            }
            continue;
        };
        let now = epoch.elapsed().as_micros() as u64;
        match target.parse(&text) {
            Frame::Reply(r) => {
                let _ = sink.send(Message::Text(r.into())).await;
            }
            Frame::Delivery {
                conversation,
                seq,
                sender,
                body,
            } => {
                // The gateway also delivers to the sender's own devices; only the other
                // participants' copies are expected (as the baseline broadcasts them).
                let Some(t0) = body.strip_prefix("m:").and_then(|t| t.parse::<u64>().ok()) else {
                    continue;
                };
                if sender == me {
                    continue;
                }
                if !seen.entry(conversation.clone()).or_default().insert(seq) {
                    tally.duplicated += 1;
                    continue;
                }
                let last = newest.entry(conversation).or_default();
                if seq < *last {
                    tally.out_of_order += 1;
                }
                *last = (*last).max(seq);
                tally.delivered += 1;
                tally.latencies_us.push(now.saturating_sub(t0));
            }
            Frame::Other => {}
        }
    }
    tally
}
