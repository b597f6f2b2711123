//! Wiring: builds the ports and the service from the environment, once per process.
//! Function `main`s and the local gateway call this and nothing else to get running.
//!
//! # Layout
//! - [`environment`]: every variable the functions read, declared once (the template
//!   and `sam local invoke` checks read it).
//! - [`emf`]: the domain's metrics as CloudWatch embedded-metric-format lines.
//! - this module: the SDK configuration, the ports on AWS, tracing, and the two ways a
//!   function runs (`run_rest`, `run_with_service`).

pub mod emf;
pub mod environment;

use std::sync::Arc;
use std::time::Duration;

use messaging_auth::Authenticator;
use messaging_aws::{DynamoStore, ManagementApiPusher, S3BlobStore, SqsScheduler, TableNames};
use messaging_core::{Messaging, Ports, Settings};
use messaging_redis::{RedisOptions, RedisRegistry};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// JSON logs in Lambda (CloudWatch parses them), readable ones on a terminal.
/// `RUST_LOG` filters (default `info`). In Lambda, metric events become EMF lines in
/// `METRICS_NAMESPACE` instead of log lines.
pub fn init_tracing() {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;

    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let in_lambda = std::env::var("AWS_LAMBDA_FUNCTION_NAME").is_ok();
    let result = if in_lambda {
        let namespace = environment::get("METRICS_NAMESPACE").unwrap_or_else(|| "Messaging".into());
        let logs = tracing_subscriber::fmt::layer()
            .json()
            .without_time()
            .with_current_span(false)
            .with_target(false)
            .with_filter(filter)
            .with_filter(tracing_subscriber::filter::filter_fn(|m| {
                m.target() != messaging_core::metrics::TARGET
            }));
        let metrics = emf::EmfLayer::new(namespace, std::io::stdout).with_filter(
            tracing_subscriber::filter::Targets::new()
                .with_target(messaging_core::metrics::TARGET, tracing::Level::INFO),
        );
        tracing_subscriber::registry().with(logs).with(metrics).try_init()
    } else {
        let logs = tracing_subscriber::fmt::layer()
            .compact()
            .with_target(false)
            .with_filter(filter);
        tracing_subscriber::registry().with(logs).try_init()
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
    environment::get(name).ok_or_else(|| format!("environment variable {name} is required").into())
}

/// Answers "nothing configured" for every service setting the SDK would read from the
/// environment (per-service endpoint URLs).
#[derive(Debug)]
struct NoServiceOverrides;

impl aws_types::service_config::LoadServiceConfig for NoServiceOverrides {
    fn load_config(&self, _key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        None
    }
}

/// A blank `AWS_ENDPOINT_URL` means AWS's own endpoints. The template declares the
/// variable for every function (so that `sam local invoke --env-vars` can set it), and
/// SAM passes a declared variable nobody set as "", which the SDK's clients would
/// otherwise take for their endpoint.
fn blank_endpoint_means_aws(config: aws_config::SdkConfig, endpoint_variable: Option<&str>) -> aws_config::SdkConfig {
    match endpoint_variable {
        Some(v) if v.trim().is_empty() => config.into_builder().service_config(NoServiceOverrides).build(),
        _ => config,
    }
}

/// The SDK configuration from the standard chain (Lambda: the execution role).
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    blank_endpoint_means_aws(config, std::env::var("AWS_ENDPOINT_URL").ok().as_deref())
}

/// The Redis registry from `REDIS_URL` and its companions ([`RedisOptions::from_env`]).
pub async fn redis_registry_from_env() -> Result<RedisRegistry, BoxError> {
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
    environment::get("WEB_ORIGIN").filter(|o| o != "*")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct EveryEndpointBlank;

    impl aws_types::service_config::LoadServiceConfig for EveryEndpointBlank {
        fn load_config(&self, _key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
            Some(String::new())
        }
    }

    fn sdk_with_blank_env() -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .service_config(EveryEndpointBlank)
            .build()
    }

    /// What the SDK's clients ask for when they are built from an `SdkConfig`.
    fn dynamodb_endpoint(config: &aws_config::SdkConfig) -> Option<String> {
        let key = aws_types::service_config::ServiceConfigKey::builder()
            .service_id("DynamoDB")
            .env("AWS_ENDPOINT_URL")
            .profile("endpoint_url")
            .build()
            .unwrap();
        config.service_config().and_then(|c| c.load_config(key))
    }

    #[test]
    fn a_blank_endpoint_variable_leaves_the_clients_on_aws() {
        // Without the fix a client would take "" for its endpoint.
        assert_eq!(dynamodb_endpoint(&sdk_with_blank_env()), Some(String::new()));
        let fixed = blank_endpoint_means_aws(sdk_with_blank_env(), Some(""));
        assert_eq!(dynamodb_endpoint(&fixed), None);
    }

    #[test]
    fn a_real_endpoint_variable_is_left_to_the_sdk() {
        let config = blank_endpoint_means_aws(sdk_with_blank_env(), Some("http://localhost:4566"));
        assert_eq!(
            dynamodb_endpoint(&config),
            Some(String::new()),
            "the SDK's own lookup stays"
        );
    }
}
