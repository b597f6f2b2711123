//! Lambda function: the members' REST routes (`/api/messaging/...`).
//! Wiring only; the routes live in `messaging-http`.

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    messaging_http::run(messaging_http::messaging_api_app).await
}
