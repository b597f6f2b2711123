//! The message store conformance suite. Every case runs against every adapter
//! (`tests/tests/store_*.rs`), so the embedded default keeps DynamoDB's semantics.

use std::collections::HashSet;
use std::sync::Arc;

use messaging_core::cursor::Cursor;
use messaging_core::error::StoreError;
use messaging_core::ids::*;
use messaging_core::model::*;
use messaging_core::notify::{NotificationSettings, NotifyLevel, PushSubscription, QuietHours};
use messaging_core::ports::Store;
use messaging_core::text::{MessageBody, Title};
use messaging_core::time::Timestamp;

use crate::services::unique;

fn user(name: &str) -> UserId {
    UserId::parse(name).expect("valid user id")
}

/// A conversation with the given members; its title carries a unique token for searches.
pub async fn conversation_with(store: &Arc<dyn Store>, members: &[&UserId], title: &str) -> Conversation {
    let now = Timestamp::now();
    let c = Conversation {
        id: ConversationId::generate(),
        title: Title::parse(title).expect("title"),
        project_id: Some(ProjectId::parse("proj-1").expect("project")),
        status: ConversationStatus::Open,
        created_by: members[0].clone(),
        created_at: now,
        updated_at: now,
        last_seq: 0,
        last_message: None,
    };
    let participants: Vec<Participant> = members
        .iter()
        .map(|u| Participant {
            conversation_id: c.id.clone(),
            user_id: (*u).clone(),
            role: Role::Client,
            display_name: format!("{u} name"),
            joined_at: now,
            added_by: members[0].clone(),
        })
        .collect();
    store
        .create_conversation(&c, &participants)
        .await
        .expect("create conversation");
    c
}

fn new_message(c: &Conversation, sender: &UserId, client_id: &str, body: &str) -> NewMessage {
    NewMessage {
        id: MessageId::generate(),
        conversation_id: c.id.clone(),
        sender_id: sender.clone(),
        sender_name: format!("{sender} name"),
        body: MessageBody::parse(body).expect("body"),
        client_message_id: ClientMessageId::parse(client_id).expect("client id"),
        created_at: Timestamp::now(),
        files: Vec::new(),
        mentions: Vec::new(),
        reply: None,
    }
}

/// Appends a message with a fresh client id; it must be created.
pub async fn send(store: &Arc<dyn Store>, c: &Conversation, sender: &UserId, body: &str) -> Message {
    match store
        .append_message(new_message(c, sender, &unique("c"), body))
        .await
        .expect("append")
    {
        Appended::Created(m) => m,
        Appended::Existing(_) => panic!("a fresh client id must create a message"),
    }
}

fn pending_file(c: &Conversation, uploader: &UserId) -> FileRecord {
    let id = FileId::generate();
    let now = Timestamp::now();
    FileRecord {
        object_key: format!("attachments/{}/{id}", c.id),
        id,
        conversation_id: c.id.clone(),
        uploader_id: uploader.clone(),
        name: "plan.pdf".into(),
        size: 1234,
        content_type: "application/pdf".into(),
        status: FileStatus::Pending,
        message_id: None,
        created_at: now,
        expires_at: now.plus_millis(3_600_000),
    }
}

pub async fn created_conversation_reads_back(store: Arc<dyn Store>) {
    let (a, b) = (user(&unique("a")), user(&unique("b")));
    let c = conversation_with(&store, &[&a, &b], "Kickoff").await;
    let got = store.get_conversation(&c.id).await.unwrap().expect("stored");
    assert_eq!(got, c);
    assert!(
        store
            .get_conversation(&ConversationId::generate())
            .await
            .unwrap()
            .is_none()
    );
    let both = store
        .get_conversations(&[c.id.clone(), ConversationId::generate()])
        .await
        .unwrap();
    assert_eq!(both, vec![c.clone()]);
    assert!(store.get_conversations(&[]).await.unwrap().is_empty());
}

pub async fn creating_an_existing_conversation_id_fails(store: Arc<dyn Store>) {
    let a = user(&unique("a"));
    let c = conversation_with(&store, &[&a], "Once").await;
    let err = store.create_conversation(&c, &[]).await.unwrap_err();
    assert_eq!(err, StoreError::AlreadyExists);
}

pub async fn participants_are_listed_and_indexed_by_user(store: Arc<dyn Store>) {
    let (a, b, outsider) = (user(&unique("a")), user(&unique("b")), user(&unique("x")));
    let c1 = conversation_with(&store, &[&a, &b], "One").await;
    let c2 = conversation_with(&store, &[&a], "Two").await;
    let listed: HashSet<UserId> = store
        .list_participants(&c1.id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.user_id)
        .collect();
    assert_eq!(listed, HashSet::from([a.clone(), b.clone()]));
    let of_a: HashSet<ConversationId> = store.conversation_ids_of(&a).await.unwrap().into_iter().collect();
    assert_eq!(of_a, HashSet::from([c1.id.clone(), c2.id.clone()]));
    assert_eq!(store.conversation_ids_of(&b).await.unwrap(), vec![c1.id.clone()]);
    assert!(store.conversation_ids_of(&outsider).await.unwrap().is_empty());
    let rows = store.list_participants(&c1.id).await.unwrap();
    let p = rows.iter().find(|p| p.user_id == b).expect("b is in");
    assert_eq!(p.display_name, format!("{b} name"));
    assert!(!rows.iter().any(|p| p.user_id == outsider));
}

pub async fn members_of_many_conversations_come_in_one_call(store: Arc<dyn Store>) {
    let (a, b, d) = (user(&unique("a")), user(&unique("b")), user(&unique("d")));
    // More than one batch (DynamoDB reads 100 keys per request).
    let mut expected = Vec::new();
    for i in 0..105 {
        let members: Vec<&UserId> = if i % 3 == 0 { vec![&a, &b] } else { vec![&a] };
        let c = conversation_with(&store, &members, &format!("Many {i}")).await;
        expected.push((c.id, members.into_iter().cloned().collect::<HashSet<_>>()));
    }
    let emptied = conversation_with(&store, &[&d], "Emptied").await;
    assert!(store.remove_participant(&emptied.id, &d).await.unwrap());
    let mut ask: Vec<ConversationId> = expected.iter().map(|(id, _)| id.clone()).collect();
    ask.push(emptied.id.clone());
    ask.push(ConversationId::generate());
    let got = store.members_of(&ask).await.unwrap();
    assert_eq!(got.len(), 106, "every existing conversation, and only those");
    for (id, members) in &expected {
        let found = got.iter().find(|(c, _)| c == id).expect("listed");
        assert_eq!(&found.1.iter().cloned().collect::<HashSet<_>>(), members);
    }
    let empty = got
        .iter()
        .find(|(c, _)| c == &emptied.id)
        .expect("an emptied conversation is listed");
    assert!(empty.1.is_empty());
    assert!(store.members_of(&[]).await.unwrap().is_empty());
}

