//! Real time end to end: real WebSocket clients through the local gateway, embedded and
//! Redis-backed. Two users on three connections (Ana on two devices), plus an outsider.

use std::time::{Duration, Instant};

use integration_tests::gateway::{self, TestGateway};
use integration_tests::services::{redis_url, unique};
use integration_tests::ws;
use messaging_core::limits::{Action, Limit};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(400);

/// `user`'s row in a conversation detail.
fn participant<'a>(detail: &'a Value, user: &str) -> &'a Value {
    detail["participants"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["userId"] == user))
        .unwrap_or_else(|| panic!("{user} is not in {detail}"))
}

/// Delivery tests send faster than a person does; the limits have tests of their own.
fn delivery_paced(settings: &mut messaging_core::Settings) {
    settings.typing_ttl = Duration::from_millis(1000);
    settings
        .limits
        .set(Action::Send, Limit::new(1_000, Duration::from_secs(10)));
}

async fn embedded() -> TestGateway {
    gateway::start_with(|c| delivery_paced(&mut c.settings)).await
}

/// Redis registry, and pushes through the functions' SDK client and `@connections`, as in AWS.
async fn redis_backed() -> TestGateway {
    let prefix = format!("{}:", unique("gw"));
    gateway::start_with(move |c| {
        delivery_paced(&mut c.settings);
        c.redis = Some(messaging_redis::RedisOptions {
            prefix,
            ..messaging_redis::RedisOptions::new(redis_url())
        });
        c.pusher = local_gateway::PusherMode::ManagementApi;
    })
    .await
}

fn about(conversation: &str) -> impl Fn(&Value) -> bool + '_ {
    move |e: &Value| e["data"]["conversationId"] == conversation || e["data"]["conversation"]["id"] == conversation
}

fn is(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |e: &Value| e["type"] == kind
}

