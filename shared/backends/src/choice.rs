//! What the service runs on, as data ([`BackendChoice`]), and the one place that turns it
//! into [`Ports`] ([`build`]). Lambda functions choose from their environment
//! ([`BackendChoice::lambda`]); the local gateway, the benchmark and the tests say what
//! they want, and everyone gets the adapters built the same way.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use std::time::Duration;

use messaging_aws::{
    CognitoDirectory, DynamoStore, ManagementApiPusher, RequestStats, S3BlobStore, SqsScheduler, TableNames,
};
use messaging_core::Ports;
use messaging_core::directory::CachedDirectory;
use messaging_core::ports::{
    BlobStore, ConnectionPusher, Mailer, PushSender, Registry, SearchIndex, SendFailure, Store, TaskScheduler,
    UserDirectory,
};
use messaging_redis::{RedisOptions, RedisRegistry};
use messaging_search::FtsIndex;
use messaging_webpush::{VapidKey, WebPushSender};

use crate::{BoxError, environment};

/// Where the six tables live.
#[derive(Clone, Debug)]
pub enum StoreChoice {
    /// DynamoDB (or an endpoint that speaks it). `create_tables` makes missing ones, for
    /// local endpoints; a deployment's tables come from the template.
    DynamoDb { tables: TableNames, create_tables: bool },
    /// An SQLite file.
    #[cfg(feature = "embedded")]
    Sqlite { path: PathBuf },
    /// A private in-memory SQLite database (service-level tests).
    #[cfg(feature = "embedded")]
    SqliteInMemory,
}

#[derive(Clone, Debug)]
pub enum RegistryChoice {
    Redis(RedisOptions),
    /// In process (one process: the local gateway, tests).
    #[cfg(feature = "embedded")]
    Memory,
}

#[derive(Clone)]
pub enum PusherChoice {
    /// The API Gateway Management API at this endpoint (`https://{api}.execute-api.../{stage}`,
    /// or a local gateway's `@connections`).
    ManagementApi { endpoint: String },
    /// A pusher the host provides (the gateway's in-process hub, a test's recorder).
    Given(Arc<dyn ConnectionPusher>),
}

#[derive(Clone, Debug)]
pub enum BlobChoice {
    S3 {
        bucket: String,
        create_bucket: bool,
    },
    /// Files under `dir`, behind URLs of `public_url` signed with `secret`.
    #[cfg(feature = "embedded")]
    Local {
        dir: PathBuf,
        public_url: String,
        secret: Vec<u8>,
    },
}

#[derive(Clone)]
pub enum SchedulerChoice {
    Sqs {
        queue_url: String,
    },
    /// Tokio timers in process; the host sets what runs the tasks.
    #[cfg(feature = "embedded")]
    Local,
    Given(Arc<dyn TaskScheduler>),
}

/// Who people are.
#[derive(Clone)]
pub enum DirectoryChoice {
    /// A Cognito user pool, read through the registry's profile cache
    /// ([`PROFILE_CACHE_TTL`], [`LISTING_CACHE_TTL`]).
    Cognito {
        pool_id: String,
    },
    /// The local directory in an SQLite file (the gateway's people).
    #[cfg(feature = "embedded")]
    Local {
        path: PathBuf,
    },
    /// A private in-memory local directory (service-level tests).
    #[cfg(feature = "embedded")]
    LocalInMemory,
    Given(Arc<dyn UserDirectory>),
    /// A given directory behind the registry's profile cache, as Cognito is (the
    /// benchmark's accounting counts what the cache costs).
    Cached(Arc<dyn UserDirectory>),
}

/// How Web Push goes out.
#[derive(Clone)]
pub enum PushChoice {
    /// To the subscriptions' push services, signed with `key` (VAPID); `contact` is the
    /// `mailto:` push services may write to.
    WebPush {
        key: VapidKey,
        contact: String,
    },
    /// A function that never pushes (it has no notification secret): no key to offer,
    /// every send refused.
    Disabled,
    Given(Arc<dyn PushSender>),
}

