//! Replies and threads at the service level: a reply quotes its message as it is now,
//! counts on its thread's root, sits in the main timeline (so catching up recovers it),
//! and the thread view lists a thread's replies.

use integration_tests::service::{ServiceHarness, person, sending};
use messaging_core::ids::MessageId;
use messaging_core::model::{MessageRange, Role};
use messaging_core::service::SendMessage;
use messaging_core::text::MessageBody;
use messaging_core::views::MessageView;

fn replying(body: &str, client: &str, to: &MessageId) -> SendMessage {
    SendMessage {
        reply_to: Some(to.clone()),
        ..sending(body, client)
    }
}

#[tokio::test]
async fn a_reply_quotes_counts_on_its_root_and_is_in_the_timeline_and_its_thread() {
    let h = ServiceHarness::new().await;
    let (ana, ben) = (person("u-ana", Role::Client), person("u-ben", Role::Team));
    let conv = h.conversation(&ben, &[&ana]).await;
    let root = h.send(&ana, &conv, "Which venue do we book?").await;
    h.send(&ben, &conv, "Something else").await;
    let anas = h.connect(&ana).await;

    let (r1, created) = h
        .svc
        .send_message(&ben, &conv, replying("The harbour one", "r1", &root.id))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(r1.reply_to_seq, Some(root.seq));
    assert_eq!(r1.thread_root, Some(root.seq));
    let quote = r1.quote.clone().expect("a quote");
    assert_eq!((quote.message_id, quote.seq), (root.id.clone(), root.seq));
    assert_eq!(quote.excerpt, "Which venue do we book?");
    // The push carries the quote too.
    let pushed = h.pushes.take(&anas);
    let new = pushed.iter().find(|e| e["type"] == "new-message").expect("new-message");
    assert_eq!(new["data"]["message"]["quote"]["excerpt"], "Which venue do we book?");
    assert_eq!(new["data"]["message"]["threadRoot"], root.seq);

    // A reply to the reply joins the root's thread.
    let (r2, _) = h
        .svc
        .send_message(&ana, &conv, replying("Agreed, book it", "r2", &r1.id))
        .await
        .unwrap();
    assert_eq!((r2.reply_to_seq, r2.thread_root), (Some(r1.seq), Some(root.seq)));

    // The timeline: gapless, replies included, the root counting its thread.
    let page = h
        .svc
        .list_messages(&ana, &conv, MessageRange::After { seq: 0, limit: 50 })
        .await
        .unwrap();
    assert_eq!(page.items.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3, 4]);
    assert_eq!(page.items[0].reply_count, 2);
    assert_eq!(page.items[3].quote.as_ref().unwrap().excerpt, "The harbour one");
    // Catching up from the middle finds the replies, quotes read from the store.
    let caught = h
        .svc
        .list_messages(&ana, &conv, MessageRange::After { seq: 2, limit: 50 })
        .await
        .unwrap();
    assert_eq!(caught.items.len(), 2);
    assert_eq!(caught.items[0].quote.as_ref().unwrap().seq, root.seq);

    // The thread view, from the root or from any reply.
    for from in [&root.id, &r2.id] {
        let thread = h.svc.thread(&ana, &conv, from, None, None).await.unwrap();
        assert_eq!(thread.root.id, root.id);
        assert_eq!(bodies(&thread.items), ["The harbour one", "Agreed, book it"]);
        assert!(!thread.has_more);
    }
    let first = h.svc.thread(&ana, &conv, &root.id, None, Some(1)).await.unwrap();
    assert!(first.has_more);
    let rest = h
        .svc
        .thread(&ana, &conv, &root.id, Some(first.items[0].seq), None)
        .await
        .unwrap();
    assert_eq!(bodies(&rest.items), ["Agreed, book it"]);

    // Quotes show the quoted message as it is now: edited, then deleted.
    h.svc
        .edit_message(
            &ana,
            &conv,
            &root.id,
            MessageBody::parse("Which venue, harbour or park?").unwrap(),
        )
        .await
        .unwrap();
    let thread = h.svc.thread(&ana, &conv, &root.id, None, None).await.unwrap();
    assert_eq!(
        thread.items[0].quote.as_ref().unwrap().excerpt,
        "Which venue, harbour or park?"
    );
    h.svc.delete_message(&ana, &conv, &root.id).await.unwrap();
    let page = h
        .svc
        .list_messages(&ana, &conv, MessageRange::After { seq: 2, limit: 50 })
        .await
        .unwrap();
    let quote = page.items[0].quote.as_ref().unwrap();
    assert!(quote.deleted);
    assert_eq!(quote.excerpt, "", "a deleted message's words are not quoted");
}

#[tokio::test]
async fn replies_to_deleted_missing_or_foreign_messages_are_refused_and_retries_count_once() {
    let h = ServiceHarness::new().await;
    let (ana, ben) = (person("u-ana", Role::Client), person("u-ben", Role::Team));
    let conv = h.conversation(&ben, &[&ana]).await;
    let other = h.conversation(&ben, &[&ana]).await;
    let root = h.send(&ana, &conv, "Root").await;
    let elsewhere = h.send(&ana, &other, "In the other conversation").await;

    let missing = h
        .svc
        .send_message(&ben, &conv, replying("?", "x1", &MessageId::generate()))
        .await
        .unwrap_err();
    assert_eq!(missing.http_status(), 400);
    let foreign = h
        .svc
        .send_message(&ben, &conv, replying("?", "x2", &elsewhere.id))
        .await
        .unwrap_err();
    assert_eq!(
        foreign.http_status(),
        400,
        "a message of another conversation is not there"
    );

    // Retried: one reply, one count.
    for _ in 0..2 {
        h.svc
            .send_message(&ben, &conv, replying("Once", "same", &root.id))
            .await
            .unwrap();
    }
    let thread = h.svc.thread(&ana, &conv, &root.id, None, None).await.unwrap();
    assert_eq!(thread.root.reply_count, 1);
    assert_eq!(thread.items.len(), 1);

    let gone = h.send(&ana, &conv, "Soon deleted").await;
    h.svc.delete_message(&ana, &conv, &gone.id).await.unwrap();
    let deleted = h
        .svc
        .send_message(&ben, &conv, replying("?", "x3", &gone.id))
        .await
        .unwrap_err();
    assert_eq!(deleted.http_status(), 409);
    // Nothing of those refusals took a seq.
    let last = h
        .svc
        .list_messages(&ana, &conv, MessageRange::Latest { limit: 1 })
        .await
        .unwrap();
    assert_eq!(last.items[0].seq, 3);
}

fn bodies(items: &[MessageView]) -> Vec<String> {
    items.iter().map(|m| m.body.clone().unwrap_or_default()).collect()
}
