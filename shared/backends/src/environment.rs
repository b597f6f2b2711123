//! Every environment variable the product reads, declared once: who reads it, whether a
//! deployment must set it, its default and what it is for.
//!
//! Code reads variables only through [`get`] (or [`raw`]), which refuses an undeclared
//! name; `tests/tests/environment.rs` fails on any other read of the environment in the
//! sources. The README's configuration tables are generated from [`VARIABLES`]
//! ([`markdown_table`], checked by the same test), the template check
//! (`tests/tests/deployment_template.rs`) and the `sam local invoke` check
//! (`tests/tests/sam_local_env.rs`) read it too.

/// Who reads a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// Every Lambda function (they all build the same ports).
    Functions,
    /// The REST functions (`messaging-api`, `admin-api`): token verification and CORS.
    RestFunctions,
    /// The local gateway (`make dev`).
    Gateway,
    /// The test harness (which servers the suites talk to).
    Tests,
    /// The benchmark (`loadgen`).
    Benchmark,
}

impl Reader {
    pub fn reads_in_lambda(self) -> bool {
        matches!(self, Reader::Functions | Reader::RestFunctions)
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Variable {
    pub name: &'static str,
    pub readers: &'static [Reader],
    /// A deployed function cannot run correctly without it (the template must set it).
    pub required: bool,
    /// What applies when it is unset (or empty), in words.
    pub default: &'static str,
    pub about: &'static str,
}

const fn var(
    name: &'static str,
    readers: &'static [Reader],
    required: bool,
    default: &'static str,
    about: &'static str,
) -> Variable {
    Variable {
        name,
        readers,
        required,
        default,
        about,
    }
}

use Reader::{Benchmark, Functions, Gateway, RestFunctions, Tests};

const LAMBDA: &[Reader] = &[Functions];
const LAMBDA_AND_GATEWAY: &[Reader] = &[Functions, Gateway];
const REST: &[Reader] = &[RestFunctions];
const GATEWAY: &[Reader] = &[Gateway];
const TESTS: &[Reader] = &[Tests];

pub const VARIABLES: &[Variable] = &[
    // --- what every function runs on -------------------------------------------------
    var("RUST_LOG", &[Functions, Gateway], false, "info", "log filter"),
    var(
        "AWS_LAMBDA_FUNCTION_NAME",
        LAMBDA,
        false,
        "unset outside Lambda",
        "set by Lambda: JSON logs and EMF metrics instead of terminal logs",
    ),
    var(
        "CONVERSATIONS_TABLE",
        LAMBDA,
        true,
        "TABLE_PREFIX + conversations",
        "DynamoDB table",
    ),
    var(
        "MESSAGES_TABLE",
        LAMBDA,
        true,
        "TABLE_PREFIX + messages",
        "DynamoDB table",
    ),
    var(
        "PARTICIPANTS_TABLE",
        LAMBDA,
        true,
        "TABLE_PREFIX + conversation_participants",
        "DynamoDB table",
    ),
    var(
        "FILES_TABLE",
        LAMBDA,
        true,
        "TABLE_PREFIX + message_files",
        "DynamoDB table",
    ),
    var(
        "RECEIPTS_TABLE",
        LAMBDA,
        true,
        "TABLE_PREFIX + message_read_receipts",
        "DynamoDB table",
    ),
    var(
        "REPORTS_TABLE",
        LAMBDA,
        true,
        "TABLE_PREFIX + message_reports",
        "DynamoDB table",
    ),
    var(
        "NOTIFICATIONS_TABLE",
        LAMBDA,
        true,
        "TABLE_PREFIX + user_notifications",
        "DynamoDB table (notification settings, push subscriptions)",
    ),
    var(
        "TABLE_PREFIX",
        LAMBDA_AND_GATEWAY,
        false,
        "none (functions), `local-` (gateway)",
        "prefix of the table names that are not set one by one",
    ),
    var(
        "REDIS_URL",
        &[Functions, Gateway, Tests, Benchmark],
        true,
        "functions: none; gateway: in-process registry; tests: a private redis-server",
        "the registry: redis:// or rediss:// (TLS)",
    ),
    var(
        "REDIS_CLUSTER",
        LAMBDA_AND_GATEWAY,
        false,
        "false",
        "speak the cluster protocol (ElastiCache Serverless)",
    ),
    var(
        "REDIS_KEY_PREFIX",
        LAMBDA_AND_GATEWAY,
        false,
        "msg:",
        "prefix of every registry key",
    ),
    var(
        "REDIS_CA_FILE",
        LAMBDA_AND_GATEWAY,
        false,
        "the public web PKI",
        "PEM of a private CA for rediss://",
    ),
    var(
        "ATTACHMENTS_BUCKET",
        LAMBDA_AND_GATEWAY,
        true,
        "gateway: messaging-attachments-local",
        "S3 bucket of attachments",
    ),
    var(
        "WEBSOCKET_MANAGEMENT_ENDPOINT",
        LAMBDA,
        true,
        "none",
        "https://{api}.execute-api.{region}.amazonaws.com/{stage}, where pushes go",
    ),
    var(
        "DELAYED_TASKS_QUEUE_URL",
        LAMBDA,
        true,
        "none",
        "SQS queue of typing expiry and presence checks",
    ),
    var(
        "NOTIFY_SECRET_ARN",
        LAMBDA,
        false,
        "none: the function sends no push and signs no unsubscribe links",
        "Secrets Manager secret the VAPID key and the unsubscribe-link key derive from (messaging-api, delayed-tasks)",
    ),
    var(
        "NOTIFY_SECRET",
        LAMBDA,
        false,
        "none",
        "for `sam local invoke` only: the notification secret itself, when NOTIFY_SECRET_ARN is empty",
    ),
    var(
        "MAIL_FROM",
        LAMBDA_AND_GATEWAY,
        false,
        "Messaging <notifications@localhost>",
        "sender of notification emails (a verified SES identity in AWS); also the push services' contact",
    ),
    var(
        "SES_CONFIGURATION_SET",
        LAMBDA,
        false,
        "none",
        "SES configuration set for notification emails (bounces, complaints)",
    ),
    var(
        "REST_API_URL",
        LAMBDA,
        false,
        "none: no one-click unsubscribe header",
        "the REST API's base URL, for RFC 8058 one-click unsubscribe in emails",
    ),
    var(
        "NOTIFY_PUSH_DELAY_SECS",
        LAMBDA_AND_GATEWAY,
        false,
        "30",
        "a burst of messages ends this long after its first one; then members who are away are notified once",
    ),
    var(
        "USER_POOL_ID",
        LAMBDA,
        true,
        "none",
        "the Cognito user pool: the directory of names, roles, organisations and who is disabled",
    ),
    var(
        "CLIENT_CONTACTS",
        LAMBDA_AND_GATEWAY,
        false,
        "organisation",
        "whom clients may start conversations with: `team`, `organisation` (also clients of their own organisation) or `anyone`",
    ),
    var(
        "SEARCH_INDEX_PATH",
        LAMBDA,
        false,
        "none: message search answers 503",
        "the FTS5 index file on EFS: search-indexer writes it from the messages stream, messaging-api and admin-api search it read-only",
    ),
    var(
        "RATE_LIMITS",
        LAMBDA_AND_GATEWAY,
        false,
        "send=30/10s, create-conversation=10/60s, add-people=20/60s, typing=20/10s, connect=20/60s, uploads=20/60s, reports=10/600s, search=30/10s, reactions=30/10s",
        "each user's allowance per action, `action=COUNT/PERIOD` (s, m, h) comma-separated, over the defaults; beyond it 429 with Retry-After",
    ),
    var(
        "PRESENCE_TTL_SECS",
        LAMBDA_AND_GATEWAY,
        false,
        "90",
        "a connection is live this long after a ping",
    ),
    var(
        "TYPING_TTL_SECS",
        LAMBDA_AND_GATEWAY,
        false,
        "6",
        "typing shows this long",
    ),
    var(
        "TICKET_TTL_SECS",
        LAMBDA_AND_GATEWAY,
        false,
        "30",
        "WebSocket ticket lifetime",
    ),
    var(
        "METRICS_NAMESPACE",
        LAMBDA,
        false,
        "Messaging",
        "CloudWatch namespace of the embedded-metric-format metrics",
    ),
    var(
        "AWS_ENDPOINT_URL",
        &[Functions, Gateway, Tests, Benchmark],
        false,
        "AWS itself (empty counts as unset); tests: a private moto",
        "LocalStack / moto instead of AWS; for the gateway, DynamoDB + S3 instead of SQLite + files",
    ),
    var(
        "AWS_REGION",
        &[Functions, Gateway, Tests],
        false,
        "us-east-1 for local endpoints",
        "the AWS region (Lambda sets it)",
    ),
    var(
        "AWS_ACCESS_KEY_ID",
        &[Gateway, Tests],
        false,
        "placeholder credentials for local endpoints",
        "credentials for AWS_ENDPOINT_URL (the SDK's chain otherwise)",
    ),
    var(
        "AWS_SECRET_ACCESS_KEY",
        &[Gateway, Tests],
        false,
        "placeholder credentials for local endpoints",
        "goes with AWS_ACCESS_KEY_ID (read by the SDK)",
    ),
    // --- token verification (REST functions; the gateway issues dev tokens) ------------
    var(
        "JWKS_URL",
        REST,
        true,
        "none: then JWT_SECRET",
        "RS256 token keys (the Cognito user pool's JWKS)",
    ),
    var(
        "JWT_SECRET",
        &[RestFunctions, Gateway],
        false,
        "gateway: a secret generated per data folder",
        "HS256 secret of dev tokens; functions use it only while JWKS_URL is empty",
    ),
    var("JWT_ISSUER", REST, true, "messaging-local", "expected `iss` of tokens"),
    var(
        "JWT_AUDIENCE",
        REST,
        true,
        "messaging",
        "expected `aud` (or `client_id`) of tokens",
    ),
    var(
        "WEB_ORIGIN",
        LAMBDA,
        false,
        "no CORS headers; links in emails to http://localhost:8080",
        "the web client's origin (CORS, and the links in notification emails)",
    ),
    // --- the local gateway --------------------------------------------------------------
    var(
        "GATEWAY_BIND",
        GATEWAY,
        false,
        "127.0.0.1:8080",
        "listen address (`--bind`, `--port`)",
    ),
    var(
        "DATA_DIR",
        GATEWAY,
        false,
        ".dev-data",
        "SQLite file, attachments and the dev secret (`--data-dir`)",
    ),
    var(
        "WEB_DIR",
        GATEWAY,
        false,
        "web/dist when built",
        "the built web client to serve at / (`--web-dir`)",
    ),
    var(
        "PUBLIC_URL",
        GATEWAY,
        false,
        "http://{bind address}",
        "the gateway's URL as browsers reach it (signed blob URLs, the OIDC issuer)",
    ),
    var(
        "OIDC_TOKEN_TTL",
        GATEWAY,
        false,
        "3600",
        "lifetime in seconds of the local OIDC provider's access and ID tokens (`--oidc-token-ttl`)",
    ),
    // --- the test harness ------------------------------------------------------------------
    var(
        "REDIS_CLUSTER_URL",
        TESTS,
        false,
        "a private one-node cluster",
        "a Redis in cluster mode",
    ),
    var(
        "REDIS_TLS_URL",
        TESTS,
        false,
        "a private TLS-only redis-server",
        "a Redis reached over TLS",
    ),
    var(
        "REDIS_TLS_CA_FILE",
        TESTS,
        false,
        "the CA made for the run",
        "the CA of REDIS_TLS_URL",
    ),
    var(
        "REDIS_TLS_CLUSTER_URL",
        TESTS,
        false,
        "a private TLS-only one-node cluster",
        "a Redis cluster reached over TLS",
    ),
    var(
        "REDIS_TLS_CLUSTER_CA_FILE",
        TESTS,
        false,
        "the CA made for the run",
        "the CA of REDIS_TLS_CLUSTER_URL",
    ),
    var(
        "MOTO_PYTHON",
        TESTS,
        false,
        ".venv/bin/python",
        "the Python that runs the private moto",
    ),
    var(
        "WRITE_DOCS",
        TESTS,
        false,
        "unset",
        "`1`: tests that check generated docs rewrite them instead of failing",
    ),
];

/// The declaration of `name`. Panics on an undeclared name: reading one is a bug that
/// the first test run finds.
pub fn declared(name: &str) -> &'static Variable {
    VARIABLES
        .iter()
        .find(|v| v.name == name)
        .unwrap_or_else(|| panic!("environment variable {name} is not declared in messaging_backends::environment"))
}

/// The value of a declared variable; empty counts as unset (SAM passes a declared
/// variable nobody set as "").
pub fn get(name: &str) -> Option<String> {
    raw(name).filter(|v| !v.trim().is_empty())
}

/// The value as set, empty included (for the few readers that must tell the two apart).
pub fn raw(name: &str) -> Option<String> {
    let _ = declared(name);
    std::env::var(name).ok()
}

/// The README's table of the variables `reader` reads.
pub fn markdown_table(reader: Reader) -> String {
    let mut out = String::from("| variable | default | what |\n|---|---|---|\n");
    for v in VARIABLES.iter().filter(|v| v.readers.contains(&reader)) {
        let required = if v.required && reader.reads_in_lambda() {
            " **(required)**"
        } else {
            ""
        };
        out.push_str(&format!("| `{}`{required} | {} | {} |\n", v.name, v.default, v.about));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_declared_once() {
        let mut names: Vec<&str> = VARIABLES.iter().map(|v| v.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before);
    }

    #[test]
    fn every_variable_has_a_reader() {
        for v in VARIABLES {
            assert!(!v.readers.is_empty(), "{}", v.name);
        }
    }

    #[test]
    #[should_panic(expected = "NOT_A_VARIABLE is not declared")]
    fn reading_an_undeclared_variable_is_refused() {
        let _ = get("NOT_A_VARIABLE");
    }
}
