//! Lambda function: the admin REST routes (`/api/admin/messaging/...`).
//! Wiring only; the routes live in `messaging-http`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    messaging_backends::run_rest(messaging_http::admin_app).await
}
