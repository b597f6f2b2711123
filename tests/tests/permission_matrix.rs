//! Every REST route × {no token, expired token, forged token, non-member, non-admin}:
//! the right 401/403/404, and nothing leaks. The route list is `messaging_http::routes::ROUTES`,
//! the same table the OpenAPI document and the SAM template are checked against.

use std::time::Duration;

use integration_tests::gateway::{self, Api, Reply};
use integration_tests::ws;
use messaging_auth::{Claims, DevTokens};
use messaging_core::model::Role;
use messaging_core::policy::ClientContacts;
use messaging_http::routes::{Access, ROUTES, Route};
use reqwest::Method;
use serde_json::{Value, json};

const SECRET_TITLE: &str = "Acquisition talks 7f3a";
const SECRET_TEXT: &str = "the price is 4.2M";

struct Fixture {
    message: String,
    report: String,
}

fn path_for(route: &Route, f: &Fixture, conversation: &str) -> String {
    let id = if route.path.starts_with("/api/admin/messaging/reports/") {
        f.report.as_str()
    } else {
        conversation
    };
    let path = route
        .path
        .replace("{id}", id)
        .replace("{messageId}", &f.message)
        .replace("{userId}", "u-team-ben")
        .replace("{fileId}", &ulid::Ulid::generate().to_string())
        .replace("{subscriptionId}", "no-such-subscription");
    // Searches need something to search for, a reaction taken away its emoji.
    if route.path.ends_with("/search") {
        format!("{path}?q=hello")
    } else if route.operation_id == "removeReaction" {
        format!("{path}?emoji=%F0%9F%91%8D")
    } else {
        path
    }
}

fn body_for(route: &Route) -> Option<Value> {
    Some(match route.operation_id {
        "createConversation" => json!({ "title": "Another", "participantIds": [] }),
        "renameConversation" => json!({ "title": "Renamed" }),
        "addParticipants" => json!({ "participantIds": ["u-team-cleo"] }),
        "sendMessage" => json!({ "body": "hello", "clientMessageId": ulid::Ulid::generate().to_string() }),
        "editMessage" => json!({ "body": "edited" }),
        "reportMessage" => json!({ "reason": "spam" }),
        "addReaction" => json!({ "emoji": "👍" }),
        "markRead" => json!({ "seq": 1 }),
        "requestUploads" => json!({ "files": [{ "name": "a.pdf", "size": 10, "contentType": "application/pdf" }] }),
        "adminSetStatus" => json!({ "status": "archived" }),
        "adminResolveReport" => json!({ "status": "dismissed" }),
        "renameMe" => json!({ "name": "A new name" }),
        "setPreferences" => json!({ "muted": true }),
        "adminSetUserState" => json!({ "active": true }),
        "setNotificationSettings" => {
            json!({ "level": "all", "push": true, "email": true, "emailDelaySeconds": 600, "quietHours": null })
        }
        "addPushSubscription" => json!({
            "endpoint": "https://push.example.com/send/abc",
            "expirationTime": null,
            "keys": {
                "p256dh": "BPzdDZ4SSRyrKIJuq9CI-tQr9RhJsgwbfqWfhJFxP1o7L7SoFVaWGGmyvGoLuY0e6fbSGV9eHAf3n7V2E97q4kE",
                "auth": "WCg2rCN39Qw5tzxTXvmdQg"
            }
        }),
        "unsubscribe" => json!({ "token": "a.forged.token" }),
        _ => return None,
    })
}

async fn call(api: &Api, route: &Route, path: &str) -> Reply {
    let method = Method::from_bytes(route.method.as_bytes()).expect("method");
    api.call(method, path, body_for(route)).await
}

