//! The domain's rules, at the service level: `Messaging` on in-memory SQLite and the
//! in-process registry, with a recording pusher (`integration_tests::service`). No HTTP,
//! no sockets: the whole file runs in well under a second.

use std::time::Duration;

use integration_tests::service::{ServiceHarness, person, sending};
use messaging_core::Error;
use messaging_core::events::ClientAction;
use messaging_core::ids::UserId;
use messaging_core::model::{ConversationStatus, MAX_EDITS, MessageRange, Role};
use messaging_core::text::{MessageBody, ReportReason};
use messaging_core::time::Timestamp;
use messaging_core::{Identity, Settings};

fn people() -> (Identity, Identity, Identity, Identity) {
    (
        person("u-ana", Role::Client),
        person("u-ben", Role::Team),
        person("u-omar", Role::Client),
        person("u-dana", Role::Admin),
    )
}

fn body(text: &str) -> MessageBody {
    MessageBody::parse(text).unwrap()
}

fn code(e: &Error) -> &'static str {
    e.code()
}

#[tokio::test]
async fn a_message_reaches_every_connection_of_every_member_and_no_one_else() {
    let h = ServiceHarness::new().await;
    let (ana, ben, omar, _) = people();
    let conv = h.conversation(&ben, &[&ana]).await;
    let (laptop, phone, bens, omars) = (
        h.connect(&ana).await,
        h.connect(&ana).await,
        h.connect(&ben).await,
        h.connect(&omar).await,
    );
    let sent = h.send(&ben, &conv, "hello").await;
    for connection in [&laptop, &phone, &bens] {
        let events = h.pushes.take(connection);
        let new: Vec<_> = events.iter().filter(|e| e["type"] == "new-message").collect();
        assert_eq!(new.len(), 1, "{events:?}");
        assert_eq!(new[0]["data"]["message"]["id"], sent.id.as_str());
    }
    assert!(h.pushes.take(&omars).is_empty(), "outsiders hear nothing");
}

#[tokio::test]
async fn a_retried_send_returns_the_original_and_tells_no_one_again() {
    let h = ServiceHarness::new().await;
    let (ana, ben, _, _) = people();
    let conv = h.conversation(&ben, &[&ana]).await;
    let bens = h.connect(&ben).await;
    let (first, created) = h
        .svc
        .send_message(&ana, &conv, sending("once", "retry-1"))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(h.pushes.kinds(&bens), vec!["new-message"]);
    let (again, created) = h
        .svc
        .send_message(&ana, &conv, sending("once, again", "retry-1"))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!((again.id, again.seq, again.body), (first.id, 1, Some("once".into())));
    assert!(h.pushes.take(&bens).is_empty(), "a retry announces nothing");
}

#[tokio::test]
async fn a_closed_conversation_refuses_sends_and_edits_but_keeps_its_history() {
    let h = ServiceHarness::new().await;
    let (ana, ben, _, dana) = people();
    let conv = h.conversation(&ben, &[&ana]).await;
    let m = h.send(&ana, &conv, "before closing").await;
    h.svc
        .admin_set_status(&dana, &conv, ConversationStatus::Closed)
        .await
        .unwrap();
    let err = h
        .svc
        .send_message(&ana, &conv, sending("after", "late"))
        .await
        .unwrap_err();
    assert_eq!(code(&err), "conversation_closed");
    let err = h
        .svc
        .edit_message(&ana, &conv, &m.id, body("edited"))
        .await
        .unwrap_err();
    assert_eq!(code(&err), "conversation_closed");
    let page = h
        .svc
        .list_messages(&ana, &conv, MessageRange::parse(None, None, None).unwrap())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
}

