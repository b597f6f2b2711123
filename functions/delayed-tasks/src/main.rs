//! Lambda function: the delayed-task queue (SQS): typing expiry and presence checks.
//! Wiring only; the handler lives in `messaging-ws`.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    messaging_backends::run_with_service(|svc, event| async move { Ok(messaging_ws::delayed_tasks(&svc, event).await) })
        .await
}
