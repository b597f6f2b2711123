//! Every sample event in `events/` goes through its real handler (in process, as the local
//! gateway invokes Lambda handlers) against seeded embedded backends, and answers as
//! expected. Sample events that drift from the code fail here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use integration_tests::gateway::{self, TestGateway};
use integration_tests::services::repo_root;
use messaging_core::Identity;
use messaging_core::ids::*;
use messaging_core::model::*;
use messaging_core::text::{MessageBody, Title};
use messaging_core::time::Timestamp;
use messaging_http::routes::Function;
use serde_json::Value;

const SECRET: &str = "events-fixture-secret-not-for-production-0001";
const CONVERSATION: &str = "01J9Z3K7Q5R8T2V4W6X8Y0A1B2";
const MESSAGE: &str = "01J9Z3K7Q5R8T2V4W6X8Y0A1M3";
const REPORT: &str = "01J9Z3K7Q5R8T2V4W6X8Y0A1R4";
const FILE: &str = "01J9Z3K7Q5R8T2V4W6X8Y0A1F5";
const SUBSCRIPTION: &str = "Ev3ntsPushSubscription0";

fn events_dir() -> PathBuf {
    repo_root().join("events")
}

fn load(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("valid JSON")
}

fn user(id: &str) -> UserId {
    UserId::parse(id).unwrap()
}

/// A gateway with the fixture state the events refer to.
async fn seeded() -> TestGateway {
    let gw = gateway::start_with(|c| c.jwt_secret = SECRET.into()).await;
    let store = &gw.running.service().ports().store;
    let now = Timestamp::now();
    let conversation = Conversation {
        id: ConversationId::parse(CONVERSATION).unwrap(),
        title: Title::parse("Fixture conversation").unwrap(),
        project_id: None,
        status: ConversationStatus::Open,
        created_by: user("u-team-ben"),
        created_at: now,
        updated_at: now,
        last_seq: 0,
        last_message: None,
    };
    let participant = |id: &str, role| Participant {
        conversation_id: conversation.id.clone(),
        user_id: user(id),
        role,
        display_name: id.into(),
        joined_at: now,
        added_by: user("u-team-ben"),
    };
    let people = [
        participant("u-team-ben", Role::Team),
        participant("u-client-ana", Role::Client),
        participant("u-team-cleo", Role::Team),
    ];
    store.create_conversation(&conversation, &people).await.unwrap();
    let new = |id: &str, sender: &str, files: Vec<FileMeta>| NewMessage {
        id: MessageId::parse(id).unwrap(),
        conversation_id: conversation.id.clone(),
        sender_id: user(sender),
        sender_name: sender.into(),
        body: MessageBody::parse("fixture message").unwrap(),
        client_message_id: ClientMessageId::parse(&ulid::Ulid::generate().to_string()).unwrap(),
        created_at: now,
        files,
        mentions: vec![],
        reply: None,
    };
    store.append_message(new(MESSAGE, "u-team-ben", vec![])).await.unwrap();
    let file = FileRecord {
        id: FileId::parse(FILE).unwrap(),
        conversation_id: conversation.id.clone(),
        uploader_id: user("u-client-ana"),
        name: "plan.pdf".into(),
        size: 10,
        content_type: "application/pdf".into(),
        object_key: format!("attachments/{CONVERSATION}/{FILE}"),
        status: FileStatus::Pending,
        message_id: None,
        created_at: now,
        expires_at: now.plus_millis(3_600_000),
    };
    store.create_files(std::slice::from_ref(&file)).await.unwrap();
    store
        .append_message(new(
            &MessageId::generate().to_string(),
            "u-client-ana",
            vec![file.meta()],
        ))
        .await
        .unwrap();
    store
        .create_report(&Report {
            id: ReportId::parse(REPORT).unwrap(),
            conversation_id: conversation.id.clone(),
            message_id: MessageId::parse(MESSAGE).unwrap(),
            message_seq: 1,
            reporter_id: user("u-team-cleo"),
            reason: "fixture report".into(),
            status: ReportStatus::Open,
            created_at: now,
            resolved_by: None,
            resolved_at: None,
            resolution_note: None,
        })
        .await
        .unwrap();
    // The browser `remove-push-subscription.json` unsubscribes.
    store
        .put_push_subscription(&messaging_core::notify::PushSubscription {
            id: SUBSCRIPTION.into(),
            user_id: user("u-client-ana"),
            endpoint: "https://push.example.com/send/fixture".into(),
            p256dh: "BPzdDZ4SSRyrKIJuq9CI-tQr9RhJsgwbfqWfhJFxP1o7L7SoFVaWGGmyvGoLuY0e6fbSGV9eHAf3n7V2E97q4kE".into(),
            auth: "WCg2rCN39Qw5tzxTXvmdQg".into(),
            created_at: now,
            user_agent: None,
        })
        .await
        .unwrap();
    gw
}

