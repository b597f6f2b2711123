//! Request accounting: what one operation costs in DynamoDB requests (and the capacity
//! units DynamoDB reports), Redis commands, Management API calls and SQS messages, and how
//! many round trips it waits for one after the other — measured by running the service on
//! the real AWS adapters (moto at `AWS_ENDPOINT_URL`, Redis at `REDIS_URL`) and counting.
//!
//! Round trips are timed, not inferred: DynamoDB and Redis are reached through
//! [`LatencyProxy`]s, and each operation runs once with no added delay and once with
//! [`ROUND_TRIP`] added to every request; (slow − fast) ÷ [`ROUND_TRIP`] is the number of
//! round trips it waited for in sequence. Requests sent together count once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;

use messaging_aws::TableNames;
use messaging_backends::{
    AwsTarget, BackendChoice, BlobChoice, DirectoryChoice, PusherChoice, RegistryChoice, SchedulerChoice, StoreChoice,
};
use messaging_core::Identity;
use messaging_core::directory::Profile;
use messaging_core::ids::{ClientMessageId, ConnectionId, ConversationId, UserId};
use messaging_core::limits::{Action, Limit};
use messaging_core::model::{MessageRange, Role};
use messaging_core::ports::{DelayedTask, ScheduleError, TaskScheduler};
use messaging_core::service::{CreateConversation, SendMessage};
use messaging_core::text::{MessageBody, Title};
use messaging_core::{Messaging, Settings};
use messaging_redis::RedisOptions;

use crate::latency::{LatencyProxy, socket_of};

/// The delay added per request to count round trips.
const ROUND_TRIP: Duration = Duration::from_millis(50);

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OperationCost {
    pub operation: String,
    pub dynamodb_requests: f64,
    pub capacity_units: f64,
    /// Commands Redis processed (several may share a round trip).
    #[serde(alias = "redis_round_trips")]
    pub redis_commands: f64,
    pub management_api_calls: f64,
    pub sqs_messages: f64,
    /// Round trips (to DynamoDB or Redis) waited for one after the other.
    #[serde(default)]
    pub round_trips: f64,
}

#[derive(Default)]
struct CountingScheduler(AtomicU64);

