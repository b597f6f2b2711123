//! Reactions at the service level: who may react, what every member hears, what changes
//! nothing, and that the largest message with every reaction still fits one frame.

use integration_tests::service::{ServiceHarness, person};
use messaging_core::Identity;
use messaging_core::events::ServerEvent;
use messaging_core::ids::UserId;
use messaging_core::model::{ConversationStatus, Role};
use messaging_core::reactions::{Emoji, MAX_PER_MESSAGE, Reaction, VOCABULARY};
use messaging_core::views::MessageView;

fn people() -> (Identity, Identity, Identity, Identity) {
    (
        person("u-ana", Role::Client),
        person("u-ben", Role::Team),
        person("u-omar", Role::Client),
        person("u-dana", Role::Admin),
    )
}

fn emoji(e: &str) -> Emoji {
    Emoji::parse(e).unwrap()
}

#[tokio::test]
async fn members_react_and_every_members_devices_hear_the_whole_set() {
    let h = ServiceHarness::new().await;
    let (ana, ben, _, _) = people();
    let conv = h.conversation(&ben, &[&ana]).await;
    let m = h.send(&ana, &conv, "Release is out").await;
    let (anas, bens) = (h.connect(&ana).await, h.connect(&ben).await);

    let view = h.svc.react(&ben, &conv, &m.id, emoji("🎉"), true).await.unwrap();
    assert_eq!(view.reactions.len(), 1);
    assert_eq!(view.reactions[0].user_ids, std::slice::from_ref(&ben.user_id));
    for connection in [&anas, &bens] {
        let events: Vec<_> = h
            .pushes
            .take(connection)
            .into_iter()
            .filter(|e| e["type"] != "user-joined")
            .collect();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["type"], "message-reactions");
        let data = &events[0]["data"];
        assert_eq!(data["messageId"], m.id.as_str());
        assert_eq!(data["seq"], m.seq);
        assert_eq!(data["userId"], "u-ben");
        assert_eq!(data["emoji"], "🎉");
        assert_eq!(data["added"], true);
        assert_eq!(
            data["reactions"],
            serde_json::json!([{ "emoji": "🎉", "userIds": ["u-ben"] }])
        );
    }

    // The same again, or taking away what one has not: nothing changes, nobody is told.
    h.svc.react(&ben, &conv, &m.id, emoji("🎉"), true).await.unwrap();
    h.svc.react(&ana, &conv, &m.id, emoji("👍"), false).await.unwrap();
    assert!(h.pushes.take(&anas).is_empty());

    // Ana adds hers; Ben takes his away: the set is always the whole truth.
    h.svc.react(&ana, &conv, &m.id, emoji("🎉"), true).await.unwrap();
    let after = h.svc.react(&ben, &conv, &m.id, emoji("🎉"), false).await.unwrap();
    assert_eq!(after.reactions[0].user_ids, std::slice::from_ref(&ana.user_id));
    let last = h.pushes.take(&anas).pop().unwrap();
    assert_eq!(last["data"]["added"], false);
    assert_eq!(last["data"]["reactions"][0]["userIds"], serde_json::json!(["u-ana"]));

    // History shows them.
    let page = h
        .svc
        .list_messages(&ana, &conv, messaging_core::model::MessageRange::Latest { limit: 10 })
        .await
        .unwrap();
    assert_eq!(page.items[0].reactions, after.reactions);
}

#[tokio::test]
async fn outsiders_closed_conversations_deleted_messages_and_unknown_emoji_are_refused() {
    let h = ServiceHarness::new().await;
    let (ana, ben, omar, dana) = people();
    h.enrol(&[&omar, &dana]);
    let conv = h.conversation(&ben, &[&ana]).await;
    let m = h.send(&ana, &conv, "Hello").await;

    let outsider = h.svc.react(&omar, &conv, &m.id, emoji("👍"), true).await.unwrap_err();
    assert_eq!(outsider.http_status(), 404, "{outsider}");
    assert!(Emoji::parse("🦀").is_err(), "not in the vocabulary");

    let gone = h.send(&ana, &conv, "Oops").await;
    h.svc.delete_message(&ana, &conv, &gone.id).await.unwrap();
    let deleted = h.svc.react(&ben, &conv, &gone.id, emoji("👍"), true).await.unwrap_err();
    assert_eq!(deleted.http_status(), 409, "{deleted}");

    h.svc
        .admin_set_status(&dana, &conv, ConversationStatus::Closed)
        .await
        .unwrap();
    let closed = h.svc.react(&ben, &conv, &m.id, emoji("👍"), true).await.unwrap_err();
    assert_eq!(closed.http_status(), 409, "{closed}");
}

#[test]
fn the_largest_message_with_every_reaction_and_a_quote_fits_one_frame() {
    // 5,000 four-byte characters and MAX_PER_MESSAGE reactions by people with long ids
    // (Cognito's are 36-character UUIDs).
    let per_emoji = MAX_PER_MESSAGE.div_ceil(VOCABULARY.len());
    let reactions: Vec<Reaction> = VOCABULARY
        .iter()
        .enumerate()
        .map(|(e, emoji)| Reaction {
            emoji: emoji.to_string(),
            user_ids: (0..per_emoji)
                .filter(|i| e * per_emoji + i < MAX_PER_MESSAGE)
                .map(|i| UserId::parse(&format!("{:08x}-0000-4000-8000-{:012x}", e, i)).unwrap())
                .collect(),
        })
        .collect();
    assert_eq!(messaging_core::reactions::total(&reactions), MAX_PER_MESSAGE);
    let message = MessageView {
        id: messaging_core::ids::MessageId::generate(),
        conversation_id: messaging_core::ids::ConversationId::generate(),
        seq: 1_000_000,
        sender_id: UserId::parse("01234567-89ab-4cde-8f01-23456789abcd").unwrap(),
        sender_name: "N".repeat(100),
        body: Some("😀".repeat(5000)),
        client_message_id: "c".repeat(64),
        created_at: messaging_core::time::Timestamp::now(),
        edited_at: Some(messaging_core::time::Timestamp::now()),
        deleted: false,
        deleted_at: None,
        // Five attachments with the longest names (255 characters, two bytes each) and
        // fifty mentions: everything else a message can carry, at its largest.
        files: (0..5)
            .map(|_| messaging_core::model::FileMeta {
                id: messaging_core::ids::FileId::generate(),
                name: "é".repeat(255),
                size: 10 * 1024 * 1024,
                content_type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document".into(),
            })
            .collect(),
        mentions: (0..50)
            .map(|i| UserId::parse(&format!("{i:08x}-1111-4000-8000-000000000000")).unwrap())
            .collect(),
        reactions,
        // A reply, quoting a message with the longest excerpt and sender name.
        reply_to_seq: Some(999_999),
        quote: Some(messaging_core::views::QuoteView {
            message_id: messaging_core::ids::MessageId::generate(),
            seq: 999_999,
            sender_id: UserId::parse("89abcdef-0123-4567-89ab-cdef01234567").unwrap(),
            sender_name: "N".repeat(100),
            excerpt: format!("{}…", "😀".repeat(140)),
            deleted: false,
            file_count: 5,
        }),
        thread_root: Some(999_998),
        reply_count: 0,
    };
    let frame = ServerEvent::MessageUpdated {
        conversation_id: message.conversation_id.clone(),
        message,
    }
    .to_json();
    assert!(frame.len() < 32 * 1024, "frame is {} bytes", frame.len());
}
