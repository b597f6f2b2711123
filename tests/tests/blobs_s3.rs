//! The blob store conformance suite on S3 (moto at `AWS_ENDPOINT_URL`).

integration_tests::blob_conformance_tests!(integration_tests::fixtures::s3_blobs);
