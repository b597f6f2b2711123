//! The search index conformance suite on the FTS5 index: a file with reader connections
//! (the gateway), the shared file of AWS (one writer, a read-only index searching it), and
//! in memory (service tests).

mod file {
    integration_tests::search_conformance_tests!(integration_tests::fixtures::fts_file_index);
}

mod shared {
    integration_tests::search_conformance_tests!(integration_tests::fixtures::fts_shared_index);
}

mod memory {
    integration_tests::search_conformance_tests!(integration_tests::fixtures::fts_memory_index);
}
