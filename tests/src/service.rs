//! The service on fast, real adapters (in-memory SQLite, the in-process registry), with a
//! pusher that records every push and a scheduler that records every delayed task, all
//! built by the composition root: domain rules are tested in milliseconds, without HTTP.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use messaging_backends::{
    AwsTarget, BackendChoice, BlobChoice, DirectoryChoice, PusherChoice, RegistryChoice, SchedulerChoice, SearchChoice,
    StoreChoice,
};
use messaging_core::directory::Profile;
use messaging_core::events::ClientAction;
use messaging_core::ids::{ClientMessageId, ConnectionId, ConversationId, UserId};
use messaging_core::model::Role;
use messaging_core::ports::{ConnectionPusher, DelayedTask, PushError, ScheduleError, TaskScheduler};
use messaging_core::service::{CreateConversation, SendMessage};
use messaging_core::text::{MessageBody, Title};
use messaging_core::views::MessageView;
use messaging_core::{Identity, Messaging, Settings};
use messaging_embedded::LocalDirectory;

use crate::services::unique;

/// Keeps every push, parsed; answers 410 for connections told to be gone.
#[derive(Default)]
pub struct RecordingPusher {
    pushed: Mutex<Vec<(ConnectionId, Value)>>,
    /// Connections the service closed, or that a test dropped: pushes to them get 410.
    gone: Mutex<HashSet<ConnectionId>>,
}

#[async_trait]
impl ConnectionPusher for RecordingPusher {
    async fn push(&self, connection: &ConnectionId, payload: &[u8]) -> Result<(), PushError> {
        if self.gone.lock().unwrap_or_else(|e| e.into_inner()).contains(connection) {
            return Err(PushError::Gone);
        }
        let event = serde_json::from_slice(payload).unwrap_or(Value::Null);
        self.pushed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((connection.clone(), event));
        Ok(())
    }

    async fn close(&self, connection: &ConnectionId) -> Result<(), PushError> {
        self.drop_connection(connection);
        Ok(())
    }
}

impl RecordingPusher {
    /// The events pushed to `connection` since the last call, oldest first.
    pub fn take(&self, connection: &ConnectionId) -> Vec<Value> {
        let mut all = self.pushed.lock().unwrap_or_else(|e| e.into_inner());
        let (mine, rest): (Vec<_>, Vec<_>) = all.drain(..).partition(|(c, _)| c == connection);
        *all = rest;
        mine.into_iter().map(|(_, e)| e).collect()
    }

