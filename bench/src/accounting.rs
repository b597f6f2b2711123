//! Request accounting: what one operation costs in DynamoDB requests (and the capacity
//! units DynamoDB reports), Redis round trips, Management API calls and SQS messages,
//! measured by running the service on the real AWS adapters (moto at `AWS_ENDPOINT_URL`,
//! Redis at `REDIS_URL`) and counting.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;

use messaging_aws::{DynamoStore, ManagementApiPusher, S3BlobStore, TableNames, create_tables};
use messaging_core::Identity;
use messaging_core::ids::{ClientMessageId, ConnectionId, UserId};
use messaging_core::model::Role;
use messaging_core::ports::{DelayedTask, ScheduleError, TaskScheduler};
use messaging_core::service::{CreateConversation, NewParticipant, SendMessage};
use messaging_core::text::{MessageBody, Title};
use messaging_core::{Messaging, Ports, Settings};
use messaging_redis::{RedisOptions, RedisRegistry};

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OperationCost {
    pub operation: String,
    pub dynamodb_requests: f64,
    pub capacity_units: f64,
    pub redis_round_trips: f64,
    pub management_api_calls: f64,
    pub sqs_messages: f64,
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

pub async fn measure(endpoint: &str, redis_url: &str) -> Result<Vec<OperationCost>, String> {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "bench",
        ))
        .load()
        .await;
    let tables = TableNames::with_prefix(&format!("acct{}-", ulid::Ulid::generate().to_string().to_lowercase()));
    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    create_tables(&dynamodb, &tables).await.map_err(|e| e.to_string())?;
    let store = DynamoStore::new(dynamodb, tables);
    let dynamo_stats = store.stats();
    let pusher = ManagementApiPusher::new(&sdk, &connections_stub().await);
    let pushes = pusher.calls();
    let scheduler = Arc::new(CountingScheduler::default());
    let options = RedisOptions {
        prefix: format!("acct{}:", ulid::Ulid::generate()),
        ..RedisOptions::new(redis_url)
    };
    let registry = RedisRegistry::connect(&options).await.map_err(|e| e.to_string())?;
    let ports = Ports {
        store: Arc::new(store),
        registry: Arc::new(registry),
        pusher: Arc::new(pusher),
        blobs: Arc::new(S3BlobStore::new(&sdk, "unused")),
        scheduler: scheduler.clone(),
    };
    let svc = Messaging::new(ports, Settings::default());
    let redis = redis::Client::open(redis_url).map_err(|e| e.to_string())?;

    // Four participants with two connections each (three recipients per message, as in the load runs).
    let who = |i: usize| Identity {
        user_id: UserId::parse(&format!("acct-u{i}")).unwrap(),
        role: Role::Client,
        name: format!("U{i}"),
    };
    let people: Vec<Identity> = (0..4).map(who).collect();
    let mut conversations = Vec::new();
    for _ in 0..10 {
        let c = svc
            .create_conversation(
                &people[0],
                CreateConversation {
                    title: Title::parse("Accounting").unwrap(),
                    project_id: None,
                    participants: people[1..]
                        .iter()
                        .map(|p| NewParticipant {
                            user_id: p.user_id.clone(),
                            name: None,
                            role: None,
                        })
                        .collect(),
                },
            )
            .await
            .map_err(|e| e.to_string())?;
        conversations.push(c.conversation.id);
    }
    let conv = conversations[0].clone();
    for (i, p) in people.iter().enumerate() {
        for d in 0..2 {
            svc.connect(&ConnectionId::parse(&format!("acct{i}d{d}AAAA=")).unwrap(), p)
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    let send = |n: usize| SendMessage {
        body: MessageBody::parse(&format!("accounting message {n}")).unwrap(),
        client_message_id: ClientMessageId::parse(&ulid::Ulid::generate().to_string()).unwrap(),
        file_ids: vec![],
    };
    // Warm the membership cache as a running system has it.
    svc.send_message(&people[0], &conv, send(0))
        .await
        .map_err(|e| e.to_string())?;

    let meter = Meter {
        dynamo: dynamo_stats,
        pushes,
        sqs: scheduler,
        redis,
    };
    let (p0, p1) = (&people[0], &people[1]);
    let mut costs = Vec::new();

    let mut cost = Cost::default();
    for i in 0..N {
        let before = meter.read().await;
        svc.send_message(p0, &conv, send(i + 1))
            .await
            .map_err(|e| e.to_string())?;
        cost.add(&before, &meter.read().await);
    }
    costs.push(cost.per_operation("send message (4 participants, 8 connections)"));

    let mut cost = Cost::default();
    for _ in 0..N {
        let before = meter.read().await;
        svc.list_my_conversations(p1, None, None, None)
            .await
            .map_err(|e| e.to_string())?;
        cost.add(&before, &meter.read().await);
    }
    costs.push(cost.per_operation("list my conversations (10 conversations)"));

    let mut cost = Cost::default();
    for _ in 0..N {
        let before = meter.read().await;
        svc.list_messages(p1, &conv, None, None, None)
            .await
            .map_err(|e| e.to_string())?;
        cost.add(&before, &meter.read().await);
    }
    costs.push(cost.per_operation("list messages (newest page)"));

    let mut cost = Cost::default();
    for i in 0..N {
        // A new message each time, so that every mark moves the watermark (and is announced).
        svc.send_message(p0, &conv, send(1000 + i))
            .await
            .map_err(|e| e.to_string())?;
        let before = meter.read().await;
        svc.mark_read(p1, &conv, None).await.map_err(|e| e.to_string())?;
        cost.add(&before, &meter.read().await);
    }
    costs.push(cost.per_operation("mark read"));

    // Connect a participant's first device (they come online: presence goes to co-members);
    // the disconnect between rounds is not counted.
    let p3 = &people[3];
    for d in 0..2 {
        svc.disconnect(&ConnectionId::parse(&format!("acct3d{d}AAAA=")).unwrap())
            .await
            .map_err(|e| e.to_string())?;
    }
    let mut cost = Cost::default();
    for i in 0..N {
        let id = ConnectionId::parse(&format!("acctnew{i}AAAA=")).unwrap();
        let before = meter.read().await;
        svc.connect(&id, p3).await.map_err(|e| e.to_string())?;
        cost.add(&before, &meter.read().await);
        svc.disconnect(&id).await.map_err(|e| e.to_string())?;
    }
    costs.push(cost.per_operation("connect (first device; presence to co-members)"));
    Ok(costs)
}

const N: usize = 20;

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
            redis_round_trips: self.redis as f64 / n,
            management_api_calls: self.pushes as f64 / n,
            sqs_messages: self.sqs as f64 / n,
        }
    }
}
