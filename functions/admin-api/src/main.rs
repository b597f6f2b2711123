//! Lambda function: the admin REST routes (`/api/admin/messaging/...`).
//! Wiring only; the routes live in `messaging-http`.

use lambda_http::tower::ServiceBuilder;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    messaging_backends::init_tracing();
    let state = messaging_backends::lambda_app_state().await?;
    let router = messaging_http::with_cors(
        messaging_http::admin_app(state),
        messaging_backends::web_origin().as_deref(),
    );
    let app = ServiceBuilder::new()
        .map_request(messaging_http::strip_stage)
        .service(router);
    lambda_http::run(app).await
}
