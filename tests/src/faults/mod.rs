//! The fault-injection suite's tools (`tests/tests/fault_suite.rs`): a TCP proxy that
//! breaks connections ([`tcp`]), a `@connections` that answers 429/500/410 ([`management`]),
//! servers as processes to kill ([`processes`]), and the traffic whose outcome the suite
//! checks — senders that retry with the same client id, receivers that reconnect and
//! catch up, and the count of lost, duplicated and out-of-order messages ([`traffic`]).
//! DynamoDB's own faults come from [`crate::dynamo_faults`].

pub mod management;
pub mod processes;
pub mod tcp;
pub mod traffic;
