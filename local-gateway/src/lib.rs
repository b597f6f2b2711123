//! The local gateway: API Gateway on one machine, so that `make dev` runs the whole
//! product and tests drive it end to end.
//!
//! - REST: HTTP in, API Gateway REST proxy events out to the REST functions' handlers,
//!   invoked in process through `lambda_http` ([`rest`], [`functions`]).
//! - WebSocket: frames in, `$connect` / `$disconnect` / action-route events out, routed by
//!   `$request.body.action`, with the `$connect` authorizer in front ([`websocket`]).
//! - `@connections`: the management API the functions push through, so their real
//!   `aws-sdk-apigatewaymanagement` client works unchanged ([`connections`]).
//! - Signed blob URLs for attachments ([`blobs`]), the dev login and demo data ([`dev`]),
//!   the built web client at `/`, the OpenAPI document at `/api/openapi.yaml`.
//!
//! Backends are chosen by the environment ([`config`]): embedded by default (SQLite file,
//! in-process registry, local files), DynamoDB and S3 at `AWS_ENDPOINT_URL`, Redis at
//! `REDIS_URL`.

pub mod blobs;
pub mod config;
pub mod connections;
pub mod dev;
pub mod functions;
pub mod guard;
pub mod mail;
pub mod oidc;
pub mod rest;
pub mod sigv4;
pub mod websocket;

use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{any, get, post, put};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use messaging_auth::{Authenticator, DevTokens};
use messaging_backends::PusherChoice;
use messaging_core::Messaging;
use messaging_core::ids::ConnectionId;
use messaging_core::ports::{ConnectionPusher, PushError};
use messaging_embedded::{LocalBlobStore, LocalDirectory};
use messaging_http::AppState;

pub use config::{GatewayConfig, PusherMode, StoreChoice};
use connections::{Hub, SendError};
use functions::Functions;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Shared by every route of the gateway.
pub struct Gateway {
    pub functions: Functions,
    pub hub: Arc<Hub>,
    pub local_blobs: Option<Arc<LocalBlobStore>>,
    /// The people of this gateway (the demo users, a seed file, the dev admin route).
    pub directory: Arc<LocalDirectory>,
    pub dev_tokens: Option<DevTokens>,
    /// The OpenID Connect provider the web client signs in with (with the dev login).
    pub oidc: Option<Arc<oidc::Provider>>,
    /// Where the product's emails go locally (shown at `/dev/mail`).
    pub outbox: Option<Arc<messaging_embedded::OutboxMailer>>,
    /// How long a connection stays unopened after its `$connect` handler returned.
    pub connect_delay: Duration,
    /// How long an accepted socket's task waits before it starts (tests).
    pub open_delay: Duration,
    /// What `@connections` requests must be signed with ([`sigv4`]).
    pub connections_credentials: sigv4::Credentials,
}

/// Pushes straight into the hub, skipping the `@connections` HTTP hop (the default; see
/// [`PusherMode`]).
struct HubPusher(Arc<Hub>);

#[async_trait]
impl ConnectionPusher for HubPusher {
    async fn push(&self, connection: &ConnectionId, payload: &[u8]) -> Result<(), PushError> {
        match self.0.send(connection.as_str(), payload.to_vec()) {
            Ok(()) => Ok(()),
            Err(SendError::Gone) => Err(PushError::Gone),
            Err(SendError::Full) => Err(PushError::Failed("connection queue full".into())),
        }
    }

    async fn close(&self, connection: &ConnectionId) -> Result<(), PushError> {
        // Already gone is what closing wants.
        let _ = self.0.close(connection.as_str());
        Ok(())
    }
}

/// A started gateway.
pub struct Running {
    pub addr: SocketAddr,
    pub gateway: Arc<Gateway>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    pub fn service(&self) -> &Arc<Messaging> {
        self.gateway.functions.service()
    }

