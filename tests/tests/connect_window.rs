//! The window in which a new connection is registered but not yet open. API Gateway
//! answers 410 to pushes while `$connect` runs (the connection opens when the handler
//! returns); the gateway does the same, and `--connect-delay-ms` stretches the window so
//! that a push lands in it for sure. A 410 in that window must not make the new socket
//! deaf; a connection that never opened must still be forgotten.

use std::sync::Arc;
use std::time::{Duration, Instant};

use integration_tests::gateway::{self, TestGateway};
use integration_tests::services::{redis_url, unique};
use integration_tests::ws;
use messaging_core::Messaging;
use messaging_core::ids::UserId;
use messaging_core::time::Timestamp;
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);
const CONNECT_DELAY: Duration = Duration::from_millis(1500);

async fn embedded(grace: Duration) -> TestGateway {
    gateway::start_with(move |c| {
        c.connect_delay = CONNECT_DELAY;
        c.settings.connect_grace = grace;
    })
    .await
}

/// Redis registry and pushes through the SDK and `@connections`, as in AWS.
async fn redis_backed(grace: Duration) -> TestGateway {
    let prefix = format!("{}:", unique("cw"));
    gateway::start_with(move |c| {
        c.connect_delay = CONNECT_DELAY;
        c.settings.connect_grace = grace;
        c.redis = Some(messaging_redis::RedisOptions {
            prefix,
            ..messaging_redis::RedisOptions::new(redis_url())
        });
        c.pusher = local_gateway::PusherMode::ManagementApi;
    })
    .await
}

/// `user`'s registered connections now.
async fn live_connections(svc: &Arc<Messaging>, user: &str) -> Vec<(UserId, messaging_core::ids::ConnectionId)> {
    let user = UserId::parse(user).unwrap();
    svc.ports()
        .registry
        .connections_of(std::slice::from_ref(&user), Timestamp::now())
        .await
        .unwrap()
}

/// Waits until `user` has a registered connection (their `$connect` has run).
async fn registered(svc: &Arc<Messaging>, user: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        if !live_connections(svc, user).await.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "{user} never registered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn a_push_during_connect_does_not_make_the_new_socket_deaf(gw: TestGateway) {
    let ws_url = gw.running.ws_url();
    let ana = gw.login("u-client-ana").await;
    let ben = gw.login("u-team-ben").await;
    let conv = ben.create_conversation("Connect window", &["u-client-ana"]).await;

    // Ana's socket: registered at once, open only after the delay.
    let ana_socket = {
        let (ana, ws_url) = (ana.clone(), ws_url.clone());
        tokio::spawn(async move { ws::connect(&ana, &ws_url, "ana").await })
    };
    registered(gw.running.service(), "u-client-ana").await;
    // Pushed while Ana's `$connect` has not finished: 410.
    ben.send(&conv, "sent while ana connects").await;
    let mut ana_socket = ana_socket.await.unwrap();
    // Open now, and Ana has sent nothing yet: the next message must reach her.
    let after = ben.send(&conv, "sent once ana is connected").await;
    let got = ana_socket.wait_event("new-message", WAIT).await;
    assert_eq!(got["data"]["message"]["id"], after["id"], "{got}");
}

async fn a_connection_that_never_opened_is_forgotten_after_the_grace(gw: TestGateway) {
    let ws_url = gw.running.ws_url();
    let ana = gw.login("u-client-ana").await;
    let ben = gw.login("u-team-ben").await;
    let conv = ben.create_conversation("Never opened", &["u-client-ana"]).await;
    let mut ben_socket = ws::connect(&ben, &ws_url, "ben").await;

    // Ana's browser goes away while her `$connect` runs: the socket never opens.
    let ticket = ana.post("/api/messaging/ws-ticket", json!({})).await.expect(201);
    let ticket = ticket["ticket"].as_str().unwrap().to_owned();
    let abandoned = tokio::spawn({
        let ws_url = ws_url.clone();
        async move {
            let _ = ws::try_connect(&ws_url, &ticket).await;
        }
    });
    registered(gw.running.service(), "u-client-ana").await;
    abandoned.abort();
    ben_socket.wait_event("user-joined", WAIT).await;

    // Once the grace is over, a 410 means gone: the registration goes, and Ana with it.
    tokio::time::sleep(gw.running.service().settings().connect_grace + Duration::from_millis(200)).await;
    ben.send(&conv, "anyone there?").await;
    let left = ben_socket.wait_event("user-left", WAIT).await;
    assert_eq!(left["data"]["userId"], "u-client-ana");
    let live = live_connections(gw.running.service(), "u-client-ana").await;
    assert!(live.is_empty(), "forgotten: {live:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_a_push_during_connect_does_not_make_the_new_socket_deaf() {
    a_push_during_connect_does_not_make_the_new_socket_deaf(embedded(Duration::from_secs(30)).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_a_push_during_connect_does_not_make_the_new_socket_deaf() {
    a_push_during_connect_does_not_make_the_new_socket_deaf(redis_backed(Duration::from_secs(30)).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_a_connection_that_never_opened_is_forgotten_after_the_grace() {
    a_connection_that_never_opened_is_forgotten_after_the_grace(embedded(Duration::from_millis(600)).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_a_connection_that_never_opened_is_forgotten_after_the_grace() {
    a_connection_that_never_opened_is_forgotten_after_the_grace(redis_backed(Duration::from_millis(600)).await).await;
}

/// Once a client has its 101 it may be sent to at once, even if the gateway's socket
/// task starts late (a busy machine): the pushes queue and arrive in order. (Before the
/// connection was put in the hub before the 101, they got 410 and were lost: a test that
/// sent right after connecting once lost the first message under load.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pushes_right_after_the_101_are_delivered_even_if_the_socket_opens_late() {
    let gw = gateway::start_with(|c| c.open_delay = Duration::from_millis(700)).await;
    let ws_url = gw.running.ws_url();
    let ana = gw.login("u-client-ana").await;
    let ben = gw.login("u-team-ben").await;
    let conv = ben.create_conversation("Open late", &["u-client-ana"]).await;
    let mut ana_socket = ws::connect(&ana, &ws_url, "ana").await;
    let first = ben.send(&conv, "sent right after the 101").await;
    let second = ben.send(&conv, "and another").await;
    let got = ana_socket.wait_event("new-message", WAIT).await;
    assert_eq!(got["data"]["message"]["id"], first["id"], "{got}");
    let got = ana_socket.wait_event("new-message", WAIT).await;
    assert_eq!(got["data"]["message"]["id"], second["id"], "{got}");
}

/// A client that goes away between its 101 and the socket task: it is disconnected.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_client_gone_before_its_socket_opens_leaves_no_connection_behind() {
    let gw = gateway::start_with(|c| c.open_delay = Duration::from_millis(300)).await;
    let ws_url = gw.running.ws_url();
    let ana = gw.login("u-client-ana").await;
    let socket = ws::connect(&ana, &ws_url, "ana").await;
    drop(socket);
    tokio::time::sleep(Duration::from_millis(800)).await;
    let live = live_connections(gw.running.service(), "u-client-ana").await;
    assert!(live.is_empty(), "{live:?}");
}
