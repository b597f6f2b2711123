//! Adapters ready for a test: each call gives a store/registry that no other test shares
//! state with (fresh file, fresh tables or key prefix).

use std::sync::{Arc, OnceLock};

use messaging_aws::{DynamoStore, TableNames, create_tables};
use messaging_core::ports::Store;
use messaging_embedded::SqliteStore;

use crate::dynamo_faults::{FaultPlan, FaultProxy};
use crate::services::{aws_config, unique};

/// A store and whatever must outlive it (the temp folder of an SQLite file, a proxy).
pub struct StoreFixture {
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    /// The fault proxy the store talks through, if any.
    pub faults: Option<FaultProxy>,
}

pub async fn sqlite_store() -> StoreFixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("messaging.sqlite3")).expect("open sqlite");
    StoreFixture {
        store: Arc::new(store),
        _dir: Some(dir),
        faults: None,
    }
}

static TABLES: OnceLock<TableNames> = OnceLock::new();

/// The test process's tables, created once on first use (on a thread of their own, as the
/// SDK client must not outlive the runtime that made its connections).
pub fn test_tables() -> TableNames {
    TABLES
        .get_or_init(|| {
            let names = TableNames::with_prefix(&format!("{}-", unique("t")));
            let for_thread = names.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                rt.block_on(async {
                    let client = aws_sdk_dynamodb::Client::new(&aws_config().await);
                    create_tables(&client, &for_thread).await.map_err(|e| e.to_string())
                })
            })
            .join()
            .expect("table creation thread")
            .expect("create test tables");
            names
        })
        .clone()
}

pub async fn dynamo_store() -> DynamoStore {
    let tables = test_tables();
    DynamoStore::new(aws_sdk_dynamodb::Client::new(&aws_config().await), tables)
}

pub async fn dynamo_fixture() -> StoreFixture {
    StoreFixture {
        store: Arc::new(dynamo_store().await),
        _dir: None,
        faults: None,
    }
}

/// A DynamoDB store behind a [`FaultProxy`] in front of moto with `plan`.
pub async fn dynamo_store_with_faults(plan: FaultPlan) -> (DynamoStore, FaultProxy) {
    let tables = test_tables();
    let proxy = FaultProxy::start(crate::services::aws_endpoint(), plan).await;
    let client = aws_sdk_dynamodb::Client::new(&crate::services::aws_config_at(&proxy.url).await);
    (DynamoStore::new(client, tables), proxy)
}

/// The conformance suite's DynamoDB store with one request in five answered by a fault.
pub async fn dynamo_faulty_fixture() -> StoreFixture {
    let (store, proxy) = dynamo_store_with_faults(FaultPlan::random(0.2)).await;
    StoreFixture {
        store: Arc::new(store),
        _dir: None,
        faults: Some(proxy),
    }
}

pub async fn memory_registry() -> Arc<dyn messaging_core::ports::Registry> {
    Arc::new(messaging_embedded::MemoryRegistry::new())
}

/// Options for a test Redis: a fresh key prefix, so tests never see each other's keys.
pub fn redis_options(url: &str, cluster: bool, ca_pem: Option<Vec<u8>>) -> messaging_redis::RedisOptions {
    messaging_redis::RedisOptions {
        cluster,
        ca_pem,
        prefix: format!("{}:", unique("t")),
        ..messaging_redis::RedisOptions::new(url)
    }
}

async fn connect_registry(options: messaging_redis::RedisOptions) -> Arc<dyn messaging_core::ports::Registry> {
    let registry = messaging_redis::RedisRegistry::connect(&options)
        .await
        .unwrap_or_else(|e| panic!("connect to {} (cluster: {}): {e}", options.url, options.cluster));
    Arc::new(registry)
}

/// A Redis registry on a single node.
pub async fn redis_registry() -> Arc<dyn messaging_core::ports::Registry> {
    connect_registry(redis_options(crate::services::redis_url(), false, None)).await
}

/// A Redis registry speaking the cluster protocol (as ElastiCache Serverless requires),
/// against a one-node cluster.
pub async fn redis_cluster_registry() -> Arc<dyn messaging_core::ports::Registry> {
    connect_registry(redis_options(crate::services::redis_cluster_url(), true, None)).await
}

