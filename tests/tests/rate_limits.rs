//! The floods of issue 13, rerun through the local gateway with the default limits: one
//! user over their allowance gets 429 with `Retry-After` (REST) or an `error` frame
//! (WebSocket), nothing is written for a refused request, other users are unaffected,
//! and a `typing` flood reaches the other members as a handful of pushes.

use std::time::Duration;

use integration_tests::gateway::{self, Api, Reply};
use integration_tests::ws;
use messaging_core::limits::{Action, RateLimits};
use serde_json::json;

fn assert_limited(r: &Reply, what: &str) {
    assert_eq!(
        (r.status.as_u16(), r.error_code()),
        (429, Some("rate_limited")),
        "{what}: {}",
        r.text
    );
    let retry: u64 = r
        .headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{what}: no Retry-After header"));
    assert!((1..=600).contains(&retry), "{what}: Retry-After {retry}");
}

async fn send(api: &Api, conversation: &str, i: usize) -> Reply {
    api.post(
        &format!("/api/messaging/conversations/{conversation}/messages"),
        json!({ "body": format!("flood {i}"), "clientMessageId": ulid::Ulid::generate().to_string() }),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_message_after_the_allowance_is_refused_and_others_keep_sending() {
    let gw = gateway::start().await;
    let ana = gw.login("u-client-ana").await;
    let ben = gw.login("u-team-ben").await;
    let conv = ben.create_conversation("Flood", &["u-client-ana"]).await;
    let allowance = RateLimits::default().of(Action::Send).count as usize;
    for i in 0..allowance {
        send(&ana, &conv, i).await.expect(201);
    }
    assert_limited(&send(&ana, &conv, allowance).await, "message n+1");
    for i in 0..50 {
        assert_eq!(
            send(&ana, &conv, allowance + 1 + i).await.status.as_u16(),
            429,
            "still over"
        );
    }
    send(&ben, &conv, 0).await.expect(201);
    let history = ben
        .get(&format!("/api/messaging/conversations/{conv}/messages?limit=100"))
        .await
        .expect(200);
    let stored = history["items"].as_array().unwrap();
    assert_eq!(stored.len(), allowance + 1, "nothing stored for a refused send");
    assert_eq!(stored.last().unwrap()["seq"], (allowance + 1) as u64, "no gap in seqs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversations_tickets_reports_and_uploads_have_allowances_too() {
    let gw = gateway::start().await;
    let ana = gw.login("u-client-ana").await;
    let ben = gw.login("u-team-ben").await;
    let limits = RateLimits::default();

    let create = || {
        ben.post(
            "/api/messaging/conversations",
            json!({ "title": "Spam", "participantIds": ["u-client-ana"] }),
        )
    };
    let mut first = String::new();
    for i in 0..limits.of(Action::CreateConversation).count {
        let created = create().await.expect(201);
        if i == 0 {
            first = created["id"].as_str().unwrap().to_owned();
        }
    }
    assert_limited(&create().await, "conversation n+1");
    let listed = ana.get("/api/messaging/conversations?limit=100").await.expect(200);
    assert_eq!(
        listed["items"].as_array().unwrap().len() as u32,
        limits.of(Action::CreateConversation).count,
        "a refused creation creates nothing"
    );
    // Ana's own conversations are not crowded out further, and Ana herself may start one.
    ana.post(
        "/api/messaging/conversations",
        json!({ "title": "Mine", "participantIds": ["u-team-ben"] }),
    )
    .await
    .expect(201);

    for _ in 0..limits.of(Action::Connect).count {
        ana.post("/api/messaging/ws-ticket", json!({})).await.expect(201);
    }
    assert_limited(&ana.post("/api/messaging/ws-ticket", json!({})).await, "ticket n+1");
    ben.post("/api/messaging/ws-ticket", json!({})).await.expect(201);

    let files = json!({ "files": [{ "name": "a.pdf", "size": 10, "contentType": "application/pdf" }] });
    for _ in 0..limits.of(Action::Uploads).count {
        ben.post(
            &format!("/api/messaging/conversations/{first}/attachments"),
            files.clone(),
        )
        .await
        .expect(201);
    }
    assert_limited(
        &ben.post(&format!("/api/messaging/conversations/{first}/attachments"), files)
            .await,
        "upload request n+1",
    );

    let mut ids = Vec::new();
    for i in 0..=limits.of(Action::Reports).count {
        ids.push(
            ben.send(&first, &format!("m{i}")).await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let report = |id: &str| format!("/api/messaging/conversations/{first}/messages/{id}/report");
    let reason = json!({ "reason": "spam" });
    for id in &ids[..ids.len() - 1] {
        ana.post(&report(id), reason.clone()).await.expect(201);
    }
    assert_limited(&ana.post(&report(ids.last().unwrap()), reason).await, "report n+1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_thousand_typing_frames_are_a_handful_of_pushes() {
    let gw = gateway::start().await;
    let ws_url = gw.running.ws_url();
    let ana = gw.login("u-client-ana").await;
    let ben = gw.login("u-team-ben").await;
    let cleo = gw.login("u-team-cleo").await;
    let conv = ben
        .create_conversation("Typing", &["u-client-ana", "u-team-cleo"])
        .await;
    let mut a = ws::connect(&ana, &ws_url, "ana").await;
    let mut b = ws::connect(&ben, &ws_url, "ben").await;
    let mut c = ws::connect(&cleo, &ws_url, "cleo").await;
    a.drain(Duration::from_millis(200)).await;
    b.drain(Duration::from_millis(200)).await;

    let frame = json!({ "action": "typing", "conversationId": conv }).to_string();
    for _ in 0..5_000 {
        a.send_raw(&frame).await;
    }
    let answers = a.drain(Duration::from_millis(1_500)).await;
    let limited = answers
        .iter()
        .filter(|e| e["type"] == "error" && e["data"]["code"] == "rate_limited")
        .count();
    let allowance = RateLimits::default().of(Action::Typing).count as usize;
    assert!(
        limited >= 5_000 - allowance - 5,
        "the flood is refused frame by frame ({limited})"
    );
    let seen = b.drain(Duration::from_millis(500)).await;
    let pushes = seen.iter().filter(|e| e["type"] == "user-typing").count();
    assert!(
        (1..=3).contains(&pushes),
        "5,000 frames, {pushes} pushes to each co-member"
    );

    // Cleo, who typed nothing, types and is heard at once.
    c.send(json!({ "action": "typing", "conversationId": conv })).await;
    let heard = b.wait_event("user-typing", Duration::from_secs(5)).await;
    assert_eq!(heard["data"]["userId"], "u-team-cleo");
    // And Ana's messages still go out: typing and sending are separate allowances.
    ana.send(&conv, "done typing").await;
}