#[tokio::test]
async fn only_the_sender_edits_and_editing_to_the_same_body_changes_nothing() {
    let h = ServiceHarness::new().await;
    let (ana, ben, _, _) = people();
    let conv = h.conversation(&ben, &[&ana]).await;
    let bens = h.connect(&ben).await;
    let m = h.send(&ana, &conv, "typo hre").await;
    h.pushes.take(&bens);
    let err = h
        .svc
        .edit_message(&ben, &conv, &m.id, body("hijack"))
        .await
        .unwrap_err();
    assert_eq!(code(&err), "forbidden");
    let edited = h.svc.edit_message(&ana, &conv, &m.id, body("typo here")).await.unwrap();
    assert_eq!(h.pushes.kinds(&bens), vec!["message-updated"]);
    let again = h.svc.edit_message(&ana, &conv, &m.id, body("typo here")).await.unwrap();
    assert_eq!(again.edited_at, edited.edited_at, "no second revision");
    assert!(h.pushes.take(&bens).is_empty(), "nothing changed, nothing announced");
}

#[tokio::test]
async fn edits_stop_at_the_limit_and_a_tombstone_cannot_be_edited() {
    let h = ServiceHarness::new().await;
    let (ana, ben, _, _) = people();
    let conv = h.conversation(&ben, &[&ana]).await;
    let m = h.send(&ana, &conv, "v0").await;
    for i in 1..=MAX_EDITS {
        h.svc
            .edit_message(&ana, &conv, &m.id, body(&format!("v{i}")))
            .await
            .unwrap();
    }
    let err = h
        .svc
        .edit_message(&ana, &conv, &m.id, body("one too many"))
        .await
        .unwrap_err();
    assert_eq!(code(&err), "edit_limit_reached");
    h.svc.delete_message(&ana, &conv, &m.id).await.unwrap();
    let err = h.svc.edit_message(&ana, &conv, &m.id, body("undo")).await.unwrap_err();
    assert_eq!(code(&err), "message_deleted");
}

#[tokio::test]
async fn the_sender_or_an_admin_deletes_a_message_and_a_second_delete_is_silent() {
    let h = ServiceHarness::new().await;
    let (ana, ben, _, dana) = people();
    let conv = h.conversation(&ben, &[&ana]).await;
    let bens = h.connect(&ben).await;
    let m = h.send(&ana, &conv, "regrettable").await;
    h.pushes.take(&bens);
    let err = h.svc.delete_message(&ben, &conv, &m.id).await.unwrap_err();
    assert_eq!(
        code(&err),
        "forbidden",
        "a team member may not delete a client's message"
    );
    // An admin oversees the conversation without being in it.
    let gone = h.svc.delete_message(&dana, &conv, &m.id).await.unwrap();
    assert!(gone.deleted && gone.body.is_none());
    assert_eq!(h.pushes.kinds(&bens), vec!["message-updated"]);
    let again = h.svc.delete_message(&ana, &conv, &m.id).await.unwrap();
    assert!(again.deleted);
    assert!(
        h.pushes.take(&bens).is_empty(),
        "deleting a tombstone announces nothing"
    );
}

#[tokio::test]
async fn read_watermarks_move_forward_only_and_only_a_move_is_announced() {
    let h = ServiceHarness::new().await;
    let (ana, ben, _, _) = people();
    let conv = h.conversation(&ben, &[&ana]).await;
    for i in 0..3 {
        h.send(&ben, &conv, &format!("m{i}")).await;
    }
    let bens = h.connect(&ben).await;
    let read = h.svc.mark_read(&ana, &conv, Some(2)).await.unwrap();
    assert_eq!(read.last_read_seq, 2);
    assert_eq!(h.pushes.kinds(&bens), vec!["message-read"]);
    let back = h.svc.mark_read(&ana, &conv, Some(1)).await.unwrap();
    assert_eq!(back.last_read_seq, 2, "never back");
    assert!(h.pushes.take(&bens).is_empty());
    let err = h.svc.mark_read(&ana, &conv, Some(4)).await.unwrap_err();
    assert_eq!(err.field(), Some("seq"));
    let all = h.svc.mark_read(&ana, &conv, None).await.unwrap();
    assert_eq!(all.last_read_seq, 3, "no seq: everything");
}

