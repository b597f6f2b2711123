//! Lambda function: the WebSocket action routes `typing`, `stop-typing`, `ping` and `$default`.
//! Wiring only; the handler lives in `messaging-ws`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    messaging_backends::run_with_service(|svc, event| async move { Ok(messaging_ws::message(&svc, event).await) }).await
}
