//! The scheduler conformance suite on SQS (moto at `AWS_ENDPOINT_URL`): the delay queue the
//! `delayed-tasks` function consumes in AWS.

integration_tests::scheduler_conformance_tests!(integration_tests::fixtures::sqs_scheduler);
