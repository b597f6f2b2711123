//! The store conformance suite on the DynamoDB adapter, against `AWS_ENDPOINT_URL`
//! (moto by default; LocalStack or AWS work the same).

integration_tests::store_conformance_tests!(integration_tests::fixtures::dynamo_fixture);
