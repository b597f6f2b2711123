//! Embedded adapters: everything `make dev` needs on one machine, with no AWS account and
//! no Docker.
//!
//! # Layout
//! - [`sqlite`]: the six tables in an SQLite file ([`SqliteStore`]).
//! - [`registry`]: connections, presence, typing, tickets in process memory ([`MemoryRegistry`]).
//! - [`directory`]: the local user directory in an SQLite file ([`LocalDirectory`]).
//! - [`blobs`]: attachments on local files behind HMAC-signed URLs ([`LocalBlobStore`]).
//! - [`scheduler`]: delayed tasks on tokio timers ([`LocalScheduler`]).
//! - [`outbox`]: emails as files in the data folder ([`OutboxMailer`]).

pub mod blobs;
pub mod directory;
pub mod outbox;
pub mod registry;
pub mod scheduler;
pub mod sqlite;

pub use blobs::{BlobAccessError, DownloadPermit, LocalBlobStore};
pub use directory::LocalDirectory;
pub use outbox::{OutboxEntry, OutboxMailer};
pub use registry::MemoryRegistry;
pub use scheduler::{LocalScheduler, TaskRunner};
pub use sqlite::SqliteStore;
