//! Lambda function: the delayed-task queue (SQS): typing expiry and presence checks.
//! Wiring only; the handler lives in `messaging-ws`.

use lambda_runtime::{Error, LambdaEvent, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    messaging_backends::init_tracing();
    let svc = messaging_backends::lambda_messaging().await?;
    let handler = service_fn(move |event: LambdaEvent<aws_lambda_events::event::sqs::SqsEvent>| {
        let svc = svc.clone();
        async move { Ok::<_, Error>(messaging_ws::delayed_tasks(&svc, event.payload).await) }
    });
    lambda_runtime::run(handler).await
}
