//! Shared test support: the servers tests need ([`services`]), adapters ready to use
//! ([`fixtures`]), one conformance suite per port ([`conformance`]), and a DynamoDB
//! endpoint that misbehaves as DynamoDB does ([`dynamo_faults`]), the fault-injection
//! suite's proxies and traffic ([`faults`]), and the service on fast
//! adapters for rule-level tests ([`service`]), and a Web Push service that checks
//! VAPID and decrypts what it receives ([`push_service`]).

pub mod cognito;
pub mod conformance;
pub mod dynamo_faults;
pub mod faults;
pub mod fixtures;
pub mod gateway;
pub mod push_service;
pub mod service;
pub mod services;
pub mod template;
pub mod wire_shape;
pub mod ws;