/// How email goes out.
#[derive(Clone)]
pub enum MailerChoice {
    /// SES v2, optionally through a configuration set.
    Ses {
        configuration_set: Option<String>,
    },
    /// JSON files in `dir`, shown by the gateway's `/dev/mail`.
    #[cfg(feature = "embedded")]
    Outbox {
        dir: PathBuf,
    },
    Given(Arc<dyn Mailer>),
}

/// Where the full-text index lives.
#[derive(Clone)]
pub enum SearchChoice {
    /// An FTS5 index file on a local disk, written by this process as messages change
    /// (the gateway keeps it in its data folder).
    File {
        path: PathBuf,
    },
    /// A private in-memory index (service-level tests).
    InMemory,
    /// An FTS5 file that another process writes: in AWS, the REST functions search the
    /// file on EFS that the search-indexer function keeps from the messages table's
    /// stream. Changes made here reach it through the stream, so this adapter leaves
    /// them alone.
    StreamFed {
        path: PathBuf,
    },
    /// No index here: searches answer 503 and changes are dropped (functions of a stack
    /// that has no index set up).
    Unavailable,
    Given(Arc<dyn SearchIndex>),
}

/// The index of [`SearchChoice::Unavailable`].
struct NoSearch;

#[async_trait::async_trait]
impl SearchIndex for NoSearch {
    async fn apply(&self, _: &[messaging_core::search::IndexChange]) -> messaging_core::error::StoreResult<()> {
        Ok(())
    }

    async fn search(
        &self,
        _: &messaging_core::search::IndexQuery,
    ) -> messaging_core::error::StoreResult<messaging_core::search::IndexPage> {
        Err(messaging_core::StoreError::Backend(
            "message search is not set up in this deployment".into(),
        ))
    }
}

/// The index of [`SearchChoice::StreamFed`]: opened read-only at the first search (the
/// file exists once the indexer has written to it; until then searches answer 503 and
/// the next one tries again).
struct StreamFedIndex {
    path: PathBuf,
    index: std::sync::Mutex<Option<FtsIndex>>,
}

impl StreamFedIndex {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            index: std::sync::Mutex::new(None),
        }
    }

    fn opened(&self) -> messaging_core::error::StoreResult<FtsIndex> {
        let mut index = self
            .index
            .lock()
            .map_err(|_| messaging_core::StoreError::Backend("search index: mutex poisoned".into()))?;
        if let Some(index) = &*index {
            return Ok(index.clone());
        }
        if !self.path.exists() {
            return Err(messaging_core::StoreError::Backend(
                "the search index is being built; try again shortly".into(),
            ));
        }
        let opened = FtsIndex::open_read_only(&self.path, 2)?;
        *index = Some(opened.clone());
        Ok(opened)
    }
}

#[async_trait::async_trait]
impl SearchIndex for StreamFedIndex {
    async fn apply(&self, _: &[messaging_core::search::IndexChange]) -> messaging_core::error::StoreResult<()> {
        Ok(())
    }

    async fn search(
        &self,
        query: &messaging_core::search::IndexQuery,
    ) -> messaging_core::error::StoreResult<messaging_core::search::IndexPage> {
        self.opened()?.search(query).await
    }
}

struct NoPush;

#[async_trait::async_trait]
impl PushSender for NoPush {
    fn public_key(&self) -> String {
        String::new()
    }

    async fn send(
        &self,
        _: &messaging_core::notify::PushSubscription,
        _: &[u8],
        _: Duration,
    ) -> Result<(), SendFailure> {
        Err(SendFailure::Refused("this function has no notification secret".into()))
    }
}

/// How long a Cognito profile is cached: a change made in the Cognito console (not
/// through the service) shows after at most this long.
pub const PROFILE_CACHE_TTL: Duration = Duration::from_secs(300);
/// How long the whole Cognito listing (people search) is cached.
pub const LISTING_CACHE_TTL: Duration = Duration::from_secs(60);

/// Which AWS the AWS adapters talk to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AwsTarget {
    /// AWS itself: region, credentials and endpoints from the SDK's standard chains.
    Aws,
    /// A machine of one's own: `endpoint` (LocalStack, moto, a proxy; `None` when only
    /// explicit endpoints such as a local `@connections` are used), placeholder
    /// credentials unless the environment has keys, `us-east-1` unless `AWS_REGION` says.
    Local { endpoint: Option<String> },
}

