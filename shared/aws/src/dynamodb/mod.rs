//! The message store on DynamoDB: the six tables of [`schema`], accessed as `store.rs`
//! describes (one doc comment per operation gives its request count).

mod item;
mod retry;
pub mod schema;
mod store;
pub mod stream;

pub use schema::{TableNames, create_tables};
pub use store::{DynamoStore, RequestStats};