fn expected_status(file: &str) -> u16 {
    match file {
        "create-conversation" | "send-message" | "report-message" | "request-uploads" | "issue-web-socket-ticket" => {
            201
        }
        "remove-participant" | "remove-push-subscription" => 204,
        "add-push-subscription" => 201,
        _ => 200,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rest_event_gets_its_expected_answer_from_its_function() {
    let mut seen = 0;
    for (folder, function) in [
        ("messaging-api", Function::MessagingApi),
        ("admin-api", Function::AdminApi),
    ] {
        for entry in std::fs::read_dir(events_dir().join(folder)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let gw = seeded().await;
            let response = gw
                .running
                .gateway
                .functions
                .invoke_rest(function, load(&path))
                .await
                .expect("handler ran");
            let status = response["statusCode"].as_u64().unwrap() as u16;
            assert_eq!(status, expected_status(&name), "{folder}/{name}.json: {response}");
            if status != 204 {
                let body: Value = serde_json::from_str(response["body"].as_str().unwrap_or("")).expect("JSON body");
                assert!(body.get("error").is_none(), "{name}: {body}");
            }
            seen += 1;
            gw.running.shutdown().await;
        }
    }
    assert_eq!(seen, messaging_http::routes::ROUTES.len(), "one event per route");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_and_queue_events_run_through_their_handlers() {
    let gw = seeded().await;
    let functions = &gw.running.gateway.functions;
    let svc = gw.running.service();
    let dir = events_dir();

    let ana = Identity {
        user_id: user("u-client-ana"),
        role: Role::Client,
        name: "Ana Alvarez".into(),
    };
    svc.ports()
        .registry
        .put_ticket("events-fixture-ticket", &ana, Duration::from_secs(30))
        .await
        .unwrap();
    let policy = functions
        .invoke_authorizer(load(&dir.join("ws-authorizer/connect-with-ticket.json")))
        .await
        .expect("authorized");
    assert_eq!(policy["policyDocument"]["Statement"][0]["Effect"], "Allow");
    assert_eq!(policy["context"]["userId"], "u-client-ana");
    assert!(
        functions
            .invoke_authorizer(load(&dir.join("ws-authorizer/connect-with-ticket.json")))
            .await
            .is_err(),
        "tickets are single-use"
    );

    let connected = functions
        .invoke_connect(load(&dir.join("ws-connect/connect.json")))
        .await
        .unwrap();
    assert_eq!(connected["statusCode"], 200);
    let connection = ConnectionId::parse("Ev3ntsConnId0A=").unwrap();
    assert!(
        svc.ports()
            .registry
            .get_connection(&connection)
            .await
            .unwrap()
            .is_some()
    );

    for (file, reply) in [
        ("typing", None),
        ("stop-typing", None),
        ("ping", Some("pong")),
        ("default", Some("error")),
    ] {
        let response = functions
            .invoke_message(load(&dir.join(format!("ws-message/{file}.json"))))
            .await
            .unwrap();
        assert_eq!(response["statusCode"], 200, "{file}");
        match reply {
            None => assert!(response.get("body").is_none(), "{file}: {response}"),
            Some(kind) => {
                let frame: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
                assert_eq!(frame["type"], kind, "{file}");
            }
        }
    }

    let tasks = functions
        .invoke_delayed_tasks(load(&dir.join("delayed-tasks/typing-expiry-and-presence-check.json")))
        .await
        .unwrap();
    assert_eq!(tasks["batchItemFailures"], serde_json::json!([]));
    // A burst's end and a digest: Ana has not read Ben's fixture message, so the digest
    // lands in the outbox (the fixture users have emails in the local directory).
    let tasks = functions
        .invoke_delayed_tasks(load(&dir.join("delayed-tasks/notifications.json")))
        .await
        .unwrap();
    assert_eq!(tasks["batchItemFailures"], serde_json::json!([]));

    let disconnected = functions
        .invoke_disconnect(load(&dir.join("ws-disconnect/disconnect.json")))
        .await
        .unwrap();
    assert_eq!(disconnected["statusCode"], 200);
    assert!(
        svc.ports()
            .registry
            .get_connection(&connection)
            .await
            .unwrap()
            .is_none()
    );
}

/// The stream sample through the search indexer: the first batch builds the index from
/// the seeded store, the second applies the sample's edit and new message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_event_runs_through_the_search_indexer() {
    use messaging_backends::search_indexer::{BatchOutcome, SearchIndexer};
    use messaging_core::ports::SearchIndex;
    use messaging_core::search::{IndexQuery, Scope, SearchOrder, SearchText};

    let gw = seeded().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("messages.sqlite3");
    let indexer = SearchIndexer::new(gw.running.service().clone(), path.clone());
    let event = load(&events_dir().join("search-indexer/messages-stream.json"));
    assert_eq!(
        indexer.handle(&event).await.unwrap(),
        BatchOutcome::Rebuilt { messages: 2 }
    );
    assert_eq!(
        indexer.handle(&event).await.unwrap(),
        BatchOutcome::Applied { messages: 2 }
    );

    let index = messaging_search::FtsIndex::open_read_only(&path, 1).unwrap();
    let hits = |text: &str| {
        let index = index.clone();
        let query = IndexQuery {
            text: SearchText::parse(text).unwrap(),
            scope: Scope::All,
            sender: None,
            from: None,
            to: None,
            has_files: None,
            order: SearchOrder::Newest,
            after: None,
            limit: 10,
        };
        async move { index.search(&query).await.unwrap().hits }
    };
    let edited = hits("quarterly forecast").await;
    assert_eq!(edited.len(), 1);
    assert_eq!(edited[0].message_id.as_str(), MESSAGE);
    assert_eq!(hits("contract").await.len(), 1, "the new message and its file name");
    assert_eq!(
        hits("fixture").await.len(),
        2,
        "the seeded ones, the edited one included"
    );
}

#[test]
fn every_function_in_the_template_has_sample_events() {
    let template = std::fs::read_to_string(repo_root().join("template.yaml")).unwrap();
    for line in template.lines() {
        if let Some(binary) = line.trim().strip_prefix("Binary: ") {
            let folder = events_dir().join(binary.trim());
            let count = std::fs::read_dir(&folder).map(|d| d.count()).unwrap_or(0);
            assert!(count > 0, "no sample event for {binary} in {}", folder.display());
        }
    }
}
