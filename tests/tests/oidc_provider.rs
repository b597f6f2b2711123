//! The local gateway's OpenID Connect provider over HTTP, as the web client and the smoke
//! suite use it: the authorization code + PKCE, tokens the functions accept through JWKS,
//! refresh rotation, revocation and logout.

use std::time::Duration;

use integration_tests::gateway::{self, TestGateway};
use messaging_auth::{Authenticator, DevTokens};
use messaging_core::model::Role;
use reqwest::StatusCode;
use serde_json::Value;
use smoke::signin::{WebConfig, code_with_pkce, http_client};

async fn sign_in(gw: &TestGateway, user: &str) -> Value {
    let http = http_client().unwrap();
    let config = WebConfig::load(&http, &gw.running.url()).await.unwrap();
    code_with_pkce(&http, &config, user).await.unwrap()
}

async fn token_request(gw: &TestGateway, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let response = http_client()
        .unwrap()
        .post(gw.url("/oidc/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form)
                .finish(),
        )
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The web client's `config.json` as the gateway serves it.
async fn config_json(gw: &TestGateway) -> Value {
    gw.http
        .get(gw.url("/config.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn refresh_form(token: &str) -> [(&str, &str); 3] {
    [
        ("grant_type", "refresh_token"),
        ("client_id", "messaging-web"),
        ("refresh_token", token),
    ]
}

#[tokio::test]
async fn the_authorization_code_with_pkce_gives_tokens_the_api_accepts() {
    let gw = gateway::start().await;
    let tokens = sign_in(&gw, "u-team-ben").await;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    let api = gw.with_token(tokens["access_token"].as_str().unwrap());
    let me = api.get("/api/messaging/me").await.expect(200);
    assert_eq!(
        (me["userId"].as_str(), me["role"].as_str()),
        (Some("u-team-ben"), Some("team"))
    );
    // The WebSocket takes it too (through a ticket).
    let ticket = api
        .post("/api/messaging/ws-ticket", serde_json::json!({}))
        .await
        .expect(201);
    assert!(ticket["ticket"].is_string());
}

#[tokio::test]
async fn the_functions_verify_the_providers_tokens_through_jwks_and_refuse_hs256_then() {
    let gw = gateway::start().await;
    let secret = local_gateway::GatewayConfig::embedded(".").jwt_secret;
    let issuer = gw.running.url();
    let jwks = gw.url("/oidc/jwks.json");
    // What a function builds from its environment, JWT_SECRET set too.
    let vars = |name: &str| match name {
        "JWKS_URL" => Some(jwks.clone()),
        "JWT_ISSUER" => Some(issuer.clone()),
        "JWT_AUDIENCE" => Some("messaging-web".to_owned()),
        "JWT_SECRET" => Some(secret.clone()),
        _ => None,
    };
    let auth = Authenticator::from_vars(vars).unwrap();
    let tokens = sign_in(&gw, "u-client-ana").await;
    let who = auth.verify(tokens["access_token"].as_str().unwrap()).await.unwrap();
    assert_eq!((who.user_id.as_str(), who.role), ("u-client-ana", Role::Client));
    // Its ID token is no bearer token (it travels in logout URLs).
    assert!(auth.verify(tokens["id_token"].as_str().unwrap()).await.is_err());
    // An HS256 token made with that very secret is refused: JWKS is the only way in.
    let dev = DevTokens::new(secret.as_bytes()).issue("u-admin-dana", Role::Admin, "Dana", Duration::from_secs(600));
    assert!(auth.verify(&dev).await.is_err());
    // ...whereas the gateway itself, with its dev login, takes both.
    gw.with_token(&dev).get("/api/messaging/me").await.expect(200);
}

#[tokio::test]
async fn a_missing_verifier_a_replayed_code_or_a_foreign_redirect_is_refused() {
    let gw = gateway::start().await;
    let http = http_client().unwrap();
    let config = WebConfig::load(&http, &gw.running.url()).await.unwrap();
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let params = [
        ("response_type", "code"),
        ("client_id", "messaging-web"),
        ("redirect_uri", config.redirect_uri.as_str()),
        ("scope", "openid"),
        ("state", "st"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("user_id", "u-client-ana"),
    ];
    let answer = http.post(gw.url("/oidc/authorize")).form(&params).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let location = url::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let (status, body) = token_request(
        &gw,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "messaging-web"),
            ("code", &code),
            ("redirect_uri", &config.redirect_uri),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    // The code is spent by that attempt, even with the right verifier now.
    let (status, _) = token_request(
        &gw,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", "messaging-web"),
            ("code", &code),
            ("redirect_uri", &config.redirect_uri),
            ("code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A redirect to somewhere else is never followed: the page says why.
    let mut foreign = params.to_vec();
    foreign[2] = ("redirect_uri", "https://evil.example/auth/callback");
    let page = http
        .get(gw.url("/oidc/authorize"))
        .query(&foreign)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(page.headers().get("location").is_none());
    // Without PKCE the client hears why, through its redirect.
    let mut plain = params.to_vec();
    plain.retain(|(k, _)| *k != "code_challenge");
    let refused = http.get(gw.url("/oidc/authorize")).query(&plain).send().await.unwrap();
    let back = url::Url::parse(refused.headers()["location"].to_str().unwrap()).unwrap();
    let q: std::collections::HashMap<_, _> = back.query_pairs().into_owned().collect();
    assert_eq!((q["error"].as_str(), q["state"].as_str()), ("invalid_request", "st"));
}

#[tokio::test]
async fn refresh_tokens_rotate_and_logout_or_revocation_ends_them() {
    let gw = gateway::start().await;
    let first = sign_in(&gw, "u-team-cleo").await;
    let (status, renewed) = token_request(&gw, &refresh_form(first["refresh_token"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    assert_ne!(renewed["refresh_token"], first["refresh_token"]);
    gw.with_token(renewed["access_token"].as_str().unwrap())
        .get("/api/messaging/me")
        .await
        .expect(200);
    // Revoked: refused.
    let refresh = renewed["refresh_token"].as_str().unwrap();
    let revoked = http_client()
        .unwrap()
        .post(gw.url("/oidc/revoke"))
        .form(&[("token", refresh), ("client_id", "messaging-web")])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    let (status, body) = token_request(&gw, &refresh_form(refresh)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    // Logout with the ID token ends that sign-in and goes back where asked, with the state.
    let other = sign_in(&gw, "u-team-cleo").await;
    let back = format!("{}/login", gw.running.url());
    let logout = http_client()
        .unwrap()
        .get(gw.url("/oidc/logout"))
        .query(&[
            ("id_token_hint", other["id_token"].as_str().unwrap()),
            ("post_logout_redirect_uri", back.as_str()),
            ("state", "bye"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        logout.headers()["location"].to_str().unwrap(),
        format!("{back}?state=bye")
    );
    let (status, _) = token_request(&gw, &refresh_form(other["refresh_token"].as_str().unwrap())).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_disabled_person_cannot_renew() {
    let gw = gateway::start().await;
    let tokens = sign_in(&gw, "u-client-omar").await;
    let dana = gw.login("u-admin-dana").await;
    dana.post(
        "/dev/users",
        serde_json::json!({ "userId": "u-client-omar", "name": "Omar Haddad", "role": "client", "active": false }),
    )
    .await
    .expect(201);
    let (status, body) = token_request(&gw, &refresh_form(tokens["refresh_token"].as_str().unwrap())).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
}

#[tokio::test]
async fn the_signing_key_and_its_tokens_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    let start = |p: std::path::PathBuf| async move {
        let mut config = local_gateway::GatewayConfig::embedded(p);
        config.bind = "127.0.0.1:0".parse().unwrap();
        local_gateway::start(config).await.unwrap()
    };
    let first = start(path.clone()).await;
    let jwks: Value = reqwest::get(format!("{}/oidc/jwks.json", first.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    first.shutdown().await;
    let second = start(path).await;
    let again: Value = reqwest::get(format!("{}/oidc/jwks.json", second.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks, again);
    assert_eq!(jwks["keys"][0]["alg"], "RS256");
    second.shutdown().await;
}

#[tokio::test]
async fn the_web_policy_lets_a_page_opened_as_localhost_reach_the_issuer() {
    let web = tempfile::tempdir().unwrap();
    std::fs::write(web.path().join("index.html"), "<!doctype html><title>t</title>").unwrap();
    let dir = web.path().to_owned();
    let gw = gateway::start_with(move |c| c.web_dir = Some(dir)).await;
    // The issuer is 127.0.0.1:<port>; the same page may be opened as localhost:<port>.
    let page = gw
        .http
        .get(format!("http://localhost:{}/messages", gw.running.addr.port()))
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(
        csp.contains(&format!("connect-src 'self' {}", gw.running.url())),
        "{csp}"
    );
    let config = config_json(&gw).await;
    assert_eq!(config["auth"]["authority"], gw.running.url());
}

#[tokio::test]
async fn like_cognito_the_functions_take_its_access_tokens_by_client_id_and_groups() {
    let gw = gateway::start_with(|c| c.oidc_like_cognito = true).await;
    let tokens = sign_in(&gw, "u-team-ben").await;
    let me = gw
        .with_token(tokens["access_token"].as_str().unwrap())
        .get("/api/messaging/me")
        .await
        .expect(200);
    assert_eq!(me["role"], "team");
    let config = config_json(&gw).await;
    assert_eq!(config["auth"]["logoutUrl"], format!("{}/logout", gw.running.url()));
    // Cognito's /logout goes back to a registered URI; refresh tokens outlive it.
    let back = format!("{}/login", gw.running.url());
    let logout = http_client()
        .unwrap()
        .get(gw.url("/logout"))
        .query(&[("client_id", "messaging-web"), ("logout_uri", back.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(logout.headers()["location"].to_str().unwrap(), back);
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, renewed) = token_request(&gw, &refresh_form(refresh)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(renewed.get("refresh_token").is_none(), "{renewed}");
    // Its /oauth2/revoke does end it.
    let revoked = http_client()
        .unwrap()
        .post(gw.url("/oauth2/revoke"))
        .form(&[("token", refresh), ("client_id", "messaging-web")])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    assert_eq!(
        token_request(&gw, &refresh_form(refresh)).await.0,
        StatusCode::BAD_REQUEST
    );
    // Without the flag there is no such path.
    let plain = gateway::start().await;
    assert_eq!(
        plain.http.get(plain.url("/logout")).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}