fn assert_leaks_nothing(reply: &Reply, what: &str) {
    for secret in [SECRET_TITLE, SECRET_TEXT, "u-team-ben"] {
        assert!(
            !reply.text.contains(secret),
            "{what}: response leaks {secret:?}: {}",
            reply.text
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_refuses_the_wrong_callers_and_leaks_nothing() {
    let gw = gateway::start().await;
    let ana = gw.login("u-client-ana").await; // client, member
    let ben = gw.login("u-team-ben").await; // team, member, creator
    let omar = gw.login("u-client-omar").await; // client, not a member

    let conversation = ben.create_conversation(SECRET_TITLE, &["u-client-ana"]).await;
    let message = ben.send(&conversation, SECRET_TEXT).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let report = ana
        .post(
            &format!("/api/messaging/conversations/{conversation}/messages/{message}/report"),
            json!({ "reason": "r" }),
        )
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let f = Fixture { message, report };
    let ghost = ulid::Ulid::generate().to_string();

    let secret = local_gateway::GatewayConfig::embedded(".").jwt_secret;
    let tokens = DevTokens::new(secret.as_bytes());
    let now = chrono::Utc::now().timestamp();
    let expired = tokens.issue_claims(&Claims {
        sub: "u-client-ana".into(),
        exp: now - 3600,
        iat: Some(now - 7200),
        nbf: None,
        iss: Some(DevTokens::ISSUER.into()),
        aud: Some(json!(DevTokens::AUDIENCE)),
        token_use: None,
        client_id: None,
        role: Some("admin".into()),
        groups: None,
        name: None,
        username: None,
        access_username: None,
        email: None,
    });
    let forged = DevTokens::new(b"not-the-gateway-secret-not-the-gateway").issue(
        "u-admin-dana",
        Role::Admin,
        "Mallory",
        Duration::from_secs(600),
    );
    let anonymous = gw.anonymous();
    let expired = gw.with_token(&expired);
    let forged = gw.with_token(&forged);

    for route in ROUTES {
        let path = path_for(route, &f, &conversation);
        let what = format!("{} {}", route.method, route.path);

        if route.access == Access::Public {
            // No sign-in: the route's own signed token is the proof, and a forged one is
            // refused the same whoever calls.
            for api in [&anonymous, &expired, &forged, &omar, &ana] {
                let r = call(api, route, &path).await;
                assert_eq!(
                    (r.status.as_u16(), r.error_code()),
                    (400, Some("validation_failed")),
                    "{what} with a forged token: {}",
                    r.text
                );
                assert_leaks_nothing(&r, &what);
            }
            continue;
        }

        let r = call(&anonymous, route, &path).await;
        assert_eq!(
            (r.status.as_u16(), r.error_code()),
            (401, Some("unauthenticated")),
            "{what} without a token: {}",
            r.text
        );
        assert_leaks_nothing(&r, &what);

        let r = call(&expired, route, &path).await;
        assert_eq!(r.status.as_u16(), 401, "{what} with an expired token");
        assert_eq!(r.body["error"]["message"], "token expired", "{what}");

        let r = call(&forged, route, &path).await;
        assert_eq!(r.status.as_u16(), 401, "{what} with a forged token");

        // A client who is not a member.
        let r = call(&omar, route, &path).await;
        match route.access {
            Access::Member => {
                assert_eq!(
                    (r.status.as_u16(), r.error_code()),
                    (404, Some("not_found")),
                    "{what} as a non-member: {}",
                    r.text
                );
                assert_leaks_nothing(&r, &what);
                // Indistinguishable from a conversation that does not exist.
                let missing = call(&omar, route, &path_for(route, &f, &ghost)).await;
                assert_eq!(
                    (missing.status, missing.body.clone()),
                    (r.status, r.body.clone()),
                    "{what}: existence leaks"
                );
            }
            Access::Admin => {
                assert_eq!(
                    (r.status.as_u16(), r.error_code()),
                    (403, Some("forbidden")),
                    "{what} as a non-admin: {}",
                    r.text
                );
                assert_leaks_nothing(&r, &what);
            }
            Access::Anyone if route.operation_id == "removePushSubscription" => {
                assert_eq!(r.status.as_u16(), 404, "{what}: nobody's subscription: {}", r.text)
            }
            Access::Anyone => assert!(r.status.is_success(), "{what} for any user: {}", r.text),
            Access::Public => unreachable!("handled above"),
        }

        // A member without the admin role.
        let r = call(&ana, route, &path).await;
        match route.access {
            Access::Admin => {
                assert_eq!(
                    (r.status.as_u16(), r.error_code()),
                    (403, Some("forbidden")),
                    "{what} as a member non-admin: {}",
                    r.text
                );
                assert_leaks_nothing(&r, &what);
            }
            _ => {
                // Members may use member routes; some actions belong to the sender or the team.
                let expected = match route.operation_id {
                    "renameConversation" | "addParticipants" | "removeParticipant" | "editMessage"
                    | "deleteMessage" | "pinMessage" | "unpinMessage" => 403,
                    "reportMessage" => 409, // reported once above
                    "downloadFile" => 404,  // no such file
                    "removePushSubscription" => 404,
                    _ => 0,
                };
                if expected == 0 {
                    assert!(r.status.is_success(), "{what} as a member: {}", r.text);
                } else {
                    assert_eq!(r.status.as_u16(), expected, "{what} as a member: {}", r.text);
                }
                assert_ne!(r.body["error"]["message"], "route not found", "{what} is not routed");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_oversee_every_conversation_but_do_not_post_into_it() {
    let gw = gateway::start().await;
    let ben = gw.login("u-team-ben").await;
    let dana = gw.login("u-admin-dana").await;
    let conversation = ben.create_conversation("Oversight", &["u-client-ana"]).await;
    let message = ben.send(&conversation, "hello").await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let base = format!("/api/messaging/conversations/{conversation}");

    dana.get(&base).await.expect(200);
    dana.get(&format!("{base}/messages")).await.expect(200);
    dana.get(&format!("/api/admin/messaging/conversations/{conversation}/messages"))
        .await
        .expect(200);
    let post = dana
        .post(
            &format!("{base}/messages"),
            json!({ "body": "x", "clientMessageId": "x" }),
        )
        .await;
    assert_eq!(
        post.status.as_u16(),
        404,
        "admins read and moderate; they post only where they are members"
    );
    let deleted = dana.delete(&format!("{base}/messages/{message}")).await.expect(200);
    assert_eq!(deleted["deleted"], true, "admins may delete any message");
}

/// A second client of Ana's organisation, added as an admin adds people.
async fn add_second_acme_client(admin: &Api) {
    admin
        .post(
            "/dev/users",
            json!({ "userId": "u-client-ava", "name": "Ava Stone", "role": "client", "organisation": "Acme Corp" }),
        )
        .await
        .expect(201);
}

/// Who may talk to whom (`CLIENT_CONTACTS`, default `organisation`): a client starts
/// conversations with the team and with clients of their own organisation only, and
/// sees no more of the directory than that; the team sees everyone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_reach_the_team_and_their_own_organisation_only() {
    let gw = gateway::start().await;
    let ana = gw.login("u-client-ana").await; // Acme Corp
    let ben = gw.login("u-team-ben").await;
    let dana = gw.login("u-admin-dana").await;
    add_second_acme_client(&dana).await;

    let create = |people: &[&str]| json!({ "title": "Hello", "participantIds": people });
    let refused = ana
        .post("/api/messaging/conversations", create(&["u-client-omar"]))
        .await;
    assert_eq!(
        (refused.status.as_u16(), refused.error_code()),
        (403, Some("forbidden")),
        "client → client of another organisation: {}",
        refused.text
    );
    let message = refused.body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("participantIds[0]") && message.contains("u-client-omar"),
        "names whom: {message}"
    );
    let mixed = ana
        .post("/api/messaging/conversations", create(&["u-team-ben", "u-client-omar"]))
        .await;
    assert_eq!(
        mixed.status.as_u16(),
        403,
        "one person out of reach refuses the whole request"
    );
    ana.post("/api/messaging/conversations", create(&["u-client-ava"]))
        .await
        .expect(201);
    ana.post("/api/messaging/conversations", create(&["u-team-ben", "u-admin-dana"]))
        .await
        .expect(201);
    ben.post(
        "/api/messaging/conversations",
        create(&["u-client-ana", "u-client-omar"]),
    )
    .await
    .expect(201);

    let ids = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["userId"].as_str().unwrap().to_owned())
            .collect()
    };
    let seen_by_ana = ids(&ana.get("/api/messaging/people").await.expect(200));
    assert_eq!(
        seen_by_ana,
        vec!["u-client-ava", "u-team-ben", "u-team-cleo", "u-admin-dana"],
        "a client sees the team and their own organisation, by name"
    );
    let searched = ana.get("/api/messaging/people?q=omar").await.expect(200);
    assert_eq!(ids(&searched), Vec::<String>::new(), "searching does not widen it");
    assert!(
        !ana.get("/api/messaging/people").await.text.contains("@"),
        "nor shows emails to a client"
    );
    let seen_by_ben = ids(&ben.get("/api/messaging/people").await.expect(200));
    assert!(seen_by_ben.contains(&"u-client-omar".to_owned()) && seen_by_ben.contains(&"u-client-ana".to_owned()));
    assert!(
        !seen_by_ben.contains(&"u-team-ben".to_owned()),
        "the caller is left out"
    );
    let admin_list = ids(&dana.get("/api/admin/messaging/users").await.expect(200));
    assert_eq!(admin_list.len(), 6, "admins list the whole directory: {admin_list:?}");
    assert_eq!(ana.get("/api/admin/messaging/users").await.status.as_u16(), 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_is_one_setting_per_deployment() {
    for (setting, omar_status, ava_status) in [("team", 403, 403), ("anyone", 201, 201)] {
        let gw = gateway::start_with(|c| c.settings.contacts.client_contacts = ClientContacts::parse(setting).unwrap())
            .await;
        let ana = gw.login("u-client-ana").await;
        let dana = gw.login("u-admin-dana").await;
        add_second_acme_client(&dana).await;
        for (who, expected) in [("u-client-omar", omar_status), ("u-client-ava", ava_status)] {
            let r = ana
                .post(
                    "/api/messaging/conversations",
                    json!({ "title": "Hi", "participantIds": [who] }),
                )
                .await;
            assert_eq!(
                r.status.as_u16(),
                expected,
                "CLIENT_CONTACTS={setting}, ana → {who}: {}",
                r.text
            );
        }
        ana.post(
            "/api/messaging/conversations",
            json!({ "title": "Hi", "participantIds": ["u-team-ben"] }),
        )
        .await
        .expect(201);
    }
}

/// A disabled user's tokens stop working at once: REST answers 401, a ticket issued
/// before cannot connect, and the sockets they had open are closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_user_is_locked_out_at_once() {
    let gw = gateway::start().await;
    let omar = gw.login("u-client-omar").await;
    let dana = gw.login("u-admin-dana").await;
    let mut socket = ws::connect(&omar, &gw.running.ws_url(), "omar").await;
    let spare = omar.post("/api/messaging/ws-ticket", json!({})).await.expect(201)["ticket"]
        .as_str()
        .unwrap()
        .to_owned();

    let off = dana
        .patch("/api/admin/messaging/users/u-client-omar", json!({ "active": false }))
        .await
        .expect(200);
    assert_eq!(off["active"], false);
    let r = omar.get("/api/messaging/me").await;
    assert_eq!(
        (r.status.as_u16(), r.error_code()),
        (401, Some("unauthenticated")),
        "{}",
        r.text
    );
    assert_eq!(omar.get("/api/messaging/conversations").await.status.as_u16(), 401);
    assert_eq!(
        omar.post("/api/messaging/ws-ticket", json!({})).await.status.as_u16(),
        401
    );
    assert!(
        socket.closed_by_server(Duration::from_secs(5)).await,
        "the open socket is closed"
    );
    assert_eq!(
        ws::try_connect(&gw.running.ws_url(), &spare).await.err(),
        Some(401),
        "an earlier ticket no longer connects"
    );
    let login = gw
        .anonymous()
        .post("/dev/login", json!({ "userId": "u-client-omar" }))
        .await;
    assert_eq!(login.status.as_u16(), 400, "nor can they sign in again");
    let people = gw
        .login("u-team-ben")
        .await
        .get("/api/messaging/people?q=omar")
        .await
        .expect(200);
    assert_eq!(
        people["items"].as_array().unwrap().len(),
        0,
        "nobody can add a disabled user"
    );
    let add = gw
        .login("u-team-ben")
        .await
        .post(
            "/api/messaging/conversations",
            json!({ "title": "x", "participantIds": ["u-client-omar"] }),
        )
        .await;
    assert_eq!(add.body["error"]["field"], "participantIds[0]", "{}", add.text);

    let self_disable = dana
        .patch("/api/admin/messaging/users/u-admin-dana", json!({ "active": false }))
        .await;
    assert_eq!(self_disable.status.as_u16(), 400, "an admin cannot lock themselves out");
    dana.patch("/api/admin/messaging/users/u-client-omar", json!({ "active": true }))
        .await
        .expect(200);
    omar.get("/api/messaging/me").await.expect(200);
}
