//! RS256 tokens verified against a JWKS URL, as the functions verify Cognito tokens in
//! AWS: keys fetched over HTTP, matched by `kid`, issuer/audience/expiry checked.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use messaging_auth::Authenticator;
use messaging_core::model::Role;
use serde_json::json;

const KEY_PEM: &[u8] = include_bytes!("../fixtures/test-rsa-key.pem");
const JWKS: &str = include_str!("../fixtures/test-jwks.json");
const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST";

/// Serves the JWKS on a free port and counts fetches.
async fn jwks_server() -> (String, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    let app = axum::Router::new().route(
        "/.well-known/jwks.json",
        axum::routing::get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { ([("content-type", "application/json")], JWKS) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/.well-known/jwks.json"), fetches)
}

fn sign(kid: &str, claims: serde_json::Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, &claims, &EncodingKey::from_rsa_pem(KEY_PEM).unwrap()).unwrap()
}

/// A Cognito access token: the app client in `client_id`, no `aud`.
fn cognito_access_token(exp_offset: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "sub": "3f2b6c0e-8d2a-4d7e-9f59-0d7b1c2e4a11",
        "iss": ISSUER,
        "client_id": "app-client-123",
        "token_use": "access",
        "scope": "openid email profile",
        "exp": now + exp_offset,
        "iat": now,
        "cognito:groups": ["team"],
        "username": "ben.c",
    })
}

#[tokio::test]
async fn cognito_style_rs256_tokens_verify_through_the_jwks_url() {
    let (url, fetches) = jwks_server().await;
    let auth = Authenticator::rs256_jwks(url, ISSUER, "app-client-123");
    let id = auth
        .verify(&sign("test-key-1", cognito_access_token(600)))
        .await
        .unwrap();
    assert_eq!(id.user_id.as_str(), "3f2b6c0e-8d2a-4d7e-9f59-0d7b1c2e4a11");
    assert_eq!((id.role, id.name.as_str()), (Role::Team, "ben.c"));
    // Keys are cached: a second token costs no fetch.
    auth.verify(&sign("test-key-1", cognito_access_token(600)))
        .await
        .unwrap();
    assert_eq!(fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn an_id_token_is_not_a_bearer_token_for_the_api() {
    // Its `aud` is the app client too, and it travels in URLs (a logout's id_token_hint).
    let (url, _) = jwks_server().await;
    let auth = Authenticator::rs256_jwks(url, ISSUER, "app-client-123");
    let mut id = cognito_access_token(600);
    id["token_use"] = json!("id");
    id["aud"] = json!("app-client-123");
    let err = auth.verify(&sign("test-key-1", id)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "an ID token is not accepted here: send the access token"
    );
}

#[tokio::test]
async fn rs256_tokens_with_a_wrong_kid_issuer_audience_or_expiry_are_refused() {
    let (url, fetches) = jwks_server().await;
    let auth = Authenticator::rs256_jwks(url, ISSUER, "app-client-123");
    assert!(
        auth.verify(&sign("unknown-kid", cognito_access_token(600)))
            .await
            .is_err()
    );
    // An unknown kid refetches at most once per minute, not on every request.
    assert!(
        auth.verify(&sign("another-unknown", cognito_access_token(600)))
            .await
            .is_err()
    );
    assert_eq!(fetches.load(Ordering::SeqCst), 1);

    let mut wrong_issuer = cognito_access_token(600);
    wrong_issuer["iss"] = json!("https://evil.example");
    assert!(auth.verify(&sign("test-key-1", wrong_issuer)).await.is_err());
    let mut wrong_audience = cognito_access_token(600);
    wrong_audience["client_id"] = json!("another-client");
    assert!(auth.verify(&sign("test-key-1", wrong_audience)).await.is_err());
    let err = auth
        .verify(&sign("test-key-1", cognito_access_token(-600)))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "token expired");
    // An HS256 token (signed with a public value as the secret) is not accepted by an RS256 verifier.
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &cognito_access_token(600),
        &EncodingKey::from_secret(JWKS.as_bytes()),
    )
    .unwrap();
    assert!(auth.verify(&hs).await.is_err());
}
