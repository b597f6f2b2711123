//! The smoke suite (`make smoke STACK=<name>`) on every change: its whole run against the
//! local gateway (signed in through the gateway's OIDC provider), a broken stack reported
//! as failing, and its Cognito half (throwaway users made, signed in with admin auth,
//! their tokens verified as the functions verify them, then deleted) against the test
//! endpoint's user pool.

use aws_sdk_cognitoidentityprovider::types::ExplicitAuthFlowsType;
use integration_tests::cognito::TestPool;
use integration_tests::gateway;
use messaging_auth::Authenticator;
use messaging_core::model::Role;
use smoke::Target;
use smoke::signin::{CognitoUsers, LocalUsers};

#[tokio::test]
async fn the_smoke_suite_passes_against_the_local_gateway() {
    let gw = gateway::start().await;
    let report = smoke::cli::local(&gw.running.url(), "u-admin-dana").await.unwrap();
    println!("{}", report.table());
    assert!(report.passed(), "{}", report.table());
    let names: Vec<_> = report.steps.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "create conversation",
            "connect websockets",
            "upload file",
            "send message",
            "receive over websocket",
            "download file",
            "read receipt",
            "cleanup",
            "remove users"
        ]
    );
    // The throwaway people can no longer sign in.
    let page = reqwest::get(gw.url(
        "/oidc/authorize?response_type=code&client_id=messaging-web&redirect_uri=http://127.0.0.1:1/auth/callback&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(page.contains("u-client-ana") && !page.contains("u-smoke-"), "{page}");
}

#[tokio::test]
async fn a_stack_whose_websocket_is_unreachable_fails_the_suite_and_is_still_cleaned_up() {
    let gw = gateway::start().await;
    let (users, config, a, b) = LocalUsers::create(&gw.running.url(), "u-admin-dana").await.unwrap();
    let broken = Target {
        api_base: config.target.api_base.clone(),
        ws_url: "ws://127.0.0.1:9/ws".into(),
    };
    let report = smoke::run(&broken, &a, &b).await;
    print!("{}", report.table());
    assert!(!report.passed());
    let failed: Vec<_> = report.steps.iter().filter(|s| !s.passed).map(|s| s.name).collect();
    assert_eq!(failed, ["connect websockets"]);
    assert!(report.table().contains("1 of 3 steps FAILED"), "{}", report.table());
    // The conversation it made was left by both.
    let listed = gw
        .with_token(&a.access_token)
        .get("/api/messaging/conversations")
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(0), "{listed}");
    users.remove().await.unwrap();
}

async fn usernames(pool: &TestPool) -> Vec<String> {
    let listed = pool
        .client
        .list_users()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .unwrap();
    listed
        .users()
        .iter()
        .filter_map(|u| u.username())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn throwaway_cognito_users_sign_in_with_admin_auth_and_are_deleted() {
    let pool = TestPool::create().await;
    let app = pool
        .client
        .create_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_name("web")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .unwrap();
    let client_id = app.user_pool_client().and_then(|c| c.client_id()).unwrap().to_owned();
    let (users, a, b) = CognitoUsers::create(pool.client.clone(), &pool.pool_id, &client_id)
        .await
        .unwrap();
    // Verified as a function verifies Cognito's access tokens: JWKS, issuer, client_id.
    let endpoint = integration_tests::services::aws_endpoint();
    let region = messaging_backends::environment::get("AWS_REGION").unwrap_or_else(|| "us-east-1".into());
    let auth = Authenticator::rs256_jwks(
        format!("{endpoint}/{}/.well-known/jwks.json", pool.pool_id),
        format!("https://cognito-idp.{region}.amazonaws.com/{}", pool.pool_id),
        client_id,
    );
    let team = auth.verify(&a.access_token).await.unwrap();
    assert_eq!((team.user_id.as_str(), team.role), (a.user_id.as_str(), Role::Team));
    let client = auth.verify(&b.access_token).await.unwrap();
    assert_eq!(client.role, Role::Client);
    assert_ne!(a.user_id, b.user_id);

    // One is already gone (deleted by hand meanwhile): the other is still deleted, and
    // the failure is reported.
    let first = usernames(&pool).await;
    // The first made (the team member): a removal that stopped at its failure would leave
    // the client behind.
    let gone = first.into_iter().find(|u| u.starts_with("smoke-team-")).unwrap();
    pool.client
        .admin_delete_user()
        .user_pool_id(&pool.pool_id)
        .username(&gone)
        .send()
        .await
        .unwrap();
    let refused = users.remove().await.unwrap_err();
    assert!(refused.contains("AdminDeleteUser"), "{refused}");
    let left = usernames(&pool).await;
    assert_eq!(left, Vec::<String>::new());
}

#[tokio::test]
async fn against_a_stack_it_names_the_output_it_lacks_and_the_usage_without_arguments() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("outputs.json");
    std::fs::write(
        &file,
        r#"[{"OutputKey": "RestApiUrl", "OutputValue": "https://abc.execute-api.eu-west-1.amazonaws.com/prod/"}]"#,
    )
    .unwrap();
    let args = ["--outputs".to_owned(), file.display().to_string()];
    let refused = smoke::cli::run(&args).await.unwrap_err();
    assert_eq!(refused, "the stack has no output WebSocketUrl");
    let outputs: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(
        smoke::cli::output(&outputs, "RestApiUrl").unwrap(),
        "https://abc.execute-api.eu-west-1.amazonaws.com/prod",
        "no trailing slash: paths are appended"
    );
    assert!(smoke::cli::run(&[]).await.unwrap_err().contains("--outputs FILE"));
}
