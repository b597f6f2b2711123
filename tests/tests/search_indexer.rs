//! Search as it runs in AWS, on moto: the service writes messages to DynamoDB; the
//! messages table's stream is read back from moto (GetRecords, as Lambda's poller reads
//! it) and each batch goes to the search-indexer's handler; searches come from the REST
//! functions' adapter, which opened the same file read-only (`SearchChoice::StreamFed`).
//!
//! What must hold: no file yet → search answers 503 (not an empty result); the first
//! batch builds the index from the table (every message, edits and deletes included);
//! later batches apply in stream order; the reader sees each commit without reopening;
//! a deleted message's words leave the index file itself.

use std::path::Path;

use integration_tests::service::{ServiceHarness, person};
use integration_tests::services::{aws_config, aws_endpoint, unique};
use messaging_aws::TableNames;
use messaging_backends::search_indexer::{BatchOutcome, SearchIndexer};
use messaging_backends::{AwsTarget, SearchChoice, StoreChoice};
use messaging_core::Identity;
use messaging_core::model::Role;
use messaging_core::ports::SearchIndex;
use messaging_core::search::{IndexQuery, Scope, SearchOrder, SearchText};
use messaging_core::service::MessageSearch;
use messaging_core::text::MessageBody;
use messaging_search::FtsIndex;
use serde_json::{Value, json};

/// The messages table's stream on moto, read from the start of its one shard.
struct MotoStream {
    http: reqwest::Client,
    iterator: Option<String>,
}

impl MotoStream {
    async fn call(http: &reqwest::Client, action: &str, body: Value) -> Value {
        // moto routes a DynamoDB-signed request whose target is DynamoDBStreams_* to its
        // streams backend; it does not check the signature.
        let response = http
            .post(aws_endpoint())
            .header("x-amz-target", format!("DynamoDBStreams_20120810.{action}"))
            .header("content-type", "application/x-amz-json-1.0")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=test/20261202/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
            )
            .body(body.to_string())
            .send()
            .await
            .expect("streams request");
        let status = response.status();
        let text = response.text().await.expect("streams body");
        assert!(status.is_success(), "{action}: {status} {text}");
        serde_json::from_str(&text).expect("streams JSON")
    }

    async fn open(table: &str) -> Self {
        let dynamodb = aws_sdk_dynamodb::Client::new(&aws_config().await);
        let described = dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .expect("describe");
        let arn = described
            .table()
            .and_then(|t| t.latest_stream_arn())
            .expect("the messages table has a stream")
            .to_owned();
        let http = reqwest::Client::new();
        let stream = Self::call(&http, "DescribeStream", json!({ "StreamArn": arn })).await;
        let shards = stream["StreamDescription"]["Shards"]
            .as_array()
            .expect("shards")
            .clone();
        assert_eq!(shards.len(), 1, "moto keeps one shard per table");
        let iterator = Self::call(
            &http,
            "GetShardIterator",
            json!({ "StreamArn": arn, "ShardId": shards[0]["ShardId"], "ShardIteratorType": "TRIM_HORIZON" }),
        )
        .await["ShardIterator"]
            .as_str()
            .map(str::to_owned);
        Self { http, iterator }
    }

    /// Every record written since the last call, oldest first.
    async fn take(&mut self) -> Vec<Value> {
        let iterator = self.iterator.clone().expect("an open shard");
        let page = Self::call(&self.http, "GetRecords", json!({ "ShardIterator": iterator })).await;
        self.iterator = page["NextShardIterator"].as_str().map(str::to_owned);
        page["Records"].as_array().cloned().unwrap_or_default()
    }
}

/// A Lambda event of `records`.
fn event(records: &[Value]) -> Value {
    json!({ "Records": records })
}

fn search(text: &str) -> MessageSearch {
    MessageSearch {
        text: text.into(),
        ..MessageSearch::default()
    }
}

async fn found(h: &ServiceHarness, who: &Identity, text: &str) -> Vec<String> {
    let page = h.svc.search_messages(who, &search(text)).await.expect("search");
    page.items
        .iter()
        .map(|r| r.message.body.clone().unwrap_or_default())
        .collect()
}

