//! Lambda function: the admin REST routes (`/api/admin/messaging/...`).
//! Wiring only; the routes live in `messaging-http`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    messaging_http::run(messaging_http::admin_app).await
}
