//! People who are not looking hear of replies: end to end through the local gateway, its
//! delayed tasks, Web Push to a test push service that checks VAPID and decrypts the
//! payload with the subscription's private key (`integration_tests::push_service`), and
//! the local outbox (`/dev/mail.json`).
//!
//! Ben writes to Ana. Bursts end after 1 s (push), Ana's emails wait 2 s.

use std::time::{Duration, Instant};

use integration_tests::gateway::{self, Api, TestGateway};
use integration_tests::push_service::{PushService, Subscription};
use integration_tests::ws;
use reqwest::Method;
use serde_json::{Value, json};

const PUSH_DELAY: Duration = Duration::from_secs(1);
const EMAIL_DELAY_SECS: u64 = 2;
/// Past both delays, with room for a busy machine.
const SETTLE: Duration = Duration::from_millis(4500);
const ANA_EMAIL: &str = "client.ana@example.com";

struct World {
    gw: TestGateway,
    push: PushService,
    ana: Api,
    ben: Api,
    conversation: String,
    phone: Subscription,
}

async fn world() -> World {
    let gw = gateway::start_with(|c| c.settings.notify.push_delay = PUSH_DELAY).await;
    let push = PushService::start().await;
    let ana = gw.login("u-client-ana").await;
    let ben = gw.login("u-team-ben").await;
    let conversation = ben.create_conversation("Redesign", &["u-client-ana"]).await;
    settings(&ana, json!({ "level": "all", "push": true, "email": true, "emailDelaySeconds": EMAIL_DELAY_SECS, "quietHours": null })).await;
    let phone = push.subscribe();
    let added = ana
        .post("/api/messaging/me/push-subscriptions", phone.to_json())
        .await
        .expect(201);
    assert!(added["id"].as_str().is_some_and(|id| !id.is_empty()), "{added}");
    World {
        gw,
        push,
        ana,
        ben,
        conversation,
        phone,
    }
}

async fn settings(api: &Api, body: Value) -> Value {
    api.call(Method::PUT, "/api/messaging/me/notifications", Some(body))
        .await
        .expect(200)
}

