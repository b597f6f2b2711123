//! The message store on an embedded SQLite file: the local default.
//!
//! The six tables are real tables with the same keys as their DynamoDB counterparts;
//! list-shaped attributes (a message's files and audit trail, a conversation's preview)
//! are JSON columns, as they are maps/lists in DynamoDB. Every write that DynamoDB does in
//! one transaction is one `BEGIN IMMEDIATE` transaction here, so the conformance suite sees
//! the same atomicity on both.
//!
//! One connection behind a mutex, used in place: SQLite serialises writers anyway, and
//! statements here take microseconds. WAL checkpoints run on a thread of their own.
//!
//! # Layout
//! - [`schema`]: the tables.
//! - `rows`: rows ↔ SQLite (column lists, mappers, statement helpers).
//! - [`store`]: the [`Store`](messaging_core::ports::Store) operations.

mod rows;
pub mod schema;
pub mod store;

pub use store::SqliteStore;
