//! Lambda function: WebSocket `$connect` (registers the connection; presence).
//! Wiring only; the handler lives in `messaging-ws`.

use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    messaging_backends::init_tracing();
    let svc = messaging_backends::lambda_messaging().await?;
    let handler = service_fn(move |event: LambdaEvent<messaging_ws::WsEvent>| {
        let svc = svc.clone();
        async move { Ok::<_, Error>(messaging_ws::connect(&svc, event.payload).await) }
    });
    lambda_runtime::run(handler).await
}
