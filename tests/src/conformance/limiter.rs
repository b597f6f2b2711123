//! The rate limiter conformance suite: every case runs on the in-process registry and on
//! Redis (single node, cluster, TLS), through `registry_conformance_tests!`, so that one
//! allowance behaves the same on a laptop and across Lambda functions.

use std::sync::Arc;
use std::time::Duration;

use messaging_core::limits::{Limit, RateDecision};
use messaging_core::ports::RateLimiter;
use messaging_core::time::Timestamp;

use crate::services::unique;

const FIVE_PER_10S: Limit = Limit::new(5, Duration::from_secs(10));

pub async fn a_burst_of_count_then_a_refusal_naming_the_wait(r: Arc<dyn RateLimiter>) {
    let key = unique("send:u");
    let now = Timestamp::now();
    for i in 0..5 {
        assert_eq!(
            r.acquire(&key, FIVE_PER_10S, now).await.unwrap(),
            RateDecision::Allowed,
            "try {i}"
        );
    }
    let refused = r.acquire(&key, FIVE_PER_10S, now).await.unwrap();
    assert_eq!(
        refused,
        RateDecision::Limited {
            retry_after: Duration::from_secs(2)
        }
    );
    let soon = now.plus_millis(1_000);
    assert_eq!(
        r.acquire(&key, FIVE_PER_10S, soon).await.unwrap(),
        RateDecision::Limited {
            retry_after: Duration::from_secs(1)
        },
        "a refusal costs nothing"
    );
    assert_eq!(
        r.acquire(&key, FIVE_PER_10S, now.plus_millis(2_000)).await.unwrap(),
        RateDecision::Allowed
    );
}

pub async fn allowances_are_per_key_and_refill_to_full_only(r: Arc<dyn RateLimiter>) {
    let (mine, theirs) = (unique("send:a"), unique("send:b"));
    let now = Timestamp::now();
    for _ in 0..5 {
        r.acquire(&mine, FIVE_PER_10S, now).await.unwrap();
    }
    assert!(matches!(
        r.acquire(&mine, FIVE_PER_10S, now).await.unwrap(),
        RateDecision::Limited { .. }
    ));
    assert_eq!(
        r.acquire(&theirs, FIVE_PER_10S, now).await.unwrap(),
        RateDecision::Allowed,
        "others unaffected"
    );
    // A long pause refills the allowance to a full burst, never beyond.
    let later = now.plus_millis(3_600_000);
    for i in 0..5 {
        assert_eq!(
            r.acquire(&mine, FIVE_PER_10S, later).await.unwrap(),
            RateDecision::Allowed,
            "try {i}"
        );
    }
    assert!(matches!(
        r.acquire(&mine, FIVE_PER_10S, later).await.unwrap(),
        RateDecision::Limited { .. }
    ));
}

pub async fn concurrent_tries_share_one_allowance(r: Arc<dyn RateLimiter>) {
    let key = unique("connect:u");
    let limit = Limit::new(10, Duration::from_secs(60));
    let now = Timestamp::now();
    let tries = (0..50).map(|_| {
        let (r, key) = (r.clone(), key.clone());
        tokio::spawn(async move { r.acquire(&key, limit, now).await.unwrap() })
    });
    let mut allowed = 0;
    for t in tries {
        if t.await.unwrap() == RateDecision::Allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 10, "exactly the allowance, however the tries interleave");
}

/// One `#[tokio::test]` per case; `$fixture` is an async fn returning an
/// `Arc<dyn Registry>` (every registry is a rate limiter).
#[macro_export]
macro_rules! limiter_conformance_tests {
    ($fixture:path) => {
        $crate::limiter_conformance_tests!(@cases $fixture;
            a_burst_of_count_then_a_refusal_naming_the_wait,
            allowances_are_per_key_and_refill_to_full_only,
            concurrent_tries_share_one_allowance,
        );
    };
    (@cases $fixture:path; $($case:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let registry = $fixture().await;
                $crate::conformance::limiter::$case(registry).await;
            }
        )+
    };
}
