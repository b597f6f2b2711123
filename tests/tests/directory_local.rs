//! The directory conformance suite on the local gateway's directory (SQLite).

integration_tests::directory_conformance_tests!(integration_tests::fixtures::local_directory);