/// A Redis registry over TLS (`rediss://`), single node, verifying the server's chain.
pub async fn redis_tls_registry() -> Arc<dyn messaging_core::ports::Registry> {
    let tls = crate::services::redis_tls();
    connect_registry(redis_options(&tls.url, false, tls.ca_pem.clone())).await
}

/// A Redis registry over TLS and the cluster protocol: the ElastiCache Serverless shape.
pub async fn redis_tls_cluster_registry() -> Arc<dyn messaging_core::ports::Registry> {
    let tls = crate::services::redis_tls_cluster();
    connect_registry(redis_options(&tls.url, true, tls.ca_pem.clone())).await
}

/// The local blob store, served by a local gateway (its `/blobs` routes do the checking).
pub async fn local_blobs() -> crate::conformance::blobs::BlobFixture {
    let gw = crate::gateway::start().await;
    let store = gw
        .running
        .gateway
        .local_blobs
        .clone()
        .expect("embedded gateways have local blobs");
    let reader = store.clone();
    crate::conformance::blobs::BlobFixture {
        store,
        enforces_signature: true,
        status_of: Box::new(move |key| {
            let reader = reader.clone();
            Box::pin(async move { reader.status(&key).await })
        }),
        _guard: Some(Box::new(gw)),
    }
}

/// S3 (moto) with a fresh bucket.
pub async fn s3_blobs() -> crate::conformance::blobs::BlobFixture {
    let sdk = aws_config().await;
    let bucket = unique("blobs-");
    let store = messaging_aws::S3BlobStore::new(&sdk, bucket.clone());
    store
        .client()
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("create bucket");
    let client = store.client().clone();
    crate::conformance::blobs::BlobFixture {
        store: Arc::new(store),
        enforces_signature: false,
        status_of: Box::new(move |key| {
            let (client, bucket) = (client.clone(), bucket.clone());
            Box::pin(async move {
                let tags = client.get_object_tagging().bucket(bucket).key(key).send().await.ok()?;
                tags.tag_set()
                    .iter()
                    .find(|t| t.key() == "status")
                    .map(|t| t.value().to_owned())
            })
        }),
        _guard: None,
    }
}

/// The local scheduler, its runner feeding a channel the test reads.
pub async fn local_scheduler() -> crate::conformance::scheduler::SchedulerFixture {
    let scheduler = Arc::new(messaging_embedded::LocalScheduler::new());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    scheduler.set_runner(Arc::new(move |task| {
        let _ = tx.send(task);
        Box::pin(async {})
    }));
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    crate::conformance::scheduler::SchedulerFixture {
        scheduler,
        receive: Box::new(move |within| {
            let rx = rx.clone();
            Box::pin(async move {
                tokio::time::timeout(within, rx.lock().await.recv())
                    .await
                    .ok()
                    .flatten()
            })
        }),
        _guard: None,
    }
}

