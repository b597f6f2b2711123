//! The core flow end to end through the local gateway (REST → API Gateway events →
//! the functions' handlers → the embedded store), as two users and an admin use it: one
//! story per test. The domain rules themselves are tested at the service level
//! (`tests/tests/service_rules.rs`); these prove the wiring.

use integration_tests::gateway;
use serde_json::{Value, json};

fn seqs(page: &Value) -> Vec<u64> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["seq"].as_u64().expect("seq"))
        .collect()
}

/// Ben (team) and Ana (client) in a conversation Ben opened, with `messages` messages
/// sent alternately (seqs 1..=messages), and Dana the admin.
struct Launch {
    /// Kept alive for the test's length.
    _gw: gateway::TestGateway,
    ana: gateway::Api,
    ben: gateway::Api,
    admin: gateway::Api,
    conv: String,
    base: String,
}

async fn launch(messages: u64) -> Launch {
    let gw = gateway::start().await;
    let ana = gw.login("u-client-ana").await;
    let ben = gw.login("u-team-ben").await;
    let admin = gw.login("u-admin-dana").await;
    let created = ben
        .post(
            "/api/messaging/conversations",
            json!({ "title": "Launch plan", "projectId": "acme-launch", "participantIds": ["u-client-ana"] }),
        )
        .await
        .expect(201);
    assert_eq!(created["participants"].as_array().unwrap().len(), 2);
    let conv = created["id"].as_str().unwrap().to_owned();
    for i in 1..=messages {
        let who = if i % 2 == 0 { &ana } else { &ben };
        let m = who.send(&conv, &format!("message {i}")).await;
        assert_eq!(m["seq"], i);
    }
    let base = format!("/api/messaging/conversations/{conv}");
    Launch {
        _gw: gw,
        ana,
        ben,
        admin,
        conv,
        base,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_member_opens_a_conversation_and_the_client_sees_it_in_her_list() {
    let l = launch(0).await;
    let list = l.ana.get("/api/messaging/conversations").await.expect(200);
    assert!(list["items"].as_array().unwrap().iter().any(|c| c["id"] == l.conv));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_get_consecutive_seqs_and_a_retried_send_returns_the_original() {
    let l = launch(30).await;
    let Launch { ana, base, .. } = &l;
    // A retry with the same client message id returns the original with 200, not a copy.
    let first = ana
        .post(
            &format!("{base}/messages"),
            json!({ "body": "once", "clientMessageId": "retry-1" }),
        )
        .await
        .expect(201);
    let again = ana
        .post(
            &format!("{base}/messages"),
            json!({ "body": "once", "clientMessageId": "retry-1" }),
        )
        .await
        .expect(200);
    assert_eq!(first["id"], again["id"]);
    assert_eq!(first["seq"], 31);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_back_with_before_and_catches_up_with_after() {
    let l = launch(31).await;
    let Launch { ana, ben, base, .. } = &l;
    let newest = ana.get(&format!("{base}/messages?limit=10")).await.expect(200);
    assert_eq!(seqs(&newest), (22..=31).collect::<Vec<_>>());
    assert_eq!(newest["hasMore"], true);
    let older = ana
        .get(&format!("{base}/messages?before=22&limit=10"))
        .await
        .expect(200);
    assert_eq!(seqs(&older), (12..=21).collect::<Vec<_>>());
    let oldest = ana
        .get(&format!("{base}/messages?before=12&limit=50"))
        .await
        .expect(200);
    assert_eq!(seqs(&oldest), (1..=11).collect::<Vec<_>>());
    assert_eq!(oldest["hasMore"], false);
    let catch_up = ben.get(&format!("{base}/messages?after=25&limit=3")).await.expect(200);
    assert_eq!(seqs(&catch_up), vec![26, 27, 28]);
    assert_eq!(catch_up["hasMore"], true);
    let rest = ben.get(&format!("{base}/messages?after=28")).await.expect(200);
    assert_eq!(seqs(&rest), vec![29, 30, 31]);
    assert_eq!(rest["hasMore"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_sender_edits_and_the_same_edit_twice_changes_nothing() {
    let l = launch(0).await;
    let Launch {
        ana, ben, conv, base, ..
    } = &l;
    let mine = ana.send(conv, "typo hre").await;
    let mine_id = mine["id"].as_str().unwrap();
    let edited = ana
        .patch(&format!("{base}/messages/{mine_id}"), json!({ "body": "typo here" }))
        .await
        .expect(200);
    assert_eq!(edited["body"], "typo here");
    assert!(edited["editedAt"].is_string());
    // The same edit again (a client retrying after a lost answer) changes nothing: no
    // second revision, the same edit time.
    let retried = ana
        .patch(&format!("{base}/messages/{mine_id}"), json!({ "body": "typo here" }))
        .await
        .expect(200);
    assert_eq!(retried["editedAt"], edited["editedAt"]);
    let refused = ben
        .patch(&format!("{base}/messages/{mine_id}"), json!({ "body": "hijack" }))
        .await;
    assert_eq!(
        (refused.status.as_u16(), refused.error_code()),
        (403, Some("forbidden"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_message_is_a_tombstone_whose_body_never_comes_back() {
    let l = launch(31).await;
    let Launch {
        ana, ben, conv, base, ..
    } = &l;
    let mine = ana.send(conv, "typo here").await;
    let mine_id = mine["id"].as_str().unwrap();
    let gone = ana.delete(&format!("{base}/messages/{mine_id}")).await.expect(200);
    assert_eq!(
        (gone["deleted"].clone(), gone["body"].clone()),
        (json!(true), Value::Null)
    );
    let page = ben.get(&format!("{base}/messages?after=31")).await.expect(200);
    assert_eq!(page["items"][0]["body"], Value::Null);
    assert!(!page.to_string().contains("typo here"), "no trace of the deleted body");
    let edit_deleted = ana
        .patch(&format!("{base}/messages/{mine_id}"), json!({ "body": "undo" }))
        .await;
    assert_eq!(edit_deleted.error_code(), Some("message_deleted"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_watermarks_only_move_forward_and_never_past_the_newest_message() {
    let l = launch(29).await;
    let Launch {
        ana, ben, conv, base, ..
    } = &l;
    for text in ["thirty", "thirty-one", "thirty-two"] {
        ana.send(conv, text).await;
    }
    // Ben's own last send (29) marked everything before it read; Ana's messages since
    // (30..=32) are unread. He reads up to 30, then everything.
    let unread_before = ben.get(base).await.expect(200)["unreadCount"].as_u64().unwrap();
    assert_eq!(unread_before, 3);
    let receipt = ben
        .post(&format!("{base}/read"), json!({ "seq": 30 }))
        .await
        .expect(200);
    assert_eq!(receipt["lastReadSeq"], 30);
    let back = ben
        .post(&format!("{base}/read"), json!({ "seq": 10 }))
        .await
        .expect(200);
    assert_eq!(back["lastReadSeq"], 30, "watermarks never move back");
    ben.post(&format!("{base}/read"), json!({})).await.expect(200);
    let detail = ben.get(base).await.expect(200);
    assert_eq!(detail["unreadCount"], 0);
    let beyond = ben.post(&format!("{base}/read"), json!({ "seq": 999 })).await;
    assert_eq!(
        (beyond.status.as_u16(), beyond.body["error"]["field"].as_str()),
        (400, Some("seq"))
    );
}

/// Ana reports Ben's first message (seq 1); the report's id.
async fn report_first_message(l: &Launch) -> (String, String) {
    let base = &l.base;
    let oldest = l.ana.get(&format!("{base}/messages?after=0&limit=1")).await.expect(200);
    let target = oldest["items"][0]["id"].as_str().unwrap().to_owned();
    let report = l
        .ana
        .post(
            &format!("{base}/messages/{target}/report"),
            json!({ "reason": "Shared a password" }),
        )
        .await
        .expect(201);
    (target, report["id"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_reports_a_message_once() {
    let l = launch(2).await;
    let (target, _) = report_first_message(&l).await;
    let base = &l.base;
    let dup = l
        .ana
        .post(
            &format!("{base}/messages/{target}/report"),
            json!({ "reason": "again" }),
        )
        .await;
    assert_eq!(dup.error_code(), Some("already_reported"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_finds_a_conversation_sees_its_people_and_closes_it_to_new_messages() {
    let l = launch(1).await;
    let Launch {
        ana, admin, conv, base, ..
    } = &l;
    let found = admin
        .get("/api/admin/messaging/conversations?q=launch")
        .await
        .expect(200);
    assert!(found["items"].as_array().unwrap().iter().any(|c| c["id"] == *conv));
    let by_participant = admin
        .get("/api/admin/messaging/conversations?participant=u-client-ana&status=open")
        .await
        .expect(200);
    assert!(
        by_participant["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == *conv)
    );
    let people = admin
        .get(&format!("/api/admin/messaging/conversations/{conv}/participants"))
        .await
        .expect(200);
    assert_eq!(people.as_array().unwrap().len(), 2);
    let closed = admin
        .patch(
            &format!("/api/admin/messaging/conversations/{conv}/status"),
            json!({ "status": "closed" }),
        )
        .await
        .expect(200);
    assert_eq!(closed["status"], "closed");
    let refused = ana
        .post(
            &format!("{base}/messages"),
            json!({ "body": "anyone?", "clientMessageId": "late" }),
        )
        .await;
    assert_eq!(
        (refused.status.as_u16(), refused.error_code()),
        (409, Some("conversation_closed"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_actions_a_report_removing_the_message_while_the_audit_keeps_what_was_said() {
    let l = launch(2).await;
    let (target, report_id) = report_first_message(&l).await;
    let Launch { admin, conv, .. } = &l;
    let queue = admin.get("/api/admin/messaging/reports?status=open").await.expect(200);
    assert!(queue["items"].as_array().unwrap().iter().any(|r| r["id"] == report_id));
    let resolved = admin
        .patch(
            &format!("/api/admin/messaging/reports/{report_id}"),
            json!({ "status": "actioned", "note": "removed", "deleteMessage": true }),
        )
        .await
        .expect(200);
    assert_eq!(resolved["status"], "actioned");
    assert_eq!(resolved["resolvedBy"], "u-admin-dana");
    assert!(resolved["resolvedAt"].is_string());
    let twice = admin
        .patch(
            &format!("/api/admin/messaging/reports/{report_id}"),
            json!({ "status": "dismissed" }),
        )
        .await;
    assert_eq!(twice.error_code(), Some("report_already_resolved"));
    let audit = admin
        .get(&format!(
            "/api/admin/messaging/conversations/{conv}/messages/{target}/audit"
        ))
        .await
        .expect(200);
    assert_eq!(audit["message"]["deleted"], true);
    assert_eq!(
        audit["revisions"][0]["body"], "message 1",
        "the audit trail keeps what was said"
    );
    let open_after = admin.get("/api/admin/messaging/reports?status=open").await.expect(200);
    assert!(
        !open_after["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == report_id)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_4xx_naming_the_field_and_writes_nothing() {
    let gw = gateway::start().await;
    let ana = gw.login("u-client-ana").await;
    let conv = ana.create_conversation("Validation", &["u-team-ben"]).await;
    let base = format!("/api/messaging/conversations/{conv}");

    let cases: Vec<(Value, &str)> = vec![
        (json!({ "body": "", "clientMessageId": "a" }), "body"),
        (json!({ "body": "x".repeat(5001), "clientMessageId": "a" }), "body"),
        (
            json!({ "body": "ok", "clientMessageId": "has space" }),
            "clientMessageId",
        ),
        (json!({ "body": "ok" }), "clientMessageId"),
        (json!({ "body": 42, "clientMessageId": "a" }), "body"),
        (
            json!({ "body": "ok", "clientMessageId": "a", "fileIds": ["nope"] }),
            "fileIds[0]",
        ),
    ];
    for (body, field) in cases {
        let reply = ana.post(&format!("{base}/messages"), body.clone()).await;
        assert_eq!(reply.status.as_u16(), 400, "{body}: {}", reply.text);
        assert_eq!(reply.body["error"]["code"], "validation_failed");
        assert_eq!(reply.body["error"]["field"], field, "{body}");
    }
    // Malformed JSON, wrong content type, oversized body.
    let raw = gw
        .http
        .post(gw.url(&format!("{base}/messages")))
        .bearer_auth(ana.token.as_deref().unwrap())
        .header("content-type", "application/json")
        .body("{\"body\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 400);
    let plain = gw
        .http
        .post(gw.url(&format!("{base}/messages")))
        .bearer_auth(ana.token.as_deref().unwrap())
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status().as_u16(), 400);
    let huge = ana
        .post(
            &format!("{base}/messages"),
            json!({ "body": "y".repeat(70_000), "clientMessageId": "big" }),
        )
        .await;
    assert_eq!(
        (huge.status.as_u16(), huge.error_code()),
        (413, Some("payload_too_large"))
    );
    let bad_id = ana.get("/api/messaging/conversations/not-an-id/messages").await;
    assert_eq!(
        (bad_id.status.as_u16(), bad_id.body["error"]["field"].as_str()),
        (400, Some("conversationId"))
    );
    // A path parameter is decoded once: `%2530…` is the text `%30…`, not an id.
    let twice_encoded = format!("/api/messaging/conversations/%25{:x}{}", conv.as_bytes()[0], &conv[1..]);
    let reply = ana.get(&twice_encoded).await;
    assert_eq!(
        (reply.status.as_u16(), reply.body["error"]["field"].as_str()),
        (400, Some("conversationId")),
        "{twice_encoded}: {}",
        reply.text
    );
    let bad_limit = ana.get(&format!("{base}/messages?limit=1000")).await;
    assert_eq!(bad_limit.body["error"]["field"], "limit");
    let bad_title = ana.post("/api/messaging/conversations", json!({ "title": "  " })).await;
    assert_eq!(bad_title.body["error"]["field"], "title");
    let bad_participant = ana
        .post(
            "/api/messaging/conversations",
            json!({ "title": "t", "participantIds": ["ok", "not ok"] }),
        )
        .await;
    assert_eq!(bad_participant.body["error"]["field"], "participantIds[1]");
    let bad_cursor = ana.get("/api/messaging/conversations?cursor=%%%").await;
    assert_eq!(bad_cursor.body["error"]["field"], "cursor");

    // Nothing above was written.
    let page = ana.get(&format!("{base}/messages")).await.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 0);
    let list = ana.get("/api/messaging/conversations").await.expect(200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conversation_list_is_newest_activity_first_with_unread_counts_and_pages() {
    let gw = gateway::start().await;
    let ana = gw.login("u-client-ana").await;
    let ben = gw.login("u-team-ben").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(ben.create_conversation(&format!("Topic {i}"), &["u-client-ana"]).await);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // Activity in topic 1 moves it to the top, with 2 unread for Ana.
    ben.send(&ids[1], "news").await;
    ben.send(&ids[1], "more news").await;
    let first = ana.get("/api/messaging/conversations?limit=2").await.expect(200);
    let firsts: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(firsts, vec![ids[1].as_str(), ids[4].as_str()]);
    assert_eq!(first["items"][0]["unreadCount"], 2);
    assert_eq!(first["items"][0]["lastMessage"]["text"], "more news");
    let cursor = first["nextCursor"].as_str().unwrap();
    let second = ana
        .get(&format!("/api/messaging/conversations?limit=2&cursor={cursor}"))
        .await
        .expect(200);
    let seconds: Vec<&str> = second["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(seconds, vec![ids[3].as_str(), ids[2].as_str()]);
    let q = ana.get("/api/messaging/conversations?q=TOPIC%200").await.expect(200);
    assert_eq!(q["items"].as_array().unwrap().len(), 1);
    assert_eq!(q["items"][0]["id"], ids[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_responses_carry_cors_headers_for_the_web_origin() {
    use tower::ServiceExt;
    let gw = gateway::start().await;
    let ana = gw.login("u-client-ana").await;
    let state = gw.running.gateway.functions.state().clone();
    let app = messaging_http::with_cors(
        messaging_http::messaging_api_app(state),
        Some("https://app.example.com"),
    );
    let request = axum::http::Request::get("/api/messaging/me")
        .header("origin", "https://app.example.com")
        .header("authorization", format!("Bearer {}", ana.token.as_deref().unwrap()))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
    // Errors carry them too, so the browser can read why.
    let request = axum::http::Request::get("/api/messaging/me")
        .header("origin", "https://app.example.com")
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.oneshot(request).await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "https://app.example.com"
    );
}

/// The request of the issue: a client makes up people with the names and roles it likes.
/// Refused, whole, naming what is wrong; nobody shows up anywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_people_are_refused_and_rosters_name_people_as_the_directory_does() {
    let gw = gateway::start().await;
    let ana = gw.login("u-client-ana").await;
    let ben = gw.login("u-team-ben").await;
    let spoof = json!({
        "title": "Security review",
        "participants": [
            { "userId": "u-team-ben", "name": "Dana Reyes (Security Admin)", "role": "admin" },
            { "userId": "u-ben-carter", "name": "Ben Carter", "role": "team" }
        ]
    });
    let r = ana.post("/api/messaging/conversations", spoof).await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"]["field"].as_str()),
        (400, Some("participants")),
        "{}",
        r.text
    );
    let r = ana
        .post(
            "/api/messaging/conversations",
            json!({ "title": "Security review", "participantIds": ["u-team-ben", "u-ben-carter"] }),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["error"]["field"].as_str()),
        (400, Some("participantIds[1]")),
        "{}",
        r.text
    );
    assert!(r.text.contains("u-ben-carter"), "{}", r.text);
    let r = ben
        .post(
            "/api/messaging/conversations/x/participants",
            json!({ "participants": [{ "userId": "u-team-cleo" }] }),
        )
        .await;
    assert_eq!(r.status.as_u16(), 400, "{}", r.text);
    let listed = ben.get("/api/messaging/conversations").await.expect(200);
    assert!(listed["items"].as_array().unwrap().is_empty(), "nothing was created");

    let created = ana
        .post(
            "/api/messaging/conversations",
            json!({ "title": "Real people", "participantIds": ["u-team-ben"] }),
        )
        .await
        .expect(201);
    let roster: Vec<(String, String, Value)> = created["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["role"].as_str().unwrap().to_owned(),
                p["organisation"].clone(),
            )
        })
        .collect();
    assert_eq!(
        roster,
        vec![
            ("Ana Alvarez".to_owned(), "client".to_owned(), json!("Acme Corp")),
            ("Ben Carter".to_owned(), "team".to_owned(), Value::Null),
        ]
    );
    let me = ana.get("/api/messaging/me").await.expect(200);
    assert_eq!(
        (
            me["name"].as_str(),
            me["organisation"].as_str(),
            me["initials"].as_str()
        ),
        (Some("Ana Alvarez"), Some("Acme Corp"), Some("AA"))
    );
}
