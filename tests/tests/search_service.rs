//! Message search at the service level: who finds what, and that edits, deletes and
//! removals show at once (`Messaging` on in-memory SQLite and the in-memory FTS5 index).

use integration_tests::service::{ServiceHarness, person};
use messaging_core::Identity;
use messaging_core::model::Role;
use messaging_core::search::SearchOrder;
use messaging_core::service::{MessageSearch, SearchResultView};
use messaging_core::text::MessageBody;
use messaging_core::views::ListPage;

fn people() -> (Identity, Identity, Identity, Identity) {
    (
        person("u-ana", Role::Client),
        person("u-ben", Role::Team),
        person("u-omar", Role::Client),
        person("u-dana", Role::Admin),
    )
}

fn search(text: &str) -> MessageSearch {
    MessageSearch {
        text: text.into(),
        ..MessageSearch::default()
    }
}

fn bodies(page: &ListPage<SearchResultView>) -> Vec<String> {
    page.items
        .iter()
        .map(|r| r.message.body.clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn members_find_messages_of_their_conversations_only_and_admins_find_all() {
    let h = ServiceHarness::new().await;
    let (ana, ben, omar, dana) = people();
    h.enrol(&[&ana, &ben, &omar, &dana]);
    let ours = h.conversation(&ben, &[&ana]).await;
    let theirs = h.conversation(&ben, &[&omar]).await;
    h.send(&ana, &ours, "The invoice for March is attached").await;
    h.send(&omar, &theirs, "Omar's invoice, private").await;

    let found = h.svc.search_messages(&ana, &search("invoice")).await.unwrap();
    assert_eq!(bodies(&found), ["The invoice for March is attached"]);
    let hit = &found.items[0];
    assert_eq!(hit.conversation_id, ours);
    assert!(!hit.conversation_title.is_empty());
    assert_eq!(hit.message.sender_id, ana.user_id);
    let marked: Vec<&str> = hit
        .snippet
        .iter()
        .filter(|p| p.matched)
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(marked, ["invoice"]);

    // Asking for someone else's conversation is as if it did not exist.
    let mut other = search("invoice");
    other.conversation = Some(theirs.clone());
    let err = h.svc.search_messages(&ana, &other).await.unwrap_err();
    assert_eq!(err.code(), "not_found");

    let all = h.svc.admin_search_messages(&dana, &search("invoice")).await.unwrap();
    assert_eq!(all.items.len(), 2, "an admin searches every conversation");
    let refused = h.svc.admin_search_messages(&ana, &search("invoice")).await.unwrap_err();
    assert_eq!(refused.code(), "forbidden");
}

#[tokio::test]
async fn edits_deletes_and_removals_show_in_the_next_search() {
    let h = ServiceHarness::new().await;
    let (ana, ben, omar, _) = people();
    h.enrol(&[&ana, &ben, &omar]);
    let conv = h.conversation(&ben, &[&ana, &omar]).await;
    let edited = h.send(&ben, &conv, "meet at the harbour at noon").await;
    let deleted = h.send(&ben, &conv, "the harbour code is 4411").await;
    assert_eq!(
        h.svc
            .search_messages(&omar, &search("harbour"))
            .await
            .unwrap()
            .items
            .len(),
        2
    );

    h.svc
        .edit_message(
            &ben,
            &conv,
            &edited.id,
            MessageBody::parse("meet at the station at noon").unwrap(),
        )
        .await
        .unwrap();
    h.svc.delete_message(&ben, &conv, &deleted.id).await.unwrap();
    assert!(
        h.svc
            .search_messages(&omar, &search("harbour"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        h.svc
            .search_messages(&omar, &search("4411"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let station = h.svc.search_messages(&omar, &search("station")).await.unwrap();
    assert_eq!(bodies(&station), ["meet at the station at noon"]);

    // Removed from the conversation: its messages are no longer found.
    h.svc.remove_participant(&ben, &conv, &omar.user_id).await.unwrap();
    assert!(
        h.svc
            .search_messages(&omar, &search("station"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        h.svc
            .search_messages(&ana, &search("station"))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
}

#[tokio::test]
async fn filters_orders_and_pages() {
    let h = ServiceHarness::new().await;
    let (ana, ben, _, _) = people();
    h.enrol(&[&ana, &ben]);
    let conv = h.conversation(&ben, &[&ana]).await;
    for i in 0..25 {
        let who = if i % 2 == 0 { &ana } else { &ben };
        h.send(who, &conv, &format!("status update number {i}")).await;
    }
    h.send(&ana, &conv, "status status status").await;

    let mut q = search("status");
    q.limit = Some(10);
    let mut seen = Vec::new();
    loop {
        let page = h.svc.search_messages(&ana, &q).await.unwrap();
        seen.extend(page.items.iter().map(|r| r.message.seq));
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    let expected: Vec<u64> = (1..=26).rev().collect();
    assert_eq!(seen, expected, "newest first, every page, no repeats");

    let mut mine = search("status");
    mine.sender = Some(ben.user_id.clone());
    mine.limit = Some(50);
    let bens = h.svc.search_messages(&ana, &mine).await.unwrap();
    assert_eq!(bens.items.len(), 12);
    assert!(bens.items.iter().all(|r| r.message.sender_id == ben.user_id));

    let mut best = search("status");
    best.order = Some(SearchOrder::Relevance);
    let ranked = h.svc.search_messages(&ana, &best).await.unwrap();
    assert_eq!(bodies(&ranked)[0], "status status status");

    // A cursor of one order is not a cursor of the other.
    let mut mixed = search("status");
    mixed.limit = Some(5);
    let first = h.svc.search_messages(&ana, &mixed).await.unwrap();
    mixed.cursor = first.next_cursor;
    mixed.order = Some(SearchOrder::Relevance);
    let err = h.svc.search_messages(&ana, &mixed).await.unwrap_err();
    assert_eq!(err.field(), Some("cursor"));

    let mut empty = search("status");
    empty.has_files = Some(true);
    assert!(h.svc.search_messages(&ana, &empty).await.unwrap().items.is_empty());
}

#[tokio::test]
async fn bad_searches_are_refused_naming_the_field() {
    let h = ServiceHarness::new().await;
    let (ana, ben, _, _) = people();
    h.enrol(&[&ana, &ben]);
    h.conversation(&ben, &[&ana]).await;
    let cases: Vec<(MessageSearch, &str)> = vec![
        (search(""), "q"),
        (search("  !!  "), "q"),
        (search(&"x".repeat(201)), "q"),
        (
            MessageSearch {
                limit: Some(0),
                ..search("ok")
            },
            "limit",
        ),
        (
            MessageSearch {
                limit: Some(51),
                ..search("ok")
            },
            "limit",
        ),
        (
            MessageSearch {
                from: messaging_core::time::Timestamp::parse("2026-12-02T00:00:00Z"),
                to: messaging_core::time::Timestamp::parse("2026-12-01T00:00:00Z"),
                ..search("ok")
            },
            "to",
        ),
    ];
    for (q, field) in cases {
        let err = h.svc.search_messages(&ana, &q).await.unwrap_err();
        assert_eq!(err.field(), Some(field), "{q:?}: {err}");
    }
}

#[tokio::test]
async fn an_index_rebuilt_from_the_store_finds_what_the_store_holds() {
    let mut settings = messaging_core::Settings::default();
    let many = messaging_core::limits::Limit::new(1_000, std::time::Duration::from_secs(1));
    settings.limits.set(messaging_core::limits::Action::Send, many);
    let h = ServiceHarness::with(settings).await;
    let (ana, ben, _, _) = people();
    h.enrol(&[&ana, &ben]);
    let first = h.conversation(&ben, &[&ana]).await;
    let second = h.conversation(&ana, &[&ben]).await;
    for i in 0..130 {
        h.send(&ben, &first, &format!("ledger entry {i}")).await;
    }
    h.send(&ana, &second, "ledger summary").await;
    let gone = h.send(&ana, &second, "ledger draft to delete").await;
    h.svc.delete_message(&ana, &second, &gone.id).await.unwrap();

    // The same store beside an empty index, as a data folder from before search.
    let mut ports = h.svc.ports().clone();
    ports.search = std::sync::Arc::new(messaging_search::FtsIndex::in_memory().unwrap());
    let fresh = messaging_core::Messaging::new(ports, messaging_core::Settings::default());
    assert!(
        fresh
            .search_messages(&ana, &search("ledger"))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        fresh.rebuild_search_index().await.unwrap(),
        132,
        "every stored message, the deleted one too"
    );
    let mut all = search("ledger");
    all.limit = Some(50);
    let mut found = 0;
    loop {
        let page = fresh.search_messages(&ana, &all).await.unwrap();
        found += page.items.len();
        assert!(
            page.items
                .iter()
                .all(|r| r.message.body.as_deref() != Some("ledger draft to delete"))
        );
        match page.next_cursor {
            Some(c) => all.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(found, 131, "the deleted message is not indexed");
}
