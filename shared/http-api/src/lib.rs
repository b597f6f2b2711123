//! The REST API: one axum `Router` per Lambda function, used unchanged by Lambda
//! (`lambda_http::run`), by the local gateway (in-process, with API Gateway-shaped
//! events) and by tests.
//!
//! # Layout
//! - [`messaging_api`]: `/api/messaging/...`, the `messaging-api` function.
//! - [`admin`]: `/api/admin/messaging/...`, the `admin-api` function.
//! - [`extract`]: the caller's identity, JSON bodies, path and query parameters.
//! - [`error`]: the single error → response mapping.
//! - [`headers`]: the security headers on every response.
//! - [`routes`]: the route table, which the OpenAPI document, the SAM template and the
//!   permission tests are all checked against.
//! - `openapi.yaml`: the API's contract, served by the local gateway.
//! - this module: the routers, CORS, the stage prefix, and [`run`], which runs a REST
//!   function in Lambda.

pub mod admin;
pub mod error;
pub mod extract;
pub mod headers;
pub mod messaging_api;
pub mod routes;

use std::sync::Arc;

pub use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, Uri};

use messaging_auth::Authenticator;
use messaging_core::{Error, Messaging};

pub use error::{ApiError, ApiResult};

/// The OpenAPI 3 document for every route.
pub const OPENAPI_YAML: &str = include_str!("../openapi.yaml");

/// Largest request body any route accepts. A 5,000-character message is at most 20 KB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler needs: the service and the token verifier. Cloning is two
/// reference-count increments.
#[derive(Clone)]
pub struct AppState {
    pub svc: Arc<Messaging>,
    pub auth: Arc<Authenticator>,
}

fn finish(router: Router<AppState>, state: AppState) -> Router {
    router
        .fallback(|| async { ApiError(Error::NotFound("route")) })
        .method_not_allowed_fallback(|| async { ApiError(Error::MethodNotAllowed) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(headers::api))
        .with_state(state)
}

/// The `messaging-api` function's router.
pub fn messaging_api_app(state: AppState) -> Router {
    finish(messaging_api::routes(), state)
}

/// The `admin-api` function's router.
pub fn admin_app(state: AppState) -> Router {
    finish(admin::routes(), state)
}

/// Lets a web client served from `origin` read the API's responses. API Gateway answers
/// the preflight (`OPTIONS`) itself; the function must still add the headers to every
/// actual response.
pub fn with_cors(router: Router, origin: Option<&str>) -> Router {
    let Some(origin) = origin.and_then(|o| o.parse::<axum::http::HeaderValue>().ok()) else {
        return router;
    };
    use axum::http::{Method, header};
    router.layer(
        tower_http::cors::CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PATCH,
                Method::PUT,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .max_age(std::time::Duration::from_secs(600)),
    )
}

/// API Gateway REST events carry the stage in the path lambda_http builds
/// (`/prod/api/...`); routes are declared without it. Wrap a router's service with
/// `tower::ServiceBuilder::new().map_request(strip_stage)` to serve both forms.
pub fn strip_stage<B>(mut req: Request<B>) -> Request<B> {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    let stage = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.stage.clone(),
        Some(RequestContext::WebSocket(ctx)) => ctx.stage.clone(),
        _ => None,
    };
    if let Some(stage) = stage.filter(|s| s != "$default") {
        let prefix = format!("/{stage}");
        let path = req.uri().path();
        if let Some(rest) = path.strip_prefix(&prefix).filter(|r| r.starts_with('/')) {
            let rebuilt = match req.uri().query() {
                Some(q) => format!("{rest}?{q}"),
                None => rest.to_owned(),
            };
            if let Ok(uri) = rebuilt.parse::<Uri>() {
                *req.uri_mut() = uri;
            }
        }
    }
    req
}

/// The web client's origin (`WEB_ORIGIN`), for CORS on REST responses.
pub fn web_origin() -> Option<String> {
    messaging_backends::environment::get("WEB_ORIGIN").filter(|o| o != "*")
}

/// The REST functions' state in Lambda: the service on AWS and the token verifier, both
/// from the environment.
pub async fn lambda_state() -> Result<AppState, messaging_backends::BoxError> {
    let auth = Authenticator::from_vars(messaging_backends::environment::get)?;
    Ok(AppState {
        svc: messaging_backends::lambda_messaging().await?,
        auth: Arc::new(auth),
    })
}

/// Runs a REST function: `app` (the members' or the admin routes) with CORS for the web
/// origin, behind API Gateway's stage prefix. Everything is built once, at init.
pub async fn run(app: fn(AppState) -> Router) -> Result<(), lambda_http::Error> {
    messaging_backends::init_tracing();
    let router = with_cors(app(lambda_state().await?), web_origin().as_deref());
    let service = lambda_http::tower::ServiceBuilder::new()
        .map_request(strip_stage)
        .service(router);
    lambda_http::run(service).await
}