    /// The types of the events pushed to `connection` since the last take.
    pub fn kinds(&self, connection: &ConnectionId) -> Vec<String> {
        self.take(connection)
            .iter()
            .map(|e| e["type"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    /// From now on `connection` answers 410, as a closed socket does.
    pub fn drop_connection(&self, connection: &ConnectionId) {
        self.gone
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(connection.clone());
    }
}

/// Keeps every delayed task instead of running it; tests run them when they choose.
#[derive(Default)]
pub struct RecordingScheduler {
    tasks: Mutex<Vec<(DelayedTask, Duration)>>,
}

#[async_trait]
impl TaskScheduler for RecordingScheduler {
    async fn schedule(&self, task: DelayedTask, delay: Duration) -> Result<(), ScheduleError> {
        self.tasks.lock().unwrap_or_else(|e| e.into_inner()).push((task, delay));
        Ok(())
    }
}

impl RecordingScheduler {
    /// The tasks scheduled since the last call.
    pub fn take(&self) -> Vec<(DelayedTask, Duration)> {
        std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

pub struct ServiceHarness {
    pub svc: Arc<Messaging>,
    pub pushes: Arc<RecordingPusher>,
    pub tasks: Arc<RecordingScheduler>,
    /// The people (in memory): [`ServiceHarness::conversation`] enrols whoever it is given.
    pub directory: Arc<LocalDirectory>,
    _blobs: tempfile::TempDir,
}

pub fn person(id: &str, role: Role) -> Identity {
    Identity {
        user_id: UserId::parse(id).expect("user id"),
        role,
        name: format!("{id} name"),
    }
}

/// The directory profile of a test identity.
pub fn profile_of(who: &Identity) -> Profile {
    Profile {
        user_id: who.user_id.clone(),
        name: who.name.clone(),
        email: Some(format!("{}@example.com", who.user_id)),
        role: who.role,
        organisation: None,
        colour: None,
        active: true,
    }
}

impl ServiceHarness {
    pub async fn new() -> Self {
        Self::with(Settings::default()).await
    }

    pub async fn with(settings: Settings) -> Self {
        Self::on(
            AwsTarget::Local { endpoint: None },
            StoreChoice::SqliteInMemory,
            SearchChoice::InMemory,
            settings,
        )
        .await
    }

    /// The harness with another store and index (the DynamoDB tables on moto, an index
    /// file another process writes), everything else as [`ServiceHarness::with`].
    pub async fn on(aws: AwsTarget, store: StoreChoice, search: SearchChoice, settings: Settings) -> Self {
        let blobs = tempfile::tempdir().expect("temp dir");
        let pushes = Arc::new(RecordingPusher::default());
        let tasks = Arc::new(RecordingScheduler::default());
        let backends = messaging_backends::build(BackendChoice {
            aws,
            store,
            registry: RegistryChoice::Memory,
            pusher: PusherChoice::Given(pushes.clone()),
            blobs: BlobChoice::Local {
                dir: blobs.path().to_owned(),
                public_url: "http://127.0.0.1:9".into(),
                secret: b"service-harness-blob-secret".to_vec(),
            },
            scheduler: SchedulerChoice::Given(tasks.clone()),
            directory: DirectoryChoice::LocalInMemory,
            push: messaging_backends::PushChoice::WebPush {
                key: messaging_backends::VapidKey::derive(b"test-notify-secret"),
                contact: "mailto:tests@localhost".into(),
            },
            mailer: messaging_backends::MailerChoice::Outbox {
                dir: blobs.path().join("outbox"),
            },
            search,
        })
        .await
        .expect("backends");
        Self {
            directory: backends.local_directory.clone().expect("local directory"),
            svc: Arc::new(Messaging::new(backends.ports, settings)),
            pushes,
            tasks,
            _blobs: blobs,
        }
    }

    /// Puts people in the directory (unless they are there already), as they are.
    pub fn enrol(&self, people: &[&Identity]) {
        for who in people {
            self.directory.insert_missing(&profile_of(who)).expect("enrol");
        }
    }

    /// A conversation `creator` opens with `others` (all enrolled in the directory first).
    pub async fn conversation(&self, creator: &Identity, others: &[&Identity]) -> ConversationId {
        self.enrol(&[creator]);
        self.enrol(others);
        self.svc
            .create_conversation(
                creator,
                CreateConversation {
                    title: Title::parse("Harness").expect("title"),
                    project_id: None,
                    participant_ids: others.iter().map(|p| p.user_id.clone()).collect(),
                },
            )
            .await
            .expect("create conversation")
            .conversation
            .id
    }

    /// An open connection of `who` (connected, and its first ping sent). Pushes made
    /// while connecting are dropped.
    pub async fn connect(&self, who: &Identity) -> ConnectionId {
        let id = ConnectionId::parse(&format!("{}=", unique("C"))).expect("connection id");
        self.svc.connect(&id, who).await.expect("connect");
        self.svc
            .handle_action(&id, who, ClientAction::Ping)
            .await
            .expect("ping");
        self.pushes.take(&id);
        id
    }

    /// `who` sends `body` with a fresh client id; the stored message.
    pub async fn send(&self, who: &Identity, conversation: &ConversationId, body: &str) -> MessageView {
        let (message, created) = self
            .svc
            .send_message(who, conversation, sending(body, &unique("c")))
            .await
            .expect("send");
        assert!(created, "a fresh client id creates");
        message
    }
}

/// A send request for `body` with client message id `client_id`.
pub fn sending(body: &str, client_id: &str) -> SendMessage {
    SendMessage {
        body: MessageBody::parse(body).expect("body"),
        client_message_id: ClientMessageId::parse(client_id).expect("client id"),
        file_ids: vec![],
        reply_to: None,
    }
}
