//! Every environment variable a Lambda function reads, declared once: who reads it,
//! whether a deployment must set it, its default and what it is for. The template check
//! (`tests/tests/deployment_template.rs`) and the `sam local invoke` check
//! (`tests/tests/sam_local_env.rs`) read this list instead of the code.

/// Which functions read a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readers {
    /// Every function (they all build the same ports).
    AllFunctions,
    /// The REST functions (`messaging-api`, `admin-api`): token verification and CORS.
    RestFunctions,
}

#[derive(Debug, Clone, Copy)]
pub struct Variable {
    pub name: &'static str,
    pub readers: Readers,
    /// A deployed function cannot run correctly without it (the template must set it).
    pub required: bool,
    /// What applies when it is unset (or empty), in words.
    pub default: &'static str,
    pub about: &'static str,
}

const fn var(
    name: &'static str,
    readers: Readers,
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

use Readers::{AllFunctions, RestFunctions};

pub const VARIABLES: &[Variable] = &[
    var("RUST_LOG", AllFunctions, false, "info", "log filter"),
    var(
        "CONVERSATIONS_TABLE",
        AllFunctions,
        true,
        "TABLE_PREFIX + conversations",
        "DynamoDB table",
    ),
    var(
        "MESSAGES_TABLE",
        AllFunctions,
        true,
        "TABLE_PREFIX + messages",
        "DynamoDB table",
    ),
    var(
        "PARTICIPANTS_TABLE",
        AllFunctions,
        true,
        "TABLE_PREFIX + conversation_participants",
        "DynamoDB table",
    ),
    var(
        "FILES_TABLE",
        AllFunctions,
        true,
        "TABLE_PREFIX + message_files",
        "DynamoDB table",
    ),
    var(
        "RECEIPTS_TABLE",
        AllFunctions,
        true,
        "TABLE_PREFIX + message_read_receipts",
        "DynamoDB table",
    ),
    var(
        "REPORTS_TABLE",
        AllFunctions,
        true,
        "TABLE_PREFIX + message_reports",
        "DynamoDB table",
    ),
    var(
        "TABLE_PREFIX",
        AllFunctions,
        false,
        "none",
        "prefix of the table names that are not set one by one (local runs)",
    ),
    var(
        "REDIS_URL",
        AllFunctions,
        true,
        "—",
        "the registry: redis:// or rediss:// (TLS)",
    ),
    var(
        "REDIS_CLUSTER",
        AllFunctions,
        false,
        "false",
        "speak the cluster protocol (ElastiCache Serverless)",
    ),
    var(
        "REDIS_KEY_PREFIX",
        AllFunctions,
        false,
        "msg:",
        "prefix of every registry key",
    ),
    var(
        "REDIS_CA_FILE",
        AllFunctions,
        false,
        "the public web PKI",
        "PEM of a private CA for rediss://",
    ),
    var(
        "ATTACHMENTS_BUCKET",
        AllFunctions,
        true,
        "—",
        "S3 bucket of attachments",
    ),
    var(
        "WEBSOCKET_MANAGEMENT_ENDPOINT",
        AllFunctions,
        true,
        "—",
        "https://{api}.execute-api.{region}.amazonaws.com/{stage}, where pushes go",
    ),
    var(
        "DELAYED_TASKS_QUEUE_URL",
        AllFunctions,
        true,
        "—",
        "SQS queue of typing expiry and presence checks",
    ),
    var(
        "PRESENCE_TTL_SECS",
        AllFunctions,
        false,
        "90",
        "a connection is live this long after a ping",
    ),
    var("TYPING_TTL_SECS", AllFunctions, false, "6", "typing shows this long"),
    var(
        "TICKET_TTL_SECS",
        AllFunctions,
        false,
        "30",
        "WebSocket ticket lifetime",
    ),
    var(
        "METRICS_NAMESPACE",
        AllFunctions,
        false,
        "Messaging",
        "CloudWatch namespace of the embedded-metric-format metrics",
    ),
    var(
        "AWS_ENDPOINT_URL",
        AllFunctions,
        false,
        "AWS itself (empty counts as unset)",
        "LocalStack / moto instead of AWS (read by the SDK)",
    ),
    var(
        "JWKS_URL",
        RestFunctions,
        true,
        "none: then JWT_SECRET",
        "RS256 token keys (the Cognito user pool's JWKS)",
    ),
    var(
        "JWT_SECRET",
        RestFunctions,
        false,
        "none",
        "HS256 secret of dev tokens, used only while JWKS_URL is empty (local runs)",
    ),
    var(
        "JWT_ISSUER",
        RestFunctions,
        true,
        "messaging-local",
        "expected `iss` of tokens",
    ),
    var(
        "JWT_AUDIENCE",
        RestFunctions,
        true,
        "messaging",
        "expected `aud` (or `client_id`) of tokens",
    ),
    var(
        "WEB_ORIGIN",
        RestFunctions,
        false,
        "no CORS headers",
        "the web client's origin (CORS)",
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
    let _ = declared(name);
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
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
}
