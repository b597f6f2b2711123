//! Lambda function: the admin REST routes (`/api/admin/messaging/...`).
//! Wiring only; the routes live in `messaging-http`.

use lambda_http::tower::ServiceBuilder;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    messaging_backends::init_tracing();
    let state = messaging_backends::lambda_app_state().await?;
    let app = ServiceBuilder::new()
        .map_request(messaging_http::strip_stage)
        .service(messaging_http::admin_app(state));
    lambda_http::run(app).await
}
