//! The scheduler conformance suite on the local scheduler (tokio timers, `make dev`).

integration_tests::scheduler_conformance_tests!(integration_tests::fixtures::local_scheduler);
