//! Fuzzing the REST bodies (issue 13, item 7) where libFuzzer is impractical: the routers
//! need the whole service, so random bodies go through the real `messaging-api` and
//! `admin-api` routers in process (proptest), on every route that takes a body, as a
//! member and as an admin. Whatever arrives — bytes that are not JSON, JSON of the wrong
//! shape, the right shape with hostile values — the answer is a 2xx or the JSON error
//! with its code and message, never a 5xx and never a panic.
//!
//! `PROPTEST_CASES` sets the number of bodies per run (256 here; `make fuzz` runs more).

use std::sync::OnceLock;

use axum::body::Body;
use integration_tests::gateway::{self, TestGateway};
use messaging_core::limits::{Action, Limit};
use messaging_http::routes::{Function, ROUTES, Route};
use proptest::prelude::*;
use serde_json::Value;
use tower::ServiceExt;

struct World {
    runtime: tokio::runtime::Runtime,
    _gw: TestGateway,
    member: axum::Router,
    admin: axum::Router,
    tokens: [String; 2],
    conversation: String,
    message: String,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let (gw, tokens, conversation, message) = runtime.block_on(async {
            let gw = gateway::start_with(|c| {
                for action in Action::ALL {
                    c.settings
                        .limits
                        .set(action, Limit::new(1_000_000, std::time::Duration::from_secs(1)));
                }
            })
            .await;
            let ben = gw.login("u-team-ben").await;
            let dana = gw.login("u-admin-dana").await;
            let conversation = ben.create_conversation("Fuzzing", &["u-client-ana"]).await;
            let message = ben.send(&conversation, "a message to act on").await["id"]
                .as_str()
                .expect("id")
                .to_owned();
            let tokens = [ben.token.clone().expect("token"), dana.token.clone().expect("token")];
            (gw, tokens, conversation, message)
        });
        let state = gw.running.gateway.functions.state().clone();
        World {
            member: messaging_http::messaging_api_app(state.clone()),
            admin: messaging_http::admin_app(state),
            runtime,
            _gw: gw,
            tokens,
            conversation,
            message,
        }
    })
}

fn routes_with_bodies() -> Vec<Route> {
    ROUTES
        .iter()
        .copied()
        .filter(|r| matches!(r.method, "POST" | "PATCH"))
        .collect()
}

/// Field names the API knows, so that random objects often hit the real decoders.
const KEYS: &[&str] = &[
    "title",
    "projectId",
    "participantIds",
    "participants",
    "body",
    "clientMessageId",
    "fileIds",
    "files",
    "name",
    "size",
    "contentType",
    "seq",
    "muted",
    "hidden",
    "reason",
    "status",
    "active",
    "note",
    "action",
    "userId",
];

fn hostile_string() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 ._-]{0,40}",
        Just("\u{202E}fdp.exe".to_owned()),
        Just("\u{200B}\u{200B}".to_owned()),
        Just(format!("a{}", "\u{0301}".repeat(50))),
        Just("x".repeat(6000)),
        Just("01JABCDEFGHJKMNPQRSTVWXYZ0".to_owned()),
        Just("u-client-ana".to_owned()),
        Just("image/png".to_owned()),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        hostile_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

fn request_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

fn path_of(route: &Route, w: &World, id_choice: u8) -> String {
    let real = !id_choice.is_multiple_of(3);
    route
        .path
        .replace("{id}", if real { &w.conversation } else { "not-a-conversation" })
        .replace("{messageId}", if real { &w.message } else { "%00%ff" })
        .replace("{userId}", if real { "u-client-omar" } else { "nobody" })
        .replace("{fileId}", "01JABCDEFGHJKMNPQRSTVWXYZ0")
}

proptest! {
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn no_rest_body_gets_a_5xx_or_an_unshaped_error(
        route in prop::sample::select(routes_with_bodies()),
        body in request_body(),
        as_admin in any::<bool>(),
        id_choice in any::<u8>(),
    ) {
        let w = world();
        let router = match route.function {
            Function::MessagingApi => w.member.clone(),
            Function::AdminApi => w.admin.clone(),
        };
        let request = axum::http::Request::builder()
            .method(route.method)
            .uri(path_of(&route, w, id_choice))
            .header("authorization", format!("Bearer {}", w.tokens[as_admin as usize]))
            .header("content-type", "application/json")
            .body(Body::from(body.clone()))
            .expect("request");
        let (status, headers, answer) = w.runtime.block_on(async move {
            let response = router.oneshot(request).await.expect("infallible");
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap_or_default();
            (status, headers, bytes)
        });
        let shown = String::from_utf8_lossy(&body).chars().take(300).collect::<String>();
        prop_assert!(status < 500, "{} {} with {shown:?}: {status} {}", route.method, route.path, String::from_utf8_lossy(&answer));
        prop_assert_eq!(headers.get("x-content-type-options").map(|v| v.as_bytes()), Some(&b"nosniff"[..]));
        if status >= 400 {
            let error: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
            prop_assert!(
                error["error"]["code"].is_string() && error["error"]["message"].is_string(),
                "{} {}: {status} without the JSON error: {}", route.method, route.path, String::from_utf8_lossy(&answer)
            );
        }
    }
}
