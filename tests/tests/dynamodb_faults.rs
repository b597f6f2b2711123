//! What the DynamoDB store does with each answer DynamoDB gives under contention and
//! trouble (and moto never gives), one story per test, through the fault proxy in front
//! of moto (`integration_tests::dynamo_faults`).

use std::sync::Arc;

use integration_tests::conformance::store::{conversation_with, send};
use integration_tests::dynamo_faults::{Fault, FaultPlan, FaultProxy};
use integration_tests::fixtures::dynamo_store_with_faults;
use integration_tests::services::unique;
use messaging_core::error::StoreError;
use messaging_core::ids::*;
use messaging_core::model::*;
use messaging_core::ports::Store;
use messaging_core::text::{MessageBody, Title};
use messaging_core::time::Timestamp;

fn user(name: &str) -> UserId {
    UserId::parse(&unique(name)).expect("user id")
}

async fn faulty(script: Vec<(&'static str, Fault)>) -> (Arc<dyn Store>, FaultProxy) {
    let (store, proxy) = dynamo_store_with_faults(FaultPlan::scripted(script)).await;
    (Arc::new(store), proxy)
}

/// Asserts that every scripted fault was used, so a test cannot pass without them.
fn all_injected(proxy: &FaultProxy) {
    assert_eq!(proxy.pending_script(), 0, "unused faults: {}", proxy.summary());
}

#[tokio::test]
async fn plain_writes_that_meet_a_running_transaction_are_retried() {
    let (store, proxy) = faulty(vec![]).await;
    let (a, b) = (user("a"), user("b"));
    let c = conversation_with(&store, &[&a, &b], "Conflicts").await;
    send(&store, &c, &a, "one").await;
    send(&store, &c, &a, "two").await;
    proxy.arm(vec![("UpdateItem", Fault::TransactionConflict); 3]);
    // The send transaction writes receipts and the conversation: a concurrent mark-read or
    // rename is answered TransactionConflictException by DynamoDB.
    let receipt = store
        .mark_read(&c.id, &b, 2, Timestamp::now())
        .await
        .expect("mark read");
    assert_eq!(receipt.last_read_seq, 2);
    let renamed = store
        .set_title(&c.id, &Title::parse("Renamed").unwrap(), Timestamp::now())
        .await
        .expect("rename");
    assert_eq!(renamed.title.as_str(), "Renamed");
    assert_eq!(proxy.injected("UpdateItem", Fault::TransactionConflict), 3);
    all_injected(&proxy);
}

#[tokio::test]
async fn an_edit_that_collides_with_a_send_is_stored_once() {
    let (store, proxy) = faulty(vec![]).await;
    let a = user("a");
    let c = conversation_with(&store, &[&a], "Edit race").await;
    let m = send(&store, &c, &a, "draft").await;
    proxy.arm(vec![("TransactWriteItems", Fault::CancelledByConflict); 2]);
    // The newest message's edit changes the preview in the same transaction; both of its
    // first tries are cancelled by a conflicting send.
    let edited = store
        .edit_message(
            &c.id,
            &m.id,
            &MessageBody::parse("final").unwrap(),
            &a,
            Timestamp::now(),
        )
        .await
        .expect("edit answers, not 503");
    assert_eq!(edited.body.as_deref(), Some("final"));
    let stored = store.get_message(&c.id, &m.id).await.unwrap().unwrap();
    assert_eq!(
        stored.revisions.len(),
        1,
        "one edit, one revision: {:?}",
        stored.revisions
    );
    let preview = store
        .get_conversation(&c.id)
        .await
        .unwrap()
        .unwrap()
        .last_message
        .unwrap();
    assert_eq!(preview.text, "final", "the preview changed with the edit");
    assert_eq!(proxy.injected("TransactWriteItems", Fault::CancelledByConflict), 2);
    all_injected(&proxy);
}

#[tokio::test]
async fn throttling_inside_a_cancelled_transaction_is_retried() {
    let (store, proxy) = faulty(vec![]).await;
    let a = user("a");
    let c = conversation_with(&store, &[&a], "Throttled").await;
    proxy.arm(vec![("TransactWriteItems", Fault::CancelledByThrottling); 3]);
    let m = send(&store, &c, &a, "through the throttle").await;
    assert_eq!(m.seq, 1);
    assert_eq!(proxy.injected("TransactWriteItems", Fault::CancelledByThrottling), 3);
    all_injected(&proxy);
}

#[tokio::test]
async fn transactions_whose_answer_was_lost_are_not_applied_twice() {
    let (store, proxy) = faulty(vec![
        ("TransactWriteItems", Fault::LostAnswer), // create
        ("TransactWriteItems", Fault::LostAnswer), // append
        ("TransactWriteItems", Fault::LostAnswer), // add participant
        ("TransactWriteItems", Fault::LostAnswer), // remove participant
    ])
    .await;
    let (a, b) = (user("a"), user("b"));
    let now = Timestamp::now();
    let c = Conversation {
        id: ConversationId::generate(),
        title: Title::parse("Lost answers").unwrap(),
        project_id: None,
        status: ConversationStatus::Open,
        created_by: a.clone(),
        created_at: now,
        updated_at: now,
        last_seq: 0,
        last_message: None,
    };
    let row = |u: &UserId| Participant {
        conversation_id: c.id.clone(),
        user_id: u.clone(),
        role: Role::Client,
        display_name: "P".into(),
        joined_at: now,
        added_by: a.clone(),
    };
    store
        .create_conversation(&c, &[row(&a)])
        .await
        .expect("created, not AlreadyExists");
    let m = send(&store, &c, &a, "once").await;
    assert_eq!(m.seq, 1);
    let added = store.add_participants(&c.id, &[row(&b)]).await.expect("added");
    assert_eq!(added.len(), 1);
    assert!(
        store.remove_participant(&c.id, &b).await.expect("removed"),
        "the removal reports that b was a participant"
    );
    let history = store
        .list_messages(&c.id, MessageRange::After { seq: 0, limit: 10 })
        .await
        .unwrap();
    assert_eq!(history.len(), 1, "one message stored");
    assert_eq!(store.get_conversation(&c.id).await.unwrap().unwrap().last_seq, 1);
    assert_eq!(proxy.injected("TransactWriteItems", Fault::LostAnswer), 4);
    all_injected(&proxy);
}

#[tokio::test]
async fn conditional_writes_whose_answer_was_lost_recognise_their_own_write() {
    let (store, proxy) = faulty(vec![]).await;
    let (a, b, admin) = (user("a"), user("b"), user("admin"));
    let c = conversation_with(&store, &[&a, &b], "Lost conditional").await;
    let older = send(&store, &c, &a, "older").await;
    let newest = send(&store, &c, &a, "newest").await;
    proxy.arm(vec![
        ("UpdateItem", Fault::LostAnswer), // edit of an older message
        ("PutItem", Fault::LostAnswer),    // report
        ("UpdateItem", Fault::LostAnswer), // resolve
        ("UpdateItem", Fault::LostAnswer), // mark read
    ]);
    let edited = store
        .edit_message(
            &c.id,
            &older.id,
            &MessageBody::parse("older, edited").unwrap(),
            &a,
            Timestamp::now(),
        )
        .await
        .expect("edit");
    assert_eq!(edited.revisions.len(), 1);
    let stored = store.get_message(&c.id, &older.id).await.unwrap().unwrap();
    assert_eq!(stored.revisions.len(), 1, "no second revision: {:?}", stored.revisions);

    let report = Report {
        id: ReportId::generate(),
        conversation_id: c.id.clone(),
        message_id: newest.id.clone(),
        message_seq: newest.seq,
        reporter_id: b.clone(),
        reason: "rude".into(),
        status: ReportStatus::Open,
        created_at: Timestamp::now(),
        resolved_by: None,
        resolved_at: None,
        resolution_note: None,
    };
    store.create_report(&report).await.expect("reported, not AlreadyExists");
    let at = Timestamp::now();
    let resolved = store
        .resolve_report(&report.id, ReportStatus::Actioned, &admin, at, None)
        .await
        .expect("resolved, not AlreadyResolved");
    assert_eq!(
        (resolved.status, resolved.resolved_at),
        (ReportStatus::Actioned, Some(at))
    );
    let receipt = store
        .mark_read(&c.id, &b, 2, Timestamp::now())
        .await
        .expect("mark read");
    assert_eq!(receipt.last_read_seq, 2);
    assert_eq!(proxy.injected_any(Fault::LostAnswer), 4);
    all_injected(&proxy);
}

#[tokio::test]
async fn unprocessed_keys_are_asked_for_again() {
    let (store, proxy) = faulty(vec![]).await;
    let a = user("a");
    let mut ids = Vec::new();
    for i in 0..120 {
        ids.push(conversation_with(&store, &[&a], &format!("Batch {i}")).await.id);
    }
    proxy.arm(vec![("BatchGetItem", Fault::Unprocessed); 3]);
    let got = store.get_conversations(&ids).await.expect("batch read");
    assert_eq!(got.len(), 120, "every row, none dropped");
    assert_eq!(proxy.injected("BatchGetItem", Fault::Unprocessed), 3);
    all_injected(&proxy);
}

#[tokio::test]
async fn keys_that_stay_unprocessed_are_an_error_not_a_shorter_answer() {
    let (store, proxy) = faulty(vec![]).await;
    let a = user("a");
    let c1 = conversation_with(&store, &[&a], "One").await;
    let c2 = conversation_with(&store, &[&a], "Two").await;
    proxy.arm(FaultPlan::always("BatchGetItem", Fault::Unprocessed).script);
    let err = store
        .get_conversations(&[c1.id.clone(), c2.id.clone()])
        .await
        .expect_err("DynamoDB never processed them");
    assert!(
        matches!(&err, StoreError::Backend(detail) if detail.contains("unprocessed")),
        "{err:?}"
    );
    assert!(proxy.injected("BatchGetItem", Fault::Unprocessed) >= 2);
}

#[tokio::test]
async fn server_errors_and_throttling_are_retried_on_reads_and_writes() {
    let (store, proxy) = faulty(vec![
        ("GetItem", Fault::ServerError),
        ("GetItem", Fault::Throttled),
        ("Query", Fault::ServerError),
        ("TransactWriteItems", Fault::Throttled),
        ("TransactWriteItems", Fault::ServerError),
    ])
    .await;
    let a = user("a");
    let c = conversation_with(&store, &[&a], "Trouble").await;
    let m = send(&store, &c, &a, "despite it all").await;
    assert_eq!(m.seq, 1);
    assert_eq!(store.get_message(&c.id, &m.id).await.unwrap(), Some(m));
    all_injected(&proxy);
}

/// The proxy reproduces DynamoDB's idempotency tokens (moto ignores them): the same
/// token and items answer success without writing again; other items are refused.
#[tokio::test]
async fn the_proxy_honours_client_request_tokens_as_dynamodb_does() {
    use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
    let proxy = FaultProxy::start(integration_tests::services::aws_endpoint(), FaultPlan::default()).await;
    let client = aws_sdk_dynamodb::Client::new(&integration_tests::services::aws_config_at(&proxy.url).await);
    let tables = integration_tests::fixtures::test_tables();
    let put = |id: &str| {
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&tables.files)
                    .item("id", AttributeValue::S(id.into()))
                    .condition_expression("attribute_not_exists(id)")
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let (first, second) = (unique("f"), unique("f"));
    let token = unique("tok");
    for _ in 0..2 {
        client
            .transact_write_items()
            .transact_items(put(&first))
            .client_request_token(&token)
            .send()
            .await
            .expect("the same token and items succeed again");
    }
    let err = client
        .transact_write_items()
        .transact_items(put(&second))
        .client_request_token(&token)
        .send()
        .await
        .expect_err("another request under the same token");
    assert_eq!(
        aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&err),
        Some("IdempotentParameterMismatchException")
    );
    // Without a token, the second try meets its own first write.
    let err = client
        .transact_write_items()
        .transact_items(put(&first))
        .send()
        .await
        .expect_err("condition fails");
    assert_eq!(
        aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&err),
        Some("TransactionCanceledException")
    );
}
