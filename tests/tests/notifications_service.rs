//! The notification pipeline's scheduling, on the service with a recording scheduler:
//! one burst per conversation however many messages, digests that wait for quiet hours
//! to end, and delays longer than a queue holds that are queued again.

use std::time::Duration;

use integration_tests::service::{ServiceHarness, person};
use messaging_core::identity::Role;
use messaging_core::notify::{NotificationSettingsView, NotifyLevel, QuietHours, QuietHoursView};
use messaging_core::ports::DelayedTask;
use messaging_core::time::Timestamp;

#[tokio::test]
async fn a_burst_is_one_task_however_many_messages_and_the_next_message_opens_the_next() {
    let h = ServiceHarness::new().await;
    let (ben, ana) = (person("u-ben", Role::Team), person("u-ana", Role::Client));
    let c = h.conversation(&ben, &[&ana]).await;
    h.tasks.take();
    for i in 0..5 {
        h.send(&ben, &c, &format!("m{i}")).await;
    }
    let tasks = h.tasks.take();
    let bursts: Vec<_> = tasks
        .iter()
        .filter(|(t, _)| matches!(t, DelayedTask::NotifyConversation { .. }))
        .collect();
    assert_eq!(bursts.len(), 1, "{tasks:?}");
    let (task, delay) = bursts[0];
    assert_eq!(
        task,
        &DelayedTask::NotifyConversation {
            conversation_id: c.clone(),
            from_seq: 1
        }
    );
    assert_eq!(*delay, h.svc.settings().notify.push_delay);

    // The burst ends: Ana has unread messages, so her digest is scheduled once.
    h.svc.run_task(task.clone()).await.unwrap();
    let digests = h.tasks.take();
    assert_eq!(digests.len(), 1, "{digests:?}");
    assert!(matches!(
        &digests[0].0,
        DelayedTask::EmailDigest { user_id, from_seq: 1, not_before: Some(_), .. } if user_id == &ana.user_id
    ));
    // A message after the burst's end opens the next burst.
    h.send(&ben, &c, "later").await;
    let next = h.tasks.take();
    assert!(
        next.iter()
            .any(|(t, _)| matches!(t, DelayedTask::NotifyConversation { from_seq: 6, .. })),
        "{next:?}"
    );
}

#[tokio::test]
async fn quiet_hours_defer_a_digest_to_their_end() {
    let h = ServiceHarness::new().await;
    let (ben, ana) = (person("u-ben", Role::Team), person("u-ana", Role::Client));
    let c = h.conversation(&ben, &[&ana]).await;
    h.send(&ben, &c, "at night").await;
    let now = chrono::Utc::now();
    let quiet = QuietHoursView {
        start: (now - chrono::Duration::hours(1)).format("%H:%M").to_string(),
        end: (now + chrono::Duration::hours(3)).format("%H:%M").to_string(),
        time_zone: "UTC".into(),
    };
    let view = NotificationSettingsView {
        level: NotifyLevel::All,
        push: true,
        email: true,
        email_delay_seconds: 0,
        quiet_hours: Some(quiet.clone()),
    };
    h.svc.set_notification_settings(&ana, &view).await.unwrap();
    h.tasks.take();
    let digest = DelayedTask::EmailDigest {
        conversation_id: c.clone(),
        user_id: ana.user_id.clone(),
        from_seq: 1,
        not_before: None,
    };
    h.svc.run_task(digest).await.unwrap();
    let end = QuietHours::parse(&quiet.start, &quiet.end, "UTC")
        .unwrap()
        .next_end(Timestamp::now());
    let again = h.tasks.take();
    assert_eq!(again.len(), 1, "{again:?}");
    let (task, delay) = &again[0];
    assert_eq!(
        task,
        &DelayedTask::EmailDigest {
            conversation_id: c.clone(),
            user_id: ana.user_id.clone(),
            from_seq: 1,
            not_before: Some(end),
        }
    );
    let expected = Duration::from_millis((end.as_millis() - Timestamp::now().as_millis()) as u64);
    assert!(
        delay.abs_diff(expected) < Duration::from_secs(5),
        "{delay:?} vs {expected:?}"
    );
}

#[tokio::test]
async fn a_digest_delivered_early_is_queued_again_for_the_rest() {
    let h = ServiceHarness::new().await;
    let (ben, ana) = (person("u-ben", Role::Team), person("u-ana", Role::Client));
    let c = h.conversation(&ben, &[&ana]).await;
    h.send(&ben, &c, "hello").await;
    h.tasks.take();
    // Due in an hour; SQS delays at most 15 minutes, so it arrives early.
    let due = Timestamp::now().plus_millis(3_600_000);
    let early = DelayedTask::EmailDigest {
        conversation_id: c.clone(),
        user_id: ana.user_id.clone(),
        from_seq: 1,
        not_before: Some(due),
    };
    h.svc.run_task(early.clone()).await.unwrap();
    let again = h.tasks.take();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].0, early, "the same digest, not before the same time");
    assert!(again[0].1 > Duration::from_secs(3590) && again[0].1 <= Duration::from_secs(3600));
}