/// Hits in the index file itself (no store check): what a deleted message left behind.
async fn hits_in_file(path: &Path, text: &str) -> usize {
    let index = FtsIndex::open_read_only(path, 1).expect("open read-only");
    let query = IndexQuery {
        text: SearchText::parse(text).expect("query"),
        scope: Scope::All,
        sender: None,
        from: None,
        to: None,
        has_files: None,
        order: SearchOrder::Newest,
        after: None,
        limit: 50,
    };
    index.search(&query).await.expect("search the file").hits.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_keeps_the_index_on_the_shared_file_in_step_with_the_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("messages.sqlite3");
    let tables = TableNames::with_prefix(&format!("{}-", unique("idx")));
    let h = ServiceHarness::on(
        AwsTarget::Local {
            endpoint: Some(aws_endpoint().to_owned()),
        },
        StoreChoice::DynamoDb {
            tables: tables.clone(),
            create_tables: true,
        },
        SearchChoice::StreamFed { path: path.clone() },
        messaging_core::Settings::default(),
    )
    .await;
    let (ana, ben) = (person("u-ana", Role::Client), person("u-ben", Role::Team));
    let conversation = h.conversation(&ben, &[&ana]).await;
    let mut stream = MotoStream::open(&tables.messages).await;
    let indexer = SearchIndexer::new(h.svc.clone(), path.clone());

    // Before the indexer has written anything there is no index: 503, not "no results".
    let before = h.svc.search_messages(&ana, &search("invoice")).await.unwrap_err();
    assert_eq!(before.http_status(), 503, "{before}");

    // History from before the index: a send, an edit, a delete.
    h.send(&ana, &conversation, "The invoice for March").await;
    let edited = h.send(&ben, &conversation, "Draft quote attached").await;
    let deleted = h.send(&ana, &conversation, "Secret password hunter2").await;
    h.svc
        .edit_message(
            &ben,
            &conversation,
            &edited.id,
            MessageBody::parse("Final quotation attached").unwrap(),
        )
        .await
        .expect("edit");
    h.svc
        .delete_message(&ana, &conversation, &deleted.id)
        .await
        .expect("delete");
    let history = stream.take().await;
    assert_eq!(history.len(), 5, "three inserts, two modifications: {history:?}");
    assert!(
        history.iter().all(|r| r["dynamodb"]["NewImage"].is_object()),
        "NEW_IMAGE records"
    );

    // The first batch finds no file: the whole table is indexed, this batch included,
    // into a file beside it (what a build that timed out left there is thrown away).
    std::fs::write(path.with_file_name("messages.sqlite3.building"), b"half a build").unwrap();
    let outcome = indexer.handle(&event(&history[..2])).await.expect("first batch");
    assert_eq!(outcome, BatchOutcome::Rebuilt { messages: 3 });
    assert!(
        !path.with_file_name("messages.sqlite3.building").exists(),
        "built beside, renamed into place"
    );
    assert_eq!(found(&h, &ana, "invoice").await, ["The invoice for March"]);
    assert_eq!(found(&h, &ana, "quotation").await, ["Final quotation attached"]);
    assert!(found(&h, &ana, "draft").await.is_empty(), "the edit replaced the words");
    assert!(found(&h, &ana, "hunter2").await.is_empty());
    assert_eq!(
        hits_in_file(&path, "hunter2").await,
        0,
        "a deleted message's words are not in the file"
    );

    // The rest of the history is already in the index: applying it changes nothing.
    let outcome = indexer.handle(&event(&history[2..])).await.expect("replayed batch");
    assert_eq!(outcome, BatchOutcome::Applied { messages: 3 });
    assert_eq!(found(&h, &ana, "quotation").await, ["Final quotation attached"]);
    assert_eq!(hits_in_file(&path, "hunter2").await, 0);

    // From now on, batch by batch; the reader opened the file once and sees every commit.
    let later = h.send(&ben, &conversation, "Kick-off meeting on Thursday").await;
    h.send(&ana, &conversation, "Thursday works, see you").await;
    let records = stream.take().await;
    assert_eq!(records.len(), 2);
    assert_eq!(
        indexer.handle(&event(&records)).await.unwrap(),
        BatchOutcome::Applied { messages: 2 }
    );
    assert_eq!(found(&h, &ana, "thursday").await.len(), 2);

    h.svc
        .edit_message(
            &ben,
            &conversation,
            &later.id,
            MessageBody::parse("Kick-off moved to Friday").unwrap(),
        )
        .await
        .unwrap();
    assert!(h.svc.delete_message(&ana, &conversation, &later.id).await.is_err());
    let records = stream.take().await;
    assert_eq!(records.len(), 1, "ana may not delete ben's message: only the edit");
    indexer.handle(&event(&records)).await.unwrap();
    assert_eq!(found(&h, &ana, "thursday").await, ["Thursday works, see you"]);
    assert_eq!(found(&h, &ana, "friday").await, ["Kick-off moved to Friday"]);

    h.svc
        .delete_message(&ben, &conversation, &later.id)
        .await
        .expect("own delete");
    let records = stream.take().await;
    indexer.handle(&event(&records)).await.unwrap();
    assert!(found(&h, &ben, "friday").await.is_empty());
    assert_eq!(hits_in_file(&path, "friday").await, 0);

    // A record that is not a message fails the batch (Lambda retries, then dead-letters).
    let bogus = json!({ "eventName": "INSERT", "dynamodb": { "NewImage": { "seq": { "N": "1" } } } });
    assert!(indexer.handle(&event(&[bogus])).await.is_err());
    // Removals (nothing in the product removes messages) carry no image and are skipped.
    let removal = json!({ "eventName": "REMOVE", "dynamodb": { "Keys": { "seq": { "N": "1" } } } });
    assert_eq!(
        indexer.handle(&event(&[removal])).await.unwrap(),
        BatchOutcome::Applied { messages: 0 }
    );
}

#[tokio::test]
async fn a_reader_of_the_shared_file_cannot_write_and_sees_each_commit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("messages.sqlite3");
    assert!(FtsIndex::open_read_only(&path, 1).is_err(), "no file, no reader");
    let writer = FtsIndex::open_shared_writer(&path).expect("writer");
    let reader = FtsIndex::open_read_only(&path, 1).expect("reader");
    let doc = messaging_core::search::SearchDocument {
        message_id: messaging_core::ids::MessageId::generate(),
        conversation_id: messaging_core::ids::ConversationId::generate(),
        seq: 1,
        sender_id: messaging_core::ids::UserId::parse("u-ana").unwrap(),
        created_at: messaging_core::time::Timestamp::from_millis(1_793_491_200_000),
        body: "quarterly report".into(),
        file_names: vec![],
    };
    let change = [messaging_core::search::IndexChange::Upsert(doc)];
    assert!(reader.apply(&change).await.is_err(), "the reader refuses changes");
    writer.apply(&change).await.expect("the writer applies");
    assert_eq!(reader.len().unwrap(), 1, "the reader sees the writer's commit");
    let mode: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_ne!(mode.to_lowercase(), "wal", "no WAL on a network file system");
}
