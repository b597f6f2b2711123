//! The store conformance suite on the embedded SQLite adapter (a temp file per test).

integration_tests::store_conformance_tests!(integration_tests::fixtures::sqlite_store);
