//! The registry conformance suite on Redis (a real redis-server at `REDIS_URL`).

integration_tests::registry_conformance_tests!(integration_tests::fixtures::redis_registry);
