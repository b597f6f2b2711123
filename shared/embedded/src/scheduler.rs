//! Delayed tasks on tokio timers: the local stand-in for the SQS delay queue.
//!
//! The runner is set after construction because it closes over the service that itself
//! holds this scheduler. The local gateway sets it to invoke the `delayed-tasks`
//! function's handler with an SQS-shaped event, as Lambda would.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use futures::future::BoxFuture;

use messaging_core::ports::{DelayedTask, ScheduleError, TaskScheduler};

pub type TaskRunner = Arc<dyn Fn(DelayedTask) -> BoxFuture<'static, ()> + Send + Sync>;

#[derive(Default)]
pub struct LocalScheduler {
    runner: OnceLock<TaskRunner>,
}

impl LocalScheduler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets what runs a task when its delay is over. Only the first call takes effect.
    pub fn set_runner(&self, runner: TaskRunner) {
        let _ = self.runner.set(runner);
    }
}

#[async_trait]
impl TaskScheduler for LocalScheduler {
    async fn schedule(&self, task: DelayedTask, delay: Duration) -> Result<(), ScheduleError> {
        let runner = self
            .runner
            .get()
            .cloned()
            .ok_or_else(|| ScheduleError("no task runner set".into()))?;
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            runner(task).await;
        });
        Ok(())
    }
}
