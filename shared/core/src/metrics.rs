//! Counters operators watch. The domain emits each as a `tracing` event with target
//! [`TARGET`] and the fields `metric`, `value` and `reason`; where it goes is the
//! composition root's choice (in Lambda, a CloudWatch metric through the embedded metric
//! format; on a terminal, a log line). The domain stays free of CloudWatch.

/// The `tracing` target of metric events.
pub const TARGET: &str = "messaging_metrics";

/// Pushes that failed for a reason other than 410 Gone (the `reason` says which: see
/// [`crate::ports::PushError::reason`]). Anything above zero means people are missing
/// events.
pub const PUSH_FAILURES: &str = "PushFailures";

/// Counts `value` occurrences of `metric` for `reason`.
pub fn count(metric: &'static str, value: u64, reason: &'static str) {
    tracing::info!(target: TARGET, metric, value, reason, "metric");
}
