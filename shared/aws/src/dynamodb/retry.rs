//! What the store does when DynamoDB says no: the one retry policy of [`super::DynamoStore`].
//!
//! DynamoDB says which failures to try again: throttling (`ThrottlingException`,
//! `ProvisionedThroughputExceededException`, `RequestLimitExceeded`), its own 5xx
//! (`InternalServerError`, `ServiceUnavailable`), a transaction that is still running
//! (`TransactionInProgressException`), a plain write that touched an item inside a running
//! transaction (`TransactionConflictException`, which the SDK does not retry by itself),
//! and a cancelled transaction whose only reasons are conflicts or throttling. Lost
//! connections and timeouts are retried too: the request may or may not have been applied.
//! Everything else is an answer and goes back to the caller.
//!
//! Retrying is safe only because every write recognises its own earlier success:
//! transactions carry one `ClientRequestToken` for all retries of a call (DynamoDB answers
//! a retry of a committed transaction with success and writes nothing), and conditional
//! plain writes check, when their condition fails on a retry, whether the stored item is
//! already what they wrote (see each operation in `store.rs`).

use std::time::Duration;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::CancellationReason;

/// Tries per request, the first included. With the backoff below a request gives up after
/// about 3.5 s of trouble, well inside a function's timeout.
pub const ATTEMPTS: u32 = 8;

const RETRYABLE_CODES: &[&str] = &[
    "TransactionConflictException",
    "TransactionInProgressException",
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
];

/// Cancellation reasons that say "not now" rather than "no".
const RETRYABLE_REASONS: &[&str] = &[
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
];

/// Whether DynamoDB (or the network) says this request may succeed if sent again.
pub fn is_retryable<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    match e {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => true,
        SdkError::ServiceError(s) => s.err().code().is_some_and(|c| RETRYABLE_CODES.contains(&c)),
        _ => false,
    }
}

/// Whether DynamoDB's error is a failed condition (`ConditionalCheckFailedException`).
pub fn is_condition_failure<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    e.as_service_error().and_then(|s| s.code()) == Some("ConditionalCheckFailedException")
}

/// Why a transaction was cancelled, from its per-item reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancellation {
    /// Item `index` failed its condition: an answer about the data.
    ConditionFailed(usize),
    /// Only conflicts with other transactions or throttling: try the same transaction again.
    Retry,
    /// Anything else (a validation error, an item too large): a bug, not a race.
    Other,
}

pub fn cancellation(reasons: &[CancellationReason]) -> Cancellation {
    if let Some(i) = reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed")) {
        return Cancellation::ConditionFailed(i);
    }
    let failed: Vec<&str> = reasons
        .iter()
        .filter_map(|r| r.code())
        .filter(|c| *c != "None")
        .collect();
    if !failed.is_empty() && failed.iter().all(|c| RETRYABLE_REASONS.contains(c)) {
        Cancellation::Retry
    } else {
        Cancellation::Other
    }
}

fn random_unit() -> f64 {
    let mut b = [0u8; 2];
    let _ = getrandom::fill(&mut b);
    f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX)
}

/// Before retry `attempt` (0-based) of a failed request: exponential from 25 ms, capped at
/// 1 s, with jitter so that throttled writers do not come back in step.
pub async fn after_failure(attempt: u32) {
    let cap = (25.0 * f64::from(1u32 << attempt.min(6))).min(1000.0);
    let ms = cap * (0.5 + 0.5 * random_unit());
    tokio::time::sleep(Duration::from_millis(ms as u64)).await;
}

/// Before another round of an optimistic loop that lost a race (a condition failed because
/// someone else wrote first): short, randomised, so racing writers spread out.
pub async fn after_lost_race(attempt: u32) {
    let ms = u64::from(attempt.min(8)) * 2 + (random_unit() * 5.0) as u64;
    tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// A token for one `TransactWriteItems` call and all its retries (1 to 36 characters).
pub fn request_token() -> String {
    let mut bytes = [0u8; 16];
    let _ = getrandom::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(code: &str) -> CancellationReason {
        CancellationReason::builder().code(code).build()
    }

    #[test]
    fn a_failed_condition_wins_over_other_reasons() {
        let reasons = [
            reason("None"),
            reason("TransactionConflict"),
            reason("ConditionalCheckFailed"),
        ];
        assert_eq!(cancellation(&reasons), Cancellation::ConditionFailed(2));
    }

    #[test]
    fn conflicts_and_throttling_inside_a_cancellation_are_retried() {
        assert_eq!(
            cancellation(&[reason("None"), reason("ThrottlingError")]),
            Cancellation::Retry
        );
        assert_eq!(
            cancellation(&[reason("TransactionConflict"), reason("ProvisionedThroughputExceeded")]),
            Cancellation::Retry
        );
    }

    #[test]
    fn validation_errors_inside_a_cancellation_are_not_retried() {
        assert_eq!(
            cancellation(&[reason("ValidationError"), reason("TransactionConflict")]),
            Cancellation::Other
        );
        assert_eq!(cancellation(&[reason("None")]), Cancellation::Other);
    }

    #[test]
    fn tokens_fit_dynamodb_and_differ() {
        let (a, b) = (request_token(), request_token());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