pub async fn adding_and_removing_participants(store: Arc<dyn Store>) {
    let (a, b, d) = (user(&unique("a")), user(&unique("b")), user(&unique("d")));
    let c = conversation_with(&store, &[&a, &b], "Team").await;
    let row = |u: &UserId| Participant {
        conversation_id: c.id.clone(),
        user_id: u.clone(),
        role: Role::Team,
        display_name: "New".into(),
        joined_at: Timestamp::now(),
        added_by: a.clone(),
    };
    let added = store.add_participants(&c.id, &[row(&b), row(&d)]).await.unwrap();
    assert_eq!(
        added.iter().map(|p| p.user_id.clone()).collect::<Vec<_>>(),
        vec![d.clone()],
        "b was already in"
    );
    assert_eq!(store.conversation_ids_of(&d).await.unwrap(), vec![c.id.clone()]);
    assert!(store.remove_participant(&c.id, &b).await.unwrap());
    assert!(
        !store.remove_participant(&c.id, &b).await.unwrap(),
        "removing twice reports false"
    );
    let left: HashSet<UserId> = store
        .list_participants(&c.id)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.user_id)
        .collect();
    assert_eq!(left, HashSet::from([a.clone(), d.clone()]));
    let err = store
        .add_participants(&ConversationId::generate(), &[row(&d)])
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::ConversationNotFound);
}

pub async fn appends_get_gapless_seqs_from_one(store: Arc<dyn Store>) {
    let a = user(&unique("a"));
    let c = conversation_with(&store, &[&a], "Seq").await;
    for expected in 1..=5u64 {
        let m = send(&store, &c, &a, &format!("message {expected}")).await;
        assert_eq!(m.seq, expected);
        assert_eq!(m.body.as_deref(), Some(format!("message {expected}").as_str()));
    }
    let conv = store.get_conversation(&c.id).await.unwrap().unwrap();
    assert_eq!(conv.last_seq, 5);
    let preview = conv.last_message.expect("preview");
    assert_eq!(
        (preview.seq, preview.text.as_str(), preview.deleted),
        (5, "message 5", false)
    );
}

pub async fn a_retried_client_message_id_returns_the_original(store: Arc<dyn Store>) {
    let (a, b) = (user(&unique("a")), user(&unique("b")));
    let c = conversation_with(&store, &[&a, &b], "Retry").await;
    let first = store
        .append_message(new_message(&c, &a, "same-id", "hello"))
        .await
        .unwrap();
    let Appended::Created(original) = first else {
        panic!("first send creates")
    };
    let again = store
        .append_message(new_message(&c, &a, "same-id", "hello, edited by the retry"))
        .await
        .unwrap();
    assert_eq!(again, Appended::Existing(original.clone()));
    let found = store
        .find_by_client_id(&c.id, &a, &ClientMessageId::parse("same-id").unwrap())
        .await
        .unwrap();
    assert_eq!(found, Some(original.clone()));
    assert_eq!(
        store
            .find_by_client_id(&c.id, &b, &ClientMessageId::parse("same-id").unwrap())
            .await
            .unwrap(),
        None
    );
    // The same client id from another sender is another message.
    let other = store
        .append_message(new_message(&c, &b, "same-id", "mine"))
        .await
        .unwrap();
    assert!(matches!(other, Appended::Created(ref m) if m.seq == 2));
    assert_eq!(store.get_conversation(&c.id).await.unwrap().unwrap().last_seq, 2);
}

pub async fn concurrent_appends_never_share_or_skip_a_seq(store: Arc<dyn Store>) {
    const SENDERS: usize = 4;
    const EACH: usize = 6;
    let users: Vec<UserId> = (0..SENDERS).map(|i| user(&unique(&format!("u{i}")))).collect();
    let refs: Vec<&UserId> = users.iter().collect();
    let c = conversation_with(&store, &refs, "Race").await;
    let mut tasks = Vec::new();
    for u in users.iter() {
        for i in 0..EACH {
            let store = store.clone();
            let c = c.clone();
            let u = u.clone();
            tasks.push(tokio::spawn(async move {
                send(&store, &c, &u, &format!("{u} #{i}")).await.seq
            }));
        }
    }
    let mut seqs: Vec<u64> = Vec::new();
    for t in tasks {
        seqs.push(t.await.expect("task"));
    }
    seqs.sort_unstable();
    let expected: Vec<u64> = (1..=(SENDERS * EACH) as u64).collect();
    assert_eq!(seqs, expected, "every seq exactly once, none skipped");
    let stored = store
        .list_messages(&c.id, MessageRange::After { seq: 0, limit: 100 })
        .await
        .unwrap();
    assert_eq!(stored.iter().map(|m| m.seq).collect::<Vec<_>>(), expected);
    assert_eq!(
        store.get_conversation(&c.id).await.unwrap().unwrap().last_seq,
        (SENDERS * EACH) as u64
    );
}

pub async fn concurrent_retries_of_one_client_id_store_one_message(store: Arc<dyn Store>) {
    let a = user(&unique("a"));
    let c = conversation_with(&store, &[&a], "Retry race").await;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let m = new_message(&c, &a, "retried-id", "only once");
        tasks.push(tokio::spawn(
            async move { store.append_message(m).await.expect("append") },
        ));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.expect("task"));
    }
    let created = outcomes.iter().filter(|o| matches!(o, Appended::Created(_))).count();
    assert_eq!(created, 1, "exactly one try creates");
    let ids: HashSet<MessageId> = outcomes.iter().map(|o| o.message().id.clone()).collect();
    assert_eq!(ids.len(), 1, "all tries return the same message");
    let stored = store
        .list_messages(&c.id, MessageRange::Latest { limit: 10 })
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(store.get_conversation(&c.id).await.unwrap().unwrap().last_seq, 1);
}

pub async fn closed_and_unknown_conversations_refuse_messages(store: Arc<dyn Store>) {
    let a = user(&unique("a"));
    let c = conversation_with(&store, &[&a], "Closing").await;
    send(&store, &c, &a, "before").await;
    store
        .set_status(&c.id, ConversationStatus::Closed, Timestamp::now())
        .await
        .unwrap();
    let err = store
        .append_message(new_message(&c, &a, &unique("c"), "after"))
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::ConversationClosed);
    assert_eq!(
        store.get_conversation(&c.id).await.unwrap().unwrap().last_seq,
        1,
        "nothing written"
    );
    let mut ghost = c.clone();
    ghost.id = ConversationId::generate();
    let err = store
        .append_message(new_message(&ghost, &a, &unique("c"), "x"))
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::ConversationNotFound);
    // Archived conversations still take messages.
    store
        .set_status(&c.id, ConversationStatus::Archived, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(send(&store, &c, &a, "archived but open to talk").await.seq, 2);
}