/// Every adapter to build, and the AWS they talk to.
#[derive(Clone)]
pub struct BackendChoice {
    pub aws: AwsTarget,
    pub store: StoreChoice,
    pub registry: RegistryChoice,
    pub pusher: PusherChoice,
    pub blobs: BlobChoice,
    pub scheduler: SchedulerChoice,
    pub directory: DirectoryChoice,
    pub push: PushChoice,
    pub mailer: MailerChoice,
    pub search: SearchChoice,
}

fn required(name: &str) -> Result<String, BoxError> {
    environment::get(name).ok_or_else(|| format!("environment variable {name} is required").into())
}

/// The six table names: one variable each, falling back to `TABLE_PREFIX` + the
/// relational name.
pub fn table_names() -> TableNames {
    let d = TableNames::with_prefix(&environment::get("TABLE_PREFIX").unwrap_or_default());
    let var = |name: &str, default: String| environment::get(name).unwrap_or(default);
    TableNames {
        conversations: var("CONVERSATIONS_TABLE", d.conversations),
        messages: var("MESSAGES_TABLE", d.messages),
        participants: var("PARTICIPANTS_TABLE", d.participants),
        files: var("FILES_TABLE", d.files),
        receipts: var("RECEIPTS_TABLE", d.receipts),
        reports: var("REPORTS_TABLE", d.reports),
        notifications: var("NOTIFICATIONS_TABLE", d.notifications),
    }
}

/// The contact push services see (RFC 8292 `sub`): `mailto:` the email sender.
pub fn push_contact() -> String {
    let from = environment::get("MAIL_FROM").unwrap_or_default();
    let address = match (from.find('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => from[a + 1..b].to_owned(),
        _ => from.trim().to_owned(),
    };
    if address.contains('@') {
        format!("mailto:{address}")
    } else {
        "mailto:notifications@localhost".into()
    }
}

/// `REDIS_URL` and its companions, when set.
pub fn redis_options() -> Result<Option<RedisOptions>, BoxError> {
    Ok(RedisOptions::from_vars(environment::get)?)
}

impl BackendChoice {
    /// What a Lambda function runs on: everything on AWS, named by the variables the
    /// template sets ([`environment`]). `notify_secret` is the stack's notification
    /// secret, for the functions that have one.
    pub fn lambda(notify_secret: Option<&[u8]>) -> Result<Self, BoxError> {
        Ok(Self {
            aws: AwsTarget::Aws,
            store: StoreChoice::DynamoDb {
                tables: table_names(),
                create_tables: false,
            },
            registry: RegistryChoice::Redis(redis_options()?.ok_or("environment variable REDIS_URL is required")?),
            pusher: PusherChoice::ManagementApi {
                endpoint: required("WEBSOCKET_MANAGEMENT_ENDPOINT")?,
            },
            blobs: BlobChoice::S3 {
                bucket: required("ATTACHMENTS_BUCKET")?,
                create_bucket: false,
            },
            scheduler: SchedulerChoice::Sqs {
                queue_url: required("DELAYED_TASKS_QUEUE_URL")?,
            },
            directory: DirectoryChoice::Cognito {
                pool_id: required("USER_POOL_ID")?,
            },
            push: match notify_secret {
                Some(secret) => PushChoice::WebPush {
                    key: VapidKey::derive(secret),
                    contact: push_contact(),
                },
                None => PushChoice::Disabled,
            },
            mailer: MailerChoice::Ses {
                configuration_set: environment::get("SES_CONFIGURATION_SET"),
            },
            search: match environment::get("SEARCH_INDEX_PATH") {
                Some(path) => SearchChoice::StreamFed { path: path.into() },
                None => SearchChoice::Unavailable,
            },
        })
    }
}

/// The built ports, and the handles of concrete adapters some hosts need beside them.
pub struct Backends {
    pub ports: Ports,
    /// The gateway serves the local blob store's signed URLs.
    #[cfg(feature = "embedded")]
    pub local_blobs: Option<Arc<messaging_embedded::LocalBlobStore>>,
    /// The gateway decides what runs local delayed tasks.
    #[cfg(feature = "embedded")]
    pub local_scheduler: Option<Arc<messaging_embedded::LocalScheduler>>,
    /// The gateway seeds its people and adds them through its dev admin route.
    #[cfg(feature = "embedded")]
    pub local_directory: Option<Arc<messaging_embedded::LocalDirectory>>,
    /// The gateway shows the local outbox at `/dev/mail`.
    #[cfg(feature = "embedded")]
    pub local_outbox: Option<Arc<messaging_embedded::OutboxMailer>>,
    /// DynamoDB requests and capacity (the benchmark's accounting).
    pub dynamodb_stats: Option<Arc<RequestStats>>,
    /// Management API calls (the benchmark's accounting).
    pub management_api_calls: Option<Arc<AtomicU64>>,
    /// What was built, for the start-up log line.
    pub summary: String,
}

/// The SDK configuration for `target`.
pub async fn sdk_config(target: &AwsTarget) -> aws_config::SdkConfig {
    let AwsTarget::Local { endpoint } = target else {
        return crate::aws_sdk_config().await;
    };
    let region = environment::get("AWS_REGION").unwrap_or_else(|| "us-east-1".into());
    let mut loader =
        aws_config::defaults(aws_config::BehaviorVersion::latest()).region(aws_config::Region::new(region));
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    // Local endpoints accept any signature: placeholders unless the environment has keys.
    if environment::get("AWS_ACCESS_KEY_ID").is_none() {
        loader = loader.credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local", "local", None, None, "local",
        ));
    }
    loader.load().await
}

