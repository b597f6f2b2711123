//! Lambda function: the WebSocket `$connect` REQUEST authorizer (redeems the single-use ticket).
//! Wiring only; the handler lives in `messaging-ws`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    messaging_backends::run_with_service(|svc, event| async move {
        // API Gateway turns the error "Unauthorized" into a 401 on the upgrade.
        messaging_ws::authorize(&svc, event).await.map_err(|e| {
            tracing::info!(error = %e, "connection refused");
            lambda_runtime::Error::from("Unauthorized")
        })
    })
    .await
}
