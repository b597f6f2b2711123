//! Delayed tasks on an SQS queue: `DelaySeconds` is the serverless timer. The
//! `delayed-tasks` function consumes the queue.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::DisplayErrorContext;

use messaging_core::ports::{DelayedTask, ScheduleError, TaskScheduler};

pub struct SqsScheduler {
    client: Client,
    queue_url: String,
}

impl SqsScheduler {
    pub fn new(sdk: &aws_config::SdkConfig, queue_url: impl Into<String>) -> Self {
        Self {
            client: Client::new(sdk),
            queue_url: queue_url.into(),
        }
    }
}

/// SQS delays whole seconds, at most 15 minutes; a task never runs early.
fn delay_seconds(delay: Duration) -> i32 {
    let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    secs.min(900) as i32
}

#[async_trait]
impl TaskScheduler for SqsScheduler {
    async fn schedule(&self, task: DelayedTask, delay: Duration) -> Result<(), ScheduleError> {
        let body = serde_json::to_string(&task).map_err(|e| ScheduleError(e.to_string()))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .delay_seconds(delay_seconds(delay))
            .send()
            .await
            .map_err(|e| ScheduleError(DisplayErrorContext(e).to_string()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_round_up_to_whole_seconds_and_cap_at_fifteen_minutes() {
        assert_eq!(delay_seconds(Duration::from_millis(6000)), 6);
        assert_eq!(delay_seconds(Duration::from_millis(6001)), 7);
        assert_eq!(delay_seconds(Duration::from_secs(3600)), 900);
    }
}