/// Builds every adapter `choice` names. Connects to Redis and, where asked, creates
/// missing tables and buckets, so that a wrong address fails here rather than on the
/// first request.
pub async fn build(choice: BackendChoice) -> Result<Backends, BoxError> {
    let sdk = sdk_config(&choice.aws).await;
    let mut summary = Vec::new();
    // The DynamoDB adapter's request counts go beside it (the benchmark's accounting).
    let (store, dynamodb_stats): (Arc<dyn Store>, Option<Arc<RequestStats>>) = match choice.store {
        StoreChoice::DynamoDb { tables, create_tables } => {
            let client = aws_sdk_dynamodb::Client::new(&sdk);
            if create_tables {
                messaging_aws::create_tables(&client, &tables).await?;
            }
            let store = DynamoStore::new(client, tables);
            summary.push("DynamoDB");
            let stats = store.stats();
            (Arc::new(store), Some(stats))
        }
        #[cfg(feature = "embedded")]
        StoreChoice::Sqlite { path } => {
            summary.push("SQLite");
            (Arc::new(messaging_embedded::SqliteStore::open(&path)?), None)
        }
        #[cfg(feature = "embedded")]
        StoreChoice::SqliteInMemory => {
            summary.push("SQLite in memory");
            (Arc::new(messaging_embedded::SqliteStore::in_memory()?), None)
        }
    };

    let registry: Arc<dyn Registry> = match choice.registry {
        RegistryChoice::Redis(options) => {
            summary.push("Redis");
            Arc::new(RedisRegistry::connect(&options).await?)
        }
        #[cfg(feature = "embedded")]
        RegistryChoice::Memory => {
            summary.push("in-process registry");
            Arc::new(messaging_embedded::MemoryRegistry::new())
        }
    };

    let mut management_api_calls = None;
    let pusher: Arc<dyn ConnectionPusher> = match choice.pusher {
        PusherChoice::ManagementApi { endpoint } => {
            let pusher = ManagementApiPusher::new(&sdk, &endpoint);
            management_api_calls = Some(pusher.calls());
            Arc::new(pusher)
        }
        PusherChoice::Given(pusher) => pusher,
    };

    #[cfg(feature = "embedded")]
    let mut local_blobs = None;
    let blobs: Arc<dyn BlobStore> = match choice.blobs {
        BlobChoice::S3 { bucket, create_bucket } => {
            let blobs = S3BlobStore::new(&sdk, bucket);
            if create_bucket {
                ensure_bucket(&blobs).await?;
            }
            Arc::new(blobs)
        }
        #[cfg(feature = "embedded")]
        BlobChoice::Local {
            dir,
            public_url,
            secret,
        } => {
            let blobs = Arc::new(messaging_embedded::LocalBlobStore::new(dir, public_url, secret));
            local_blobs = Some(blobs.clone());
            blobs
        }
    };

    #[cfg(feature = "embedded")]
    let mut local_scheduler = None;
    let scheduler: Arc<dyn TaskScheduler> = match choice.scheduler {
        SchedulerChoice::Sqs { queue_url } => Arc::new(SqsScheduler::new(&sdk, queue_url)),
        #[cfg(feature = "embedded")]
        SchedulerChoice::Local => {
            let scheduler = Arc::new(messaging_embedded::LocalScheduler::new());
            local_scheduler = Some(scheduler.clone());
            scheduler
        }
        SchedulerChoice::Given(scheduler) => scheduler,
    };

    #[cfg(feature = "embedded")]
    let mut local_directory = None;
    let directory: Arc<dyn UserDirectory> = match choice.directory {
        DirectoryChoice::Cognito { pool_id } => {
            summary.push("Cognito");
            Arc::new(CachedDirectory::new(
                Arc::new(CognitoDirectory::new(&sdk, pool_id)),
                registry.clone(),
                PROFILE_CACHE_TTL,
                LISTING_CACHE_TTL,
            ))
        }
        #[cfg(feature = "embedded")]
        DirectoryChoice::Local { path } => {
            let directory = Arc::new(messaging_embedded::LocalDirectory::open(&path)?);
            local_directory = Some(directory.clone());
            directory
        }
        #[cfg(feature = "embedded")]
        DirectoryChoice::LocalInMemory => {
            let directory = Arc::new(messaging_embedded::LocalDirectory::in_memory()?);
            local_directory = Some(directory.clone());
            directory
        }
        DirectoryChoice::Given(directory) => directory,
        DirectoryChoice::Cached(inner) => Arc::new(CachedDirectory::new(
            inner,
            registry.clone(),
            PROFILE_CACHE_TTL,
            LISTING_CACHE_TTL,
        )),
    };

    let push: Arc<dyn PushSender> = match choice.push {
        PushChoice::WebPush { key, contact } => Arc::new(WebPushSender::new(key, contact)),
        PushChoice::Disabled => Arc::new(NoPush),
        PushChoice::Given(push) => push,
    };

    #[cfg(feature = "embedded")]
    let mut local_outbox = None;
    let mailer: Arc<dyn Mailer> = match choice.mailer {
        MailerChoice::Ses { configuration_set } => {
            summary.push("SES");
            Arc::new(messaging_aws::SesMailer::new(&sdk, configuration_set))
        }
        #[cfg(feature = "embedded")]
        MailerChoice::Outbox { dir } => {
            let outbox = Arc::new(messaging_embedded::OutboxMailer::new(dir)?);
            local_outbox = Some(outbox.clone());
            outbox
        }
        MailerChoice::Given(mailer) => mailer,
    };

    let search: Arc<dyn SearchIndex> = match choice.search {
        SearchChoice::File { path } => {
            summary.push("FTS5 search index");
            Arc::new(FtsIndex::open(&path, 2)?)
        }
        SearchChoice::InMemory => Arc::new(FtsIndex::in_memory()?),
        SearchChoice::StreamFed { path } => {
            summary.push("FTS5 search index (stream-fed, read-only)");
            Arc::new(StreamFedIndex::new(path))
        }
        SearchChoice::Unavailable => Arc::new(NoSearch),
        SearchChoice::Given(search) => search,
    };

    Ok(Backends {
        ports: Ports {
            store,
            registry,
            pusher,
            blobs,
            scheduler,
            directory,
            push,
            mailer,
            search,
        },
        #[cfg(feature = "embedded")]
        local_blobs,
        #[cfg(feature = "embedded")]
        local_scheduler,
        #[cfg(feature = "embedded")]
        local_directory,
        #[cfg(feature = "embedded")]
        local_outbox,
        dynamodb_stats,
        management_api_calls,
        summary: summary.join(", "),
    })
}

async fn ensure_bucket(blobs: &S3BlobStore) -> Result<(), BoxError> {
    let client = blobs.client();
    if client.head_bucket().bucket(blobs.bucket()).send().await.is_ok() {
        return Ok(());
    }
    client.create_bucket().bucket(blobs.bucket()).send().await?;
    Ok(())
}
