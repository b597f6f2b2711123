//! The `delayed-tasks` function's handler: an SQS batch of [`DelayedTask`]s (typing
//! expiry, presence checks), each run through the service.

use serde_json::{Value, json};

use messaging_core::ports::DelayedTask;
use messaging_core::{Error, Messaging};

/// One record of the delayed-task queue.
pub async fn run_task_body(svc: &Messaging, body: &str) -> Result<(), Error> {
    let task: DelayedTask =
        serde_json::from_str(body).map_err(|e| Error::invalid("task", format!("not a delayed task: {e}")))?;
    svc.run_task(task).await
}

/// The delayed-task queue's SQS batch: failed records are reported for redelivery;
/// malformed ones are dropped (redelivering them cannot help).
pub async fn delayed_tasks(svc: &Messaging, event: aws_lambda_events::event::sqs::SqsEvent) -> Value {
    let mut failures = Vec::new();
    for record in event.records {
        let id = record.message_id.clone().unwrap_or_default();
        match run_task_body(svc, record.body.as_deref().unwrap_or("")).await {
            Ok(()) => {}
            Err(e @ Error::Invalid { .. }) => tracing::error!(error = %e, message = %id, "dropping malformed task"),
            Err(e) => {
                tracing::warn!(error = %e, message = %id, "task failed; will be retried");
                failures.push(json!({ "itemIdentifier": id }));
            }
        }
    }
    json!({ "batchItemFailures": failures })
}
