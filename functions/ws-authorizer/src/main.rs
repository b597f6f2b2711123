//! Lambda function: the WebSocket `$connect` REQUEST authorizer (redeems the single-use ticket).
//! Wiring only; the handler lives in `messaging-ws`.

use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    messaging_backends::init_tracing();
    let svc = messaging_backends::lambda_messaging().await?;
    let handler = service_fn(move |event: LambdaEvent<messaging_ws::AuthorizerEvent>| {
        let svc = svc.clone();
        async move {
            // API Gateway turns the error "Unauthorized" into a 401 on the upgrade.
            messaging_ws::authorize(&svc, event.payload).await.map_err(|e| {
                tracing::info!(error = %e, "connection refused");
                Error::from("Unauthorized")
            })
        }
    });
    lambda_runtime::run(handler).await
}
