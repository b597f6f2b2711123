//! The registry conformance suite on the in-process adapter (the local default).

integration_tests::registry_conformance_tests!(integration_tests::fixtures::memory_registry);