pub async fn sending_advances_the_senders_watermark(store: Arc<dyn Store>) {
    let (a, b) = (user(&unique("a")), user(&unique("b")));
    let c = conversation_with(&store, &[&a, &b], "Marks").await;
    send(&store, &c, &a, "one").await;
    send(&store, &c, &b, "two").await;
    let receipts = store.list_receipts(&c.id).await.unwrap();
    let of = |u: &UserId| receipts.iter().find(|r| &r.user_id == u).map(|r| r.last_read_seq);
    assert_eq!(of(&a), Some(1));
    assert_eq!(of(&b), Some(2));
}

pub async fn history_pages_backwards_and_catches_up(store: Arc<dyn Store>) {
    let a = user(&unique("a"));
    let c = conversation_with(&store, &[&a], "History").await;
    for i in 1..=12 {
        send(&store, &c, &a, &format!("m{i}")).await;
    }
    let seqs = |ms: Vec<Message>| ms.into_iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(
            store
                .list_messages(&c.id, MessageRange::Latest { limit: 5 })
                .await
                .unwrap()
        ),
        vec![8, 9, 10, 11, 12]
    );
    assert_eq!(
        seqs(
            store
                .list_messages(&c.id, MessageRange::Before { seq: 8, limit: 5 })
                .await
                .unwrap()
        ),
        vec![3, 4, 5, 6, 7]
    );
    assert_eq!(
        seqs(
            store
                .list_messages(&c.id, MessageRange::Before { seq: 3, limit: 5 })
                .await
                .unwrap()
        ),
        vec![1, 2]
    );
    assert_eq!(
        seqs(
            store
                .list_messages(&c.id, MessageRange::After { seq: 9, limit: 5 })
                .await
                .unwrap()
        ),
        vec![10, 11, 12]
    );
    assert_eq!(
        seqs(
            store
                .list_messages(&c.id, MessageRange::After { seq: 0, limit: 3 })
                .await
                .unwrap()
        ),
        vec![1, 2, 3]
    );
    assert!(
        store
            .list_messages(&c.id, MessageRange::After { seq: 12, limit: 5 })
            .await
            .unwrap()
            .is_empty()
    );
    let other = ConversationId::generate();
    assert!(
        store
            .list_messages(&other, MessageRange::Latest { limit: 5 })
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn messages_are_found_by_id_within_their_conversation(store: Arc<dyn Store>) {
    let a = user(&unique("a"));
    let c = conversation_with(&store, &[&a], "Lookup").await;
    let d = conversation_with(&store, &[&a], "Other").await;
    let m = send(&store, &c, &a, "find me").await;
    assert_eq!(store.get_message(&c.id, &m.id).await.unwrap(), Some(m.clone()));
    assert_eq!(
        store.get_message(&d.id, &m.id).await.unwrap(),
        None,
        "not through another conversation"
    );
    assert_eq!(store.get_message(&c.id, &MessageId::generate()).await.unwrap(), None);
}

pub async fn edits_keep_the_previous_body_in_the_audit_trail(store: Arc<dyn Store>) {
    let a = user(&unique("a"));
    let c = conversation_with(&store, &[&a], "Edits").await;
    let m = send(&store, &c, &a, "first draft").await;
    let at = Timestamp::now();
    let edited = store
        .edit_message(&c.id, &m.id, &MessageBody::parse("second draft").unwrap(), &a, at)
        .await
        .unwrap();
    assert_eq!(edited.body.as_deref(), Some("second draft"));
    assert_eq!(edited.edited_at, Some(at));
    assert_eq!(edited.edit_count, 1);
    assert_eq!(edited.revisions.len(), 1);
    assert_eq!(edited.revisions[0].body, "first draft");
    assert_eq!(edited.revisions[0].kind, RevisionKind::Edited);
    assert_eq!(store.get_message(&c.id, &m.id).await.unwrap(), Some(edited.clone()));
    let preview = store
        .get_conversation(&c.id)
        .await
        .unwrap()
        .unwrap()
        .last_message
        .unwrap();
    assert_eq!(
        preview.text, "second draft",
        "the preview follows an edit of the newest message"
    );
}

pub async fn an_edit_of_an_older_message_leaves_the_preview(store: Arc<dyn Store>) {
    let a = user(&unique("a"));
    let c = conversation_with(&store, &[&a], "Preview").await;
    let old = send(&store, &c, &a, "old").await;
    send(&store, &c, &a, "newest").await;
    store
        .edit_message(
            &c.id,
            &old.id,
            &MessageBody::parse("old, edited").unwrap(),
            &a,
            Timestamp::now(),
        )
        .await
        .unwrap();
    let preview = store
        .get_conversation(&c.id)
        .await
        .unwrap()
        .unwrap()
        .last_message
        .unwrap();
    assert_eq!((preview.seq, preview.text.as_str()), (2, "newest"));
}

pub async fn edits_stop_at_the_limit(store: Arc<dyn Store>) {
    let a = user(&unique("a"));
    let c = conversation_with(&store, &[&a], "Limit").await;
    let m = send(&store, &c, &a, "v0").await;
    for i in 1..=MAX_EDITS {
        store
            .edit_message(
                &c.id,
                &m.id,
                &MessageBody::parse(&format!("v{i}")).unwrap(),
                &a,
                Timestamp::now(),
            )
            .await
            .unwrap();
    }
    let err = store
        .edit_message(
            &c.id,
            &m.id,
            &MessageBody::parse("one too many").unwrap(),
            &a,
            Timestamp::now(),
        )
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::EditLimitReached(MAX_EDITS));
    let stored = store.get_message(&c.id, &m.id).await.unwrap().unwrap();
    assert_eq!(stored.body.as_deref(), Some(format!("v{MAX_EDITS}").as_str()));
    assert_eq!(stored.revisions.len(), MAX_EDITS as usize);
}

