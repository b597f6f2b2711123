//! The gateway's `@connections` management API, driven by the clients users have: the
//! functions' own `aws-sdk-apigatewaymanagement`, the AWS CLI and boto3. And the rule
//! that a push answered 410 Gone makes the registry forget that connection.

use std::time::Duration;

use aws_sdk_apigatewaymanagement::primitives::Blob;
use integration_tests::gateway;
use integration_tests::services::{aws_config, redis_url, repo_root, unique};
use integration_tests::ws;
use messaging_core::Identity;
use messaging_core::ids::{ConnectionId, UserId};
use messaging_core::model::Role;
use messaging_core::time::Timestamp;

const WAIT: Duration = Duration::from_secs(5);

async fn management_client(endpoint: &str) -> aws_sdk_apigatewaymanagement::Client {
    let sdk = aws_config().await;
    let config = aws_sdk_apigatewaymanagement::config::Builder::from(&sdk)
        .endpoint_url(endpoint)
        .build();
    aws_sdk_apigatewaymanagement::Client::from_conf(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_push_to_a_dead_connection_gets_410_and_the_registry_forgets_it() {
    let prefix = format!("{}:", unique("gw"));
    let gw = gateway::start_with(move |c| {
        c.redis = Some(messaging_redis::RedisOptions {
            prefix,
            ..messaging_redis::RedisOptions::new(redis_url())
        });
        c.pusher = local_gateway::PusherMode::ManagementApi;
    })
    .await;
    let ben = gw.login("u-team-ben").await;
    let conv = ben.create_conversation("Dead connections", &["u-client-ana"]).await;
    let mut b1 = ws::connect(&ben, &gw.running.ws_url(), "ben").await;

    // Ana's connection died without a `$disconnect` (a crashed gateway, a lost event): the
    // registry still lists it, but API Gateway no longer knows it.
    let dead = ConnectionId::parse("DeadConn0000000=").unwrap();
    let ana = Identity {
        user_id: UserId::parse("u-client-ana").unwrap(),
        role: Role::Client,
        name: "Ana".into(),
    };
    let svc = gw.running.service();
    svc.connect(&dead, &ana).await.unwrap();
    // It was open: it had pinged (a 410 for a connection still opening is kept).
    svc.handle_action(&dead, &ana, messaging_core::events::ClientAction::Ping)
        .await
        .unwrap();
    b1.wait_event("user-joined", WAIT).await;
    let registry = &svc.ports().registry;
    assert!(registry.get_connection(&dead).await.unwrap().is_some());

    // The next push to it is answered 410; the registry drops it and Ana goes offline.
    ben.send(&conv, "anyone there?").await;
    b1.wait_event("new-message", WAIT).await;
    assert!(
        registry.get_connection(&dead).await.unwrap().is_none(),
        "the registry forgot the dead connection"
    );
    let users = [ana.user_id.clone()];
    assert!(
        registry
            .connections_of(&users, Timestamp::now())
            .await
            .unwrap()
            .is_empty()
    );
    let left = b1.wait_event("user-left", WAIT).await;
    assert_eq!(left["data"]["userId"], "u-client-ana");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sdk_client_posts_describes_and_closes_connections() {
    let gw = gateway::start().await;
    let ana = gw.login("u-client-ana").await;
    let mut a1 = ws::connect(&ana, &gw.running.ws_url(), "ana").await;
    let svc = gw.running.service();
    let ana_id = [UserId::parse("u-client-ana").unwrap()];
    let (_, connection) = svc
        .ports()
        .registry
        .connections_of(&ana_id, Timestamp::now())
        .await
        .unwrap()
        .remove(0);

    // The endpoint may carry a stage, as a deployed API's does.
    for endpoint in [gw.running.url(), format!("{}/local", gw.running.url())] {
        let client = management_client(&endpoint).await;
        client
            .post_to_connection()
            .connection_id(connection.as_str())
            .data(Blob::new(br#"{"type":"hello","data":{}}"#.to_vec()))
            .send()
            .await
            .expect("post to a live connection");
        assert_eq!(a1.wait_event("hello", WAIT).await["type"], "hello");
        let info = client
            .get_connection()
            .connection_id(connection.as_str())
            .send()
            .await
            .expect("describe");
        assert!(info.connected_at().is_some() && info.last_active_at().is_some());
        assert_eq!(info.identity().and_then(|i| i.source_ip()), Some("127.0.0.1"));
    }

    let client = management_client(&gw.running.url()).await;
    client
        .delete_connection()
        .connection_id(connection.as_str())
        .send()
        .await
        .expect("close");
    assert!(a1.closed_by_server(WAIT).await, "DELETE closes the socket");
    // `$disconnect` ran: the registry no longer has it.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        svc.ports()
            .registry
            .get_connection(&connection)
            .await
            .unwrap()
            .is_none()
    );

    use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
    let gone = client
        .post_to_connection()
        .connection_id(connection.as_str())
        .data(Blob::new(b"x".to_vec()))
        .send()
        .await;
    let err = gone.expect_err("closed connections are gone");
    assert!(
        matches!(err.as_service_error(), Some(PostToConnectionError::GoneException(_))),
        "{err:?}"
    );
    let unknown = client.get_connection().connection_id("NeverExisted00=").send().await;
    assert!(unknown.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_aws_cli_and_boto3_post_to_connections_on_the_gateway() {
    let gw = gateway::start().await;
    let ana = gw.login("u-client-ana").await;
    let mut a1 = ws::connect(&ana, &gw.running.ws_url(), "ana").await;
    let ana_id = [UserId::parse("u-client-ana").unwrap()];
    let (_, connection) = gw
        .running
        .service()
        .ports()
        .registry
        .connections_of(&ana_id, Timestamp::now())
        .await
        .unwrap()
        .remove(0);
    let venv = repo_root().join(".venv/bin");
    // The gateway's own credentials (its environment's, as for the functions).
    let creds = gw.running.gateway.connections_credentials.clone();
    let envs = [
        ("AWS_ACCESS_KEY_ID", creds.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", creds.secret_access_key.as_str()),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ];

    let payload = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(payload.path(), br#"{"type":"from-cli","data":{}}"#).unwrap();
    // `aws apigatewaymanagementapi post-to-connection` of the payload, with `secret`.
    let post_with_cli = |secret: &str| {
        std::process::Command::new(venv.join("aws"))
            .args([
                "apigatewaymanagementapi",
                "post-to-connection",
                "--endpoint-url",
                &gw.running.url(),
            ])
            .args(["--connection-id", connection.as_str(), "--data"])
            .arg(format!("fileb://{}", payload.path().display()))
            .envs(envs)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .output()
            .expect("aws cli runs")
    };
    let cli = post_with_cli(&creds.secret_access_key);
    assert!(
        cli.status.success(),
        "aws cli: {}",
        String::from_utf8_lossy(&cli.stderr)
    );
    a1.wait_event("from-cli", WAIT).await;

    // Unsigned, or signed with other keys: 403, and nothing reaches the socket.
    let forged = reqwest::Client::new()
        .post(gw.url(&format!(
            "/@connections/{}",
            connection.as_str().replace('/', "%2F").replace('+', "%2B").replace('=', "%3D")
        )))
        .body(r#"{"type":"forged","data":{}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let wrong_key = post_with_cli("not-the-gateways");
    assert!(!wrong_key.status.success());
    assert!(String::from_utf8_lossy(&wrong_key.stderr).contains("ForbiddenException"));
    a1.assert_none(Duration::from_millis(300), |e| e["type"] == "forged")
        .await;

    let script = r#"
import sys, boto3
client = boto3.client("apigatewaymanagementapi", endpoint_url=sys.argv[1])
client.post_to_connection(ConnectionId=sys.argv[2], Data=b'{"type":"from-boto3","data":{}}')
try:
    client.post_to_connection(ConnectionId="NeverExisted00=", Data=b"x")
    print("no error")
except client.exceptions.GoneException:
    print("gone")
"#;
    let boto = std::process::Command::new(venv.join("python"))
        .args(["-c", script, &gw.running.url(), connection.as_str()])
        .envs(envs)
        .output()
        .expect("python runs");
    assert!(
        boto.status.success(),
        "boto3: {}",
        String::from_utf8_lossy(&boto.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&boto.stdout).trim(),
        "gone",
        "unknown connections raise GoneException"
    );
    a1.wait_event("from-boto3", WAIT).await;
}
