//! Shared test support: the servers tests need ([`services`]), adapters ready to use
//! ([`fixtures`]), and one conformance suite per port ([`conformance`]).

pub mod conformance;
pub mod fixtures;
pub mod gateway;
pub mod services;
pub mod ws;
