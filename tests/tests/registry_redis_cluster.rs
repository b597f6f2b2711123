//! The registry conformance suite on Redis in cluster mode (as ElastiCache Serverless runs).

integration_tests::registry_conformance_tests!(integration_tests::fixtures::redis_cluster_registry);