async fn two_users_three_connections(gw: TestGateway) {
    let ws_url = gw.running.ws_url();
    let ana = gw.login("u-client-ana").await;
    let ben = gw.login("u-team-ben").await;
    let omar = gw.login("u-client-omar").await;
    let conv = ben.create_conversation("Real time", &["u-client-ana"]).await;
    let base = format!("/api/messaging/conversations/{conv}");

    let mut b1 = ws::connect(&ben, &ws_url, "ben").await;
    let mut o1 = ws::connect(&omar, &ws_url, "omar").await;
    // Presence: Ana's first device makes her online for Ben; her second does not again.
    let mut a1 = ws::connect(&ana, &ws_url, "ana-laptop").await;
    let joined = b1.wait_event("user-joined", WAIT).await;
    assert_eq!(joined["data"]["userId"], "u-client-ana");
    let mut a2 = ws::connect(&ana, &ws_url, "ana-phone").await;
    b1.assert_none(QUIET, is("user-joined")).await;
    let detail = ben.get(&base).await.expect(200);
    assert_eq!(participant(&detail, "u-client-ana")["online"], true);

    // A REST send reaches every connection of every participant, and nobody else.
    let sent = ben.send(&conv, "hello over the socket").await;
    for client in [&mut a1, &mut a2, &mut b1] {
        let e = client.wait_event("new-message", WAIT).await;
        assert_eq!(e["data"]["message"]["id"], sent["id"], "{}", client.label);
        assert_eq!(e["data"]["message"]["body"], "hello over the socket");
    }

    // Typing: the other side sees start and stop; the typist's own devices and outsiders don't.
    a1.send(json!({ "action": "typing", "conversationId": conv })).await;
    let typing = b1.wait_event("user-typing", WAIT).await;
    assert_eq!(
        (
            typing["data"]["userId"].clone(),
            typing["data"]["conversationId"].clone()
        ),
        (json!("u-client-ana"), json!(conv))
    );
    a1.send(json!({ "action": "stop-typing", "conversationId": conv }))
        .await;
    let stopped = b1.wait_event("user-stopped-typing", WAIT).await;
    assert_eq!(stopped["data"]["userId"], "u-client-ana");
    a2.assert_none(QUIET, is("user-typing")).await;

    // Typing that is never stopped expires on the server, and "stopped" still arrives.
    a1.send(json!({ "action": "typing", "conversationId": conv })).await;
    b1.wait_event("user-typing", WAIT).await;
    let started = Instant::now();
    b1.wait_event("user-stopped-typing", WAIT).await;
    let after = started.elapsed();
    assert!(
        after >= Duration::from_millis(700) && after < Duration::from_secs(4),
        "expired after {after:?} (ttl 1 s)"
    );

    // Sending ends typing too.
    a1.send(json!({ "action": "typing", "conversationId": conv })).await;
    b1.wait_event("user-typing", WAIT).await;
    ana.send(&conv, "sent while typing").await;
    b1.wait_for(WAIT, is("user-stopped-typing")).await;

    // Read receipts reach the others.
    ben.send(&conv, "did you read this?").await;
    let read = ana.post(&format!("{base}/read"), json!({})).await.expect(200);
    let receipt = b1.wait_event("message-read", WAIT).await;
    assert_eq!(receipt["data"]["userId"], "u-client-ana");
    assert_eq!(receipt["data"]["lastReadSeq"], read["lastReadSeq"]);

    // Edits and deletes.
    let id = sent["id"].as_str().unwrap();
    ben.patch(&format!("{base}/messages/{id}"), json!({ "body": "hello, edited" }))
        .await
        .expect(200);
    let edited = a2
        .wait_for(WAIT, |e| {
            e["type"] == "message-updated" && e["data"]["message"]["body"] == "hello, edited"
        })
        .await;
    assert!(edited["data"]["message"]["editedAt"].is_string());
    ben.delete(&format!("{base}/messages/{id}")).await.expect(200);
    let deleted = a1
        .wait_for(WAIT, |e| {
            e["type"] == "message-updated" && e["data"]["message"]["deleted"] == true
        })
        .await;
    assert_eq!(deleted["data"]["message"]["body"], Value::Null);

    // The outsider neither receives nor sends anything for this conversation.
    o1.send(json!({ "action": "typing", "conversationId": conv })).await;
    let refused = o1.wait_event("error", WAIT).await;
    assert_eq!(refused["data"]["code"], "not_found");
    b1.assert_none(QUIET, |e| {
        e["type"] == "user-typing" && e["data"]["userId"] == "u-client-omar"
    })
    .await;
    let heard = o1.drain(QUIET).await;
    assert!(!heard.iter().any(about(&conv)), "outsider heard: {heard:?}");
    assert!(
        !heard.iter().any(|e| e["data"]["userId"] == "u-client-ana"),
        "outsider saw presence: {heard:?}"
    );

    // Malformed and unknown actions get an error frame, not a dropped connection.
    a1.send_raw("not json").await;
    assert_eq!(a1.wait_event("error", WAIT).await["data"]["code"], "validation_failed");
    a1.send(json!({ "action": "dance" })).await;
    assert_eq!(a1.wait_event("error", WAIT).await["data"]["field"], "action");
    a1.send(json!({ "action": "ping" })).await;
    a1.wait_event("pong", WAIT).await;

    // Offline: one device closing keeps Ana online; the last one vanishing (no close frame) does not.
    a1.close().await;
    b1.assert_none(QUIET, is("user-left")).await;
    a2.drop_abruptly();
    let left = b1.wait_event("user-left", WAIT).await;
    assert_eq!(left["data"]["userId"], "u-client-ana");
    let detail = ben.get(&base).await.expect(200);
    assert_eq!(participant(&detail, "u-client-ana")["online"], false);
    gw.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_users_on_three_connections_embedded() {
    two_users_three_connections(embedded().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_users_on_three_connections_redis_backed() {
    two_users_three_connections(redis_backed().await).await;
}

async fn silent_clients_go_offline_when_their_heartbeat_lapses(gw: TestGateway) {
    let ws_url = gw.running.ws_url();
    let ben = gw.login("u-team-ben").await;
    let cleo = gw.login("u-team-cleo").await;
    let conv = ben.create_conversation("Heartbeats", &["u-team-cleo"]).await;
    let mut b1 = ws::connect(&ben, &ws_url, "ben").await;
    let c1 = ws::connect(&cleo, &ws_url, "cleo").await;
    // Cleo is online first (as the server sees her: under load her `user-joined` may come
    // late, and the loop below ignores it).
    let online = Instant::now();
    loop {
        let detail = ben
            .get(&format!("/api/messaging/conversations/{conv}"))
            .await
            .expect(200);
        let cleo_online = detail["participants"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["userId"] == "u-team-cleo" && p["online"] == true);
        if cleo_online {
            break;
        }
        assert!(
            online.elapsed() < Duration::from_secs(10),
            "cleo never came online: {detail}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Cleo's client freezes: the socket stays open but it never pings again. Ben keeps
    // pinging. Without any `$disconnect`, the presence TTL takes Cleo offline.
    let started = Instant::now();
    let left = loop {
        if let Some(left) = b1.try_wait_for(Duration::from_millis(300), is("user-left")).await {
            break left;
        }
        b1.send(json!({ "action": "ping" })).await;
        b1.wait_event("pong", WAIT).await;
        assert!(started.elapsed() < Duration::from_secs(15), "cleo never went offline");
    };
    assert_eq!(left["data"]["userId"], "u-team-cleo");
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "not before the TTL ({:?})",
        started.elapsed()
    );
    drop(c1);
    gw.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_frozen_client_goes_offline_by_ttl_embedded() {
    let gw = gateway::start_with(|c| c.settings.presence_ttl = Duration::from_millis(2000)).await;
    silent_clients_go_offline_when_their_heartbeat_lapses(gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_frozen_client_goes_offline_by_ttl_redis_backed() {
    let prefix = format!("{}:", unique("gw"));
    let gw = gateway::start_with(move |c| {
        c.settings.presence_ttl = Duration::from_millis(2000);
        c.redis = Some(messaging_redis::RedisOptions {
            prefix,
            ..messaging_redis::RedisOptions::new(redis_url())
        });
    })
    .await;
    silent_clients_go_offline_when_their_heartbeat_lapses(gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_that_missed_50_messages_catches_up_in_order_none_twice() {
    let gw = redis_backed().await;
    let ws_url = gw.running.ws_url();
    let ana = gw.login("u-client-ana").await;
    let ben = gw.login("u-team-ben").await;
    let conv = ben.create_conversation("Catch-up", &["u-client-ana"]).await;
    let mut a1 = ws::connect(&ana, &ws_url, "ana").await;
    ben.send(&conv, "before the drop").await;
    let last = a1.wait_event("new-message", WAIT).await["data"]["message"]["seq"]
        .as_u64()
        .unwrap();
    a1.drop_abruptly();

    for i in 0..50 {
        ben.send(&conv, &format!("while away {i}")).await;
    }

    // Reconnect (a fresh ticket), then ask for everything after the last seq seen.
    let mut a2 = ws::connect(&ana, &ws_url, "ana-again").await;
    let mut seen: Vec<u64> = Vec::new();
    let mut after = last;
    loop {
        let page = ana
            .get(&format!(
                "/api/messaging/conversations/{conv}/messages?after={after}&limit=20"
            ))
            .await
            .expect(200);
        for m in page["items"].as_array().unwrap() {
            seen.push(m["seq"].as_u64().unwrap());
        }
        after = *seen.last().unwrap_or(&after);
        if page["hasMore"] == false {
            break;
        }
    }
    assert_eq!(
        seen,
        ((last + 1)..=(last + 50)).collect::<Vec<_>>(),
        "all 50, in order, none twice"
    );
    // And the socket is live again.
    ben.send(&conv, "welcome back").await;
    let live = a2.wait_event("new-message", WAIT).await;
    assert_eq!(live["data"]["message"]["seq"], last + 51);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sends_reach_every_socket_in_seq_order() {
    for gw in [embedded().await, redis_backed().await] {
        let ws_url = gw.running.ws_url();
        let ana = gw.login("u-client-ana").await;
        let ben = gw.login("u-team-ben").await;
        let cleo = gw.login("u-team-cleo").await;
        let conv = ben
            .create_conversation("Ordering", &["u-client-ana", "u-team-cleo"])
            .await;
        let mut sockets = vec![
            ws::connect(&ana, &ws_url, "ana").await,
            ws::connect(&ben, &ws_url, "ben").await,
        ];
        let mut tasks = Vec::new();
        for (who, api) in [("a", ana.clone()), ("b", ben.clone()), ("c", cleo.clone())] {
            let conv = conv.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..15 {
                    api.send(&conv, &format!("{who}{i}")).await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        for socket in &mut sockets {
            let mut seqs = Vec::new();
            while seqs.len() < 45 {
                let Some(e) = socket.try_wait_for(WAIT, is("new-message")).await else {
                    panic!("{}: after seqs {seqs:?}, nothing more within {WAIT:?}", socket.label);
                };
                seqs.push(e["data"]["message"]["seq"].as_u64().unwrap());
            }
            assert_eq!(
                seqs,
                (1..=45).collect::<Vec<_>>(),
                "{} saw them out of order",
                socket.label
            );
        }
        gw.running.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_work_once_and_bad_ones_are_refused() {
    let gw = embedded().await;
    let ws_url = gw.running.ws_url();
    let ana = gw.login("u-client-ana").await;
    let ticket = ana.post("/api/messaging/ws-ticket", json!({})).await.expect(201);
    let t = ticket["ticket"].as_str().unwrap();
    assert!(ticket["expiresInSeconds"].as_u64().unwrap() <= 60, "short-lived");
    let first = ws::try_connect(&ws_url, t).await;
    assert!(first.is_ok());
    assert_eq!(
        ws::try_connect(&ws_url, t).await.err(),
        Some(401),
        "a ticket works once"
    );
    assert_eq!(ws::try_connect(&ws_url, "forged-ticket").await.err(), Some(401));
    let no_ticket = tokio_tungstenite::connect_async(ws_url.clone()).await;
    assert!(no_ticket.is_err());
    // A long-lived token is not a ticket.
    assert_eq!(
        ws::try_connect(&ws_url, ana.token.as_deref().unwrap()).await.err(),
        Some(401)
    );
}

/// People as others see them, over real sockets: a new display name reaches the other
/// members at once (`user-updated`, then every view), a removed member's sockets hear
/// the removal and nothing after it. Embedded and Redis-backed (pushes through the
/// Management API client).
async fn people_changes_reach_the_others(gw: TestGateway) {
    let ws_url = gw.running.ws_url();
    let ana = gw.login("u-client-ana").await;
    let ben = gw.login("u-team-ben").await;
    let cleo = gw.login("u-team-cleo").await;
    let conv = ben
        .create_conversation("People", &["u-client-ana", "u-team-cleo"])
        .await;
    ana.send(&conv, "hello from Ana").await;
    let mut b1 = ws::connect(&ben, &ws_url, "ben").await;
    let mut c1 = ws::connect(&cleo, &ws_url, "cleo").await;

    let me = ana
        .patch("/api/messaging/me", json!({ "name": "Ana Alvarez-Ruiz" }))
        .await
        .expect(200);
    assert_eq!(me["name"], "Ana Alvarez-Ruiz");
    let update = b1.wait_event("user-updated", WAIT).await;
    assert_eq!(
        (update["data"]["userId"].as_str(), update["data"]["name"].as_str()),
        (Some("u-client-ana"), Some("Ana Alvarez-Ruiz"))
    );
    let history = ben
        .get(&format!("/api/messaging/conversations/{conv}/messages"))
        .await
        .expect(200);
    assert_eq!(history["items"][0]["senderName"], "Ana Alvarez-Ruiz");
    let detail = ben
        .get(&format!("/api/messaging/conversations/{conv}"))
        .await
        .expect(200);
    assert_eq!(participant(&detail, "u-client-ana")["name"], "Ana Alvarez-Ruiz");
    assert_eq!(participant(&detail, "u-client-ana")["organisation"], "Acme Corp");

    ben.delete(&format!("/api/messaging/conversations/{conv}/participants/u-team-cleo"))
        .await
        .expect(204);
    let removed = c1.wait_for(WAIT, is("conversation-updated")).await;
    assert_eq!(removed["data"]["change"], "participants");
    assert!(
        removed["data"]["participants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["userId"] != "u-team-cleo"),
        "{removed}"
    );
    ben.send(&conv, "after Cleo left").await;
    b1.wait_for(WAIT, is("new-message")).await;
    c1.assert_none(QUIET, about(&conv)).await;
    let gone = cleo.get(&format!("/api/messaging/conversations/{conv}")).await;
    assert_eq!(gone.status.as_u16(), 404);
    gw.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn people_changes_reach_the_others_embedded() {
    people_changes_reach_the_others(embedded().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn people_changes_reach_the_others_redis_backed() {
    people_changes_reach_the_others(redis_backed().await).await;
}
