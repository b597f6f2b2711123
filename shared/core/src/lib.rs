//! The messaging domain: what the product does, independent of where it runs.
//!
//! No AWS, Redis or SQLite here. The domain talks to the world through the traits in
//! [`ports`]; adapters in sibling crates implement them (embedded for `make dev`, AWS for
//! Lambda), and one conformance suite per trait keeps them in step.
//!
//! # Layout
//! - [`ids`], [`text`], [`time`]: newtypes parsed at the edge (`ConversationId::parse`,
//!   `MessageBody::parse`...), so that invalid input stops at a handler's first line.
//! - [`model`]: the six tables' rows; [`views`]: the JSON the wire shows of them.
//! - [`error`]: the one application error type, and the store's error that maps into it.
//! - [`ports`]: store, registry, directory, pusher, blob store, scheduler traits.
//! - [`directory`]: people (profiles, search, the cached directory); [`policy`]: who may
//!   talk to whom.
//! - [`events`]: WebSocket event and action shapes.
//! - [`service`]: [`Messaging`], every operation with its permission check and events.
//! - [`cursor`]: opaque pagination cursors; [`json`]: client JSON into domain types.
//! - [`notify`]: notification settings, quiet hours, mentions, push and mail shapes.
//! - [`search`]: full-text search queries, index documents and hits.
//! - [`reactions`]: the emoji vocabulary and a message's reactions.
//! - [`metrics`]: counters for operators (CloudWatch metrics in AWS).

#[macro_use]
mod string_enum;

pub mod cursor;
pub mod directory;
pub mod error;
pub mod events;
pub mod identity;
pub mod ids;
pub mod json;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod policy;
pub mod ports;
pub mod reactions;
pub mod search;
pub mod service;
pub mod text;
pub mod time;
pub mod views;

pub use error::{Error, StoreError};
pub use identity::Identity;
pub use service::{Messaging, Ports, Settings};
