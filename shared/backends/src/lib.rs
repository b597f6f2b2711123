//! Wiring: builds the ports and the service from the environment, once per process.
//! Function `main`s and the local gateway call this and nothing else to get running.
//!
//! # Environment
//! | variable | used for |
//! |---|---|
//! | `CONVERSATIONS_TABLE` ... `REPORTS_TABLE` (or `TABLE_PREFIX`) | DynamoDB table names |
//! | `REDIS_URL`, `REDIS_CLUSTER`, `REDIS_KEY_PREFIX`, `REDIS_CA_FILE` | the registry (`rediss://` for TLS; a CA file only for a private CA) |
//! | `ATTACHMENTS_BUCKET` | S3 bucket for attachments |
//! | `WEBSOCKET_MANAGEMENT_ENDPOINT` | `https://{api}.execute-api.{region}.amazonaws.com/{stage}` |
//! | `DELAYED_TASKS_QUEUE_URL` | SQS queue for typing expiry and presence checks |
//! | `JWKS_URL` or `JWT_SECRET`, `JWT_ISSUER`, `JWT_AUDIENCE` | token verification |
//! | `PRESENCE_TTL_SECS`, `TYPING_TTL_SECS`, `TICKET_TTL_SECS` | real-time tunables |
//! | `WEB_ORIGIN` | the web client's origin, for CORS on REST responses |
//! | `AWS_ENDPOINT_URL` | LocalStack / moto instead of AWS (read by the SDK itself) |

use std::sync::Arc;
use std::time::Duration;

use messaging_auth::Authenticator;
use messaging_aws::{DynamoStore, ManagementApiPusher, S3BlobStore, SqsScheduler, TableNames};
use messaging_core::{Messaging, Ports, Settings};
use messaging_redis::{RedisOptions, RedisRegistry};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// JSON logs in Lambda (CloudWatch parses them), readable ones on a terminal.
/// `RUST_LOG` filters (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let result = if std::env::var("AWS_LAMBDA_FUNCTION_NAME").is_ok() {
        builder.json().without_time().with_current_span(false).try_init()
    } else {
        builder.compact().try_init()
    };
    // Already initialised (tests start several gateways in one process): keep the first.
    let _ = result;
}

fn env_secs(name: &str, default: Duration) -> Duration {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .map(Duration::from_secs_f64)
        .unwrap_or(default)
}

/// Service settings, defaults overridden from the environment.
pub fn settings_from_env() -> Settings {
    let d = Settings::default();
    Settings {
        ticket_ttl: env_secs("TICKET_TTL_SECS", d.ticket_ttl),
        presence_ttl: env_secs("PRESENCE_TTL_SECS", d.presence_ttl),
        typing_ttl: env_secs("TYPING_TTL_SECS", d.typing_ttl),
        ..d
    }
}

fn required(name: &str) -> Result<String, BoxError> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is required").into())
}

/// The SDK configuration from the standard chain (Lambda: the execution role).
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The Redis registry from `REDIS_URL` and its companions ([`RedisOptions::from_env`]).
pub async fn redis_registry_from_env() -> Result<RedisRegistry, BoxError> {
    // Through `required`, like every variable a function cannot start without (the
    // template test reads these calls to check that the template sets each one).
    required("REDIS_URL")?;
    let options = RedisOptions::from_env()?.ok_or("environment variable REDIS_URL is required")?;
    Ok(RedisRegistry::connect(&options).await?)
}

/// Everything on AWS: what every Lambda function runs on.
pub async fn aws_ports(sdk: &aws_config::SdkConfig) -> Result<Ports, BoxError> {
    let store = DynamoStore::new(aws_sdk_dynamodb_client(sdk), TableNames::from_env());
    Ok(Ports {
        store: Arc::new(store),
        registry: Arc::new(redis_registry_from_env().await?),
        pusher: Arc::new(ManagementApiPusher::new(
            sdk,
            &required("WEBSOCKET_MANAGEMENT_ENDPOINT")?,
        )),
        blobs: Arc::new(S3BlobStore::new(sdk, required("ATTACHMENTS_BUCKET")?)),
        scheduler: Arc::new(SqsScheduler::new(sdk, required("DELAYED_TASKS_QUEUE_URL")?)),
    })
}

fn aws_sdk_dynamodb_client(sdk: &aws_config::SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(sdk)
}

/// The service as a Lambda function runs it.
pub async fn lambda_messaging() -> Result<Arc<Messaging>, BoxError> {
    let sdk = aws_sdk_config().await;
    Ok(Arc::new(Messaging::new(aws_ports(&sdk).await?, settings_from_env())))
}

/// The web client's origin (`WEB_ORIGIN`), for CORS on REST responses.
pub fn web_origin() -> Option<String> {
    std::env::var("WEB_ORIGIN").ok().filter(|o| !o.is_empty() && o != "*")
}

/// The REST functions' state: the service and the token verifier.
pub async fn lambda_app_state() -> Result<messaging_http::AppState, BoxError> {
    let auth = Authenticator::from_env()?;
    Ok(messaging_http::AppState {
        svc: lambda_messaging().await?,
        auth: Arc::new(auth),
    })
}

/// Runs a REST function: `app` (the members' or the admin routes) with CORS for the web
/// origin, behind API Gateway's stage prefix. Everything is built once, at init.
pub async fn run_rest(app: fn(messaging_http::AppState) -> messaging_http::Router) -> Result<(), lambda_http::Error> {
    init_tracing();
    let router = messaging_http::with_cors(app(lambda_app_state().await?), web_origin().as_deref());
    let service = lambda_http::tower::ServiceBuilder::new()
        .map_request(messaging_http::strip_stage)
        .service(router);
    lambda_http::run(service).await
}

/// Runs a function whose handler needs only the service (the WebSocket routes, the
/// authorizer, the delayed-task queue): the service is built once, at init, and `handler`
/// gets a handle to it with each event.
pub async fn run_with_service<A, R, F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    A: for<'de> serde::Deserialize<'de>,
    R: serde::Serialize,
    F: Fn(Arc<Messaging>, A) -> Fut,
    Fut: std::future::Future<Output = Result<R, lambda_runtime::Error>>,
{
    init_tracing();
    let svc = lambda_messaging().await?;
    let handler =
        lambda_runtime::service_fn(move |event: lambda_runtime::LambdaEvent<A>| handler(svc.clone(), event.payload));
    lambda_runtime::run(handler).await
}