#[tokio::test]
async fn members_report_someone_elses_message_once() {
    let h = ServiceHarness::new().await;
    let (ana, ben, _, _) = people();
    let conv = h.conversation(&ben, &[&ana]).await;
    let bens_message = h.send(&ben, &conv, "the password is hunter2").await;
    let anas_message = h.send(&ana, &conv, "mine").await;
    let reason = || ReportReason::parse("shares a password").unwrap();
    h.svc
        .report_message(&ana, &conv, &bens_message.id, reason())
        .await
        .unwrap();
    let err = h
        .svc
        .report_message(&ana, &conv, &bens_message.id, reason())
        .await
        .unwrap_err();
    assert_eq!(code(&err), "already_reported");
    let err = h
        .svc
        .report_message(&ana, &conv, &anas_message.id, reason())
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("messageId"), "one's own message");
}

#[tokio::test]
async fn typing_shows_to_the_others_and_a_send_ends_it() {
    let h = ServiceHarness::new().await;
    let (ana, ben, _, _) = people();
    let conv = h.conversation(&ben, &[&ana]).await;
    let (laptop, phone, bens) = (h.connect(&ana).await, h.connect(&ana).await, h.connect(&ben).await);
    h.pushes.take(&phone);
    h.svc
        .handle_action(
            &laptop,
            &ana,
            ClientAction::Typing {
                conversation_id: conv.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(h.pushes.kinds(&bens), vec!["user-typing"]);
    assert!(
        h.pushes.kinds(&phone).is_empty(),
        "the typist's own devices are not told"
    );
    let tasks = h.tasks.take();
    assert!(
        tasks
            .iter()
            .any(|(t, _)| matches!(t, messaging_core::ports::DelayedTask::TypingExpiry { .. })),
        "{tasks:?}"
    );
    h.send(&ana, &conv, "done typing").await;
    let kinds = h.pushes.kinds(&bens);
    assert_eq!(kinds, vec!["new-message", "user-stopped-typing"]);
}

#[tokio::test]
async fn typing_that_is_never_stopped_expires_through_its_delayed_task() {
    let h = ServiceHarness::with(Settings {
        typing_ttl: Duration::from_millis(30),
        ..Settings::default()
    })
    .await;
    let (ana, ben, _, _) = people();
    let conv = h.conversation(&ben, &[&ana]).await;
    let (anas, bens) = (h.connect(&ana).await, h.connect(&ben).await);
    h.svc
        .handle_action(
            &anas,
            &ana,
            ClientAction::Typing {
                conversation_id: conv.clone(),
            },
        )
        .await
        .unwrap();
    h.pushes.take(&bens);
    let (task, delay) = h
        .tasks
        .take()
        .into_iter()
        .find(|(t, _)| matches!(t, messaging_core::ports::DelayedTask::TypingExpiry { .. }))
        .expect("an expiry task");
    assert_eq!(delay, Duration::from_millis(30));
    tokio::time::sleep(Duration::from_millis(40)).await;
    h.svc.run_task(task).await.unwrap();
    assert_eq!(h.pushes.kinds(&bens), vec!["user-stopped-typing"]);
}

#[tokio::test]
async fn outsiders_learn_nothing_not_even_that_the_conversation_exists() {
    let h = ServiceHarness::new().await;
    let (ana, ben, omar, _) = people();
    let conv = h.conversation(&ben, &[&ana]).await;
    let omars = h.connect(&omar).await;
    let newest = MessageRange::parse(None, None, None).unwrap();
    let errors = [
        h.svc.list_messages(&omar, &conv, newest).await.unwrap_err(),
        h.svc.send_message(&omar, &conv, sending("hi", "x")).await.unwrap_err(),
        h.svc.mark_read(&omar, &conv, None).await.unwrap_err(),
        h.svc.conversation_detail(&omar, &conv).await.unwrap_err(),
        h.svc
            .handle_action(
                &omars,
                &omar,
                ClientAction::Typing {
                    conversation_id: conv.clone(),
                },
            )
            .await
            .unwrap_err(),
    ];
    for e in errors {
        assert_eq!(e, Error::NotFound("conversation"));
    }
}

#[tokio::test]
async fn admins_read_every_conversation_but_do_not_post_in_others() {
    let h = ServiceHarness::new().await;
    let (ana, ben, _, dana) = people();
    let conv = h.conversation(&ben, &[&ana]).await;
    h.send(&ana, &conv, "for the team").await;
    let page = h
        .svc
        .list_messages(&dana, &conv, MessageRange::parse(None, None, None).unwrap())
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    let err = h
        .svc
        .send_message(&dana, &conv, sending("hi", "admin-1"))
        .await
        .unwrap_err();
    assert_eq!(err, Error::NotFound("conversation"));
}

#[tokio::test]
async fn history_pages_back_and_catches_up_and_refuses_both_at_once() {
    let h = ServiceHarness::new().await;
    let (ana, ben, _, _) = people();
    let conv = h.conversation(&ben, &[&ana]).await;
    for i in 1..=5 {
        h.send(&ben, &conv, &format!("m{i}")).await;
    }
    let seqs = |items: &[messaging_core::views::MessageView]| items.iter().map(|m| m.seq).collect::<Vec<_>>();
    let page = |before, after, limit| MessageRange::parse(before, after, limit).unwrap();
    let newest = h
        .svc
        .list_messages(&ana, &conv, page(None, None, Some(2)))
        .await
        .unwrap();
    assert_eq!((seqs(&newest.items), newest.has_more), (vec![4, 5], true));
    let older = h
        .svc
        .list_messages(&ana, &conv, page(Some(4), None, Some(10)))
        .await
        .unwrap();
    assert_eq!((seqs(&older.items), older.has_more), (vec![1, 2, 3], false));
    let nothing_before_one = h
        .svc
        .list_messages(&ana, &conv, page(Some(0), None, None))
        .await
        .unwrap();
    assert!(nothing_before_one.items.is_empty());
    let catch_up = h
        .svc
        .list_messages(&ana, &conv, page(None, Some(2), Some(2)))
        .await
        .unwrap();
    assert_eq!((seqs(&catch_up.items), catch_up.has_more), (vec![3, 4], true));
    assert_eq!(
        MessageRange::parse(Some(1), Some(1), None).unwrap_err().field(),
        Some("before")
    );
    assert_eq!(
        MessageRange::parse(None, None, Some(101)).unwrap_err().field(),
        Some("limit")
    );
}

#[tokio::test]
async fn a_410_forgets_the_connection_and_the_users_last_one_takes_them_offline() {
    let h = ServiceHarness::new().await;
    let (ana, ben, _, _) = people();
    let conv = h.conversation(&ben, &[&ana]).await;
    let (anas, bens) = (h.connect(&ana).await, h.connect(&ben).await);
    h.pushes.drop_connection(&bens);
    h.send(&ana, &conv, "still there?").await;
    let ben_id = UserId::parse("u-ben").unwrap();
    let live = h
        .svc
        .ports()
        .registry
        .connections_of(std::slice::from_ref(&ben_id), Timestamp::now())
        .await
        .unwrap();
    assert!(live.is_empty(), "forgotten: {live:?}");
    let left: Vec<_> = h
        .pushes
        .take(&anas)
        .into_iter()
        .filter(|e| e["type"] == "user-left")
        .collect();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["data"]["userId"], "u-ben");
}

#[tokio::test]
async fn a_410_while_the_connection_is_still_opening_keeps_it() {
    let h = ServiceHarness::new().await;
    let (ana, ben, _, _) = people();
    let conv = h.conversation(&ben, &[&ana]).await;
    // Registered by `$connect`, not open yet (no frame): API Gateway answers 410.
    let opening = messaging_core::ids::ConnectionId::parse("T3BlbmluZ0Nvbm4w=").unwrap();
    h.svc.connect(&opening, &ben).await.unwrap();
    h.pushes.drop_connection(&opening);
    h.send(&ana, &conv, "during connect").await;
    let still = h.svc.ports().registry.get_connection(&opening).await.unwrap();
    assert!(still.is_some(), "kept while opening");
}
