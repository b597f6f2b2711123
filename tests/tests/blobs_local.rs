//! The blob store conformance suite on local files behind the local gateway's signed URLs.

integration_tests::blob_conformance_tests!(integration_tests::fixtures::local_blobs);