pub async fn deleting_leaves_a_tombstone_and_the_audit_keeps_the_body(store: Arc<dyn Store>) {
    let (a, admin) = (user(&unique("a")), user(&unique("admin")));
    let c = conversation_with(&store, &[&a], "Delete").await;
    let m = send(&store, &c, &a, "regrettable").await;
    let at = Timestamp::now();
    let deleted = store.delete_message(&c.id, &m.id, &admin, at).await.unwrap();
    assert_eq!(deleted.body, None);
    assert_eq!(deleted.deleted_at, Some(at));
    assert_eq!(deleted.deleted_by, Some(admin.clone()));
    assert_eq!(
        deleted.revisions.last().map(|r| (r.body.as_str(), r.kind)),
        Some(("regrettable", RevisionKind::Deleted))
    );
    let listed = store
        .list_messages(&c.id, MessageRange::Latest { limit: 5 })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "the tombstone keeps its place in the history");
    assert_eq!(listed[0].body, None);
    let preview = store
        .get_conversation(&c.id)
        .await
        .unwrap()
        .unwrap()
        .last_message
        .unwrap();
    assert!(
        preview.deleted && preview.text.is_empty(),
        "the preview no longer shows the body"
    );
    // Deleting again returns the tombstone unchanged; editing it is refused.
    let again = store.delete_message(&c.id, &m.id, &a, Timestamp::now()).await.unwrap();
    assert_eq!(again, deleted);
    let err = store
        .edit_message(&c.id, &m.id, &MessageBody::parse("undo").unwrap(), &a, Timestamp::now())
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::MessageDeleted);
    let err = store
        .delete_message(&c.id, &MessageId::generate(), &a, Timestamp::now())
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::MessageNotFound);
}

pub async fn read_watermarks_only_move_forward(store: Arc<dyn Store>) {
    let (a, b) = (user(&unique("a")), user(&unique("b")));
    let c = conversation_with(&store, &[&a, &b], "Reads").await;
    for i in 0..5 {
        send(&store, &c, &a, &format!("m{i}")).await;
    }
    let r = store.mark_read(&c.id, &b, 3, Timestamp::now()).await.unwrap();
    assert_eq!(r.last_read_seq, 3);
    let r = store.mark_read(&c.id, &b, 2, Timestamp::now()).await.unwrap();
    assert_eq!(r.last_read_seq, 3, "never backwards");
    let r = store.mark_read(&c.id, &b, 5, Timestamp::now()).await.unwrap();
    assert_eq!(r.last_read_seq, 5);
    let d = conversation_with(&store, &[&b], "Unread").await;
    let mine = store.receipts_of(&b, &[c.id.clone(), d.id.clone()]).await.unwrap();
    assert_eq!(mine.len(), 1, "no receipt where nothing was read");
    assert_eq!(
        (mine[0].conversation_id.clone(), mine[0].last_read_seq),
        (c.id.clone(), 5)
    );
}

pub async fn a_members_settings_live_beside_the_watermark_without_moving_it(store: Arc<dyn Store>) {
    let (a, b) = (user(&unique("a")), user(&unique("b")));
    let c = conversation_with(&store, &[&a, &b], "Settings").await;
    let quiet = Preferences {
        muted: true,
        hidden_through: None,
        notify: Some(NotifyLevel::Mentions),
        email_off: false,
    };
    // Before b read anything: a receipt at watermark 0 holds the settings.
    let r = store.set_preferences(&c.id, &b, quiet, Timestamp::now()).await.unwrap();
    assert_eq!((r.last_read_seq, r.preferences), (0, quiet));
    for i in 0..3 {
        send(&store, &c, &a, &format!("m{i}")).await;
    }
    let r = store.mark_read(&c.id, &b, 2, Timestamp::now()).await.unwrap();
    assert_eq!(
        (r.last_read_seq, r.preferences),
        (2, quiet),
        "reading keeps the settings"
    );
    let hidden = Preferences {
        muted: true,
        hidden_through: Some(3),
        notify: None,
        email_off: true,
    };
    let r = store
        .set_preferences(&c.id, &b, hidden, Timestamp::now())
        .await
        .unwrap();
    assert_eq!(
        (r.last_read_seq, r.preferences),
        (2, hidden),
        "settings keep the watermark"
    );
    send(&store, &c, &b, "mine").await;
    let mine = store.receipts_of(&b, std::slice::from_ref(&c.id)).await.unwrap();
    assert_eq!(
        (mine[0].last_read_seq, mine[0].preferences),
        (4, hidden),
        "sending keeps them too"
    );
    let all = store.list_receipts(&c.id).await.unwrap();
    let of_a = all.iter().find(|r| r.user_id == a).expect("a sent, so a has a receipt");
    assert_eq!(of_a.preferences, Preferences::default(), "settings are per member");
    let cleared = store
        .set_preferences(&c.id, &b, Preferences::default(), Timestamp::now())
        .await
        .unwrap();
    assert_eq!(
        (cleared.last_read_seq, cleared.preferences),
        (4, Preferences::default())
    );
}

pub async fn mentions_are_stored_with_the_message(store: Arc<dyn Store>) {
    let (a, b) = (user(&unique("a")), user(&unique("b")));
    let c = conversation_with(&store, &[&a, &b], "Mentions").await;
    let mut new = new_message(&c, &a, &unique("c"), "hi @b");
    new.mentions = vec![b.clone()];
    let Appended::Created(stored) = store.append_message(new).await.unwrap() else {
        panic!("a new client id creates a message");
    };
    assert_eq!(stored.mentions, vec![b.clone()]);
    let read = store.get_message(&c.id, &stored.id).await.unwrap().unwrap();
    assert_eq!(read.mentions, vec![b.clone()]);
    let plain = send(&store, &c, &a, "no one").await;
    let page = store
        .list_messages(&c.id, MessageRange::Latest { limit: 10 })
        .await
        .unwrap();
    let mentions: Vec<_> = page.iter().map(|m| (m.seq, m.mentions.clone())).collect();
    assert_eq!(mentions, vec![(stored.seq, vec![b.clone()]), (plain.seq, vec![])]);
}

