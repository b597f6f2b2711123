//! The one error type of the application layer.
//!
//! Every failure a caller can see is one of these variants; the HTTP crate maps them to a
//! status and a JSON body in one place, the WebSocket crate to an error frame in one place.
//! Adapters report the port errors defined here ([`StoreError`], [`RegistryError`],
//! [`DirectoryError`], [`BlobError`], [`PushError`], [`ScheduleError`]), which convert into [`Error`] here, once.
//!
//! A leaf module: it imports nothing from the rest of the crate, so every other module may
//! import it.

use std::borrow::Cow;

/// A failure the caller is told about, with a stable machine-readable `code`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No credentials, or credentials that do not verify (HTTP 401).
    #[error("{0}")]
    Unauthenticated(Cow<'static, str>),
    /// Authenticated, but the role does not allow this (HTTP 403).
    #[error("{0}")]
    Forbidden(Cow<'static, str>),
    /// The thing does not exist, or the caller may not know that it does (HTTP 404).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A field of the request is wrong (HTTP 400); `field` names it.
    #[error("{field}: {message}")]
    Invalid {
        field: Cow<'static, str>,
        message: Cow<'static, str>,
    },
    /// The request is well-formed but conflicts with the current state (HTTP 409).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: Cow<'static, str>,
    },
    /// The route exists, but not with this method (HTTP 405).
    #[error("this method is not allowed on this route")]
    MethodNotAllowed,
    /// The request body is larger than the route accepts (HTTP 413).
    #[error("{0}")]
    PayloadTooLarge(Cow<'static, str>),
    /// A backend is unreachable or failing; nothing was half-written (HTTP 503).
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The caller used up their allowance for this kind of action (HTTP 429); they may
    /// try again after `retry_after_secs`.
    #[error("too many {action} requests; retry in {retry_after_secs} s")]
    RateLimited {
        action: &'static str,
        retry_after_secs: u64,
    },
}

impl Error {
    pub fn invalid(field: impl Into<Cow<'static, str>>, message: impl Into<Cow<'static, str>>) -> Self {
        Self::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }

    pub fn unauthenticated(message: impl Into<Cow<'static, str>>) -> Self {
        Self::Unauthenticated(message.into())
    }

    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::Forbidden(message.into())
    }

    /// Re-labels the field of a validation error (`userId` → `participantIds[2]`).
    pub fn at_field(self, field: impl Into<Cow<'static, str>>) -> Self {
        match self {
            Self::Invalid { message, .. } => Self::Invalid {
                field: field.into(),
                message,
            },
            other => other,
        }
    }

    /// The HTTP status this error answers with (REST, and `$connect` / `$disconnect`).
    pub fn http_status(&self) -> u16 {
        match self {
            Error::Unauthenticated(_) => 401,
            Error::Forbidden(_) => 403,
            Error::NotFound(_) => 404,
            Error::Invalid { .. } => 400,
            Error::Conflict { .. } => 409,
            Error::MethodNotAllowed => 405,
            Error::PayloadTooLarge(_) => 413,
            Error::Unavailable(_) => 503,
            Error::RateLimited { .. } => 429,
        }
    }

    /// What the client is told. A backend's detail goes to the log, never to the client.
    pub fn public_message(&self) -> String {
        match self {
            Error::Unavailable(detail) => {
                tracing::error!(%detail, "backend unavailable");
                "the service is temporarily unavailable; retry shortly".to_owned()
            }
            other => other.to_string(),
        }
    }

    /// The stable code clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Invalid { .. } => "validation_failed",
            Self::Conflict { code, .. } => code,
            Self::MethodNotAllowed => "method_not_allowed",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::Unavailable(_) => "unavailable",
            Self::RateLimited { .. } => "rate_limited",
        }
    }

    /// Seconds to wait before retrying (`Retry-After`), for a rate-limited call.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_secs, .. } => Some(*retry_after_secs),
            _ => None,
        }
    }

    /// The request field at fault, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// What a store adapter reports. Adapters map their backend's conditions (DynamoDB
