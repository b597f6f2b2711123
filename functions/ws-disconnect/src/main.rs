//! Lambda function: WebSocket `$disconnect` (forgets the connection; presence).
//! Wiring only; the handler lives in `messaging-ws`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    messaging_backends::run_with_service(|svc, event| async move { Ok(messaging_ws::disconnect(&svc, event).await) })
        .await
}
