//! The store conformance suite on DynamoDB as it behaves under contention and trouble:
//! every request goes through the fault proxy in front of moto, and one in five gets a
//! transaction conflict, a throttled or conflicted cancellation, throttling, a 500, a
//! lost answer to a write that was applied, or unprocessed keys. Every case must still
//! hold: retries of what DynamoDB says is retryable, idempotent under retries, no 503 for a
//! change that was made, no row silently dropped.

integration_tests::store_conformance_tests!(integration_tests::fixtures::dynamo_faulty_fixture);
