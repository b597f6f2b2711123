//! The directory conformance suite on Cognito (moto here; `AWS_ENDPOINT_URL` points it
//! at LocalStack or AWS), directly and behind the Redis profile cache the functions use.

mod direct {
    integration_tests::directory_conformance_tests!(integration_tests::fixtures::cognito_directory);
}

mod cached {
    integration_tests::directory_conformance_tests!(integration_tests::fixtures::cached_cognito_directory);
}
