//! The composition root: the only place that turns configuration into [`Ports`] and the
//! service. Function `main`s, the local gateway, the benchmark and the test harness all
//! come through here.
//!
//! # Layout
//! - [`environment`]: every environment variable the product reads, declared once (the
//!   README's table, the template and `sam local invoke` checks read it).
//! - [`choice`]: what to run on ([`BackendChoice`]) and [`build`], which makes the ports.
//! - [`emf`]: the domain's metrics as CloudWatch embedded-metric-format lines.
//! - [`search_indexer`]: the search index's writer in AWS (the messages table's stream).
//! - this module: the SDK configuration, service settings, tracing, and how a non-REST
//!   function runs ([`run_with_service`]; the REST ones run from `messaging-http`).

pub mod choice;
pub mod emf;
pub mod environment;
pub mod search_indexer;

use std::sync::Arc;
use std::time::Duration;

use messaging_core::limits::RateLimits;
use messaging_core::policy::{ClientContacts, ContactPolicy};
use messaging_core::service::NotifySettings;
use messaging_core::{Messaging, Settings};

pub use choice::{
    AwsTarget, BackendChoice, Backends, BlobChoice, DirectoryChoice, MailerChoice, PushChoice, PusherChoice,
    RegistryChoice, SchedulerChoice, SearchChoice, StoreChoice, build, push_contact,
};
pub use messaging_webpush::VapidKey;

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
    let in_lambda = environment::get("AWS_LAMBDA_FUNCTION_NAME").is_some();
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
    environment::get(name)
        .and_then(|v| v.parse::<f64>().ok())
        .map(Duration::from_secs_f64)
        .unwrap_or(default)
}

/// Service settings, defaults overridden from the environment. A value that does not
/// parse where silence would change behaviour (`CLIENT_CONTACTS`) stops the start.
pub fn settings_from_env() -> Result<Settings, BoxError> {
    let d = Settings::default();
    let contacts = match environment::get("CLIENT_CONTACTS") {
        Some(raw) => ContactPolicy {
            client_contacts: ClientContacts::parse(raw.trim()).map_err(|e| format!("CLIENT_CONTACTS: {e}"))?,
        },
        None => d.contacts,
    };
    let limits = match environment::get("RATE_LIMITS") {
        Some(raw) => RateLimits::parse(&raw).map_err(|e| format!("RATE_LIMITS: {e}"))?,
        None => d.limits.clone(),
    };
    let notify = NotifySettings {
        push_delay: env_secs("NOTIFY_PUSH_DELAY_SECS", d.notify.push_delay),
        web_url: environment::get("WEB_ORIGIN").unwrap_or(d.notify.web_url.clone()),
        api_url: environment::get("REST_API_URL"),
        mail_from: environment::get("MAIL_FROM").unwrap_or(d.notify.mail_from.clone()),
        ..d.notify.clone()
    };
    Ok(Settings {
        ticket_ttl: env_secs("TICKET_TTL_SECS", d.ticket_ttl),
        presence_ttl: env_secs("PRESENCE_TTL_SECS", d.presence_ttl),
        typing_ttl: env_secs("TYPING_TTL_SECS", d.typing_ttl),
        contacts,
        limits,
        notify,
        ..d
    })
}

/// The key that signs unsubscribe links, derived from the notification secret (the
/// VAPID key is derived from it too: [`VapidKey::derive`]).
pub fn unsubscribe_key(notify_secret: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    h.update(b"messaging unsubscribe key\n");
    h.update(notify_secret);
    h.finalize().to_vec()
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
    blank_endpoint_means_aws(config, environment::raw("AWS_ENDPOINT_URL").as_deref())
}

/// The service as a Lambda function runs it: on AWS, named by the environment. The
/// functions that notify (`NOTIFY_SECRET_ARN` set) read the secret once, here.
pub async fn lambda_messaging() -> Result<Arc<Messaging>, BoxError> {
    let secret = match environment::get("NOTIFY_SECRET_ARN") {
        Some(id) => Some(
            messaging_aws::secrets::secret_string(&aws_sdk_config().await, &id)
                .await?
                .into_bytes(),
        ),
        // `sam local invoke` (events/env.json) gives the secret itself.
        None => environment::get("NOTIFY_SECRET").map(String::into_bytes),
    };
    let backends = build(BackendChoice::lambda(secret.as_deref())?).await?;
    let mut settings = settings_from_env()?;
    if let Some(secret) = &secret {
        settings.notify.signing_key = unsubscribe_key(secret);
    }
    Ok(Arc::new(Messaging::new(backends.ports, settings)))
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
