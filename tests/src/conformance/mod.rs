//! Conformance suites: one per port, run against every adapter of that port.

pub mod registry;
pub mod store;