#[async_trait]
impl TaskScheduler for CountingScheduler {
    async fn schedule(&self, _: DelayedTask, _: Duration) -> Result<(), ScheduleError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

async fn redis_commands(client: &redis::Client) -> u64 {
    let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(&mut conn)
        .await
        .expect("INFO");
    info.lines()
        .find_map(|l| l.strip_prefix("total_commands_processed:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// A stub `@connections` that accepts every push.
async fn connections_stub() -> String {
    let app = axum::Router::new().route("/@connections/{id}", axum::routing::post(|| async { "" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// The service on the AWS adapters, reached through latency proxies, and its meters.
struct Bench {
    svc: Messaging,
    /// The people: in memory, read through the Redis profile cache as Cognito is.
    directory: Arc<messaging_embedded::LocalDirectory>,
    meter: Meter,
    dynamodb_proxy: LatencyProxy,
    redis_proxy: LatencyProxy,
}

async fn bench(endpoint: &str, redis_url: &str) -> Result<Bench, String> {
    let dynamodb_proxy = LatencyProxy::start(socket_of(endpoint).ok_or("AWS_ENDPOINT_URL is not host:port")?)
        .await
        .map_err(|e| e.to_string())?;
    let redis_proxy = LatencyProxy::start(socket_of(redis_url).ok_or("REDIS_URL is not host:port")?)
        .await
        .map_err(|e| e.to_string())?;
    let tables = TableNames::with_prefix(&format!("acct{}-", ulid::Ulid::generate().to_string().to_lowercase()));
    let scheduler = Arc::new(CountingScheduler::default());
    let registry = RedisOptions {
        prefix: format!("acct{}:", ulid::Ulid::generate()),
        ..RedisOptions::new(format!("redis://{}", redis_proxy.addr))
    };
    let directory = Arc::new(messaging_embedded::LocalDirectory::in_memory().map_err(|e| e.to_string())?);
    let backends = messaging_backends::build(BackendChoice {
        aws: AwsTarget::Local {
            endpoint: Some(format!("http://{}", dynamodb_proxy.addr)),
        },
        store: StoreChoice::DynamoDb {
            tables,
            create_tables: true,
        },
        registry: RegistryChoice::Redis(registry),
        pusher: PusherChoice::ManagementApi {
            endpoint: connections_stub().await,
        },
        blobs: BlobChoice::S3 {
            bucket: "unused".into(),
            create_bucket: false,
        },
        scheduler: SchedulerChoice::Given(scheduler.clone()),
        directory: DirectoryChoice::Cached(directory.clone()),
        push: messaging_backends::PushChoice::Disabled,
        // The accounting runs no delayed task, so nothing is ever mailed.
        mailer: messaging_backends::MailerChoice::Outbox {
            dir: std::env::temp_dir().join("messaging-accounting-outbox"),
        },
        // As in AWS: the functions do not write the index (a stream feeds it).
        search: messaging_backends::SearchChoice::Unavailable,
    })
    .await
    .map_err(|e| e.to_string())?;
    let dynamo_stats = backends.dynamodb_stats.ok_or("a DynamoDB store has request stats")?;
    let pushes = backends
        .management_api_calls
        .ok_or("a Management API pusher counts calls")?;
    let ports = backends.ports;
    let redis = redis::Client::open(redis_url).map_err(|e| e.to_string())?;
    Ok(Bench {
        svc: Messaging::new(ports, accounting_settings()),
        directory,
        meter: Meter {
            dynamo: dynamo_stats,
            pushes,
            sqs: scheduler,
            redis,
        },
        dynamodb_proxy,
        redis_proxy,
    })
}

impl Bench {
    fn set_delay(&self, delay: Duration) {
        self.dynamodb_proxy.set_delay(delay);
        self.redis_proxy.set_delay(delay);
    }
}

/// Runs `op` `2 N` times, alternately as is (counting its requests) and with
/// [`ROUND_TRIP`] added to every request, timing both; `prepare` runs before each, not
/// measured. Alternating keeps slow drifts of the servers out of the difference.
macro_rules! measure_op {
    ($bench:expr, $name:expr, |$i:ident| $prepare:block, $op:block) => {{
        let bench = &$bench;
        let mut cost = Cost::default();
        let (mut fast, mut slow) = (Duration::ZERO, Duration::ZERO);
        for $i in 0..2 * N {
            $prepare;
            let delayed = $i % 2 == 1;
            bench.set_delay(if delayed { ROUND_TRIP } else { Duration::ZERO });
            let before = bench.meter.read().await;
            let started = Instant::now();
            $op;
            let took = started.elapsed();
            bench.set_delay(Duration::ZERO);
            if delayed {
                slow += took;
            } else {
                fast += took;
                cost.add(&before, &bench.meter.read().await);
            }
        }
        let mut c = cost.per_operation($name);
        c.round_trips =
            ((slow.as_secs_f64() - fast.as_secs_f64()) / N as f64 / ROUND_TRIP.as_secs_f64() * 10.0).round() / 10.0;
        c
    }};
}

fn person(i: usize, prefix: &str) -> Identity {
    Identity {
        user_id: UserId::parse(&format!("{prefix}-u{i}")).unwrap(),
        role: Role::Team,
        name: format!("U{i}"),
    }
}

async fn create(b: &Bench, by: &Identity, others: &[&Identity]) -> Result<ConversationId, String> {
    for who in std::iter::once(by).chain(others.iter().copied()) {
        b.directory
            .insert_missing(&Profile {
                user_id: who.user_id.clone(),
                name: who.name.clone(),
                email: None,
                role: who.role,
                organisation: None,
                colour: None,
                active: true,
            })
            .map_err(|e| e.to_string())?;
    }
    let c = b
        .svc
        .create_conversation(
            by,
            CreateConversation {
                title: Title::parse("Accounting").unwrap(),
                project_id: None,
                participant_ids: others.iter().map(|p| p.user_id.clone()).collect(),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(c.conversation.id)
}

fn connection(name: &str) -> ConnectionId {
    ConnectionId::parse(&format!("{name}AAAA=")).unwrap()
}

pub async fn measure(endpoint: &str, redis_url: &str) -> Result<Vec<OperationCost>, String> {
    let b = bench(endpoint, redis_url).await?;
    let svc = &b.svc;

    // Four participants with two connections each (three recipients per message, as in the load runs).
    let prefix = format!("acct{}", ulid::Ulid::generate().to_string().to_lowercase());
    let people: Vec<Identity> = (0..4).map(|i| person(i, &prefix)).collect();
    let others: Vec<&Identity> = people[1..].iter().collect();
    let mut conversations = Vec::new();
    for _ in 0..10 {
        conversations.push(create(&b, &people[0], &others).await?);
    }
    let conv = conversations[0].clone();
    for (i, p) in people.iter().enumerate() {
        for d in 0..2 {
            svc.connect(&connection(&format!("acct{i}d{d}")), p)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    let send = |n: usize| SendMessage {
        body: MessageBody::parse(&format!("accounting message {n}")).unwrap(),
        client_message_id: ClientMessageId::parse(&ulid::Ulid::generate().to_string()).unwrap(),
        file_ids: vec![],
        reply_to: None,
    };
    // Warm the membership cache as a running system has it.
    svc.send_message(&people[0], &conv, send(0))
        .await
        .map_err(|e| e.to_string())?;

    let (p0, p1) = (&people[0], &people[1]);
    let mut costs = Vec::new();
    let err = |e: messaging_core::Error| e.to_string();

    costs.push(measure_op!(
        b,
        "send message (4 participants, 8 connections)",
        |i| {},
        {
            svc.send_message(p0, &conv, send(i + 1)).await.map_err(err)?;
        }
    ));
    costs.push(measure_op!(b, "list my conversations (10 conversations)", |_i| {}, {
        svc.list_my_conversations(p1, None, None, None).await.map_err(err)?;
    }));
    costs.push(measure_op!(b, "list messages (newest page)", |_i| {}, {
        let newest = MessageRange::parse(None, None, None).map_err(err)?;
        svc.list_messages(p1, &conv, newest).await.map_err(err)?;
    }));
    // A new message before each, so that every mark moves the watermark (and is announced).
    costs.push(measure_op!(
        b,
        "mark read",
        |i| {
            svc.send_message(p0, &conv, send(1000 + i)).await.map_err(err)?;
        },
        {
            svc.mark_read(p1, &conv, None).await.map_err(err)?;
        }
    ));

    // A participant's first device (they come online: presence goes to co-members); the
    // disconnect between rounds is not counted.
    let p3 = &people[3];
    for d in 0..2 {
        svc.disconnect(&connection(&format!("acct3d{d}"))).await.map_err(err)?;
    }
    costs.push(measure_op!(
        b,
        "connect (first device; presence to co-members)",
        |i| {
            if i > 0 {
                svc.disconnect(&connection(&format!("acctnew{}", i - 1)))
                    .await
                    .map_err(err)?;
            }
        },
        {
            svc.connect(&connection(&format!("acctnew{i}")), p3)
                .await
                .map_err(err)?;
        }
    ));

    costs.extend(measure_wide(&b, &prefix).await?);
    Ok(costs)
}

/// Conversations of the wide user: a team member in many projects.
const WIDE: usize = 300;

/// A user in [`WIDE`] conversations (each with two of 40 other people): connecting (which
/// tells everyone they share a conversation with) and listing their conversations must not
/// cost round trips per conversation.
async fn measure_wide(b: &Bench, prefix: &str) -> Result<Vec<OperationCost>, String> {
    let svc = &b.svc;
    let err = |e: messaging_core::Error| e.to_string();
    let wide = person(999, prefix);
    let pool: Vec<Identity> = (100..140).map(|i| person(i, prefix)).collect();
    let mut conversations = Vec::with_capacity(WIDE);
    for i in 0..WIDE {
        let others = [&pool[i % pool.len()], &pool[(i * 7 + 3) % pool.len()]];
        conversations.push(create(b, &wide, &others).await?);
    }
    // Some of the audience is online, as in a working day.
    for (i, p) in pool.iter().enumerate().take(10) {
        svc.connect(&connection(&format!("acctpool{i}")), p)
            .await
            .map_err(err)?;
    }
    let registry = &svc.ports().registry;
    let mut costs = Vec::new();
    costs.push(measure_op!(
        b,
        &format!("connect, member of {WIDE} conversations (members cached)"),
        |i| {
            if i > 0 {
                svc.disconnect(&connection(&format!("acctwide{}", i - 1)))
                    .await
                    .map_err(err)?;
            }
        },
        {
            svc.connect(&connection(&format!("acctwide{i}")), &wide)
                .await
                .map_err(err)?;
        }
    ));
    costs.push(measure_op!(
        b,
        &format!("connect, member of {WIDE} conversations (members not cached)"),
        |i| {
            svc.disconnect(&connection(&format!("acctwide{}", i + N * 2 - 1)))
                .await
                .map_err(err)?;
            for c in &conversations {
                registry.invalidate_members(c).await.map_err(|e| e.to_string())?;
            }
        },
        {
            svc.connect(&connection(&format!("acctwide{}", i + N * 2)), &wide)
                .await
                .map_err(err)?;
        }
    ));
    costs.push(measure_op!(
        b,
        &format!("list my conversations, member of {WIDE} (first page)"),
        |_i| {},
        {
            svc.list_my_conversations(&wide, None, None, None).await.map_err(err)?;
        }
    ));
    Ok(costs)
}

const N: usize = 10;

struct Meter {
    dynamo: Arc<messaging_aws::RequestStats>,
    pushes: Arc<AtomicU64>,
    sqs: Arc<CountingScheduler>,
    redis: redis::Client,
}

#[derive(Clone, Copy)]
struct Reading {
    dynamo_requests: u64,
    capacity: f64,
    pushes: u64,
    sqs: u64,
    redis_commands: u64,
}

impl Meter {
    async fn read(&self) -> Reading {
        let (dynamo_requests, capacity) = self.dynamo.snapshot();
        Reading {
            dynamo_requests,
            capacity,
            pushes: self.pushes.load(Ordering::Relaxed),
            sqs: self.sqs.0.load(Ordering::Relaxed),
            redis_commands: redis_commands(&self.redis).await,
        }
    }
}

#[derive(Default)]
struct Cost {
    dynamo_requests: u64,
    capacity: f64,
    pushes: u64,
    sqs: u64,
    redis: u64,
}

impl Cost {
    fn add(&mut self, before: &Reading, after: &Reading) {
        self.dynamo_requests += after.dynamo_requests - before.dynamo_requests;
        self.capacity += after.capacity - before.capacity;
        self.pushes += after.pushes - before.pushes;
        self.sqs += after.sqs - before.sqs;
        // The INFO that took the second reading is itself one command.
        self.redis += (after.redis_commands - before.redis_commands).saturating_sub(1);
    }

    fn per_operation(&self, name: &str) -> OperationCost {
        let n = N as f64;
        OperationCost {
            operation: name.to_owned(),
            dynamodb_requests: self.dynamo_requests as f64 / n,
            capacity_units: self.capacity / n,
            redis_commands: self.redis as f64 / n,
            management_api_calls: self.pushes as f64 / n,
            sqs_messages: self.sqs as f64 / n,
            round_trips: 0.0,
        }
    }
}

/// The default settings, with allowances no measured operation runs into: each operation
/// repeats faster than a person would (the limiter's Redis round trip is still counted).
fn accounting_settings() -> Settings {
    let mut settings = Settings::default();
    for action in Action::ALL {
        settings
            .limits
            .set(action, Limit::new(1_000_000, std::time::Duration::from_secs(1)));
    }
    settings
}
