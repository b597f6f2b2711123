//! The search index conformance suite on the FTS5 index, as a file with reader
//! connections (the gateway, and the functions on EFS) and in memory (service tests).

mod file {
    integration_tests::search_conformance_tests!(integration_tests::fixtures::fts_file_index);
}

mod memory {
    integration_tests::search_conformance_tests!(integration_tests::fixtures::fts_memory_index);
}