/// SQS (moto) with a fresh queue, read and deleted from as the function's event source
/// mapping does.
pub async fn sqs_scheduler() -> crate::conformance::scheduler::SchedulerFixture {
    let sdk = aws_config().await;
    let client = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = client
        .create_queue()
        .queue_name(unique("delayed-"))
        .send()
        .await
        .expect("create queue")
        .queue_url
        .expect("queue url");
    let scheduler = Arc::new(messaging_aws::SqsScheduler::new(&sdk, queue_url.clone()));
    crate::conformance::scheduler::SchedulerFixture {
        scheduler,
        receive: Box::new(move |within| {
            let (client, queue_url) = (client.clone(), queue_url.clone());
            Box::pin(async move {
                let deadline = tokio::time::Instant::now() + within;
                loop {
                    let out = client
                        .receive_message()
                        .queue_url(&queue_url)
                        .max_number_of_messages(1)
                        .send()
                        .await
                        .expect("receive");
                    if let Some(message) = out.messages.unwrap_or_default().into_iter().next() {
                        if let Some(handle) = message.receipt_handle() {
                            client
                                .delete_message()
                                .queue_url(&queue_url)
                                .receipt_handle(handle)
                                .send()
                                .await
                                .expect("delete");
                        }
                        return serde_json::from_str(message.body().unwrap_or_default()).ok();
                    }
                    if tokio::time::Instant::now() >= deadline {
                        return None;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            })
        }),
        _guard: None,
    }
}

// --- the user directory -----------------------------------------------------------------

struct LocalSeeder(Arc<messaging_embedded::LocalDirectory>);

#[async_trait::async_trait]
impl crate::conformance::directory::Seeder for LocalSeeder {
    async fn add(&self, p: &messaging_core::directory::Profile) {
        self.0.upsert(p).expect("seed the local directory");
    }
}

struct PoolSeeder(Arc<crate::cognito::TestPool>);

#[async_trait::async_trait]
impl crate::conformance::directory::Seeder for PoolSeeder {
    async fn add(&self, p: &messaging_core::directory::Profile) {
        self.0.add(p).await;
    }
}

/// The local gateway's directory, in a file of its own (as `make dev` keeps it).
pub async fn local_directory() -> crate::conformance::directory::DirectoryFixture {
    let dir = tempfile::tempdir().expect("temp dir").keep();
    let directory = Arc::new(messaging_embedded::LocalDirectory::open(&dir.join("directory.sqlite3")).expect("open"));
    crate::conformance::directory::DirectoryFixture {
        directory: directory.clone(),
        seeder: Arc::new(LocalSeeder(directory)),
    }
}

/// A fresh Cognito user pool at the test endpoint.
pub async fn cognito_directory() -> crate::conformance::directory::DirectoryFixture {
    let pool = Arc::new(crate::cognito::TestPool::create().await);
    crate::conformance::directory::DirectoryFixture {
        directory: Arc::new(pool.directory()),
        seeder: Arc::new(PoolSeeder(pool)),
    }
}

/// What the functions use: Cognito behind the Redis profile cache.
pub async fn cached_cognito_directory() -> crate::conformance::directory::DirectoryFixture {
    let pool = Arc::new(crate::cognito::TestPool::create().await);
    let cache = redis_registry().await;
    let cached = messaging_core::directory::CachedDirectory::new(
        Arc::new(pool.directory()),
        cache,
        std::time::Duration::from_secs(300),
        std::time::Duration::from_secs(60),
    );
    crate::conformance::directory::DirectoryFixture {
        directory: Arc::new(cached),
        seeder: Arc::new(PoolSeeder(pool)),
    }
}

/// The FTS5 index in a file, searched through its reader connections (the gateway's).
pub async fn fts_file_index() -> crate::conformance::search::SearchFixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let index = messaging_search::FtsIndex::open(&dir.path().join("search.sqlite3"), 2).expect("index");
    crate::conformance::search::SearchFixture {
        index: Arc::new(index),
        _guard: Some(Box::new(dir)),
    }
}

/// The FTS5 index as it runs in AWS: one writer on the file (the search-indexer's
/// rollback-journal mode), searched by another index that opened it read-only.
pub async fn fts_shared_index() -> crate::conformance::search::SearchFixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("messages.sqlite3");
    let writer = messaging_search::FtsIndex::open_shared_writer(&path).expect("writer");
    let reader = messaging_search::FtsIndex::open_read_only(&path, 2).expect("reader");
    crate::conformance::search::SearchFixture {
        index: Arc::new(WriterAndReader { writer, reader }),
        _guard: Some(Box::new(dir)),
    }
}

/// Changes to one index, searches to the other (both on the same file).
struct WriterAndReader {
    writer: messaging_search::FtsIndex,
    reader: messaging_search::FtsIndex,
}

#[async_trait::async_trait]
impl messaging_core::ports::SearchIndex for WriterAndReader {
    async fn apply(&self, changes: &[messaging_core::search::IndexChange]) -> messaging_core::error::StoreResult<()> {
        self.writer.apply(changes).await
    }

    async fn search(
        &self,
        query: &messaging_core::search::IndexQuery,
    ) -> messaging_core::error::StoreResult<messaging_core::search::IndexPage> {
        self.reader.search(query).await
    }
}

/// The FTS5 index in memory, searched through its one connection (service tests).
pub async fn fts_memory_index() -> crate::conformance::search::SearchFixture {
    crate::conformance::search::SearchFixture {
        index: Arc::new(messaging_search::FtsIndex::in_memory().expect("index")),
        _guard: None,
    }
}