pub async fn notification_settings_and_push_subscriptions_per_user(store: Arc<dyn Store>) {
    let (a, b, c) = (user(&unique("a")), user(&unique("b")), user(&unique("c")));
    assert!(
        store
            .notification_settings(&[a.clone(), b.clone()])
            .await
            .unwrap()
            .is_empty()
    );
    let mine = NotificationSettings {
        level: NotifyLevel::Mentions,
        push: false,
        email: true,
        email_delay: std::time::Duration::from_secs(300),
        quiet_hours: Some(QuietHours::parse("22:00", "07:00", "Europe/Paris").unwrap()),
    };
    store.put_notification_settings(&a, &mine).await.unwrap();
    store
        .put_notification_settings(&b, &NotificationSettings::default())
        .await
        .unwrap();
    let mut got = store
        .notification_settings(&[a.clone(), b.clone(), c.clone(), a.clone()])
        .await
        .unwrap();
    got.sort_by(|x, y| x.0.cmp(&y.0));
    let mut want = vec![(a.clone(), mine), (b.clone(), NotificationSettings::default())];
    want.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(got, want, "stored ones only, each once");
    let changed = NotificationSettings { push: true, ..mine };
    store.put_notification_settings(&a, &changed).await.unwrap();
    assert_eq!(
        store.notification_settings(std::slice::from_ref(&a)).await.unwrap(),
        vec![(a.clone(), changed)]
    );

    let subscription = |id: &str, at: i64| PushSubscription {
        id: id.into(),
        user_id: a.clone(),
        endpoint: format!("https://push.example.com/{id}"),
        p256dh: "BPub".into(),
        auth: "auth".into(),
        created_at: Timestamp::from_millis(at),
        user_agent: Some("Firefox".into()),
    };
    store.put_push_subscription(&subscription("s2", 2_000)).await.unwrap();
    store.put_push_subscription(&subscription("s1", 1_000)).await.unwrap();
    let ids = |subs: Vec<PushSubscription>| subs.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.push_subscriptions(&a).await.unwrap()),
        ["s1", "s2"],
        "oldest first"
    );
    assert!(store.push_subscriptions(&b).await.unwrap().is_empty());
    // The same browser subscribing again replaces its row.
    store.put_push_subscription(&subscription("s1", 3_000)).await.unwrap();
    assert_eq!(ids(store.push_subscriptions(&a).await.unwrap()), ["s2", "s1"]);
    assert_eq!(
        store.push_subscriptions(&a).await.unwrap()[1],
        subscription("s1", 3_000)
    );
    assert!(store.remove_push_subscription(&a, "s2").await.unwrap());
    assert!(!store.remove_push_subscription(&a, "s2").await.unwrap(), "already gone");
    assert!(!store.remove_push_subscription(&b, "s1").await.unwrap(), "not b's");
    assert_eq!(ids(store.push_subscriptions(&a).await.unwrap()), ["s1"]);
    // Settings and subscriptions share the user's rows without mixing.
    assert_eq!(
        store
            .notification_settings(std::slice::from_ref(&a))
            .await
            .unwrap()
            .len(),
        1
    );
}

pub async fn attachments_are_claimed_atomically_with_the_message(store: Arc<dyn Store>) {
    let (a, b) = (user(&unique("a")), user(&unique("b")));
    let c = conversation_with(&store, &[&a, &b], "Files").await;
    let mine = pending_file(&c, &a);
    let theirs = pending_file(&c, &b);
    store.create_files(&[mine.clone(), theirs.clone()]).await.unwrap();
    assert_eq!(
        store.get_files(std::slice::from_ref(&mine.id)).await.unwrap(),
        vec![mine.clone()]
    );

    // Someone else's upload: refused, and nothing is written — not the message, not my file.
    let mut bad = new_message(&c, &a, &unique("c"), "with their file");
    bad.files = vec![mine.meta(), theirs.meta()];
    let err = store.append_message(bad).await.unwrap_err();
    assert_eq!(err, StoreError::FileNotAttachable(theirs.id.to_string()));
    assert_eq!(store.get_conversation(&c.id).await.unwrap().unwrap().last_seq, 0);
    assert_eq!(
        store.get_files(std::slice::from_ref(&mine.id)).await.unwrap()[0].status,
        FileStatus::Pending
    );

    let mut good = new_message(&c, &a, &unique("c"), "with my file");
    good.files = vec![mine.meta()];
    let Appended::Created(m) = store.append_message(good).await.unwrap() else {
        panic!("created")
    };
    assert_eq!(m.files, vec![mine.meta()]);
    let stored = store.get_files(std::slice::from_ref(&mine.id)).await.unwrap().remove(0);
    assert_eq!(
        (stored.status, stored.message_id.clone()),
        (FileStatus::Attached, Some(m.id.clone()))
    );

    // A file can be attached once.
    let mut reuse = new_message(&c, &a, &unique("c"), "again");
    reuse.files = vec![mine.meta()];
    assert_eq!(
        store.append_message(reuse).await.unwrap_err(),
        StoreError::FileNotAttachable(mine.id.to_string())
    );
    // Not from another conversation either.
    let other = conversation_with(&store, &[&a], "Elsewhere").await;
    let elsewhere = pending_file(&other, &a);
    store.create_files(std::slice::from_ref(&elsewhere)).await.unwrap();
    let mut cross = new_message(&c, &a, &unique("c"), "cross");
    cross.files = vec![elsewhere.meta()];
    assert_eq!(
        store.append_message(cross).await.unwrap_err(),
        StoreError::FileNotAttachable(elsewhere.id.to_string())
    );
}

pub async fn reports_are_unique_per_reporter_and_resolve_once(store: Arc<dyn Store>) {
    let (a, b, admin) = (user(&unique("a")), user(&unique("b")), user(&unique("admin")));
    let c = conversation_with(&store, &[&a, &b], "Reports").await;
    let m = send(&store, &c, &a, "offending").await;
    let report = Report {
        id: ReportId::generate(),
        conversation_id: c.id.clone(),
        message_id: m.id.clone(),
        message_seq: m.seq,
        reporter_id: b.clone(),
        reason: "rude".into(),
        status: ReportStatus::Open,
        created_at: Timestamp::now(),
        resolved_by: None,
        resolved_at: None,
        resolution_note: None,
    };
    store.create_report(&report).await.unwrap();
    let mut dup = report.clone();
    dup.id = ReportId::generate();
    assert_eq!(store.create_report(&dup).await.unwrap_err(), StoreError::AlreadyExists);
    assert_eq!(store.get_report(&report.id).await.unwrap(), Some(report.clone()));

    let at = Timestamp::now();
    let resolved = store
        .resolve_report(&report.id, ReportStatus::Dismissed, &admin, at, Some("fine"))
        .await
        .unwrap();
    assert_eq!(resolved.status, ReportStatus::Dismissed);
    assert_eq!(resolved.resolved_by, Some(admin.clone()));
    assert_eq!(resolved.resolved_at, Some(at));
    assert_eq!(resolved.resolution_note.as_deref(), Some("fine"));
    let err = store
        .resolve_report(&report.id, ReportStatus::Actioned, &admin, at, None)
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::ReportAlreadyResolved);
    let err = store
        .resolve_report(&ReportId::generate(), ReportStatus::Actioned, &admin, at, None)
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::ReportNotFound);
}

