//! Lambda function: the WebSocket `$connect` REQUEST authorizer (redeems the single-use ticket).
//! Wiring only; the handler lives in `messaging-ws`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    messaging_backends::run_with_service(|svc, event| async move { Ok(messaging_ws::authorize(&svc, event).await?) })
        .await
}