/// `ConditionalCheckFailed`, SQLite constraint violations) onto these, so that the domain
/// sees the same outcome whatever the backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("conversation not found")]
    ConversationNotFound,
    #[error("conversation is closed")]
    ConversationClosed,
    #[error("message not found")]
    MessageNotFound,
    #[error("message was deleted")]
    MessageDeleted,
    /// The message was edited as often as it may be (the limit).
    #[error("message has reached its edit limit")]
    EditLimitReached(u32),
    #[error("file {0} cannot be attached")]
    FileNotAttachable(String),
    #[error("report not found")]
    ReportNotFound,
    #[error("report already resolved")]
    ReportAlreadyResolved,
    #[error("already exists")]
    AlreadyExists,
    /// A bounded collection is full (`what` holds at most `limit`).
    #[error("{what}: at most {limit}")]
    LimitReached { what: &'static str, limit: usize },
    /// A pagination cursor the store cannot read (it came back from a client).
    #[error("invalid cursor")]
    InvalidCursor,
    /// Optimistic concurrency kept losing; the caller may retry the whole request.
    #[error("too much contention, try again")]
    Contention,
    #[error("backend failure: {0}")]
    Backend(String),
}

impl StoreError {
    pub fn backend(e: impl std::fmt::Display) -> Self {
        Self::Backend(e.to_string())
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ConversationNotFound => Error::NotFound("conversation"),
            StoreError::ConversationClosed => {
                Error::conflict("conversation_closed", "the conversation is closed to new messages")
            }
            StoreError::MessageNotFound => Error::NotFound("message"),
            StoreError::MessageDeleted => Error::conflict("message_deleted", "the message was deleted"),
            StoreError::EditLimitReached(limit) => Error::conflict(
                "edit_limit_reached",
                format!("a message can be edited at most {limit} times"),
            ),
            StoreError::FileNotAttachable(id) => Error::Invalid {
                field: "fileIds".into(),
                message: format!("file {id} is not an upload of yours in this conversation waiting to be attached")
                    .into(),
            },
            StoreError::ReportNotFound => Error::NotFound("report"),
            StoreError::ReportAlreadyResolved => {
                Error::conflict("report_already_resolved", "the report was already resolved")
            }
            StoreError::AlreadyExists => Error::conflict("already_exists", "it already exists"),
            StoreError::LimitReached { what, limit } => {
                Error::conflict("limit_reached", format!("{what}: at most {limit}"))
            }
            StoreError::InvalidCursor => Error::invalid("cursor", "is not a cursor this server issued"),
            StoreError::Contention => Error::Unavailable("too much contention on this conversation".into()),
            StoreError::Backend(detail) => Error::Unavailable(detail),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

// --- the other ports' errors ----------------------------------------------------------

/// A failure of the registry's backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("registry failure: {0}")]
pub struct RegistryError(pub String);

pub type RegistryResult<T> = Result<T, RegistryError>;

/// A registry (Redis) failure: the caller sees 503; the detail goes to the logs.
impl From<RegistryError> for Error {
    fn from(e: RegistryError) -> Self {
        Error::Unavailable(e.to_string())
    }
}

/// A failure of the user directory's backend (Cognito, the local directory, its cache).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryError {
    #[error("directory failure: {0}")]
    Backend(String),
}

pub type DirectoryResult<T> = Result<T, DirectoryError>;

/// A directory failure: the caller sees 503; the detail goes to the logs.
impl From<DirectoryError> for Error {
    fn from(e: DirectoryError) -> Self {
        Error::Unavailable(e.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("blob store failure: {0}")]
pub struct BlobError(pub String);

/// A blob store (S3) failure: the caller sees 503; the detail goes to the logs.
impl From<BlobError> for Error {
    fn from(e: BlobError) -> Self {
        Error::Unavailable(e.to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// 410: the connection no longer exists (or is still inside its `$connect`). Not an
    /// error: the fan-out forgets the connection.
    #[error("connection is gone")]
    Gone,
    /// 403: the functions may not push at all (an IAM policy that does not cover the
    /// stage, or an execute-api VPC endpoint with private DNS capturing the public
    /// hostname). Every push fails the same way until the deployment is fixed.
    #[error("push forbidden: {0}")]
    Forbidden(String),
    #[error("push failed: {0}")]
    Failed(String),
}

impl PushError {
    /// The `Reason` dimension of the `PushFailures` metric.
    pub fn reason(&self) -> &'static str {
        match self {
            PushError::Gone => "gone",
            PushError::Forbidden(_) => "forbidden",
            PushError::Failed(_) => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("scheduler failure: {0}")]
pub struct ScheduleError(pub String);
