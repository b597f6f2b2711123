//! A push that fails for a reason other than 410 (a 403 from a wrong IAM policy or an
//! execute-api VPC endpoint with private DNS) fails every push while sends still succeed:
//! it must show as the `PushFailures` metric (an embedded-metric-format line in Lambda)
//! and as an error log, and must not make the registry forget the connection.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderValue, StatusCode};
use axum::response::IntoResponse;
use messaging_backends::{
    AwsTarget, BackendChoice, BlobChoice, DirectoryChoice, PusherChoice, RegistryChoice, SchedulerChoice, StoreChoice,
};
use messaging_core::ids::{ClientMessageId, ConnectionId, UserId};
use messaging_core::model::Role;
use messaging_core::ports::{ConnectionPusher, PushError};
use messaging_core::service::{CreateConversation, SendMessage};
use messaging_core::text::{MessageBody, Title};
use messaging_core::{Identity, Messaging, Settings};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// An `@connections` that refuses every push with 403, typed as API Gateway types it or
/// bare (as a VPC endpoint answers for a public API).
async fn forbidding_endpoint(typed: bool) -> String {
    let app = axum::Router::new().route(
        "/@connections/{id}",
        axum::routing::post(move || async move {
            let mut response = (StatusCode::FORBIDDEN, r#"{"message":"Forbidden"}"#).into_response();
            if typed {
                response
                    .headers_mut()
                    .insert("x-amzn-errortype", HeaderValue::from_static("ForbiddenException"));
            }
            response
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn pusher(endpoint: &str) -> messaging_aws::ManagementApiPusher {
    let sdk = integration_tests::services::aws_config_at(endpoint).await;
    messaging_aws::ManagementApiPusher::new(&sdk, endpoint)
}

#[tokio::test]
async fn a_forbidden_push_is_told_apart_from_a_gone_connection() {
    let connection = ConnectionId::parse("Zm9yYmlkZGVuMA=").unwrap();
    for typed in [true, false] {
        let p = pusher(&forbidding_endpoint(typed).await).await;
        let result = p.push(&connection, b"{}").await;
        assert!(
            matches!(result, Err(PushError::Forbidden(_))),
            "typed: {typed}: {result:?}"
        );
    }
}

#[tokio::test]
async fn forbidden_pushes_become_a_metric_and_an_error_but_the_send_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let backends = messaging_backends::build(BackendChoice {
        aws: AwsTarget::Local { endpoint: None },
        store: StoreChoice::SqliteInMemory,
        registry: RegistryChoice::Memory,
        pusher: PusherChoice::ManagementApi {
            endpoint: forbidding_endpoint(true).await,
        },
        blobs: BlobChoice::Local {
            dir: dir.path().join("blobs"),
            public_url: "http://127.0.0.1:9".into(),
            secret: b"blob-secret".to_vec(),
        },
        scheduler: SchedulerChoice::Local,
        directory: DirectoryChoice::LocalInMemory,
        push: messaging_backends::PushChoice::WebPush {
            key: messaging_backends::VapidKey::derive(b"test-notify-secret"),
            contact: "mailto:tests@localhost".into(),
        },
        mailer: messaging_backends::MailerChoice::Outbox {
            dir: dir.path().join("outbox"),
        },
        search: messaging_backends::SearchChoice::InMemory,
    })
    .await
    .unwrap();
    let directory = backends.local_directory.clone().unwrap();
    let ports = backends.ports;
    let svc = Messaging::new(ports, Settings::default());
    let who = |id: &str| Identity {
        user_id: UserId::parse(id).unwrap(),
        role: Role::Team,
        name: id.into(),
    };
    let (ana, ben) = (who("u-ana"), who("u-ben"));
    for person in [&ana, &ben] {
        directory
            .upsert(&integration_tests::service::profile_of(person))
            .unwrap();
    }
    let conversation = svc
        .create_conversation(
            &ana,
            CreateConversation {
                title: Title::parse("Forbidden").unwrap(),
                project_id: None,
                participant_ids: vec![ben.user_id.clone()],
            },
        )
        .await
        .unwrap()
        .conversation
        .id;
    let bens_socket = ConnectionId::parse("QmVuc1NvY2tldDA=").unwrap();
    svc.connect(&bens_socket, &ben).await.unwrap();

    let (metrics, logs) = (Buffer::default(), Buffer::default());
    let subscriber = {
        let (m, l) = (metrics.clone(), logs.clone());
        tracing_subscriber::registry()
            .with(messaging_backends::emf::EmfLayer::new("Messaging/test", move || {
                m.clone()
            }))
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(false)
                    .with_writer(move || l.clone()),
            )
    };
    let _guard = tracing::subscriber::set_default(subscriber);
    let (view, created) = svc
        .send_message(
            &ana,
            &conversation,
            SendMessage {
                body: MessageBody::parse("can anyone hear me?").unwrap(),
                client_message_id: ClientMessageId::parse("forbidden-1").unwrap(),
                file_ids: vec![],
                reply_to: None,
            },
        )
        .await
        .expect("the send itself succeeds");
    assert!(created && view.seq == 1);

    let emf: Vec<serde_json::Value> = metrics
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).expect("EMF lines are JSON"))
        .collect();
    let forbidden: Vec<&serde_json::Value> = emf.iter().filter(|d| d["Reason"] == "forbidden").collect();
    assert_eq!(forbidden.len(), 1, "one point per fan-out: {emf:?}");
    assert_eq!(forbidden[0]["PushFailures"], 1);
    assert_eq!(
        forbidden[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "Messaging/test"
    );

    let log = logs.text();
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
    assert!(
        errors
            .iter()
            .any(|l| l.contains("PostToConnection is forbidden") && l.contains("ManageConnections")),
        "{log}"
    );
    // 403 is not 410: the connection is still there for when the deployment is fixed.
    let still = registry_has(&svc, &bens_socket).await;
    assert!(still, "a forbidden push does not forget the connection");
}

async fn registry_has(svc: &Messaging, connection: &ConnectionId) -> bool {
    svc.ports().registry.get_connection(connection).await.unwrap().is_some()
}