pub async fn the_reports_queue_pages_newest_first_by_status(store: Arc<dyn Store>) {
    let (a, b) = (user(&unique("a")), user(&unique("b")));
    let c = conversation_with(&store, &[&a, &b], "Queue").await;
    let mut mine = Vec::new();
    for i in 0..5 {
        let m = send(&store, &c, &a, &format!("m{i}")).await;
        let r = Report {
            id: ReportId::generate(),
            conversation_id: c.id.clone(),
            message_id: m.id.clone(),
            message_seq: m.seq,
            reporter_id: b.clone(),
            reason: format!("reason {i}"),
            status: ReportStatus::Open,
            created_at: Timestamp::now(),
            resolved_by: None,
            resolved_at: None,
            resolution_note: None,
        };
        store.create_report(&r).await.unwrap();
        mine.push(r.id);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    store
        .resolve_report(&mine[0], ReportStatus::Actioned, &a, Timestamp::now(), None)
        .await
        .unwrap();

    // Walk the open queue with small pages; other tests' reports may interleave.
    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    loop {
        let page = store
            .list_reports(Some(ReportStatus::Open), cursor.as_ref(), 2)
            .await
            .unwrap();
        assert!(page.items.iter().all(|r| r.status == ReportStatus::Open));
        seen.extend(page.items.into_iter().map(|r| r.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let ours: Vec<ReportId> = seen.iter().filter(|id| mine.contains(id)).cloned().collect();
    let expected: Vec<ReportId> = mine[1..].iter().rev().cloned().collect();
    assert_eq!(ours, expected, "each open report once, newest first");
    let unique_seen: HashSet<&ReportId> = seen.iter().collect();
    assert_eq!(unique_seen.len(), seen.len(), "no report twice");

    let all = store.list_reports(None, None, 100).await.unwrap();
    assert!(
        all.items.iter().any(|r| r.id == mine[0]),
        "the unfiltered queue includes resolved reports"
    );
    assert_eq!(
        store
            .list_reports(None, Some(&Cursor::encode(&"garbage")), 5)
            .await
            .unwrap_err(),
        StoreError::InvalidCursor
    );
}

pub async fn admin_search_filters_and_pages(store: Arc<dyn Store>) {
    let (a, b) = (user(&unique("a")), user(&unique("b")));
    let token = unique("zeta");
    let mut ids = Vec::new();
    for i in 0..5 {
        let members: Vec<&UserId> = if i % 2 == 0 { vec![&a, &b] } else { vec![&a] };
        let c = conversation_with(&store, &members, &format!("Project {token} part {i}")).await;
        ids.push(c.id);
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
    store
        .set_status(&ids[1], ConversationStatus::Closed, Timestamp::now())
        .await
        .unwrap();

    let query = |status, participant: Option<UserId>, cursor: Option<Cursor>, limit| ConversationQuery {
        status,
        text: Some(token.clone()),
        participant,
        cursor,
        limit,
    };
    // All five, newest first, in pages of two.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store
            .search_conversations(&query(None, None, cursor.clone(), 2))
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|c| c.id));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let newest_first: Vec<ConversationId> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);

    let closed = store
        .search_conversations(&query(Some(ConversationStatus::Closed), None, None, 10))
        .await
        .unwrap();
    assert_eq!(
        closed.items.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        vec![ids[1].clone()]
    );
    let with_b = store
        .search_conversations(&query(None, Some(b.clone()), None, 10))
        .await
        .unwrap();
    assert_eq!(
        with_b.items.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        vec![ids[4].clone(), ids[2].clone(), ids[0].clone()]
    );
    let none = store
        .search_conversations(&ConversationQuery {
            text: Some(unique("nomatch")),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(none.items.is_empty() && none.next_cursor.is_none());
    let err = store
        .search_conversations(&ConversationQuery {
            cursor: Some(Cursor::encode(&["not", "a", "key"])),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::InvalidCursor);
}

pub async fn status_and_title_changes(store: Arc<dyn Store>) {
    let a = user(&unique("a"));
    let c = conversation_with(&store, &[&a], "Before").await;
    let later = Timestamp::from_millis(c.updated_at.as_millis() + 1000);
    let renamed = store
        .set_title(&c.id, &Title::parse("After").unwrap(), later)
        .await
        .unwrap();
    assert_eq!((renamed.title.as_str(), renamed.updated_at), ("After", later));
    let archived = store
        .set_status(&c.id, ConversationStatus::Archived, later)
        .await
        .unwrap();
    assert_eq!(archived.status, ConversationStatus::Archived);
    assert_eq!(archived.title.as_str(), "After");
    let ghost = ConversationId::generate();
    assert_eq!(
        store
            .set_status(&ghost, ConversationStatus::Closed, later)
            .await
            .unwrap_err(),
        StoreError::ConversationNotFound
    );
    assert_eq!(
        store
            .set_title(&ghost, &Title::parse("x").unwrap(), later)
            .await
            .unwrap_err(),
        StoreError::ConversationNotFound
    );
}

/// Generates one `#[tokio::test]` per case for an adapter. `$fixture` is an async fn
/// returning a [`crate::fixtures::StoreFixture`].
fn emoji(e: &str) -> messaging_core::reactions::Emoji {
    messaging_core::reactions::Emoji::parse(e).expect("emoji")
}

/// (emoji, users) as stored.
fn reactions_of(m: &Message) -> Vec<(String, Vec<UserId>)> {
    m.reactions
        .iter()
        .map(|r| (r.emoji.clone(), r.user_ids.clone()))
        .collect()
}

pub async fn reactions_add_once_remove_and_read_back(store: Arc<dyn Store>) {
    let (a, b) = (user(&unique("a")), user(&unique("b")));
    let c = conversation_with(&store, &[&a, &b], "Reactions").await;
    let m = send(&store, &c, &a, "Shipped!").await;
    let fire = emoji("🔥");
    let after = store.react(&c.id, m.seq, fire, &b, true).await.unwrap();
    assert_eq!(reactions_of(&after), [("🔥".to_owned(), vec![b.clone()])]);
    // Again (a retry, a double click): nothing changes.
    let again = store.react(&c.id, m.seq, fire, &b, true).await.unwrap();
    assert_eq!(reactions_of(&again), reactions_of(&after));
    store.react(&c.id, m.seq, fire, &a, true).await.unwrap();
    let both = store.react(&c.id, m.seq, emoji("👍"), &a, true).await.unwrap();
    let mut fired = vec![a.clone(), b.clone()];
    fired.sort();
    assert_eq!(
        reactions_of(&both),
        [("👍".to_owned(), vec![a.clone()]), ("🔥".to_owned(), fired)],
        "vocabulary order, users sorted"
    );
    // Taken away, and taken away again.
    store.react(&c.id, m.seq, fire, &b, false).await.unwrap();
    let gone = store.react(&c.id, m.seq, fire, &b, false).await.unwrap();
    assert_eq!(
        reactions_of(&gone),
        [("👍".to_owned(), vec![a.clone()]), ("🔥".to_owned(), vec![a.clone()])]
    );
    store.react(&c.id, m.seq, emoji("👍"), &a, false).await.unwrap();
    // Reads show the same; an edit keeps them.
    let read = store.get_message(&c.id, &m.id).await.unwrap().unwrap();
    assert_eq!(reactions_of(&read), [("🔥".to_owned(), vec![a.clone()])]);
    let edited = store
        .edit_message(
            &c.id,
            &m.id,
            &MessageBody::parse("Shipped, v2").unwrap(),
            &a,
            Timestamp::now(),
        )
        .await
        .unwrap();
    assert_eq!(reactions_of(&edited), [("🔥".to_owned(), vec![a.clone()])]);
    let listed = store
        .list_messages(&c.id, MessageRange::After { seq: 0, limit: 10 })
        .await
        .unwrap();
    assert_eq!(reactions_of(&listed[0]), [("🔥".to_owned(), vec![a.clone()])]);
    // A tombstone takes none; an unknown message is not found.
    store.delete_message(&c.id, &m.id, &a, Timestamp::now()).await.unwrap();
    assert_eq!(
        store.react(&c.id, m.seq, fire, &b, true).await.unwrap_err(),
        StoreError::MessageDeleted
    );
    assert_eq!(
        store.react(&c.id, m.seq + 100, fire, &b, true).await.unwrap_err(),
        StoreError::MessageNotFound
    );
}

/// Twenty people react at once (and some change their minds at once): every reaction
/// counts exactly once.
pub async fn concurrent_reactions_count_exactly(store: Arc<dyn Store>) {
    const PEOPLE: usize = 20;
    let people: Vec<UserId> = (0..PEOPLE).map(|i| user(&unique(&format!("r{i}")))).collect();
    let refs: Vec<&UserId> = people.iter().collect();
    let c = conversation_with(&store, &refs, "Crowd").await;
    let m = send(&store, &c, &people[0], "Vote with a reaction").await;
    let react = |who: UserId, e: &'static str, add: bool| {
        let (store, c) = (store.clone(), c.id.clone());
        tokio::spawn(async move { store.react(&c, m.seq, emoji(e), &who, add).await.expect("react") })
    };
    // Everyone 👍 and 🎉 at the same time.
    let tasks: Vec<_> = people
        .iter()
        .flat_map(|p| [react(p.clone(), "👍", true), react(p.clone(), "🎉", true)])
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    // Half take their 🎉 back while the other half add 🚀, all at once.
    let tasks: Vec<_> = people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i % 2 == 0 {
                react(p.clone(), "🎉", false)
            } else {
                react(p.clone(), "🚀", true)
            }
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    let stored = store.get_message(&c.id, &m.id).await.unwrap().unwrap();
    let count = |e: &str| stored.reactions.iter().find(|r| r.emoji == e).map(|r| r.user_ids.len());
    assert_eq!(count("👍"), Some(PEOPLE));
    assert_eq!(count("🎉"), Some(PEOPLE / 2));
    assert_eq!(count("🚀"), Some(PEOPLE / 2));
    let mut all: Vec<UserId> = people.clone();
    all.sort();
    let up = stored.reactions.iter().find(|r| r.emoji == "👍").unwrap();
    assert_eq!(up.user_ids, all, "exactly these people, each once");
    assert_eq!(messaging_core::reactions::total(&stored.reactions), 2 * PEOPLE);
}

/// A message holds at most `MAX_PER_MESSAGE` reactions; taking one away makes room.
pub async fn a_message_holds_a_bounded_number_of_reactions(store: Arc<dyn Store>) {
    use messaging_core::reactions::{Emoji, MAX_PER_MESSAGE, VOCABULARY};
    let people: Vec<UserId> = (0..MAX_PER_MESSAGE.div_ceil(VOCABULARY.len()))
        .map(|i| user(&unique(&format!("m{i}"))))
        .collect();
    let c = conversation_with(&store, &[&people[0]], "Full").await;
    let m = send(&store, &c, &people[0], "React to me").await;
    let mut added = 0;
    'fill: for p in &people {
        for e in Emoji::all() {
            if added == MAX_PER_MESSAGE {
                break 'fill;
            }
            store.react(&c.id, m.seq, e, p, true).await.expect("room left");
            added += 1;
        }
    }
    // Someone who has not reacted yet is refused; adding what is there is still fine;
    // taking one away makes room.
    let (newcomer, first) = (user(&unique("newcomer")), Emoji::all().next().unwrap());
    let refused = store.react(&c.id, m.seq, first, &newcomer, true).await;
    assert!(
        matches!(refused, Err(StoreError::LimitReached { limit, .. }) if limit == MAX_PER_MESSAGE),
        "{refused:?}"
    );
    store
        .react(&c.id, m.seq, first, &people[0], true)
        .await
        .expect("already there");
    store.react(&c.id, m.seq, first, &people[0], false).await.unwrap();
    let after = store
        .react(&c.id, m.seq, first, &newcomer, true)
        .await
        .expect("room again");
    assert_eq!(messaging_core::reactions::total(&after.reactions), MAX_PER_MESSAGE);
}

pub async fn pins_are_a_bounded_set_of_seqs_and_messages_read_back_by_seq(store: Arc<dyn Store>) {
    use messaging_core::ports::MAX_PINS;
    let a = user(&unique("a"));
    let c = conversation_with(&store, &[&a], "Pins").await;
    let m1 = send(&store, &c, &a, "first").await;
    let m2 = send(&store, &c, &a, "second").await;
    let m3 = send(&store, &c, &a, "third").await;
    assert_eq!(store.pinned(&c.id).await.unwrap(), Vec::<u64>::new());
    assert_eq!(store.set_pinned(&c.id, m3.seq, true).await.unwrap(), [m3.seq]);
    assert_eq!(
        store.set_pinned(&c.id, m1.seq, true).await.unwrap(),
        [m1.seq, m3.seq],
        "ascending"
    );
    assert_eq!(
        store.set_pinned(&c.id, m1.seq, true).await.unwrap(),
        [m1.seq, m3.seq],
        "again: no change"
    );
    assert_eq!(store.set_pinned(&c.id, m3.seq, false).await.unwrap(), [m1.seq]);
    assert_eq!(
        store.set_pinned(&c.id, m3.seq, false).await.unwrap(),
        [m1.seq],
        "again: no change"
    );
    assert_eq!(store.set_pinned(&c.id, m1.seq, false).await.unwrap(), Vec::<u64>::new());
    assert_eq!(store.pinned(&c.id).await.unwrap(), Vec::<u64>::new());
    let unknown = ConversationId::generate();
    assert_eq!(
        store.pinned(&unknown).await.unwrap_err(),
        StoreError::ConversationNotFound
    );
    assert!(store.set_pinned(&unknown, 1, true).await.is_err());

    // Messages by seq: those that exist, ascending, whatever the order asked.
    let read = store.messages_at(&c.id, &[m3.seq, 999, m1.seq]).await.unwrap();
    assert_eq!(
        read.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        [m1.id.clone(), m3.id.clone()]
    );
    assert_eq!(read[1].body.as_deref(), Some("third"));
    assert!(store.messages_at(&c.id, &[]).await.unwrap().is_empty());
    let _ = m2;

    // At most MAX_PINS: the next one is refused until one is unpinned (seqs need no message
    // here: the service checks the message, the store keeps the set).
    for seq in 1..=MAX_PINS as u64 {
        store.set_pinned(&c.id, 1000 + seq, true).await.expect("room");
    }
    let full = store.set_pinned(&c.id, 5000, true).await;
    assert!(
        matches!(full, Err(StoreError::LimitReached { limit, .. }) if limit == MAX_PINS),
        "{full:?}"
    );
    store
        .set_pinned(&c.id, 1001, true)
        .await
        .expect("pinned already: still fine when full");
    store.set_pinned(&c.id, 1001, false).await.unwrap();
    assert_eq!(store.set_pinned(&c.id, 5000, true).await.unwrap().len(), MAX_PINS);
}

/// A reply to `to` (whose thread root is `root`).
async fn reply(
    store: &Arc<dyn Store>,
    c: &Conversation,
    sender: &UserId,
    body: &str,
    to: &Message,
    client: &str,
) -> Appended {
    let mut new = new_message(c, sender, client, body);
    new.reply = Some(Reply::to(to));
    store.append_message(new).await.expect("append reply")
}

pub async fn replies_count_on_their_root_and_list_by_thread(store: Arc<dyn Store>) {
    let (a, b) = (user(&unique("a")), user(&unique("b")));
    let c = conversation_with(&store, &[&a, &b], "Threads").await;
    let root = send(&store, &c, &a, "Which venue?").await;
    let other = send(&store, &c, &b, "Unrelated").await;
    let Appended::Created(r1) = reply(&store, &c, &b, "The harbour one", &root, "r1").await else {
        panic!("created")
    };
    assert_eq!(
        r1.reply,
        Some(Reply {
            to: root.seq,
            root: root.seq
        })
    );
    // A reply to a reply is in the root's thread, quoting the reply.
    let Appended::Created(r2) = reply(&store, &c, &a, "Agreed", &r1, "r2").await else {
        panic!("created")
    };
    assert_eq!(
        r2.reply,
        Some(Reply {
            to: r1.seq,
            root: root.seq
        })
    );
    // A retried reply stores nothing and counts nothing.
    assert!(matches!(
        reply(&store, &c, &b, "The harbour one", &root, "r1").await,
        Appended::Existing(_)
    ));
    let stored = store.get_message(&c.id, &root.id).await.unwrap().unwrap();
    assert_eq!(stored.reply_count, 2, "every reply of the thread, once");
    assert_eq!(
        store.get_message(&c.id, &other.id).await.unwrap().unwrap().reply_count,
        0
    );
    // Replies are in the main timeline, gapless.
    let timeline = store
        .list_messages(&c.id, MessageRange::After { seq: 0, limit: 10 })
        .await
        .unwrap();
    assert_eq!(timeline.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(timeline[3].reply, r2.reply);

    // The thread, ascending, paged by `after`. (The DynamoDB index is eventually
    // consistent: moto and DynamoDB Local answer at once, AWS within milliseconds.)
    let thread = store.list_thread(&c.id, root.seq, 0, 10).await.unwrap();
    assert_eq!(
        thread.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
        [r1.id.clone(), r2.id.clone()]
    );
    assert_eq!(thread[1].body.as_deref(), Some("Agreed"));
    let first = store.list_thread(&c.id, root.seq, 0, 1).await.unwrap();
    assert_eq!(first.len(), 1);
    let rest = store.list_thread(&c.id, root.seq, first[0].seq, 10).await.unwrap();
    assert_eq!(rest.iter().map(|m| m.seq).collect::<Vec<_>>(), [r2.seq]);
    assert!(store.list_thread(&c.id, other.seq, 0, 10).await.unwrap().is_empty());

    // A reply whose root is not there writes nothing and takes no seq.
    let mut orphan = new_message(&c, &a, "orphan", "Lost");
    orphan.reply = Some(Reply { to: 99, root: 99 });
    assert_eq!(
        store.append_message(orphan).await.unwrap_err(),
        StoreError::MessageNotFound
    );
    assert_eq!(store.get_conversation(&c.id).await.unwrap().unwrap().last_seq, 4);
    assert_eq!(send(&store, &c, &a, "next").await.seq, 5, "the seq stays gapless");
}

#[macro_export]
macro_rules! store_conformance_tests {
    ($fixture:path) => {
        $crate::store_conformance_tests!(@cases $fixture;
            created_conversation_reads_back,
            creating_an_existing_conversation_id_fails,
            participants_are_listed_and_indexed_by_user,
            members_of_many_conversations_come_in_one_call,
            adding_and_removing_participants,
            appends_get_gapless_seqs_from_one,
            a_retried_client_message_id_returns_the_original,
            concurrent_appends_never_share_or_skip_a_seq,
            concurrent_retries_of_one_client_id_store_one_message,
            closed_and_unknown_conversations_refuse_messages,
            sending_advances_the_senders_watermark,
            history_pages_backwards_and_catches_up,
            messages_are_found_by_id_within_their_conversation,
            edits_keep_the_previous_body_in_the_audit_trail,
            an_edit_of_an_older_message_leaves_the_preview,
            edits_stop_at_the_limit,
            deleting_leaves_a_tombstone_and_the_audit_keeps_the_body,
            read_watermarks_only_move_forward,
            a_members_settings_live_beside_the_watermark_without_moving_it,
            mentions_are_stored_with_the_message,
            notification_settings_and_push_subscriptions_per_user,
            attachments_are_claimed_atomically_with_the_message,
            reports_are_unique_per_reporter_and_resolve_once,
            the_reports_queue_pages_newest_first_by_status,
            admin_search_filters_and_pages,
            status_and_title_changes,
            reactions_add_once_remove_and_read_back,
            concurrent_reactions_count_exactly,
            a_message_holds_a_bounded_number_of_reactions,
            pins_are_a_bounded_set_of_seqs_and_messages_read_back_by_seq,
            replies_count_on_their_root_and_list_by_thread,
        );
    };
    (@cases $fixture:path; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let fixture = $fixture().await;
                $crate::conformance::store::$case(fixture.store.clone()).await;
                if let Some(faults) = &fixture.faults {
                    eprintln!("{}: {}", stringify!($case), faults.summary());
                }
            }
        )+
    };
}