    /// Stops accepting, lets open requests finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.task).await;
    }

    /// Runs until the process is interrupted.
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Binds, builds the backends and starts serving.
pub async fn start(config: GatewayConfig) -> Result<Running, BoxError> {
    config.check_exposure()?;
    let connections_credentials = sigv4::Credentials::from_env();
    if !config.bind.ip().is_loopback() {
        tracing::warn!(
            bind = %config.bind,
            "listening on an address other machines can reach: the REST and WebSocket APIs are \
             reachable from the network; @connections takes only requests signed with this \
             gateway's AWS credentials"
        );
        if connections_credentials.is_placeholder() {
            tracing::warn!(
                "NO AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY SET: @connections accepts only this \
                 machine (the placeholder credentials are public); set real keys to push from elsewhere"
            );
        }
    }
    let listener = TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let url = config.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    let hub = Arc::new(Hub::default());

    // Pushes go into the hub directly, or through the functions' SDK client and this
    // gateway's own `@connections` (see `PusherMode`).
    let pusher = match config.pusher {
        PusherMode::ManagementApi => PusherChoice::ManagementApi {
            endpoint: config.management_endpoint.clone().unwrap_or_else(|| url.clone()),
        },
        PusherMode::InProcess => PusherChoice::Given(Arc::new(HubPusher(hub.clone()))),
    };
    // A data folder from before search had no index: it is built from the store once.
    let index_is_new = !config.data_dir.join(config::SEARCH_INDEX_FILE).exists();
    let backends = messaging_backends::build(config.backend_choice(&url, pusher)).await?;
    let scheduler = backends
        .local_scheduler
        .clone()
        .ok_or("the gateway runs delayed tasks on its local scheduler")?;
    let local_blobs = backends.local_blobs.clone();
    let directory = backends
        .local_directory
        .clone()
        .ok_or("the gateway's people are in its local directory")?;
    dev::seed_directory(&directory, config.users_file.as_deref())?;
    let summary = backends.summary.clone();
    let outbox = backends.local_outbox.clone();
    let ports = backends.ports;
    let mut settings = config.settings.clone();
    settings.notify.signing_key = messaging_backends::unsubscribe_key(&config.notify_secret);
    if settings.notify.web_url.is_empty() {
        settings.notify.web_url = url.trim_end_matches('/').to_owned();
    }
    if settings.notify.api_url.is_none() {
        settings.notify.api_url = Some(url.trim_end_matches('/').to_owned());
    }
    // A dev tool on one machine: its tests (and a developer's) run push services here.
    settings.notify.local_push_endpoints = true;
    let svc = Arc::new(Messaging::new(ports, settings));
    if index_is_new {
        let svc = svc.clone();
        tokio::spawn(async move {
            match svc.rebuild_search_index().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(messages = n, "search index built from the store"),
                Err(e) => tracing::warn!(error = %e, "search index not built from the store"),
            }
        });
    }
    let dev_tokens = config.dev_login.then(|| DevTokens::new(config.jwt_secret.as_bytes()));
    let oidc = match config.dev_login {
        true => Some(Arc::new(oidc::Provider::new(
            oidc::ProviderConfig {
                issuer: url.trim_end_matches('/').to_owned(),
                token_ttl: config.oidc_token_ttl,
                refresh_ttl: Duration::from_secs(30 * 24 * 3600),
                like_cognito: config.oidc_like_cognito,
            },
            oidc::SigningKey::load_or_create(&config.data_dir)?,
        ))),
        false => None,
    };
    let functions = Functions::new(AppState {
        svc: svc.clone(),
        auth: Arc::new(authenticator(&config, addr, oidc.as_deref())),
    });

    if config.seed && dev_tokens.is_some() {
        match dev::seed(&svc).await {
            Ok(true) => tracing::info!("seeded the demo conversations"),
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not seed demo data"),
        }
    }

    let gateway = Arc::new(Gateway {
        functions,
        hub,
        local_blobs: local_blobs.clone(),
        directory,
        dev_tokens,
        oidc,
        outbox,
        connect_delay: config.connect_delay,
        open_delay: config.open_delay,
        connections_credentials,
    });

    // Delayed tasks run through the `delayed-tasks` function with an SQS-shaped event.
    let weak: Weak<Gateway> = Arc::downgrade(&gateway);
    scheduler.set_runner(Arc::new(move |task| {
        let weak = weak.clone();
        Box::pin(async move {
            let Some(gw) = weak.upgrade() else { return };
            let body = serde_json::to_string(&task).unwrap_or_default();
            let event = serde_json::json!({ "Records": [{
                "messageId": ulid::Ulid::generate().to_string(),
                "body": body,
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:local:000000000000:delayed-tasks",
                "awsRegion": "local",
                "attributes": {}, "messageAttributes": {},
            }]});
            if let Err(e) = gw.functions.invoke_delayed_tasks(event).await {
                tracing::error!(error = %e, "delayed task failed");
            }
        })
    }));

    if let Some(blobs) = local_blobs {
        tokio::spawn(async move {
            loop {
                match blobs.sweep_pending(Duration::from_secs(24 * 3600)).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "swept unclaimed uploads"),
                    Err(e) => tracing::warn!(error = %e, "upload sweep failed"),
                }
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
        });
    }

    let app = router(
        gateway.clone(),
        config.web_dir.clone(),
        guard::WebPolicy::new(
            files_origin(&config).as_deref(),
            gateway
                .oidc
                .as_ref()
                .and_then(|p| url::Url::parse(p.issuer()).ok())
                .map(|u| u.origin().ascii_serialization())
                .as_deref(),
        ),
    );
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move {
                let _ = rx.await;
            });
        if let Err(e) = serve.await {
            tracing::error!(error = %e, "gateway stopped");
        }
    });
    tracing::info!(%url, backends = %summary, "local gateway listening");
    Ok(Running {
        addr,
        gateway,
        shutdown: Some(tx),
        task,
    })
}

