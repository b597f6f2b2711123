//! Conformance suites: one per port, run against every adapter of that port.

pub mod blobs;
pub mod directory;
pub mod limiter;
pub mod registry;
pub mod scheduler;
pub mod search;
pub mod store;