/// The emails to `to` in the gateway's outbox, oldest first.
async fn mails_to(w: &World, to: &str) -> Vec<Value> {
    let outbox: Value =
        w.gw.http
            .get(w.gw.url("/dev/mail.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let mut mails: Vec<Value> = outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["mail"]["to"] == to)
        .map(|e| e["mail"].clone())
        .collect();
    mails.reverse();
    mails
}

/// Waits until `ready` or `within` passes.
async fn eventually(within: Duration, mut ready: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if ready().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ready().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_away_member_gets_one_push_and_one_digest_per_burst() {
    let w = world().await;
    for text in ["First draft is up", "Second thought on the colours", "Third: the logo"] {
        w.ben.send(&w.conversation, text).await;
    }
    assert!(
        eventually(SETTLE, async || !mails_to(&w, ANA_EMAIL).await.is_empty()).await,
        "no digest for Ana; refused pushes: {:?}",
        w.push.refused()
    );
    tokio::time::sleep(Duration::from_millis(800)).await;

    let pushes = w.push.received_by(&w.phone);
    assert_eq!(pushes.len(), 1, "one push per burst: {pushes:?}");
    let push = &pushes[0];
    assert_eq!(push.payload["title"], "Redesign");
    assert_eq!(push.payload["body"], "3 new messages from Ben Carter");
    assert_eq!(push.payload["url"], format!("/messages/{}", w.conversation));
    assert_eq!(
        push.payload["tag"],
        w.conversation.as_str(),
        "one notification per conversation"
    );
    assert!(push.ttl > 0);
    assert!(push.claims["sub"].as_str().unwrap().starts_with("mailto:"));
    assert!(w.push.refused().is_empty(), "{:?}", w.push.refused());

    let mails = mails_to(&w, ANA_EMAIL).await;
    assert_eq!(mails.len(), 1, "one digest per burst: {mails:?}");
    let mail = &mails[0];
    assert_eq!(mail["subject"], "3 new messages from Ben Carter in “Redesign”");
    for text in ["First draft is up", "Second thought on the colours", "Third: the logo"] {
        assert!(
            mail["text"].as_str().unwrap().contains(text),
            "{text} in {}",
            mail["text"]
        );
        assert!(mail["html"].as_str().unwrap().contains(text));
    }
    let text = mail["text"].as_str().unwrap();
    assert!(text.contains("Ben Carter"), "names the sender");
    assert!(
        text.contains(&format!("/messages/{}", w.conversation)),
        "links the conversation"
    );
    let unsubscribe = mail["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == "List-Unsubscribe")
        .expect("a List-Unsubscribe header");
    assert!(
        unsubscribe[1]
            .as_str()
            .unwrap()
            .contains("/api/messaging/unsubscribe?token=")
    );

    // Ben's own messages never notify Ben.
    assert!(mails_to(&w, "team.ben@example.com").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reading_before_the_delay_sends_nothing() {
    let w = world().await;
    let sent = w.ben.send(&w.conversation, "Quick question").await;
    w.ana
        .post(
            &format!("/api/messaging/conversations/{}/read", w.conversation),
            json!({ "seq": sent["seq"] }),
        )
        .await
        .expect(200);
    tokio::time::sleep(SETTLE).await;
    assert!(w.push.received_by(&w.phone).is_empty(), "{:?}", w.push.received());
    assert!(mails_to(&w, ANA_EMAIL).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_muted_conversation_sends_nothing() {
    let w = world().await;
    w.ana
        .patch(
            &format!("/api/messaging/conversations/{}/preferences", w.conversation),
            json!({ "muted": true }),
        )
        .await
        .expect(200);
    w.ben.send(&w.conversation, "Anyone there?").await;
    tokio::time::sleep(SETTLE).await;
    assert!(w.push.received_by(&w.phone).is_empty());
    assert!(mails_to(&w, ANA_EMAIL).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mentions_only_notifies_of_the_mention_alone() {
    let w = world().await;
    w.ana
        .patch(
            &format!("/api/messaging/conversations/{}/preferences", w.conversation),
            json!({ "notify": "mentions" }),
        )
        .await
        .expect(200);
    w.ben.send(&w.conversation, "Status update for the team").await;
    let mention = w.ben.send(&w.conversation, "@Ana Alvarez can you approve?").await;
    assert_eq!(mention["mentions"], json!(["u-client-ana"]), "resolved on the server");
    w.ben.send(&w.conversation, "@Omar Haddad is not here").await;
    assert!(eventually(SETTLE, async || !mails_to(&w, ANA_EMAIL).await.is_empty()).await);
    tokio::time::sleep(Duration::from_millis(800)).await;

    let pushes = w.push.received_by(&w.phone);
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    assert_eq!(pushes[0].payload["body"], "Ben Carter: @Ana Alvarez can you approve?");
    let mails = mails_to(&w, ANA_EMAIL).await;
    assert_eq!(mails.len(), 1);
    let text = mails[0]["text"].as_str().unwrap();
    assert!(text.contains("can you approve?"));
    assert!(!text.contains("Status update"), "only the mention: {text}");
    assert!(!text.contains("is not here"));
}

/// Quiet hours around now in Ana's zone: nothing is pushed, and the digest waits for
/// their end (the deferral itself: `quiet_hours_defer_a_digest_to_their_end` in
/// `notifications_service.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn quiet_hours_hold_pushes_and_emails() {
    let w = world().await;
    let now = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap());
    let start = (now - chrono::Duration::hours(1)).format("%H:%M").to_string();
    let end = (now + chrono::Duration::hours(2)).format("%H:%M").to_string();
    let stored = settings(
        &w.ana,
        json!({ "level": "all", "push": true, "email": true, "emailDelaySeconds": EMAIL_DELAY_SECS,
                "quietHours": { "start": start, "end": end, "timeZone": "Asia/Tokyo" } }),
    )
    .await;
    assert_eq!(stored["quietHours"]["timeZone"], "Asia/Tokyo");
    w.ben.send(&w.conversation, "Late-night thought").await;
    tokio::time::sleep(SETTLE).await;
    assert!(w.push.received_by(&w.phone).is_empty(), "no push in quiet hours");
    assert!(mails_to(&w, ANA_EMAIL).await.is_empty(), "the digest waits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscription_the_push_service_calls_gone_is_removed() {
    let w = world().await;
    let laptop = w.push.subscribe();
    w.ana
        .post("/api/messaging/me/push-subscriptions", laptop.to_json())
        .await
        .expect(201);
    let listed = w.ana.get("/api/messaging/me/push-subscriptions").await.expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
    w.push.expire(&w.phone);

    w.ben.send(&w.conversation, "Are you on your laptop?").await;
    assert!(eventually(SETTLE, async || !w.push.received_by(&laptop).is_empty()).await);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let listed = w.ana.get("/api/messaging/me/push-subscriptions").await.expect(200);
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "the phone's subscription is gone: {listed}");
    assert!(w.push.received_by(&w.phone).is_empty(), "410: nothing was accepted");
    assert_eq!(
        w.push.received_by(&laptop)[0].payload["body"],
        "Ben Carter: Are you on your laptop?"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deleted_message_never_leaves_in_a_notification() {
    let w = world().await;
    w.ben.send(&w.conversation, "Keep this one").await;
    let regret = w.ben.send(&w.conversation, "The password is hunter2").await;
    w.ben
        .delete(&format!(
            "/api/messaging/conversations/{}/messages/{}",
            w.conversation,
            regret["id"].as_str().unwrap()
        ))
        .await
        .expect(200);
    assert!(eventually(SETTLE, async || !mails_to(&w, ANA_EMAIL).await.is_empty()).await);
    let pushes = w.push.received_by(&w.phone);
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].payload["body"], "Ben Carter: Keep this one");
    let mail = &mails_to(&w, ANA_EMAIL).await[0];
    for part in ["subject", "text", "html"] {
        assert!(
            !mail[part].as_str().unwrap().contains("hunter2"),
            "{part}: {}",
            mail[part]
        );
    }
}

/// A member with the app open gets the message live, no push; unread after the delay it
/// is emailed all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_online_member_gets_no_push_but_a_digest_if_unread() {
    let w = world().await;
    let mut socket = ws::connect(&w.ana, &w.gw.running.ws_url(), "ana").await;
    w.ben.send(&w.conversation, "Live one").await;
    socket.wait_event("new-message", Duration::from_secs(5)).await;
    assert!(eventually(SETTLE, async || !mails_to(&w, ANA_EMAIL).await.is_empty()).await);
    assert!(w.push.received_by(&w.phone).is_empty(), "online: no push");
}

/// The digest's unsubscribe link works without signing in, once per conversation: no
/// more emails about it, pushes still come.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_unsubscribe_link_stops_that_conversations_emails_without_sign_in() {
    let w = world().await;
    w.ben.send(&w.conversation, "Hello").await;
    assert!(eventually(SETTLE, async || !mails_to(&w, ANA_EMAIL).await.is_empty()).await);
    let text = mails_to(&w, ANA_EMAIL).await[0]["text"].as_str().unwrap().to_owned();
    let token = text
        .split("unsubscribe?token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("an unsubscribe link in the text")
        .to_owned();

    let anonymous = w.gw.anonymous();
    let forged = anonymous
        .post("/api/messaging/unsubscribe", json!({ "token": format!("{token}x") }))
        .await;
    assert_eq!(forged.status.as_u16(), 400, "{}", forged.text);
    let done = anonymous
        .post("/api/messaging/unsubscribe", json!({ "token": token }))
        .await
        .expect(200);
    assert_eq!(done["title"], "Redesign");
    let detail = w
        .ana
        .get(&format!("/api/messaging/conversations/{}", w.conversation))
        .await
        .expect(200);
    assert_eq!(detail["email"], false);

    w.ben.send(&w.conversation, "Second burst").await;
    assert!(eventually(SETTLE, async || w.push.received_by(&w.phone).len() == 2).await);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(mails_to(&w, ANA_EMAIL).await.len(), 1, "no second email");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_and_subscriptions_are_refused_naming_the_field() {
    let gw = gateway::start().await;
    let ana = gw.login("u-client-ana").await;
    let defaults = ana.get("/api/messaging/me/notifications").await.expect(200);
    assert_eq!(
        defaults,
        json!({ "level": "all", "push": true, "email": true, "emailDelaySeconds": 600, "quietHours": null })
    );
    let bad = |body: Value| {
        let ana = ana.clone();
        async move {
            let r = ana
                .call(Method::PUT, "/api/messaging/me/notifications", Some(body))
                .await;
            (r.status.as_u16(), r.body["error"]["field"].as_str().map(str::to_owned))
        }
    };
    let base = json!({ "level": "all", "push": true, "email": true, "emailDelaySeconds": 600, "quietHours": null });
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    assert_eq!(bad(with("level", json!("loud"))).await, (400, Some("level".into())));
    assert_eq!(
        bad(with("emailDelaySeconds", json!(90_000))).await,
        (400, Some("emailDelaySeconds".into()))
    );
    assert_eq!(
        bad(with(
            "quietHours",
            json!({ "start": "22:00", "end": "07:00", "timeZone": "Mars/Olympus" })
        ))
        .await,
        (400, Some("quietHours.timeZone".into()))
    );
    assert_eq!(
        bad(with(
            "quietHours",
            json!({ "start": "9pm", "end": "07:00", "timeZone": "UTC" })
        ))
        .await,
        (400, Some("quietHours.start".into()))
    );
    assert_eq!(
        ana.get("/api/messaging/me/notifications").await.expect(200),
        defaults,
        "nothing half-written"
    );

    let sub = |endpoint: &str, p256dh: &str| json!({ "endpoint": endpoint, "keys": { "p256dh": p256dh, "auth": "WCg2rCN39Qw5tzxTXvmdQg" } });
    let key = "BPzdDZ4SSRyrKIJuq9CI-tQr9RhJsgwbfqWfhJFxP1o7L7SoFVaWGGmyvGoLuY0e6fbSGV9eHAf3n7V2E97q4kE";
    let r = ana
        .post(
            "/api/messaging/me/push-subscriptions",
            sub("http://evil.example.com/x", key),
        )
        .await;
    assert_eq!((r.status.as_u16(), r.error_code()), (400, Some("validation_failed")));
    assert_eq!(r.body["error"]["field"], "endpoint");
    let r = ana
        .post(
            "/api/messaging/me/push-subscriptions",
            sub("https://push.example.com/x", "AAAA"),
        )
        .await;
    assert_eq!(r.body["error"]["field"], "keys.p256dh");
    let key_of_push = ana.get("/api/messaging/push/config").await.expect(200);
    assert_eq!(
        key_of_push["publicKey"].as_str().unwrap().len(),
        87,
        "65 bytes, base64url"
    );
}