/// How the functions verify tokens here. With the dev login: the OIDC provider's RS256
/// tokens, through its JWKS over HTTP exactly as the functions verify Cognito's in AWS,
/// and the HS256 tokens of `/dev/login` (tests, the benchmark). Without it, only HS256
/// tokens made with the configured secret.
fn authenticator(config: &GatewayConfig, addr: SocketAddr, provider: Option<&oidc::Provider>) -> Authenticator {
    let dev = Authenticator::hs256(config.jwt_secret.as_bytes(), DevTokens::ISSUER, DevTokens::AUDIENCE);
    match provider {
        Some(p) => {
            Authenticator::rs256_jwks(format!("http://{addr}/oidc/jwks.json"), p.issuer(), oidc::CLIENT_ID).also(dev)
        }
        None => dev,
    }
}

/// The management API, behind its signature check.
fn connections_routes(gateway: Arc<Gateway>) -> Router<Arc<Gateway>> {
    Router::new()
        .route(
            "/@connections/{id}",
            post(connections::post_to_connection)
                .get(connections::get_connection)
                .delete(connections::delete_connection),
        )
        .route(
            "/{stage}/@connections/{id}",
            post(connections::post_to_connection_staged)
                .get(connections::get_connection_staged)
                .delete(connections::delete_connection_staged),
        )
        .route_layer(axum::middleware::from_fn_with_state(gateway, connections::signed))
}

/// Where signed blob URLs point when that is not the gateway itself: S3 (at the endpoint,
/// or AWS's), for the web client's Content-Security-Policy.
fn files_origin(config: &GatewayConfig) -> Option<String> {
    if config.store != StoreChoice::DynamoDb {
        return None;
    }
    Some(
        match config.aws_endpoint.as_deref().and_then(|e| url::Url::parse(e).ok()) {
            Some(url) => url.origin().ascii_serialization(),
            None => "https://*.amazonaws.com".to_owned(),
        },
    )
}

fn router(gateway: Arc<Gateway>, web_dir: Option<std::path::PathBuf>, policy: guard::WebPolicy) -> Router {
    let mut app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/api/openapi.yaml",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "application/yaml")],
                    messaging_http::OPENAPI_YAML,
                )
                    .into_response()
            }),
        )
        .route("/api/{*rest}", any(rest::handle))
        .route("/ws", get(websocket::upgrade))
        .route(
            "/blobs/{*key}",
            // Any origin may use a signed URL (as S3 with the bucket's CORS rule): the
            // signature is the permission. This also lets `vite` dev servers upload.
            put(blobs::upload)
                .get(blobs::download)
                .layer(tower_http::cors::CorsLayer::permissive()),
        )
        .route("/dev/users", get(dev::users).post(dev::create_user))
        .route("/dev/login", post(dev::login))
        .route("/dev/mail", get(mail::list))
        .route("/dev/mail.json", get(mail::list_json))
        .route("/dev/mail.css", get(mail::stylesheet))
        .route("/dev/mail/{id}", get(mail::show))
        .route("/dev/mail/{id}/html", get(mail::html))
        .merge(oidc::routes::routes())
        .merge(connections_routes(gateway.clone()))
        .layer(DefaultBodyLimit::max(guard::MAX_UPLOAD_BYTES))
        .with_state(gateway);
    if let Some(dir) = web_dir.filter(|d| d.join("index.html").exists()) {
        let index = dir.join("index.html");
        app = app.fallback_service(
            tower_http::services::ServeDir::new(dir).fallback(tower_http::services::ServeFile::new(index)),
        );
    } else {
        app = app.fallback(|| async {
            (
                axum::http::StatusCode::NOT_FOUND,
                "The web client is not built. Run `make dev` (it builds web/ first), or use the API under /api.",
            )
        });
    }
    app.layer(axum::middleware::from_fn_with_state(policy, guard::guard))
        .layer(tower_http::trace::TraceLayer::new_for_http())
}

/// The command line (`local-gateway [flags]`): starts, prints where, runs until Ctrl-C.
/// The binary's whole `main`; the fault suite runs it as a process of its own too.
pub async fn cli(args: Vec<String>) -> Result<(), BoxError> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!(
            "local-gateway [--port N] [--bind ADDR] [--data-dir DIR] [--store embedded|dynamodb] [--web-dir DIR] [--pusher in-process|management-api] [--no-seed] [--no-dev-login] [--allow-remote-dev-login] [--oidc-token-ttl SECS] [--oidc-like-cognito]"
        );
        return Ok(());
    }
    let config = GatewayConfig::from_env_and_args(&args)?;
    let running = start(config).await?;
    println!(
        "Messaging is running at {}  (WebSocket: {}, API docs: {}/api/openapi.yaml, emails sent: {}/dev/mail)",
        running.url(),
        running.ws_url(),
        running.url(),
        running.url()
    );
    let _ = tokio::signal::ctrl_c().await;
    running.shutdown().await;
    Ok(())
}
