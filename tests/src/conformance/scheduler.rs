//! The delayed-task scheduler conformance suite: every case runs on the local scheduler
//! (tokio timers) and on SQS (moto), so typing expiry and presence checks behave the same
//! under `make dev` as in AWS.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;

use messaging_core::ids::{ConversationId, UserId};
use messaging_core::ports::{DelayedTask, TaskScheduler};

use crate::services::unique;

/// A scheduler and the far end of it: `receive(within)` is the next task that came due
/// (taken off the queue, as the consumer does), or `None` if none did within `within`.
pub struct SchedulerFixture {
    pub scheduler: Arc<dyn TaskScheduler>,
    pub receive: Box<dyn Fn(Duration) -> BoxFuture<'static, Option<DelayedTask>> + Send + Sync>,
    pub _guard: Option<Box<dyn std::any::Any + Send + Sync>>,
}

fn presence_check() -> DelayedTask {
    DelayedTask::PresenceCheck {
        user_id: UserId::parse(&unique("u")).expect("user"),
    }
}

pub async fn a_task_comes_back_as_it_was_scheduled(f: SchedulerFixture) {
    let typing = DelayedTask::TypingExpiry {
        conversation_id: ConversationId::generate(),
        user_id: UserId::parse(&unique("u")).expect("user"),
    };
    f.scheduler.schedule(typing.clone(), Duration::ZERO).await.unwrap();
    assert_eq!((f.receive)(Duration::from_secs(10)).await, Some(typing));
    let presence = presence_check();
    f.scheduler.schedule(presence.clone(), Duration::ZERO).await.unwrap();
    assert_eq!((f.receive)(Duration::from_secs(10)).await, Some(presence));
}

pub async fn a_task_never_comes_due_before_its_delay(f: SchedulerFixture) {
    let task = presence_check();
    let scheduled = Instant::now();
    f.scheduler
        .schedule(task.clone(), Duration::from_secs(2))
        .await
        .unwrap();
    assert_eq!((f.receive)(Duration::from_millis(1200)).await, None, "too early");
    assert_eq!((f.receive)(Duration::from_secs(10)).await, Some(task));
    let after = scheduled.elapsed();
    assert!(after >= Duration::from_secs(2), "came due after {after:?}");
}

pub async fn each_task_comes_due_once(f: SchedulerFixture) {
    let tasks: Vec<DelayedTask> = (0..3).map(|_| presence_check()).collect();
    for t in &tasks {
        f.scheduler.schedule(t.clone(), Duration::ZERO).await.unwrap();
    }
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push((f.receive)(Duration::from_secs(10)).await.expect("due"));
    }
    for t in &tasks {
        assert_eq!(got.iter().filter(|g| *g == t).count(), 1, "{t:?} once");
    }
    assert_eq!((f.receive)(Duration::from_secs(1)).await, None, "nothing more");
}

/// One `#[tokio::test]` per case; `$fixture` is an async fn returning a [`SchedulerFixture`].
#[macro_export]
macro_rules! scheduler_conformance_tests {
    ($fixture:path) => {
        $crate::scheduler_conformance_tests!(@cases $fixture;
            a_task_comes_back_as_it_was_scheduled,
            a_task_never_comes_due_before_its_delay,
            each_task_comes_due_once,
        );
    };
    (@cases $fixture:path; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                $crate::conformance::scheduler::$case($fixture().await).await;
            }
        )+
    };
}
